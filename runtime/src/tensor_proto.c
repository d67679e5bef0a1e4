/* ONNX TensorProto .pb files, read and written with a minimal protobuf
 * wire-format codec (the runtime does not link libprotobuf). Fields used:
 * 1 dims, 2 data_type, 4 float_data, 5 int32_data, 7 int64_data, 8 name,
 * 9 raw_data, 10 double_data. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const unsigned char *p, *end; } reader;

static int varint(reader *r, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
    unsigned char b = *r->p++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return 1;
  }
  return 0;
}

typedef struct { const unsigned char *data; size_t size; size_t count; } field;

int strata_tensor_read_pb(const char *path, strata_tensor *out);

int strata_tensor_read_pb(const char *path, strata_tensor *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return strata_fail("%s: cannot open", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(size > 0 ? (size_t)size : 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    free(buf);
    return strata_fail("%s: cannot read", path);
  }
  fclose(f);
  reader r = {buf, buf + size};
  int64_t dims[STRATA_MAX_RANK];
  int32_t rank = 0;
  uint64_t data_type = 0;
  field raw = {0}, floats = {0}, doubles = {0}, int64s = {0}, int32s = {0};
  int rc = 1;
  while (r.p < r.end) {
    uint64_t key, v;
    if (!varint(&r, &key)) goto bad;
    unsigned fieldno = (unsigned)(key >> 3), wire = key & 7;
    if (wire == 0) {
      if (!varint(&r, &v)) goto bad;
      if (fieldno == 1) {
        if (rank == STRATA_MAX_RANK) goto bad;
        dims[rank++] = (int64_t)v;
      } else if (fieldno == 2) {
        data_type = v;
      } else if (fieldno == 7 || fieldno == 5) {
        strata_fail("%s: unpacked int fields are not supported", path);
        goto done;
      }
    } else if (wire == 2) {
      if (!varint(&r, &v) || v > (uint64_t)(r.end - r.p)) goto bad;
      field fl = {r.p, (size_t)v, 0};
      if (fieldno == 1) { /* packed dims */
        reader d = {r.p, r.p + v};
        while (d.p < d.end) {
          uint64_t x;
          if (!varint(&d, &x) || rank == STRATA_MAX_RANK) goto bad;
          dims[rank++] = (int64_t)x;
        }
      } else if (fieldno == 9) raw = fl;
      else if (fieldno == 4) floats = fl;
      else if (fieldno == 10) doubles = fl;
      else if (fieldno == 7) int64s = fl;
      else if (fieldno == 5) int32s = fl;
      r.p += v;
    } else if (wire == 5) {
      r.p += 4;
    } else if (wire == 1) {
      r.p += 8;
    } else {
      goto bad;
    }
  }
  if (strata_tensor_alloc((strata_dtype)data_type, rank, dims, out))
    goto done;
  size_t n = (size_t)strata_tensor_num_elements(out);
  size_t bytes = n * strata_dtype_size(out->dtype);
  if (raw.data) {
    if (raw.size != bytes) {
      strata_tensor_free(out);
      strata_fail("%s: raw_data has %zu bytes, its shape needs %zu", path,
                  raw.size, bytes);
      goto done;
    }
    memcpy(out->data, raw.data, bytes);
  } else if (floats.data && out->dtype == STRATA_FLOAT && floats.size == bytes) {
    memcpy(out->data, floats.data, bytes);
  } else if (doubles.data && out->dtype == STRATA_DOUBLE && doubles.size == bytes) {
    memcpy(out->data, doubles.data, bytes);
  } else if (int64s.data || int32s.data) {
    /* Packed varints: int64_data for INT64; int32_data for the small types. */
    reader d = int64s.data ? (reader){int64s.data, int64s.data + int64s.size}
                           : (reader){int32s.data, int32s.data + int32s.size};
    size_t w = strata_dtype_size(out->dtype);
    for (size_t i = 0; i < n; ++i) {
      uint64_t x;
      if (!varint(&d, &x)) {
        strata_tensor_free(out);
        goto bad;
      }
      memcpy((char *)out->data + i * w, &x, w); /* little-endian truncation */
    }
  } else if (n != 0) {
    strata_tensor_free(out);
    strata_fail("%s: no data in a form this reader knows (raw_data, "
                "float_data, double_data, int32_data, int64_data)", path);
    goto done;
  }
  rc = 0;
  goto done;
bad:
  strata_fail("%s: not a valid TensorProto", path);
done:
  free(buf);
  return rc;
}

static void put_varint(FILE *f, uint64_t v) {
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    fputc(v ? (b | 0x80) : b, f);
  } while (v);
}

int strata_tensor_write_pb(const char *path, const char *name,
                           const strata_tensor *t) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return strata_fail("%s: cannot create", path);
  for (int32_t i = 0; i < t->rank; ++i) {
    put_varint(f, 1 << 3 | 0);
    put_varint(f, (uint64_t)t->dims[i]);
  }
  put_varint(f, 2 << 3 | 0);
  put_varint(f, (uint64_t)t->dtype);
  size_t len = strlen(name);
  put_varint(f, 8 << 3 | 2);
  put_varint(f, len);
  fwrite(name, 1, len, f);
  size_t bytes = (size_t)strata_tensor_num_elements(t) * strata_dtype_size(t->dtype);
  put_varint(f, 9 << 3 | 2);
  put_varint(f, bytes);
  int ok = fwrite(t->data, 1, bytes, f) == bytes;
  ok &= fclose(f) == 0;
  return ok ? 0 : strata_fail("%s: write failed", path);
}

int strata_tensor_read_npy(const char *path, strata_tensor *out);

int strata_tensor_read_file(const char *path, strata_tensor *out) {
  size_t n = strlen(path);
  if (n > 4 && strcmp(path + n - 4, ".npy") == 0)
    return strata_tensor_read_npy(path, out);
  if (n > 3 && strcmp(path + n - 3, ".pb") == 0)
    return strata_tensor_read_pb(path, out);
  return strata_fail("%s: unknown tensor file type (use .npy or .pb)", path);
}
