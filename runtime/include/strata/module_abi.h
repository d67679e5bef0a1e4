/* What every module compiled by strata exports (C linkage), version 2.
 *
 *   int strata_model_run(void **buffers);
 *     buffers: one pointer per input, then one per output, then one per
 *     external weight, each to dense row-major data of the signature's dtype
 *     and shape (outputs are written); then, when the signature has an
 *     "arena" line, the activation arena: that many bytes, 64-byte aligned,
 *     not shared with a run in progress; then a strata_run_context (below),
 *     likewise private to the run.
 *     Returns 0, or 1 when the run failed: context->message says why (an
 *     index out of range, a oneDNN failure), or for CUDA modules
 *     strata_cuda_last_error().
 *
 *   const char strata_model_signature[];
 *     "strata-module 2\n"
 *     "inputs N\n"  then N lines  "name\tDTYPE\trank\td0\td1...\n"
 *     "outputs M\n" then M lines of the same form.
 *     DTYPE is the ONNX name (FLOAT, INT64, ...).
 *     Optionally (strata compile --weights): "weights W\tFILE\tID\n" then W
 *     lines "name\toffset\tbytes\n"; the runtime maps FILE from the
 *     module's folder, checks that its header carries ID (see
 *     strata_weights_header) and passes one pointer per entry (offsets count
 *     from the end of the header) after the outputs.
 *     Optionally: "arena BYTES\n", the size of the activation arena.
 *
 * Several runs may be in progress at once, each with its own arena and
 * context: the module's code keeps no state of a run anywhere else.
 *
 * Modules that call oneDNN also export:
 *   int strata_model_prepare(void);
 *     creates the oneDNN primitives for the current thread count (otherwise
 *     the first run does); returns 0, or 1 with strata_onednn_last_error().
 *     The loader calls it after loading and after changing the threads,
 *     never while a run is in progress.
 *   void strata_model_context_release(strata_run_context *context);
 *     frees what runs with this context created (a oneDNN stream, scratch
 *     memory); the loader calls it before freeing a context.
 *   void strata_model_release(void);
 *     frees the primitives and reordered weights; called before the module
 *     is unloaded, with no context left.
 *
 * Modules compiled from a compressed package (.stz) whose layers they keep
 * packed also export:
 *   const char *strata_model_unpack(void);
 *     decodes the packed layers into the module's own buffers, once per
 *     loaded module (strata_unpack_weights); returns NULL, or the error. The
 *     loader calls it before strata_model_prepare and before any run.
 *
 * Modules with parallel loops also export (from libstrata_parallel.a):
 *   void strata_model_set_threads(int n);   n <= 0: all cores (default)
 *   int strata_model_get_threads(void);
 */
#ifndef STRATA_MODULE_ABI_H
#define STRATA_MODULE_ABI_H

#include <stdint.h>

#define STRATA_MODULE_ABI_VERSION 2

#define STRATA_MODEL_RUN_SYMBOL "strata_model_run"
#define STRATA_MODEL_SIGNATURE_SYMBOL "strata_model_signature"
#define STRATA_MODEL_SET_THREADS_SYMBOL "strata_model_set_threads"
#define STRATA_MODEL_GET_THREADS_SYMBOL "strata_model_get_threads"
#define STRATA_MODEL_PREPARE_SYMBOL "strata_model_prepare"
#define STRATA_MODEL_CONTEXT_RELEASE_SYMBOL "strata_model_context_release"
#define STRATA_MODEL_RELEASE_SYMBOL "strata_model_release"
#define STRATA_MODEL_UNPACK_SYMBOL "strata_model_unpack"

/* The state of one run, owned by whoever calls strata_model_run (the
 * runtime's strata_context), zero-filled when created. The generated code
 * reads `failed` after the model's body; the support code linked into the
 * module writes `failed` and `message` (the first failure of a run wins) and
 * keeps its per-context objects behind `onednn`. */
typedef struct strata_run_context {
  int64_t failed;    /* 0 while the run is fine; offset 0 (generated code reads it) */
  void *onednn;      /* the oneDNN glue's stream and scratchpad for this context */
  int64_t reserved[6];
  char message[448]; /* what failed, NUL-terminated */
} strata_run_context;

/* The first 64 bytes of a weights file (strata compile --weights): the
 * signature's ID must equal `id`, so a program never runs with another
 * model's weights of the same size. */
typedef struct strata_weights_header {
  char magic[16];     /* "strata-weights\0\0" */
  uint64_t version;   /* 1 */
  uint64_t id;        /* FNV-1a 64 of the payload, also in the signature */
  uint64_t bytes;     /* payload bytes after the header */
  uint64_t reserved[3];
} strata_weights_header;

#define STRATA_WEIGHTS_MAGIC "strata-weights"
#define STRATA_WEIGHTS_VERSION 1

#endif /* STRATA_MODULE_ABI_H */
