/* Modules: a compiled model's entry point plus its parsed signature. */
#include "internal.h"
#include "strata/module_abi.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strata_module {
  void *library; /* dlopen handle, or NULL for a linked-in model */
  int (*run)(void **);
  /* Thread control of the module's pool (runtime/src/parallel.c); NULL if
   * the module has no parallel code. */
  void (*set_threads)(int);
  int (*get_threads)(void);
  /* The CUDA backend's message for a failed run; NULL for CPU modules. */
  const char *(*cuda_error)(void);
  const char *(*onednn_error)(void);
  int (*prepare)(void); /* oneDNN modules: create primitives ahead of runs */
  int num_inputs, num_outputs;
  strata_tensor_info *infos; /* inputs, then outputs */
  /* Weights in a side file (strata compile --weights), mmapped read-only. */
  char weights_file[256];
  int num_weights;
  uint64_t *weight_offsets, *weight_sizes;
  void *weights_map;
  size_t weights_map_size;
};

static int parse_signature(const char *text, strata_module *m) {
  int version = 0, n = 0, consumed = 0;
  if (sscanf(text, "strata-module %d\ninputs %d\n%n", &version, &n, &consumed) != 2 ||
      version != 1)
    return strata_fail("the module's signature is not one this runtime reads");
  const char *p = text + consumed;
  m->num_inputs = n;
  int capacity = 64;
  m->infos = calloc((size_t)capacity, sizeof *m->infos);
  int count = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < n; ++i, ++count) {
      if (count >= capacity) {
        capacity *= 2;
        m->infos = realloc(m->infos, (size_t)capacity * sizeof *m->infos);
      }
      strata_tensor_info *t = &m->infos[count];
      memset(t, 0, sizeof *t);
      const char *tab = strchr(p, '\t');
      if (!tab)
        return strata_fail("malformed signature line");
      size_t len = (size_t)(tab - p) < sizeof t->name - 1 ? (size_t)(tab - p)
                                                          : sizeof t->name - 1;
      memcpy(t->name, p, len);
      char dtype[32];
      int rank;
      if (sscanf(tab + 1, "%31s %d%n", dtype, &rank, &consumed) != 2 ||
          rank > STRATA_MAX_RANK)
        return strata_fail("malformed signature line for '%s'", t->name);
      t->dtype = strata_dtype_from_name(dtype);
      t->rank = rank;
      p = tab + 1 + consumed;
      for (int d = 0; d < rank; ++d) {
        long long v;
        if (sscanf(p, "%lld%n", &v, &consumed) != 1)
          return strata_fail("malformed shape for '%s'", t->name);
        t->dims[d] = v;
        p += consumed;
      }
      p = strchr(p, '\n');
      if (!p)
        return strata_fail("truncated signature");
      ++p;
    }
    if (pass == 0) {
      if (sscanf(p, "outputs %d\n%n", &n, &consumed) != 1)
        return strata_fail("signature lacks outputs");
      p += consumed;
      m->num_outputs = n;
    }
  }
  /* Optional: "weights N\tFILE" then N lines "name\toffset\tbytes". */
  int nw = 0;
  if (sscanf(p, "weights %d\t%255[^\n]\n%n", &nw, m->weights_file, &consumed) == 2) {
    p += consumed;
    m->num_weights = nw;
    m->weight_offsets = calloc((size_t)(nw ? nw : 1), sizeof(uint64_t));
    m->weight_sizes = calloc((size_t)(nw ? nw : 1), sizeof(uint64_t));
    for (int i = 0; i < nw; ++i) {
      unsigned long long off, bytes;
      if (sscanf(p, "%*[^\t]\t%llu\t%llu\n%n", &off, &bytes, &consumed) != 2)
        return strata_fail("malformed weights entry in the signature");
      m->weight_offsets[i] = off;
      m->weight_sizes[i] = bytes;
      p += consumed;
    }
  }
  return 0;
}

/* Maps the weights file, looked up in `dir`. */
static int map_weights(strata_module *m, const char *dir) {
  if (!m->num_weights)
    return 0;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, m->weights_file);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return strata_fail("%s: cannot open the model's weights (written by "
                       "strata compile --weights; keep it beside the program)",
                       path);
  struct stat st;
  uint64_t need = 0;
  for (int i = 0; i < m->num_weights; ++i)
    if (m->weight_offsets[i] + m->weight_sizes[i] > need)
      need = m->weight_offsets[i] + m->weight_sizes[i];
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < need) {
    close(fd);
    return strata_fail("%s: %lld bytes, but the model needs %llu (wrong or "
                       "truncated weights file?)", path, (long long)st.st_size,
                       (unsigned long long)need);
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return strata_fail("%s: mmap failed", path);
  m->weights_map = map;
  m->weights_map_size = (size_t)st.st_size;
  return 0;
}

