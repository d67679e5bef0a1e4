/* The thread pool behind compiled modules' parallel loops.
 *
 * Linked into every module strata compiles (executable or shared library),
 * not into the loader: each module carries its own thread count. The
 * compiler outlines each operator's independent iterations into a function
 * over a range [lo, hi) of work items (compiler/cpu/OutlineParallelLoops.cpp)
 * and calls strata_parallel_for. OpenMP (libgomp, which oneDNN uses too)
 * provides the threads; items are split into equal contiguous ranges, and
 * every item computes the same values on whichever thread runs it, so
 * results are identical for any thread count. */
#include <omp.h>
#include <stdint.h>

/* 0: OpenMP's default, all available cores (or OMP_NUM_THREADS). */
static int threads_requested;

__attribute__((visibility("default"))) void strata_model_set_threads(int n) {
  threads_requested = n > 0 ? n : 0;
}

__attribute__((visibility("default"))) int strata_model_get_threads(void) {
  return threads_requested ? threads_requested : omp_get_max_threads();
}

__attribute__((visibility("hidden"))) void
strata_parallel_for(void (*body)(void *, int64_t, int64_t), void *ctx,
                    int64_t count) {
  int64_t threads = strata_model_get_threads();
  if (threads > count)
    threads = count;
  if (threads <= 1 || omp_in_parallel()) {
    body(ctx, 0, count);
    return;
  }
#pragma omp parallel num_threads((int)threads)
  {
    int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    int64_t lo = count * t / n, hi = count * (t + 1) / n;
    if (lo < hi)
      body(ctx, lo, hi);
  }
}
