/* The CUDA backend: what a module compiled with --target=cuda calls.
 *
 * libcuda.so.1 is opened with dlopen on the first run, so nothing links
 * against CUDA and a machine without a GPU gets one clear message instead
 * of a loader error. Per compiled module (its strata_cuda_module_state
 * global) the backend keeps a context, a stream, and one device block for
 * every input, output, weight and the activation arena, sized by the
 * compiler (a static plan: nothing is allocated after the first run);
 * weights are uploaded once. Each run copies the inputs in, lets the
 * module's host code launch its kernels on the stream, copies the outputs
 * back and synchronizes once.
 *
 * The host code MLIR generates (gpu-to-llvm plus the gpu.binary
 * translation) calls the mgpu* functions below for every launch: load the
 * PTX module, look up the kernel, create a stream, launch, synchronize,
 * destroy, unload. Here loading and lookup are cached, the stream is the
 * module's own, and synchronization waits for the end of the run, so a
 * model's kernels are queued back to back. STRATA_CUDA_SYNC=1 waits after
 * every kernel instead, to name the one that failed. STRATA_CUDA_PROFILE=1
 * times every kernel with CUDA events and prints, when the program ends,
 * each kernel's mean time per run.
 *
 * One run at a time per module (as the CPU's arena). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few driver API types used, as cuda.h declares them. */
typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream, *CUevent;
typedef unsigned long long CUdeviceptr;
enum { CU_JIT_ERROR_LOG_BUFFER = 5, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
       CU_JIT_OPTIMIZATION_LEVEL = 7 };
enum { CC_MAJOR = 75, CC_MINOR = 76 };

static struct {
  int loaded; /* 1: ok, -1: failed (message in load_error) */
  char load_error[512];
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGet)(CUdevice *, int);
  CUresult (*DeviceGetCount)(int *);
  CUresult (*DeviceGetName)(char *, int, CUdevice);
  CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*PrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*PrimaryCtxRelease)(CUdevice);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*StreamCreate)(CUstream *, unsigned);
  CUresult (*StreamDestroy)(CUstream);
  CUresult (*StreamSynchronize)(CUstream);
  CUresult (*ModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
  CUresult (*ModuleUnload)(CUmodule);
  CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **, void **);
  CUresult (*MemAlloc)(CUdeviceptr *, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*MemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*GetErrorName)(CUresult, const char **);
  CUresult (*GetErrorString)(CUresult, const char **);
  CUresult (*EventCreate)(CUevent *, unsigned);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*EventDestroy)(CUevent);
} cu;

typedef struct {
  const void *image;
  CUmodule module;
} loaded_module;

typedef struct {
  CUfunction function;
  char name[128];
  double total_ms; /* STRATA_CUDA_PROFILE: over all runs */
  long launches;
} kernel_name;

typedef struct {
  int kernel; /* index into kernels */
  CUevent start, end;
} timed_launch;

typedef struct module_state {
  CUdevice device;
  CUcontext context;
  CUstream stream;
  CUdeviceptr block;   /* every buffer of the module, 256-byte aligned */
  void **device_ptrs;  /* inputs, outputs, weights, arena */
  int failed;          /* an error was recorded in this run */
  int sync_each;       /* STRATA_CUDA_SYNC=1 */
  int profile;         /* STRATA_CUDA_PROFILE=1 */
  long runs;
  timed_launch *timed; /* this run's launches, when profiling */
  int num_timed, cap_timed;
  loaded_module *modules;
  int num_modules;
  kernel_name *kernels;
  int num_kernels;
  struct module_state *next;
} module_state;

static _Thread_local char last_error[2048];
static _Thread_local module_state *current; /* the module being run */
static module_state *all_states;           /* freed at unload */

/* The message of the last failed strata_cuda_run on this thread (the
 * runtime's module loader reports it). */
const char *strata_cuda_last_error(void) { return last_error; }

static int fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  if (current)
    current->failed = 1;
  return 1;
}

