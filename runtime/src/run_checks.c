/* Failures inside a run, recorded in its strata_run_context.
 *
 * Linked into every module strata compiles (in libstrata_parallel.a, with
 * the thread pool), not into the loader. The generated code calls
 * strata_index_out_of_range when a gather meets an index outside its axis
 * (it has already read a harmless element instead); the oneDNN glue calls
 * strata_run_fail. Several threads of one run may fail at once: the first
 * wins, atomically, and its message is what the run reports. Readers look
 * only after the run has returned. */
#include "run_checks.h"

#include <stdarg.h>
#include <stdio.h>

HIDDEN int strata_run_fail(strata_run_context *context, const char *format, ...) {
  if (!context)
    return 1;
  int64_t expected = 0;
  if (!__atomic_compare_exchange_n(&context->failed, &expected, 1, 0,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return 1;
  va_list args;
  va_start(args, format);
  vsnprintf(context->message, sizeof context->message, format, args);
  va_end(args);
  return 1;
}

HIDDEN int strata_run_failed(const strata_run_context *context) {
  return context && __atomic_load_n(&context->failed, __ATOMIC_ACQUIRE) != 0;
}

/* Called by the generated code (all arguments as integers, as the compiler
 * passes addresses): `node` is a constant "node 'x' (op Gather)". */
HIDDEN void strata_index_out_of_range(int64_t context, int64_t node, int64_t index,
                                      int64_t size) {
  strata_run_fail((strata_run_context *)(intptr_t)context,
                  "%s: index %lld is out of range [%lld, %lld) at run time",
                  (const char *)(intptr_t)node, (long long)index, (long long)-size,
                  (long long)size);
}
