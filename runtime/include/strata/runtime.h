/* strata runtime: load and run models compiled by `strata compile`.
 *
 * Plain C, no MLIR or LLVM. Every fallible call returns 0 on success and
 * non-zero on failure; strata_last_error() then describes what went wrong.
 */
#ifndef STRATA_RUNTIME_H
#define STRATA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_MAX_RANK 8

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum {
  STRATA_FLOAT = 1, STRATA_UINT8 = 2, STRATA_INT8 = 3, STRATA_INT32 = 6,
  STRATA_INT64 = 7, STRATA_BOOL = 9, STRATA_FLOAT16 = 10, STRATA_DOUBLE = 11,
  STRATA_BFLOAT16 = 16
} strata_dtype;

/* A dense row-major tensor. `data` is owned by whoever allocated it;
 * tensors from strata_tensor_alloc / _read_file are freed with
 * strata_tensor_free. */
typedef struct {
  strata_dtype dtype;
  int32_t rank;
  int64_t dims[STRATA_MAX_RANK];
  void *data;
} strata_tensor;

typedef struct {
  char name[256];
  strata_dtype dtype;
  int32_t rank;
  int64_t dims[STRATA_MAX_RANK];
} strata_tensor_info;

typedef struct strata_module strata_module;
typedef struct strata_context strata_context;

/* The message of the last failed call on this thread. */
const char *strata_last_error(void);

/* --- tensors -------------------------------------------------------------- */
size_t strata_dtype_size(strata_dtype dtype);
const char *strata_dtype_name(strata_dtype dtype); /* "FLOAT", "INT64", ... */
int64_t strata_tensor_num_elements(const strata_tensor *t);
/* A zero-filled tensor with 64-byte aligned data. */
int strata_tensor_alloc(strata_dtype dtype, int32_t rank, const int64_t *dims,
                        strata_tensor *out);
void strata_tensor_free(strata_tensor *t);
/* Reads .npy or ONNX TensorProto .pb, chosen by the file extension. */
int strata_tensor_read_file(const char *path, strata_tensor *out);
int strata_tensor_write_npy(const char *path, const strata_tensor *t);
int strata_tensor_write_pb(const char *path, const char *name,
                           const strata_tensor *t);

/* --- modules -------------------------------------------------------------- */
/* Loads a shared library written by `strata compile model.onnx -o x.so`. */
int strata_module_load(const char *path, strata_module **out);
/* Wraps a model linked into this program (what compiled executables do). */
int strata_module_from_symbols(int (*run)(void **buffers),
                               const char *signature, strata_module **out);
void strata_module_free(strata_module *m);
int strata_module_num_inputs(const strata_module *m);
int strata_module_num_outputs(const strata_module *m);
const strata_tensor_info *strata_module_input(const strata_module *m, int i);
const strata_tensor_info *strata_module_output(const strata_module *m, int i);
/* Threads each operator's work is split over; n <= 0 restores the default,
 * all available cores (OMP_NUM_THREADS where set). Results are identical
 * for any count. A module with nothing to run in parallel ignores it. */
void strata_module_set_threads(strata_module *m, int n);
/* The count the next run will use (1 for a module without parallel code). */
int strata_module_threads(const strata_module *m);
/* Checks inputs against the signature, allocates the outputs (free them
 * with strata_tensor_free) and runs the model with the module's own
 * context. Concurrent calls on one module are safe and take turns; to run
 * one model on several threads at once, give each thread a context. */
int strata_module_run(strata_module *m, const strata_tensor *inputs,
                      strata_tensor *outputs);
/* As strata_module_run, but writes into caller-allocated outputs of the
 * signature's dtypes and shapes (checked): no allocation per call, for
 * loops such as training steps. Outputs must not alias inputs. */
int strata_module_run_into(strata_module *m, const strata_tensor *inputs,
                           const strata_tensor *outputs);
/* The bytes of activation memory each context holds (0 if none). */
int64_t strata_module_arena_bytes(const strata_module *m);

/* --- contexts: one model, several threads ------------------------------------
 * A context holds what one run needs for itself: the activation arena
 * (strata_module_arena_bytes) and the kernels' per-run objects (a oneDNN
 * stream and scratchpad). Weights and compiled kernels stay shared in the
 * module. Any number of contexts of one module may run at the same time,
 * each on one thread at a time; a context is reused run after run without
 * allocating. Free every context before its module. CPU modules run
 * contexts truly in parallel; CUDA modules take turns (their device buffers
 * belong to the module). Change the thread count only while no run is in
 * progress. */
int strata_context_create(strata_module *m, strata_context **out);
void strata_context_free(strata_context *c);
int strata_context_run(strata_context *c, const strata_tensor *inputs,
                       strata_tensor *outputs);
int strata_context_run_into(strata_context *c, const strata_tensor *inputs,
                            const strata_tensor *outputs);

/* --- the command-line convention shared by executables and `strata run` ---
 * argv (without the program name): --input NAME=FILE | --input FILE | FILE,
 * --output-dir DIR, --output-format npy|pb, --threads N, --help. Returns the exit code. */
int strata_run_main(strata_module *m, const char *program, int argc,
                    char **argv);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_RUNTIME_H */
