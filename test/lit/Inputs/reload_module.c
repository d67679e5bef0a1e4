/* Loads, runs and frees a module N times and prints how much the resident
 * memory grew after the first 10 rounds: closing a module must free what it
 * created (oneDNN primitives and reordered weights leaked about 35 MB per
 * ResNet-18 load before strata_model_release; LeNet-5 about 15 KB).
 *
 * usage: reload_module MODULE.so N */
#include "strata/runtime.h"

#include <stdio.h>
#include <stdlib.h>

static long resident_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
      resident = 0;
    fclose(f);
  }
  return resident * 4;
}

int main(int argc, char **argv) {
  int n = argc > 2 ? atoi(argv[2]) : 0;
  long after_warmup = 0;
  for (int i = 0; i < n; ++i) {
    strata_module *m;
    if (strata_module_load(argv[1], &m)) {
      fprintf(stderr, "error: %s\n", strata_last_error());
      return 1;
    }
    strata_tensor in, out;
    const strata_tensor_info *t = strata_module_input(m, 0);
    strata_tensor_alloc(t->dtype, t->rank, t->dims, &in);
    if (strata_module_run(m, &in, &out)) {
      fprintf(stderr, "error: %s\n", strata_last_error());
      return 1;
    }
    strata_tensor_free(&in);
    strata_tensor_free(&out);
    strata_module_free(m);
    if (i == 9)
      after_warmup = resident_kib();
  }
  long grown = resident_kib() - after_warmup;
  printf("%d loads: resident memory grew %ld KiB after the first 10\n", n, grown);
  return grown > 1024; /* a leak per load would be MBs after hundreds */
}
