/* Tensors: element sizes, allocation, names. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t strata_dtype_size(strata_dtype d) {
  switch (d) {
  case STRATA_DOUBLE: case STRATA_INT64: return 8;
  case STRATA_FLOAT: case STRATA_INT32: return 4;
  case STRATA_FLOAT16: case STRATA_BFLOAT16: return 2;
  case STRATA_UINT8: case STRATA_INT8: case STRATA_BOOL: return 1;
  }
  return 0;
}

static const struct { strata_dtype dtype; const char *name; } kNames[] = {
    {STRATA_FLOAT, "FLOAT"},     {STRATA_UINT8, "UINT8"},
    {STRATA_INT8, "INT8"},       {STRATA_INT32, "INT32"},
    {STRATA_INT64, "INT64"},     {STRATA_BOOL, "BOOL"},
    {STRATA_FLOAT16, "FLOAT16"}, {STRATA_DOUBLE, "DOUBLE"},
    {STRATA_BFLOAT16, "BFLOAT16"}};

const char *strata_dtype_name(strata_dtype d) {
  for (size_t i = 0; i < sizeof kNames / sizeof kNames[0]; ++i)
    if (kNames[i].dtype == d)
      return kNames[i].name;
  return "UNKNOWN";
}

strata_dtype strata_dtype_from_name(const char *name) {
  for (size_t i = 0; i < sizeof kNames / sizeof kNames[0]; ++i)
    if (strcmp(kNames[i].name, name) == 0)
      return kNames[i].dtype;
  return (strata_dtype)0;
}

int64_t strata_tensor_num_elements(const strata_tensor *t) {
  /* A zero dimension empties the tensor whatever the others say (which may
   * be huge: their product alone would overflow). */
  for (int32_t i = 0; i < t->rank; ++i)
    if (t->dims[i] == 0)
      return 0;
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i)
    if (__builtin_mul_overflow(n, t->dims[i], &n))
      return INT64_MAX; /* never for a tensor the runtime allocated */
  return n;
}

/* Tensors may not exceed what a process can address (128 TiB on x86-64),
 * which also keeps every byte count far from overflowing. */
#define STRATA_MAX_TENSOR_BYTES ((uint64_t)1 << 47)

int strata_tensor_byte_size(strata_dtype dtype, int32_t rank, const int64_t *dims,
                            size_t *bytes) {
  if (rank < 0 || rank > STRATA_MAX_RANK)
    return strata_fail("rank %d is above the supported %d", rank, STRATA_MAX_RANK);
  uint64_t total = strata_dtype_size(dtype);
  if (!total)
    return strata_fail("unsupported element type %d", (int)dtype);
  int zero = 0, overflow = 0;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return strata_fail("negative dimension %lld", (long long)dims[i]);
    zero |= dims[i] == 0;
    overflow |= __builtin_mul_overflow(total, (uint64_t)dims[i], &total);
  }
  if (zero)
    total = 0, overflow = 0;
  if (overflow || total > STRATA_MAX_TENSOR_BYTES) {
    char shape[256];
    strata_format_shape(shape, sizeof shape, rank, dims);
    return strata_fail("a %s tensor of shape %s is too large for memory",
                       strata_dtype_name(dtype), shape);
  }
  *bytes = (size_t)total;
  return 0;
}

int strata_tensor_alloc_uninitialized(strata_dtype dtype, int32_t rank,
                                      const int64_t *dims, strata_tensor *out) {
  size_t bytes;
  if (strata_tensor_byte_size(dtype, rank, dims, &bytes))
    return 1;
  memset(out, 0, sizeof *out);
  out->dtype = dtype;
  out->rank = rank;
  for (int32_t i = 0; i < rank; ++i)
    out->dims[i] = dims[i];
  /* 64-byte alignment suits every vector width the compiler targets. */
  out->data = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  if (!out->data)
    return strata_fail("out of memory allocating %zu bytes", bytes);
  return 0;
}

int strata_tensor_alloc(strata_dtype dtype, int32_t rank, const int64_t *dims,
                        strata_tensor *out) {
  if (strata_tensor_alloc_uninitialized(dtype, rank, dims, out))
    return 1;
  memset(out->data, 0,
         (size_t)strata_tensor_num_elements(out) * strata_dtype_size(dtype));
  return 0;
}

void strata_tensor_free(strata_tensor *t) {
  if (t) {
    free(t->data);
    t->data = NULL;
  }
}

void strata_format_shape(char *buf, size_t size, int32_t rank,
                         const int64_t *dims) {
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int32_t i = 0; i < rank && n < size; ++i)
    n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld",
                          (long long)dims[i]);
  if (n < size)
    snprintf(buf + n, size - n, "]");
}
