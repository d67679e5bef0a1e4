/* NumPy .npy files (format 1.0 to 3.0), little-endian, C order.
 *
 * The parser works on bytes in memory (the file is mapped), checks every
 * length against what is there, and never trusts the header's shape for
 * more than the data it has: it is a fuzzing target (test/fuzz). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *descr; strata_dtype dtype; } kDescr[] = {
    {"<f4", STRATA_FLOAT}, {"<f8", STRATA_DOUBLE}, {"<f2", STRATA_FLOAT16},
    {"<i8", STRATA_INT64}, {"<i4", STRATA_INT32},  {"|i1", STRATA_INT8},
    {"|u1", STRATA_UINT8}, {"|b1", STRATA_BOOL}};

/* The value after `key` in the header dict, or NULL. */
static const char *value_of(const char *header, const char *key) {
  const char *k = strstr(header, key);
  if (!k)
    return NULL;
  k += strlen(key);
  while (*k == ' ')
    ++k;
  return *k == ':' ? k + 1 : NULL;
}

int strata_tensor_parse_npy(const unsigned char *bytes, size_t size, const char *name,
                            strata_tensor *out) {
  if (size < 10 || memcmp(bytes, "\x93NUMPY", 6) != 0)
    return strata_fail("%s: not a .npy file", name);
  unsigned major = bytes[6];
  size_t hlen, start;
  if (major == 1) {
    hlen = (size_t)bytes[8] | (size_t)bytes[9] << 8;
    start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12)
      return strata_fail("%s: truncated header", name);
    hlen = (size_t)bytes[8] | (size_t)bytes[9] << 8 | (size_t)bytes[10] << 16 |
           (size_t)bytes[11] << 24;
    start = 12;
  } else {
    return strata_fail("%s: .npy format version %u is not supported", name, major);
  }
  if (hlen > size - start)
    return strata_fail("%s: truncated header", name);
  char *header = malloc(hlen + 1);
  if (!header)
    return strata_fail("%s: out of memory", name);
  memcpy(header, bytes + start, hlen);
  header[hlen] = '\0';
  int rc = 1;
  const char *d = value_of(header, "'descr'");
  const char *fo = value_of(header, "'fortran_order'");
  const char *sh = value_of(header, "'shape'");
  if (!d || !fo || !sh) {
    strata_fail("%s: malformed header", name);
    goto done;
  }
  while (*fo == ' ')
    ++fo;
  if (strncmp(fo, "True", 4) == 0) {
    strata_fail("%s: Fortran-order arrays are not supported (save with "
                "np.ascontiguousarray)", name);
    goto done;
  }
  while (*d == ' ')
    ++d;
  strata_dtype dtype = 0;
  for (size_t i = 0; i < sizeof kDescr / sizeof kDescr[0]; ++i)
    if (d[0] == '\'' && strncmp(d + 1, kDescr[i].descr, 3) == 0 && d[4] == '\'')
      dtype = kDescr[i].dtype;
  if (!dtype) {
    strata_fail("%s: unsupported dtype in header: %.40s", name, d);
    goto done;
  }
  int64_t dims[STRATA_MAX_RANK];
  int32_t rank = 0;
  const char *p = sh;
  while (*p == ' ')
    ++p;
  if (*p != '(') {
    strata_fail("%s: malformed shape in header", name);
    goto done;
  }
  ++p;
  for (;;) {
    while (*p == ' ' || *p == ',')
      ++p;
    if (*p == ')')
      break;
    if (*p < '0' || *p > '9') {
      strata_fail("%s: malformed shape in header", name);
      goto done;
    }
    if (rank == STRATA_MAX_RANK) {
      strata_fail("%s: rank above %d", name, STRATA_MAX_RANK);
      goto done;
    }
    char *end;
    long long v = strtoll(p, &end, 10);
    if (v < 0 || end == p) {
      strata_fail("%s: malformed shape in header", name);
      goto done;
    }
    dims[rank++] = v;
    p = end;
  }
  size_t data_bytes;
  if (strata_tensor_byte_size(dtype, rank, dims, &data_bytes))
    goto done;
  size_t offset = start + hlen;
  if (data_bytes > size - offset) {
    strata_fail("%s: data is shorter than its shape says (%zu bytes, %zu needed)", name,
                size - offset, data_bytes);
    goto done;
  }
  if (strata_tensor_alloc_uninitialized(dtype, rank, dims, out))
    goto done;
  memcpy(out->data, bytes + offset, data_bytes);
  rc = 0;
done:
  free(header);
  return rc;
}

int strata_tensor_write_npy(const char *path, const strata_tensor *t) {
  const char *descr = NULL;
  for (size_t i = 0; i < sizeof kDescr / sizeof kDescr[0]; ++i)
    if (kDescr[i].dtype == t->dtype)
      descr = kDescr[i].descr;
  if (!descr)
    return strata_fail("%s: cannot write %s as .npy", path,
                       strata_dtype_name(t->dtype));
  char shape[256] = "";
  size_t n = 0;
  for (int32_t i = 0; i < t->rank; ++i)
    n += (size_t)snprintf(shape + n, sizeof shape - n, "%lld,%s",
                          (long long)t->dims[i], i + 1 < t->rank ? " " : "");
  if (t->rank > 1) shape[n - 1] = '\0'; /* "(2, 3)" but "(5,)" */
  char header[512];
  int len = snprintf(header, sizeof header,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                     descr, shape);
  /* Pad with spaces so the data starts on a 64-byte boundary. */
  int total = 10 + len + 1;
  int pad = (64 - total % 64) % 64;
  size_t bytes = (size_t)strata_tensor_num_elements(t) * strata_dtype_size(t->dtype);
  size_t file_size = (size_t)total + (size_t)pad + bytes;
  unsigned char *buf = malloc(file_size);
  if (!buf)
    return strata_fail("%s: out of memory", path);
  uint16_t hlen = (uint16_t)(len + pad + 1);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = hlen & 0xff;
  buf[9] = hlen >> 8;
  memcpy(buf + 10, header, (size_t)len);
  memset(buf + 10 + len, ' ', (size_t)pad);
  buf[10 + len + pad] = '\n';
  memcpy(buf + total + pad, t->data, bytes);
  int rc = strata_write_file_whole(path, buf, file_size);
  free(buf);
  return rc;
}