/* The folder of `path` (a copy, for dirname). */
static void dir_of(const char *path, char *out, size_t size) {
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path);
  snprintf(out, size, "%s", dirname(copy));
}

/* Defined by libstrata_parallel.a when a linked-in model uses it. */
extern void strata_model_set_threads(int) __attribute__((weak));
extern int strata_model_get_threads(void) __attribute__((weak));
/* Defined by libstrata_cuda.a when the model was compiled for CUDA. */
extern const char *strata_cuda_last_error(void) __attribute__((weak));
/* Defined by libstrata_onednn.a when some ops run through oneDNN. */
extern const char *strata_onednn_last_error(void) __attribute__((weak));
extern int strata_model_prepare(void) __attribute__((weak));

/* Creates a oneDNN module's primitives now (for its thread count) instead of
 * in the first run. */
static int prepare_kernels(strata_module *m) {
  if (m->prepare && m->prepare()) {
    const char *why = m->onednn_error ? m->onednn_error() : "";
    return strata_fail("preparing the model's oneDNN kernels failed%s%s",
                       why[0] ? ": " : "", why);
  }
  return 0;
}

int strata_module_from_symbols(int (*run)(void **), const char *signature,
                               strata_module **out) {
  strata_module *m = calloc(1, sizeof *m);
  if (!m)
    return strata_fail("out of memory");
  m->run = run;
  m->cuda_error = strata_cuda_last_error;
  m->onednn_error = strata_onednn_last_error;
  m->prepare = strata_model_prepare;
  if (strata_model_set_threads && strata_model_get_threads) {
    m->set_threads = strata_model_set_threads;
    m->get_threads = strata_model_get_threads;
  }
  if (parse_signature(signature, m)) {
    strata_module_free(m);
    return 1;
  }
  /* A linked-in model's weights file sits beside the executable. */
  if (m->num_weights) {
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    dir_of(n > 0 ? exe : ".", dir, sizeof dir);
    if (map_weights(m, dir)) {
      strata_module_free(m);
      return 1;
    }
  }
  if (prepare_kernels(m)) {
    strata_module_free(m);
    return 1;
  }
  *out = m;
  return 0;
}

