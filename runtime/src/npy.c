/* NumPy .npy files (format 1.0 to 3.0), little-endian, C order. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *descr; strata_dtype dtype; } kDescr[] = {
    {"<f4", STRATA_FLOAT}, {"<f8", STRATA_DOUBLE}, {"<f2", STRATA_FLOAT16},
    {"<i8", STRATA_INT64}, {"<i4", STRATA_INT32},  {"|i1", STRATA_INT8},
    {"|u1", STRATA_UINT8}, {"|b1", STRATA_BOOL}};

static int read_all(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

int strata_tensor_read_npy(const char *path, strata_tensor *out);

int strata_tensor_read_npy(const char *path, strata_tensor *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return strata_fail("%s: cannot open", path);
  unsigned char magic[8];
  int rc = 1;
  char *header = NULL;
  if (!read_all(f, magic, 8) || memcmp(magic, "\x93NUMPY", 6) != 0) {
    strata_fail("%s: not a .npy file", path);
    goto done;
  }
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char l[2];
    if (!read_all(f, l, 2)) { strata_fail("%s: truncated header", path); goto done; }
    hlen = l[0] | (l[1] << 8);
  } else {
    unsigned char l[4];
    if (!read_all(f, l, 4)) { strata_fail("%s: truncated header", path); goto done; }
    hlen = l[0] | (l[1] << 8) | (l[2] << 16) | ((uint32_t)l[3] << 24);
  }
  header = calloc(1, hlen + 1);
  if (!header || !read_all(f, header, hlen)) {
    strata_fail("%s: truncated header", path);
    goto done;
  }
  const char *d = strstr(header, "'descr':");
  const char *fo = strstr(header, "'fortran_order':");
  const char *sh = strstr(header, "'shape':");
  if (!d || !fo || !sh) {
    strata_fail("%s: malformed header", path);
    goto done;
  }
  if (strncmp(fo + 16, " True", 5) == 0) {
    strata_fail("%s: Fortran-order arrays are not supported (save with "
                "np.ascontiguousarray)", path);
    goto done;
  }
  strata_dtype dtype = 0;
  for (size_t i = 0; i < sizeof kDescr / sizeof kDescr[0]; ++i)
    if (strstr(d, kDescr[i].descr) && strstr(d, kDescr[i].descr) < fo + 64)
      { dtype = kDescr[i].dtype; break; }
  if (!dtype) {
    strata_fail("%s: unsupported dtype in header: %.40s", path, d);
    goto done;
  }
  int64_t dims[STRATA_MAX_RANK];
  int32_t rank = 0;
  const char *p = strchr(sh, '(');
  while (p && *p && *p != ')') {
    ++p;
    while (*p == ' ' || *p == ',') ++p;
    if (*p == ')') break;
    if (rank == STRATA_MAX_RANK) { strata_fail("%s: rank above %d", path, STRATA_MAX_RANK); goto done; }
    dims[rank++] = strtoll(p, (char **)&p, 10);
  }
  if (strata_tensor_alloc(dtype, rank, dims, out))
    goto done;
  size_t bytes = (size_t)strata_tensor_num_elements(out) * strata_dtype_size(dtype);
  if (!read_all(f, out->data, bytes)) {
    strata_tensor_free(out);
    strata_fail("%s: data is shorter than its shape says", path);
    goto done;
  }
  rc = 0;
done:
  free(header);
  fclose(f);
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
  FILE *f = fopen(path, "wb");
  if (!f)
    return strata_fail("%s: cannot create", path);
  uint16_t hlen = (uint16_t)(len + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(hlen & 0xff, f);
  fputc(hlen >> 8, f);
  fwrite(header, 1, (size_t)len, f);
  for (int i = 0; i < pad; ++i)
    fputc(' ', f);
  fputc('\n', f);
  size_t bytes = (size_t)strata_tensor_num_elements(t) * strata_dtype_size(t->dtype);
  int ok = fwrite(t->data, 1, bytes, f) == bytes;
  ok &= fclose(f) == 0;
  return ok ? 0 : strata_fail("%s: write failed", path);
}
