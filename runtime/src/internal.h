/* Helpers shared by the runtime's source files. */
#ifndef STRATA_RUNTIME_INTERNAL_H
#define STRATA_RUNTIME_INTERNAL_H

#include "strata/module_abi.h"
#include "strata/runtime.h"

/* Sets the last error (printf-style) and returns 1. */
int strata_fail(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* "[1, 784]" into buf. */
void strata_format_shape(char *buf, size_t size, int32_t rank,
                         const int64_t *dims);

/* As strata_tensor_alloc, without zeroing: for outputs the model overwrites. */
int strata_tensor_alloc_uninitialized(strata_dtype dtype, int32_t rank,
                                      const int64_t *dims, strata_tensor *out);

/* Parses an ONNX dtype name; returns 0 if unknown. */
strata_dtype strata_dtype_from_name(const char *name);

#endif