static const char *error_text(CUresult r) {
  static _Thread_local char text[256];
  const char *name = NULL, *what = NULL;
  if (cu.GetErrorName)
    cu.GetErrorName(r, &name);
  if (cu.GetErrorString)
    cu.GetErrorString(r, &what);
  snprintf(text, sizeof text, "%s (%d): %s", name ? name : "CUDA error", r,
           what ? what : "no description");
  return text;
}

static int load_driver(void) {
  if (cu.loaded)
    return cu.loaded > 0 ? 0 : fail("%s", cu.load_error);
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(cu.load_error, sizeof cu.load_error,
             "this model was compiled for an NVIDIA GPU (strata compile "
             "--target=cuda), but the CUDA driver library libcuda.so.1 cannot "
             "be loaded (%s); run it on a machine with an NVIDIA GPU and driver, "
             "or compile it for the CPU (without --target=cuda)",
             dlerror());
    cu.loaded = -1;
    return fail("%s", cu.load_error);
  }
  struct { void **slot; const char *name; } symbols[] = {
      {(void **)&cu.Init, "cuInit"},
      {(void **)&cu.DeviceGet, "cuDeviceGet"},
      {(void **)&cu.DeviceGetCount, "cuDeviceGetCount"},
      {(void **)&cu.DeviceGetName, "cuDeviceGetName"},
      {(void **)&cu.DeviceGetAttribute, "cuDeviceGetAttribute"},
      {(void **)&cu.PrimaryCtxRetain, "cuDevicePrimaryCtxRetain"},
      {(void **)&cu.PrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"},
      {(void **)&cu.CtxSetCurrent, "cuCtxSetCurrent"},
      {(void **)&cu.StreamCreate, "cuStreamCreate"},
      {(void **)&cu.StreamDestroy, "cuStreamDestroy_v2"},
      {(void **)&cu.StreamSynchronize, "cuStreamSynchronize"},
      {(void **)&cu.ModuleLoadDataEx, "cuModuleLoadDataEx"},
      {(void **)&cu.ModuleUnload, "cuModuleUnload"},
      {(void **)&cu.ModuleGetFunction, "cuModuleGetFunction"},
      {(void **)&cu.LaunchKernel, "cuLaunchKernel"},
      {(void **)&cu.MemAlloc, "cuMemAlloc_v2"},
      {(void **)&cu.MemFree, "cuMemFree_v2"},
      {(void **)&cu.MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"},
      {(void **)&cu.MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"},
      {(void **)&cu.GetErrorName, "cuGetErrorName"},
      {(void **)&cu.GetErrorString, "cuGetErrorString"},
      {(void **)&cu.EventCreate, "cuEventCreate"},
      {(void **)&cu.EventRecord, "cuEventRecord"},
      {(void **)&cu.EventElapsedTime, "cuEventElapsedTime"},
      {(void **)&cu.EventDestroy, "cuEventDestroy_v2"},
  };
  for (size_t i = 0; i < sizeof symbols / sizeof *symbols; ++i) {
    *symbols[i].slot = dlsym(lib, symbols[i].name);
    if (!*symbols[i].slot) {
      snprintf(cu.load_error, sizeof cu.load_error,
               "libcuda.so.1 lacks %s: the NVIDIA driver is too old for "
               "strata's CUDA backend", symbols[i].name);
      cu.loaded = -1;
      return fail("%s", cu.load_error);
    }
  }
  CUresult r = cu.Init(0);
  if (r != 0) {
    snprintf(cu.load_error, sizeof cu.load_error,
             "this model was compiled for an NVIDIA GPU (--target=cuda), but "
             "the CUDA driver found no usable GPU: cuInit: %s",
             error_text(r));
    cu.loaded = -1;
    return fail("%s", cu.load_error);
  }
  cu.loaded = 1;
  return 0;
}

#define CHECK(call, what)                                                      \
  do {                                                                         \
    CUresult r_ = (call);                                                      \
    if (r_ != 0)                                                               \
      return fail("CUDA: %s failed: %s", what, error_text(r_));                \
  } while (0)

static int by_total(const void *a, const void *b) {
  double x = ((const kernel_name *)a)->total_ms, y = ((const kernel_name *)b)->total_ms;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* STRATA_CUDA_PROFILE: each kernel's mean time per run, slowest first. */
static void print_profile(module_state *s) {
  if (!s->profile || !s->runs)
    return;
  qsort(s->kernels, (size_t)s->num_kernels, sizeof *s->kernels, by_total);
  double sum = 0;
  for (int i = 0; i < s->num_kernels; ++i)
    sum += s->kernels[i].total_ms;
  fprintf(stderr, "strata: CUDA kernel time per run, mean of %ld runs "
                  "(STRATA_CUDA_PROFILE):\n", s->runs);
  for (int i = 0; i < s->num_kernels; ++i)
    fprintf(stderr, "  %10.4f ms %5.1f%%  %s\n", s->kernels[i].total_ms / (double)s->runs,
            sum > 0 ? 100.0 * s->kernels[i].total_ms / sum : 0.0, s->kernels[i].name);
  fprintf(stderr, "  %10.4f ms        all %d kernels\n", sum / (double)s->runs,
          s->num_kernels);
}

/* Adds this run's event times to each kernel's total. */
static void collect_times(module_state *s) {
  for (int i = 0; i < s->num_timed; ++i) {
    float ms = 0;
    timed_launch *t = &s->timed[i];
    if (cu.EventElapsedTime(&ms, t->start, t->end) == 0 && t->kernel >= 0) {
      s->kernels[t->kernel].total_ms += ms;
      s->kernels[t->kernel].launches++;
    }
    cu.EventDestroy(t->start);
    cu.EventDestroy(t->end);
  }
  s->num_timed = 0;
}

static void free_state(module_state *s) {
  print_profile(s);
  free(s->timed);
  if (s->context)
    cu.CtxSetCurrent(s->context);
  for (int i = 0; i < s->num_modules; ++i)
    cu.ModuleUnload(s->modules[i].module);
  if (s->block)
    cu.MemFree(s->block);
  if (s->stream)
    cu.StreamDestroy(s->stream);
  if (s->context)
    cu.PrimaryCtxRelease(s->device);
  free(s->modules);
  free(s->kernels);
  free(s->device_ptrs);
  free(s);
}

/* Device memory of a module outlives its runs, not its library. */
__attribute__((destructor)) static void free_all_states(void) {
  while (all_states) {
    module_state *next = all_states->next;
    free_state(all_states);
    all_states = next;
  }
}

static size_t align256(uint64_t n) { return (size_t)((n + 255) / 256 * 256); }

static int init_state(module_state *s, void **host, const uint64_t *bytes,
                      int count, int has_arena, int nin, int nout) {
  const char *sync = getenv("STRATA_CUDA_SYNC");
  s->sync_each = sync && sync[0] == '1';
  const char *profile = getenv("STRATA_CUDA_PROFILE");
  s->profile = profile && profile[0] == '1';
  const char *ordinal = getenv("STRATA_CUDA_DEVICE");
  int devices = 0;
  cu.DeviceGetCount(&devices);
  int index = ordinal ? atoi(ordinal) : 0;
  if (index < 0 || index >= devices)
    return fail("CUDA: no device %d (this machine has %d; set STRATA_CUDA_DEVICE)",
                index, devices);
  CHECK(cu.DeviceGet(&s->device, index), "cuDeviceGet");
  CHECK(cu.PrimaryCtxRetain(&s->context, s->device), "cuDevicePrimaryCtxRetain");
  CHECK(cu.CtxSetCurrent(s->context), "cuCtxSetCurrent");
  CHECK(cu.StreamCreate(&s->stream, 0), "cuStreamCreate");
  int total = count + has_arena;
  s->device_ptrs = calloc((size_t)(total ? total : 1), sizeof(void *));
  size_t block = 0;
  for (int i = 0; i < total; ++i)
    block += align256(bytes[i] ? bytes[i] : 1);
  CHECK(cu.MemAlloc(&s->block, block ? block : 256),
        "allocating the model's device memory");
  size_t offset = 0;
  for (int i = 0; i < total; ++i) {
    s->device_ptrs[i] = (void *)(uintptr_t)(s->block + offset);
    offset += align256(bytes[i] ? bytes[i] : 1);
  }
  /* Weights once, here. */
  for (int i = nin + nout; i < count; ++i)
    CHECK(cu.MemcpyHtoDAsync((CUdeviceptr)(uintptr_t)s->device_ptrs[i], host[i],
                             (size_t)bytes[i], s->stream),
          "uploading the weights");
  return 0;
}

/* A module's state on its first run; nothing is kept if that fails, so the
 * next run tries again. */
static int create_state(module_state **out, void **host, const uint64_t *bytes,
                        int count, int has_arena, int nin, int nout) {
  if (load_driver())
    return 1;
  module_state *s = calloc(1, sizeof *s);
  if (!s)
    return fail("out of memory");
  if (init_state(s, host, bytes, count, has_arena, nin, nout)) {
    free_state(s);
    return 1;
  }
  s->next = all_states;
  all_states = s;
  *out = s;
  return 0;
}

static int kernel_index(CUfunction f) {
  for (int i = 0; current && i < current->num_kernels; ++i)
    if (current->kernels[i].function == f)
      return i;
  return -1;
}

static const char *kernel_called(CUfunction f) {
  int i = kernel_index(f);
  return i >= 0 ? current->kernels[i].name : "?";
}

/* STRATA_CUDA_PROFILE: an event pair around the next launch. */
static timed_launch *begin_timing(module_state *s, CUfunction f) {
  if (s->num_timed == s->cap_timed) {
    int cap = s->cap_timed ? 2 * s->cap_timed : 64;
    timed_launch *grown = realloc(s->timed, (size_t)cap * sizeof *grown);
    if (!grown)
      return NULL;
    s->timed = grown;
    s->cap_timed = cap;
  }
  timed_launch *t = &s->timed[s->num_timed];
  if (cu.EventCreate(&t->start, 0) || cu.EventCreate(&t->end, 0))
    return NULL;
  t->kernel = kernel_index(f);
  s->num_timed++;
  cu.EventRecord(t->start, s->stream);
  return t;
}

int strata_cuda_run(void **state_slot, void **host, const uint64_t *bytes,
                    int nin, int nout, int nweights, int64_t arena_bytes,
                    void (*packed)(void **)) {
  int count = nin + nout + nweights;
  module_state *s = *state_slot;
  last_error[0] = '\0';
  if (!s) {
    if (create_state((module_state **)state_slot, host, bytes, count,
                     arena_bytes > 0, nin, nout))
      return 1;
    s = *state_slot;
  }
  current = s;
  s->failed = 0;
  int rc = 1;
  CUresult r = cu.CtxSetCurrent(s->context);
  if (r != 0) {
    fail("CUDA: cuCtxSetCurrent failed: %s", error_text(r));
    goto done;
  }
  for (int i = 0; i < nin; ++i)
    if ((r = cu.MemcpyHtoDAsync((CUdeviceptr)(uintptr_t)s->device_ptrs[i], host[i],
                                (size_t)bytes[i], s->stream))) {
      fail("CUDA: copying input %d to the GPU failed: %s", i, error_text(r));
      goto done;
    }
  packed(s->device_ptrs);
  if (s->failed)
    goto done;
  for (int i = nin; i < nin + nout; ++i)
    if ((r = cu.MemcpyDtoHAsync(host[i], (CUdeviceptr)(uintptr_t)s->device_ptrs[i],
                                (size_t)bytes[i], s->stream))) {
      fail("CUDA: copying output %d from the GPU failed: %s", i - nin, error_text(r));
      goto done;
    }
  if ((r = cu.StreamSynchronize(s->stream))) {
    fail("CUDA: the model's kernels failed: %s (rerun with STRATA_CUDA_SYNC=1 "
         "to name the kernel)", error_text(r));
    goto done;
  }
  if (s->profile) {
    collect_times(s);
    s->runs++;
  }
  rc = 0;
done:
  if (rc) {
    /* Copies already queued read or write the caller's buffers: let them
     * finish before the caller can free those. */
    cu.StreamSynchronize(s->stream);
    if (s->profile)
      collect_times(s);
  }
  current = NULL;
  return rc;
}

/* --- called by the generated host code (MLIR's GPU runtime ABI) ---------- */

void *mgpuModuleLoadJIT(void *image, int opt_level) {
  module_state *s = current;
  if (!s || s->failed)
    return NULL;
  for (int i = 0; i < s->num_modules; ++i)
    if (s->modules[i].image == image)
      return s->modules[i].module;
  char log[4096] = "";
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, (void *)(uintptr_t)sizeof log,
                    (void *)(uintptr_t)(opt_level < 0 ? 0 : opt_level > 4 ? 4 : opt_level)};
  CUmodule module = NULL;
  CUresult r = cu.ModuleLoadDataEx(&module, image, 3, options, values);
  if (r != 0) {
    int major = 0, minor = 0;
    cu.DeviceGetAttribute(&major, CC_MAJOR, s->device);
    cu.DeviceGetAttribute(&minor, CC_MINOR, s->device);
    fail("CUDA: loading the model's PTX failed: %s%s%s (this GPU is sm_%d%d: "
         "compile with --gpu-arch=sm_%d%d or lower)",
         error_text(r), log[0] ? ": " : "", log, major, minor, major, minor);
    return NULL;
  }
  loaded_module *grown =
      realloc(s->modules, (size_t)(s->num_modules + 1) * sizeof *s->modules);
  if (!grown) {
    fail("out of memory");
    return NULL;
  }
  s->modules = grown;
  s->modules[s->num_modules++] = (loaded_module){image, module};
  return module;
}

void *mgpuModuleLoad(void *image, size_t size) {
  (void)size;
  return mgpuModuleLoadJIT(image, 4);
}

void mgpuModuleUnload(void *module) { (void)module; /* at library unload */ }

void *mgpuModuleGetFunction(void *module, const char *name) {
  module_state *s = current;
  if (!s || s->failed || !module)
    return NULL;
  CUfunction f = NULL;
  CUresult r = cu.ModuleGetFunction(&f, module, name);
  if (r != 0) {
    fail("CUDA: kernel %s not found in its module: %s", name, error_text(r));
    return NULL;
  }
  for (int i = 0; i < s->num_kernels; ++i)
    if (s->kernels[i].function == f)
      return f;
  kernel_name *grown =
      realloc(s->kernels, (size_t)(s->num_kernels + 1) * sizeof *s->kernels);
  if (grown) {
    s->kernels = grown;
    s->kernels[s->num_kernels].function = f;
    memset(&s->kernels[s->num_kernels], 0, sizeof *s->kernels);
    s->kernels[s->num_kernels].function = f;
    snprintf(s->kernels[s->num_kernels].name, sizeof s->kernels->name, "%s", name);
    s->num_kernels++;
  }
  return f;
}

void *mgpuStreamCreate(void) { return current ? current->stream : NULL; }
void mgpuStreamDestroy(void *stream) { (void)stream; }
void mgpuStreamSynchronize(void *stream) { (void)stream; /* at the run's end */ }

void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                      void *stream, void **params, void **extra,
                      size_t param_count) {
  (void)param_count;
  module_state *s = current;
  if (!s || s->failed || !function)
    return;
  timed_launch *timing = s->profile ? begin_timing(s, function) : NULL;
  CUresult r = cu.LaunchKernel(function, (unsigned)gx, (unsigned)gy, (unsigned)gz,
                               (unsigned)bx, (unsigned)by, (unsigned)bz,
                               (unsigned)smem, stream, params, extra);
  if (r != 0) {
    fail("CUDA: launching kernel %s (grid %ldx%ldx%ld, block %ldx%ldx%ld) "
         "failed: %s", kernel_called(function), (long)gx, (long)gy, (long)gz,
         (long)bx, (long)by, (long)bz, error_text(r));
    return;
  }
  if (timing)
    cu.EventRecord(timing->end, s->stream);
  if (s->sync_each && (r = cu.StreamSynchronize(s->stream)) != 0)
    fail("CUDA: kernel %s failed: %s", kernel_called(function), error_text(r));
}
