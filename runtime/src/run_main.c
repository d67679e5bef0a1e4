/* The command-line convention shared by compiled executables and
 * `strata run`: inputs from .npy/.pb files, outputs to a directory. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(const strata_module *m, const char *program, FILE *out) {
  fprintf(out,
          "usage: %s [--input NAME=FILE | --input FILE | FILE]... "
          "[--output-dir DIR] [--output-format npy|pb] [--threads N] "
          "[--repeat N]\n\n"
          "Inputs are .npy or ONNX TensorProto .pb files; without NAME= they "
          "are taken in the model's input order. With --output-dir, each "
          "output is written as <name>.npy (or .pb); otherwise a summary is "
          "printed. --threads N runs each operator on N threads (default: all "
          "cores); results are the same for any N. --repeat N runs the model "
          "N more times after the first and prints the latency of those runs "
          "(the first, which loads and warms up, separately).\n\nInputs:\n",
          program);
  for (int i = 0; i < strata_module_num_inputs(m); ++i) {
    const strata_tensor_info *t = strata_module_input(m, i);
    char shape[256];
    strata_format_shape(shape, sizeof shape, t->rank, t->dims);
    fprintf(out, "  %s  %s %s\n", t->name, strata_dtype_name(t->dtype), shape);
  }
  fprintf(out, "Outputs:\n");
  for (int i = 0; i < strata_module_num_outputs(m); ++i) {
    const strata_tensor_info *t = strata_module_output(m, i);
    char shape[256];
    strata_format_shape(shape, sizeof shape, t->rank, t->dims);
    fprintf(out, "  %s  %s %s\n", t->name, strata_dtype_name(t->dtype), shape);
  }
}

/* Characters outside [A-Za-z0-9._-] become '_' in file names. */
static void sanitize(const char *name, char *out, size_t size) {
  size_t n = 0;
  for (const char *c = name; *c && n + 1 < size; ++c, ++n) {
    int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
             (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
    out[n] = ok ? *c : '_';
  }
  out[n] = '\0';
}

enum { kFileNameSize = 256 };

/* The file name (without folder and extension) of every output, distinct:
 * a name two outputs would share (a/b and a:b both give a_b) gets the
 * output's index appended, so no output overwrites another. */
static char *output_file_names(const strata_module *m) {
  int n = strata_module_num_outputs(m);
  char *names = calloc((size_t)(n ? n : 1), kFileNameSize);
  if (!names)
    return NULL;
  for (int j = 0; j < n; ++j) {
    char *mine = names + (size_t)j * kFileNameSize;
    sanitize(strata_module_output(m, j)->name, mine, kFileNameSize - 16);
    for (int attempt = 0;; ++attempt) {
      int clash = 0;
      for (int k = 0; k < j && !clash; ++k)
        clash = strcmp(mine, names + (size_t)k * kFileNameSize) == 0;
      if (!clash)
        break;
      size_t len = strlen(mine);
      snprintf(mine + len, kFileNameSize - len, "_%d", attempt ? attempt : j);
    }
  }
  return names;
}

static void print_summary(const strata_tensor_info *info, const strata_tensor *t) {
  char shape[256];
  strata_format_shape(shape, sizeof shape, t->rank, t->dims);
  printf("%s  %s %s:", info->name, strata_dtype_name(t->dtype), shape);
  int64_t n = strata_tensor_num_elements(t);
  for (int64_t i = 0; i < n && i < 8; ++i) {
    switch (t->dtype) {
    case STRATA_FLOAT: printf(" %g", ((float *)t->data)[i]); break;
    case STRATA_DOUBLE: printf(" %g", ((double *)t->data)[i]); break;
    case STRATA_INT64: printf(" %lld", (long long)((int64_t *)t->data)[i]); break;
    case STRATA_INT32: printf(" %d", ((int32_t *)t->data)[i]); break;
    default: printf(" ?"); break;
    }
  }
  printf(n > 8 ? " ...\n" : "\n");
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int strata_run_main(strata_module *m, const char *program, int argc,
                    char **argv) {
  int nin = strata_module_num_inputs(m), nout = strata_module_num_outputs(m);
  const char **files = calloc((size_t)(nin ? nin : 1), sizeof(char *));
  const char *out_dir = NULL, *format = "npy";
  int next_positional = 0, rc = 1;
  long repeat = 0;
  strata_tensor *inputs = calloc((size_t)(nin ? nin : 1), sizeof *inputs);
  strata_tensor *outputs = calloc((size_t)(nout ? nout : 1), sizeof *outputs);
  for (int i = 0; i < argc; ++i) {
    const char *a = argv[i];
    const char *value = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(m, program, stdout);
      rc = 0;
      goto done;
    }
    if (strncmp(a, "--output-dir", 12) == 0 || strncmp(a, "--output-format", 15) == 0 ||
        strncmp(a, "--input", 7) == 0 || strncmp(a, "--threads", 9) == 0 ||
        strncmp(a, "--repeat", 8) == 0) {
      /* --opt=value or --opt value */
      const char *eq = strchr(a, '=');
      if (eq) {
        value = eq + 1;
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        fprintf(stderr, "%s: error: %s needs a value\n", program, a);
        goto done;
      }
      if (strncmp(a, "--output-dir", 12) == 0) { out_dir = value; continue; }
      if (strncmp(a, "--threads", 9) == 0) {
        char *end = NULL;
        long n = strtol(value, &end, 10);
        if (!*value || *end || n < 1 || n > 4096) {
          fprintf(stderr, "%s: error: --threads needs a count from 1 to 4096, not '%s'\n",
                  program, value);
          goto done;
        }
        strata_module_set_threads(m, (int)n);
        continue;
      }
      if (strncmp(a, "--repeat", 8) == 0) {
        char *end = NULL;
        repeat = strtol(value, &end, 10);
        if (!*value || *end || repeat < 1 || repeat > 1000000) {
          fprintf(stderr, "%s: error: --repeat needs a count from 1 to 1000000, not '%s'\n",
                  program, value);
          goto done;
        }
        continue;
      }
      if (strncmp(a, "--output-format", 15) == 0) {
        if (strcmp(value, "npy") && strcmp(value, "pb")) {
          fprintf(stderr, "%s: error: --output-format must be npy or pb\n", program);
          goto done;
        }
        format = value;
        continue;
      }
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "%s: error: unknown option %s (see --help)\n", program, a);
      goto done;
    } else {
      value = a;
    }
    /* An input: NAME=FILE or FILE in order. */
    const char *eq = strchr(value, '=');
    int slot = -1;
    if (eq) {
      for (int j = 0; j < nin; ++j) {
        const char *name = strata_module_input(m, j)->name;
        if (strlen(name) == (size_t)(eq - value) && strncmp(name, value, (size_t)(eq - value)) == 0)
          slot = j;
      }
      if (slot < 0) {
        fprintf(stderr, "%s: error: the model has no input named '%.*s'\n",
                program, (int)(eq - value), value);
        goto done;
      }
      value = eq + 1;
    } else {
      while (next_positional < nin && files[next_positional]) ++next_positional;
      slot = next_positional;
      if (slot >= nin) {
        fprintf(stderr, "%s: error: too many inputs: the model takes %d\n", program, nin);
        goto done;
      }
    }
    files[slot] = value;
  }
  for (int j = 0; j < nin; ++j) {
    if (!files[j]) {
      fprintf(stderr, "%s: error: input '%s' is missing (--input %s=FILE)\n",
              program, strata_module_input(m, j)->name, strata_module_input(m, j)->name);
      goto done;
    }
    if (strata_tensor_read_file(files[j], &inputs[j])) {
      fprintf(stderr, "%s: error: input '%s': %s\n", program,
              strata_module_input(m, j)->name, strata_last_error());
      goto done;
    }
  }
  double first_ms = now_ms();
  if (strata_module_run(m, inputs, outputs)) {
    fprintf(stderr, "%s: error: %s\n", program, strata_last_error());
    goto done;
  }
  first_ms = now_ms() - first_ms;
  if (repeat > 0) {
    double total = 0, best = 1e300;
    for (long r = 0; r < repeat; ++r) {
      double start = now_ms();
      if (strata_module_run_into(m, inputs, outputs)) {
        fprintf(stderr, "%s: error: %s\n", program, strata_last_error());
        goto done;
      }
      double ms = now_ms() - start;
      total += ms;
      best = ms < best ? ms : best;
    }
    printf("latency: mean %.3f ms, min %.3f ms over %ld runs (first run %.3f ms)\n",
           total / (double)repeat, best, repeat, first_ms);
  }
  if (out_dir && mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "%s: error: cannot create %s: %s\n", program, out_dir, strerror(errno));
    goto done;
  }
  char *names = out_dir ? output_file_names(m) : NULL;
  if (out_dir && !names) {
    fprintf(stderr, "%s: error: out of memory\n", program);
    goto done;
  }
  for (int j = 0; j < nout; ++j) {
    const strata_tensor_info *info = strata_module_output(m, j);
    if (!out_dir) {
      print_summary(info, &outputs[j]);
      continue;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", out_dir, names + (size_t)j * kFileNameSize, format);
    int bad = strcmp(format, "pb") == 0
                  ? strata_tensor_write_pb(path, info->name, &outputs[j])
                  : strata_tensor_write_npy(path, &outputs[j]);
    if (bad) {
      fprintf(stderr, "%s: error: %s\n", program, strata_last_error());
      free(names);
      goto done;
    }
  }
  free(names);
  rc = 0;
done:
  for (int j = 0; j < nin; ++j)
    strata_tensor_free(&inputs[j]);
  for (int j = 0; j < nout; ++j)
    strata_tensor_free(&outputs[j]);
  free(inputs);
  free(outputs);
  free(files);
  return rc;
}
