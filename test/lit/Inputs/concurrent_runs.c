/* Load test of the runtime's contexts: T threads, each with its own
 * strata_context of one loaded module, run the model R times each on
 * inputs of their own, and every output must equal (bit for bit) what one
 * thread computed for the same input alone. Prints the runs per second of
 * the concurrent phase and of the same number of runs on one thread.
 *
 * usage: concurrent_runs MODULE.so THREADS RUNS [MODULE_THREADS]
 * Inputs are made from a seed per thread (floats in [-1, 1), integers in
 * [0, 4)); MODULE_THREADS (default 1) is each run's operator threads. */
#include "strata/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kVariants = 4 }; /* distinct input sets, cycled through */

static strata_module *module;
static int runs;
static strata_tensor inputs[kVariants][16], expected[kVariants][16];
static int nin, nout;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fill(strata_tensor *t, unsigned seed) {
  int64_t n = strata_tensor_num_elements(t);
  for (int64_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    double u = (double)((seed >> 8) & 0xffffff) / 16777216.0;
    switch (t->dtype) {
    case STRATA_FLOAT: ((float *)t->data)[i] = (float)(2 * u - 1); break;
    case STRATA_INT64: ((int64_t *)t->data)[i] = (int64_t)(u * 4); break;
    case STRATA_INT32: ((int32_t *)t->data)[i] = (int32_t)(u * 4); break;
    default: ((unsigned char *)t->data)[i * strata_dtype_size(t->dtype)] = 0; break;
    }
  }
}

static size_t bytes_of(const strata_tensor *t) {
  return (size_t)strata_tensor_num_elements(t) * strata_dtype_size(t->dtype);
}

typedef struct {
  int id, mismatches, failures;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  strata_context *c;
  if (strata_context_create(module, &c)) {
    fprintf(stderr, "context: %s\n", strata_last_error());
    w->failures = runs;
    return NULL;
  }
  strata_tensor outs[16];
  for (int o = 0; o < nout; ++o) {
    const strata_tensor_info *info = strata_module_output(module, o);
    strata_tensor_alloc(info->dtype, info->rank, info->dims, &outs[o]);
  }
  for (int r = 0; r < runs; ++r) {
    int v = (w->id + r) % kVariants;
    if (strata_context_run_into(c, inputs[v], outs)) {
      ++w->failures;
      continue;
    }
    for (int o = 0; o < nout; ++o)
      if (memcmp(outs[o].data, expected[v][o].data, bytes_of(&outs[o])) != 0) {
        ++w->mismatches;
        break;
      }
  }
  for (int o = 0; o < nout; ++o)
    strata_tensor_free(&outs[o]);
  strata_context_free(c);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODULE.so THREADS RUNS [MODULE_THREADS]\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[2]);
  runs = atoi(argv[3]);
  if (threads < 1 || threads > 64 || runs < 1 || strata_module_load(argv[1], &module)) {
    fprintf(stderr, "error: %s\n", threads < 1 || runs < 1 ? "bad counts" : strata_last_error());
    return 1;
  }
  strata_module_set_threads(module, argc > 4 ? atoi(argv[4]) : 1);
  nin = strata_module_num_inputs(module);
  nout = strata_module_num_outputs(module);
  if (nin > 16 || nout > 16) {
    fprintf(stderr, "error: at most 16 inputs and outputs\n");
    return 1;
  }
  /* References: each input set run alone, with the module's own context. */
  for (int v = 0; v < kVariants; ++v) {
    for (int i = 0; i < nin; ++i) {
      const strata_tensor_info *info = strata_module_input(module, i);
      strata_tensor_alloc(info->dtype, info->rank, info->dims, &inputs[v][i]);
      fill(&inputs[v][i], 1000u * (unsigned)v + (unsigned)i + 1);
    }
    if (strata_module_run(module, inputs[v], expected[v])) {
      fprintf(stderr, "error: %s\n", strata_last_error());
      return 1;
    }
  }
  /* The same number of runs on one thread, for the throughput ratio. */
  double start = now();
  strata_tensor outs[16];
  for (int r = 0; r < threads * runs; ++r) {
    if (strata_module_run(module, inputs[r % kVariants], outs))
      return 1;
    for (int o = 0; o < nout; ++o)
      strata_tensor_free(&outs[o]);
  }
  double serial = now() - start;

  pthread_t ids[64];
  worker workers[64];
  start = now();
  for (int t = 0; t < threads; ++t) {
    workers[t] = (worker){t, 0, 0};
    pthread_create(&ids[t], NULL, work, &workers[t]);
  }
  int mismatches = 0, failures = 0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(ids[t], NULL);
    mismatches += workers[t].mismatches;
    failures += workers[t].failures;
  }
  double concurrent = now() - start;
  printf("%d threads x %d runs: %d mismatches, %d failures\n", threads, runs, mismatches,
         failures);
  printf("runs/s: one thread %.0f, %d contexts %.0f\n", threads * runs / serial, threads,
         threads * runs / concurrent);
  for (int v = 0; v < kVariants; ++v)
    for (int i = 0; i < nin; ++i)
      strata_tensor_free(&inputs[v][i]);
  for (int v = 0; v < kVariants; ++v)
    for (int o = 0; o < nout; ++o)
      strata_tensor_free(&expected[v][o]);
  strata_module_free(module);
  return mismatches || failures ? 1 : 0;
}