static int from_library(void *lib, const char *path, strata_module **out) {
  void *run = dlsym(lib, STRATA_MODEL_RUN_SYMBOL);
  const char *sig = dlsym(lib, STRATA_MODEL_SIGNATURE_SYMBOL);
  if (!run || !sig)
    return strata_fail("%s: not a strata module (no %s)", path,
                       STRATA_MODEL_RUN_SYMBOL);
  strata_module *m = calloc(1, sizeof *m);
  if (!m)
    return strata_fail("out of memory");
  m->run = (int (*)(void **))run;
  m->cuda_error = (const char *(*)(void))dlsym(lib, "strata_cuda_last_error");
  m->onednn_error = (const char *(*)(void))dlsym(lib, "strata_onednn_last_error");
  m->prepare = (int (*)(void))dlsym(lib, STRATA_MODEL_PREPARE_SYMBOL);
  if (m->prepare) /* as for libgomp: oneDNN's threads and JIT code outlive us */
    (void)dlopen("libdnnl.so.2", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  m->set_threads = (void (*)(int))dlsym(lib, STRATA_MODEL_SET_THREADS_SYMBOL);
  m->get_threads = (int (*)(void))dlsym(lib, STRATA_MODEL_GET_THREADS_SYMBOL);
  if (!m->set_threads || !m->get_threads) {
    m->set_threads = NULL, m->get_threads = NULL;
  } else {
    /* The module's OpenMP workers outlive it, parked in libgomp: keep
     * libgomp loaded after the module is closed, or they would return into
     * unmapped code. */
    (void)dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
  char dir[PATH_MAX];
  dir_of(path, dir, sizeof dir);
  if (parse_signature(sig, m) || map_weights(m, dir) || prepare_kernels(m)) {
    strata_module_free(m);
    return 1;
  }
  m->library = lib;
  *out = m;
  return 0;
}

int strata_module_load(const char *path, strata_module **out) {
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return strata_fail("%s: cannot load: %s", path, dlerror());
  if (from_library(lib, path, out)) {
    dlclose(lib);
    return 1;
  }
  return 0;
}

void strata_module_free(strata_module *m) {
  if (!m)
    return;
  if (m->library)
    dlclose(m->library);
  if (m->weights_map)
    munmap(m->weights_map, m->weights_map_size);
  free(m->weight_offsets);
  free(m->weight_sizes);
  free(m->infos);
  free(m);
}

void strata_module_set_threads(strata_module *m, int n) {
  if (!m->set_threads)
    return;
  int before = m->get_threads();
  m->set_threads(n > 0 ? n : 0);
  /* Primitives are made for a thread count; a failure here shows again,
   * with its message, in the next run. */
  if (m->get_threads() != before)
    (void)prepare_kernels(m);
}

int strata_module_threads(const strata_module *m) {
  return m->get_threads ? m->get_threads() : 1;
}

int strata_module_num_inputs(const strata_module *m) { return m->num_inputs; }
int strata_module_num_outputs(const strata_module *m) { return m->num_outputs; }

const strata_tensor_info *strata_module_input(const strata_module *m, int i) {
  return i >= 0 && i < m->num_inputs ? &m->infos[i] : NULL;
}
const strata_tensor_info *strata_module_output(const strata_module *m, int i) {
  return i >= 0 && i < m->num_outputs ? &m->infos[m->num_inputs + i] : NULL;
}

/* 0 if `t` has the dtype and shape of `info`; otherwise fails naming it. */
static int check_tensor(const strata_tensor_info *info, const strata_tensor *t,
                        const char *kind) {
  int same = t->rank == info->rank && t->dtype == info->dtype && t->data;
  for (int d = 0; same && d < t->rank; ++d)
    same = t->dims[d] == info->dims[d];
  if (same)
    return 0;
  char want[256], got[256];
  strata_format_shape(want, sizeof want, info->rank, info->dims);
  strata_format_shape(got, sizeof got, t->rank, t->dims);
  return strata_fail("%s '%s' expects %s %s, got %s %s%s", kind, info->name,
                     strata_dtype_name(info->dtype), want,
                     strata_dtype_name(t->dtype), got, t->data ? "" : " without data");
}

/* Calls the model on checked inputs and output buffers. */
static int run_buffers(strata_module *m, const strata_tensor *inputs,
                       const strata_tensor *outputs) {
  int total = m->num_inputs + m->num_outputs + m->num_weights;
  void **buffers = calloc((size_t)(total ? total : 1), sizeof(void *));
  if (!buffers)
    return strata_fail("out of memory");
  for (int i = 0; i < m->num_inputs; ++i)
    buffers[i] = inputs[i].data;
  for (int i = 0; i < m->num_outputs; ++i)
    buffers[m->num_inputs + i] = outputs[i].data;
  for (int i = 0; i < m->num_weights; ++i)
    buffers[m->num_inputs + m->num_outputs + i] =
        (char *)m->weights_map + m->weight_offsets[i];
  int rc = m->run(buffers);
  free(buffers);
  if (rc && m->cuda_error && m->cuda_error()[0])
    return strata_fail("%s", m->cuda_error());
  if (rc && m->onednn_error && m->onednn_error()[0])
    return strata_fail("%s", m->onednn_error());
  return rc ? strata_fail("the model returned error %d", rc) : 0;
}

static int check_inputs(strata_module *m, const strata_tensor *inputs) {
  for (int i = 0; i < m->num_inputs; ++i)
    if (check_tensor(&m->infos[i], &inputs[i], "input"))
      return 1;
  return 0;
}

int strata_module_run(strata_module *m, const strata_tensor *inputs,
                      strata_tensor *outputs) {
  if (check_inputs(m, inputs))
    return 1;
  for (int i = 0; i < m->num_outputs; ++i) {
    const strata_tensor_info *info = &m->infos[m->num_inputs + i];
    if (strata_tensor_alloc_uninitialized(info->dtype, info->rank, info->dims,
                                          &outputs[i])) {
      for (int j = 0; j < i; ++j)
        strata_tensor_free(&outputs[j]);
      return 1;
    }
  }
  if (run_buffers(m, inputs, outputs)) {
    for (int i = 0; i < m->num_outputs; ++i)
      strata_tensor_free(&outputs[i]);
    return 1;
  }
  return 0;
}

int strata_module_run_into(strata_module *m, const strata_tensor *inputs,
                           const strata_tensor *outputs) {
  if (check_inputs(m, inputs))
    return 1;
  for (int i = 0; i < m->num_outputs; ++i)
    if (check_tensor(&m->infos[m->num_inputs + i], &outputs[i], "output"))
      return 1;
  return run_buffers(m, inputs, outputs);
}
