/* The two symbols every module compiled by strata exports (C linkage).
 *
 *   int strata_model_run(void **buffers);
 *     buffers: one pointer per input, then one per output, then one per
 *     external weight, each to dense row-major data of the signature's dtype
 *     and shape; outputs are written.
 *     Returns 0.
 *
 *   const char strata_model_signature[];
 *     "strata-module 1\n"
 *     "inputs N\n"  then N lines  "name\tDTYPE\trank\td0\td1...\n"
 *     "outputs M\n" then M lines of the same form.
 *     DTYPE is the ONNX name (FLOAT, INT64, ...).
 *     Optionally (strata compile --weights): "weights W\tFILE\n" then W
 *     lines "name\toffset\tbytes\n"; the runtime maps FILE from the
 *     module's folder and passes one pointer per entry after the outputs.
 *
 * Modules that call oneDNN also export:
 *   int strata_model_prepare(void);
 *     creates the oneDNN primitives for the current thread count (otherwise
 *     the first run does); returns 0, or 1 with strata_onednn_last_error().
 *     The loader calls it after loading and after changing the threads.
 *
 * Modules with parallel loops also export (from libstrata_parallel.a):
 *   void strata_model_set_threads(int n);   n <= 0: all cores (default)
 *   int strata_model_get_threads(void);
 */
#ifndef STRATA_MODULE_ABI_H
#define STRATA_MODULE_ABI_H

#define STRATA_MODEL_RUN_SYMBOL "strata_model_run"
#define STRATA_MODEL_SIGNATURE_SYMBOL "strata_model_signature"
#define STRATA_MODEL_SET_THREADS_SYMBOL "strata_model_set_threads"
#define STRATA_MODEL_GET_THREADS_SYMBOL "strata_model_get_threads"
#define STRATA_MODEL_PREPARE_SYMBOL "strata_model_prepare"

#endif /* STRATA_MODULE_ABI_H */
