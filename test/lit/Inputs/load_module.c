/* Loads a strata shared library through the runtime API and prints the
 * first output's values: what an application embedding a model does. */
#include "strata/runtime.h"

#include <stdio.h>

int main(int argc, char **argv) {
  strata_module *m;
  if (argc != 3 || strata_module_load(argv[1], &m)) {
    fprintf(stderr, "error: %s\n", strata_last_error());
    return 1;
  }
  strata_tensor in, out;
  if (strata_tensor_read_file(argv[2], &in) || strata_module_run(m, &in, &out)) {
    fprintf(stderr, "error: %s\n", strata_last_error());
    return 1;
  }
  const strata_tensor_info *info = strata_module_output(m, 0);
  printf("%s:", info->name);
  for (int64_t i = 0; i < strata_tensor_num_elements(&out); ++i)
    printf(" %.6f", ((float *)out.data)[i]);
  printf("\n");
  strata_tensor_write_npy("out.npy", &out);
  strata_tensor_free(&in);
  strata_tensor_free(&out);
  strata_module_free(m);
  return 0;
}
