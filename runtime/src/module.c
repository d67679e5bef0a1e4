/* Modules: a compiled model's entry point plus its parsed signature. */
#include "internal.h"
#include "strata/module_abi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <libgen.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stddef.h>
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
  void (*context_release)(strata_run_context *); /* oneDNN modules */
  void (*release)(void);                         /* oneDNN modules */
  int num_inputs, num_outputs;
  strata_tensor_info *infos; /* inputs, then outputs */
  /* Weights in a side file (strata compile --weights), mmapped read-only. */
  char weights_file[256];
  uint64_t weights_id;
  int num_weights;
  uint64_t *weight_offsets, *weight_sizes;
  void *weights_map;
  size_t weights_map_size;
  int64_t arena_bytes; /* CPU: each context's activation arena */
  /* What strata_module_run uses: one context, made on the first run, and
   * a lock so that concurrent strata_module_run calls take turns. CUDA
   * modules keep their device state in the module: all their runs take
   * turns on `lock`. */
  strata_context *default_context;
  pthread_mutex_t lock;
  int cuda;
};

/* The generated code reads `failed` at offset 0; bindings (test/train/
 * module_abi.py) allocate 512 bytes. */
_Static_assert(sizeof(strata_run_context) == 512, "strata_run_context is 512 bytes");
_Static_assert(offsetof(strata_run_context, failed) == 0, "failed comes first");

struct strata_context {
  strata_module *module;
  void *arena;
  strata_run_context *run; /* 64-byte aligned, zeroed at creation */
};

