/* main() of executables written by `strata compile`: the model object
 * provides the two ABI symbols; the runtime does the rest. */
#include "strata/runtime.h"

#include <stdio.h>

extern int strata_model_run(void **buffers);
extern const char strata_model_signature[];

int main(int argc, char **argv) {
  strata_module *m = NULL;
  if (strata_module_from_symbols(strata_model_run, strata_model_signature, &m)) {
    fprintf(stderr, "%s: error: %s\n", argv[0], strata_last_error());
    return 1;
  }
  int rc = strata_run_main(m, argv[0], argc - 1, argv + 1);
  strata_module_free(m);
  return rc;
}
