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

/* The bytes of a tensor of `dims`, or 1 (with the error) for a negative
 * dimension or a size that does not fit in memory's address range. */
int strata_tensor_byte_size(strata_dtype dtype, int32_t rank, const int64_t *dims,
                            size_t *bytes);

/* Parsers of tensor files held in memory (`name` for messages); fuzzing
 * targets (test/fuzz). */
int strata_tensor_parse_npy(const unsigned char *bytes, size_t size, const char *name,
                            strata_tensor *out);
int strata_tensor_parse_pb(const unsigned char *bytes, size_t size, const char *name,
                           strata_tensor *out);

/* Maps `path` and runs `parse` on its bytes. */
int strata_read_file_with(const char *path,
                          int (*parse)(const unsigned char *, size_t, const char *,
                                       strata_tensor *),
                          strata_tensor *out);

/* Writes `size` bytes to `path` through a temporary renamed into place. */
int strata_write_file_whole(const char *path, const void *data, size_t size);

/* Parses an ONNX dtype name; returns 0 if unknown. */
strata_dtype strata_dtype_from_name(const char *name);

#endif