static int parse_signature(const char *text, strata_module *m) {
  int version = 0, n = 0, consumed = 0, more = 0;
  if (sscanf(text, "strata-module %d\n%n", &version, &consumed) != 1)
    return strata_fail("the module's signature is not one this runtime reads");
  if (version != STRATA_MODULE_ABI_VERSION)
    return strata_fail("the module was compiled for module ABI version %d, this "
                       "runtime reads version %d: compile the model again with "
                       "the strata that goes with this runtime",
                       version, STRATA_MODULE_ABI_VERSION);
  if (sscanf(text + consumed, "inputs %d\n%n", &n, &more) != 1 || n < 0)
    return strata_fail("the module's signature lists no inputs");
  consumed += more;
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
  /* Optional: "weights N\tFILE\tID" then N lines "name\toffset\tbytes". */
  int nw = 0;
  unsigned long long id = 0;
  if (sscanf(p, "weights %d\t%255[^\t\n]\t%llx\n%n", &nw, m->weights_file, &id,
             &consumed) == 3) {
    if (nw < 0 || nw > 1000000)
      return strata_fail("malformed weights line in the signature");
    m->weights_id = id;
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
  /* Optional: "arena BYTES". */
  long long arena = 0;
  if (sscanf(p, "arena %lld\n%n", &arena, &consumed) == 1) {
    if (arena < 0)
      return strata_fail("malformed arena line in the signature");
    m->arena_bytes = arena;
    p += consumed;
  }
  return 0;
}

/* Maps the weights file, looked up in `dir`, after checking that it is
 * this model's (its header's identity equals the signature's). */
static int map_weights(strata_module *m, const char *dir) {
  if (!m->num_weights)
    return 0;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, m->weights_file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return strata_fail("%s: cannot open the model's weights: %s (written by "
                       "strata compile --weights; keep it beside the program)",
                       path, strerror(errno));
  struct stat st;
  strata_weights_header header;
  uint64_t need = 0;
  for (int i = 0; i < m->num_weights; ++i)
    if (m->weight_offsets[i] + m->weight_sizes[i] > need)
      need = m->weight_offsets[i] + m->weight_sizes[i];
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!ok || (uint64_t)st.st_size < sizeof header ||
      pread(fd, &header, sizeof header, 0) != (ssize_t)sizeof header ||
      memcmp(header.magic, STRATA_WEIGHTS_MAGIC, sizeof STRATA_WEIGHTS_MAGIC) != 0) {
    close(fd);
    return strata_fail("%s: not a strata weights file", path);
  }
  if (header.version != STRATA_WEIGHTS_VERSION) {
    close(fd);
    return strata_fail("%s: weights file format %llu, this runtime reads %d", path,
                       (unsigned long long)header.version, STRATA_WEIGHTS_VERSION);
  }
  if (header.id != m->weights_id) {
    close(fd);
    return strata_fail("%s: these are not this program's weights (identity %016llx, "
                       "the program was compiled with %016llx); use the weights file "
                       "written by the same strata compile",
                       path, (unsigned long long)header.id,
                       (unsigned long long)m->weights_id);
  }
  if ((uint64_t)st.st_size - sizeof header < need || header.bytes < need) {
    close(fd);
    return strata_fail("%s: %lld bytes, but the model needs %llu (truncated weights "
                       "file?)", path, (long long)st.st_size,
                       (unsigned long long)(need + sizeof header));
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return strata_fail("%s: mmap failed: %s", path, strerror(errno));
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
extern const char *strata_model_unpack(void) __attribute__((weak));
extern void strata_model_context_release(strata_run_context *) __attribute__((weak));
extern void strata_model_release(void) __attribute__((weak));

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

static strata_module *new_module(void) {
  strata_module *m = calloc(1, sizeof *m);
  if (m)
    pthread_mutex_init(&m->lock, NULL);
  return m;
}

int strata_module_from_symbols(int (*run)(void **), const char *signature,
                               strata_module **out) {
  strata_module *m = new_module();
  if (!m)
    return strata_fail("out of memory");
  m->run = run;
  m->cuda_error = strata_cuda_last_error;
  m->cuda = strata_cuda_last_error != NULL;
  m->onednn_error = strata_onednn_last_error;
  m->prepare = strata_model_prepare;
  m->context_release = strata_model_context_release;
  m->release = strata_model_release;
  if (strata_model_set_threads && strata_model_get_threads) {
    m->set_threads = strata_model_set_threads;
    m->get_threads = strata_model_get_threads;
  }
  if (parse_signature(signature, m)) {
    strata_module_free(m);
    return 1;
  }
  /* Packed layers (a model compiled from a .stz package) decode first. */
  const char *unpack_error = strata_model_unpack ? strata_model_unpack() : NULL;
  if (unpack_error) {
    char message[1024]; /* the text may live in the buffer strata_fail writes */
    snprintf(message, sizeof message, "%s", unpack_error);
    strata_fail("the program's packed weights do not decode: %s", message);
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
  strata_module *m = new_module();
  if (!m)
    return strata_fail("out of memory");
  m->run = (int (*)(void **))run;
  m->cuda_error = (const char *(*)(void))dlsym(lib, "strata_cuda_last_error");
  m->cuda = m->cuda_error != NULL;
  m->onednn_error = (const char *(*)(void))dlsym(lib, "strata_onednn_last_error");
  m->prepare = (int (*)(void))dlsym(lib, STRATA_MODEL_PREPARE_SYMBOL);
  m->context_release = (void (*)(strata_run_context *))dlsym(
      lib, STRATA_MODEL_CONTEXT_RELEASE_SYMBOL);
  m->release = (void (*)(void))dlsym(lib, STRATA_MODEL_RELEASE_SYMBOL);
  if (m->prepare) /* as for libgomp: oneDNN's threads and JIT code outlive us */
    (void)dlopen("libdnnl.so.2", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  m->set_threads = (void (*)(int))dlsym(lib, STRATA_MODEL_SET_THREADS_SYMBOL);
  m->get_threads = (int (*)(void))dlsym(lib, STRATA_MODEL_GET_THREADS_SYMBOL);
  if (!m->set_threads || !m->get_threads)
    m->set_threads = NULL, m->get_threads = NULL;
  /* Every module links libgomp. Its OpenMP workers outlive the module,
   * parked in libgomp, and libgomp's own set-up is never undone: keep it
   * loaded after the module is closed (else the workers would return into
   * unmapped code, and LeakSanitizer sees libgomp's environment records as
   * leaked). A no-op if the module did not load it. */
  (void)dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  char dir[PATH_MAX];
  dir_of(path, dir, sizeof dir);
  /* Packed layers (a model compiled from a .stz package) decode first. */
  const char *(*unpack)(void) = (const char *(*)(void))dlsym(lib, STRATA_MODEL_UNPACK_SYMBOL);
  const char *unpack_error = unpack ? unpack() : NULL;
  if (unpack_error) {
    char message[1024]; /* the text may live in the buffer strata_fail writes */
    snprintf(message, sizeof message, "%s", unpack_error);
    strata_fail("%s: its packed weights do not decode: %s", path, message);
    strata_module_free(m);
    return 1;
  }
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
  strata_context_free(m->default_context);
  /* Primitives and reordered weights, before the code that made them goes;
   * only after the last run (the caller's contexts are freed first). */
  if (m->release && m->infos)
    m->release();
  if (m->library)
    dlclose(m->library);
  if (m->weights_map)
    munmap(m->weights_map, m->weights_map_size);
  pthread_mutex_destroy(&m->lock);
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

int64_t strata_module_arena_bytes(const strata_module *m) { return m->arena_bytes; }

/* --- contexts --------------------------------------------------------------- */

int strata_context_create(strata_module *m, strata_context **out) {
  strata_context *c = calloc(1, sizeof *c);
  if (!c)
    return strata_fail("out of memory");
  c->module = m;
  c->run = aligned_alloc(64, sizeof *c->run);
  if (!c->run) {
    free(c);
    return strata_fail("out of memory");
  }
  memset(c->run, 0, sizeof *c->run);
  if (m->arena_bytes > 0) {
    size_t bytes = ((size_t)m->arena_bytes + 63) / 64 * 64;
    c->arena = aligned_alloc(64, bytes);
    if (!c->arena) {
      free(c->run);
      free(c);
      return strata_fail("cannot allocate the model's %lld-byte activation arena: "
                         "out of memory", (long long)m->arena_bytes);
    }
  }
  *out = c;
  return 0;
}

void strata_context_free(strata_context *c) {
  if (!c)
    return;
  if (c->module->context_release)
    c->module->context_release(c->run);
  free(c->arena);
  free(c->run);
  free(c);
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

/* Calls the model on checked inputs and output buffers with context `c`. */
static int run_buffers(strata_context *c, const strata_tensor *inputs,
                       const strata_tensor *outputs) {
  strata_module *m = c->module;
  int total = m->num_inputs + m->num_outputs + m->num_weights + 2;
  void **buffers = calloc((size_t)total, sizeof(void *));
  if (!buffers)
    return strata_fail("out of memory");
  int n = 0;
  for (int i = 0; i < m->num_inputs; ++i)
    buffers[n++] = inputs[i].data;
  for (int i = 0; i < m->num_outputs; ++i)
    buffers[n++] = outputs[i].data;
  for (int i = 0; i < m->num_weights; ++i)
    buffers[n++] = (char *)m->weights_map + sizeof(strata_weights_header) +
                   m->weight_offsets[i];
  if (m->arena_bytes > 0)
    buffers[n++] = c->arena;
  buffers[n++] = c->run;
  c->run->failed = 0;
  c->run->message[0] = '\0';
  /* A CUDA module's device buffers and stream are the module's. */
  if (m->cuda)
    pthread_mutex_lock(&m->lock);
  int rc = m->run(buffers);
  if (rc) {
    const char *cuda = m->cuda_error ? m->cuda_error() : "";
    strata_fail("%s", cuda[0] ? cuda : c->run->message[0] ? c->run->message
                                                          : "the model's run failed");
  }
  if (m->cuda)
    pthread_mutex_unlock(&m->lock);
  free(buffers);
  return rc ? 1 : 0;
}

static int check_inputs(strata_module *m, const strata_tensor *inputs) {
  for (int i = 0; i < m->num_inputs; ++i)
    if (check_tensor(&m->infos[i], &inputs[i], "input"))
      return 1;
  return 0;
}

int strata_context_run(strata_context *c, const strata_tensor *inputs,
                       strata_tensor *outputs) {
  strata_module *m = c->module;
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
  if (run_buffers(c, inputs, outputs)) {
    for (int i = 0; i < m->num_outputs; ++i)
      strata_tensor_free(&outputs[i]);
    return 1;
  }
  return 0;
}

int strata_context_run_into(strata_context *c, const strata_tensor *inputs,
                            const strata_tensor *outputs) {
  strata_module *m = c->module;
  if (check_inputs(m, inputs))
    return 1;
  for (int i = 0; i < m->num_outputs; ++i)
    if (check_tensor(&m->infos[m->num_inputs + i], &outputs[i], "output"))
      return 1;
  return run_buffers(c, inputs, outputs);
}

/* strata_module_run(_into): the module's own context, one call at a time. */
static int with_default_context(strata_module *m, const strata_tensor *inputs,
                                strata_tensor *outputs, int into) {
  pthread_mutex_lock(&m->lock);
  int rc = 0;
  if (!m->default_context)
    rc = strata_context_create(m, &m->default_context);
  pthread_mutex_unlock(&m->lock);
  if (rc)
    return 1;
  /* CUDA modules lock inside run_buffers; CPU ones take turns here. */
  if (!m->cuda)
    pthread_mutex_lock(&m->lock);
  rc = into ? strata_context_run_into(m->default_context, inputs, outputs)
            : strata_context_run(m->default_context, inputs, outputs);
  if (!m->cuda)
    pthread_mutex_unlock(&m->lock);
  return rc;
}

int strata_module_run(strata_module *m, const strata_tensor *inputs,
                      strata_tensor *outputs) {
  return with_default_context(m, inputs, outputs, 0);
}

int strata_module_run_into(strata_module *m, const strata_tensor *inputs,
                           const strata_tensor *outputs) {
  return with_default_context(m, inputs, (strata_tensor *)outputs, 1);
}
