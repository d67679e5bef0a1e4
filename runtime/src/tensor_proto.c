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

int strata_tensor_parse_pb(const unsigned char *buf, size_t size, const char *path,
                           strata_tensor *out) {
  reader r = {buf, buf + size};
  int64_t dims[STRATA_MAX_RANK];
  int32_t rank = 0;
  uint64_t data_type = 0;
  field raw = {0}, floats = {0}, doubles = {0}, int64s = {0}, int32s = {0};
  while (r.p < r.end) {
    uint64_t key, v;
    if (!varint(&r, &key)) goto bad;
    unsigned fieldno = (unsigned)(key >> 3), wire = key & 7;
    if (wire == 0) {
      if (!varint(&r, &v)) goto bad;
      if (fieldno == 1) {
        if (rank == STRATA_MAX_RANK)
          return strata_fail("%s: rank above %d", path, STRATA_MAX_RANK);
        dims[rank++] = (int64_t)v;
      } else if (fieldno == 2) {
        data_type = v;
      } else if (fieldno == 7 || fieldno == 5) {
        return strata_fail("%s: unpacked int fields are not supported", path);
      }
    } else if (wire == 2) {
      if (!varint(&r, &v) || v > (uint64_t)(r.end - r.p)) goto bad;
      field fl = {r.p, (size_t)v, 0};
      if (fieldno == 1) { /* packed dims */
        reader d = {r.p, r.p + v};
        while (d.p < d.end) {
          uint64_t x;
          if (!varint(&d, &x)) goto bad;
          if (rank == STRATA_MAX_RANK)
            return strata_fail("%s: rank above %d", path, STRATA_MAX_RANK);
          dims[rank++] = (int64_t)x;
        }
      } else if (fieldno == 9) raw = fl;
      else if (fieldno == 4) floats = fl;
      else if (fieldno == 10) doubles = fl;
      else if (fieldno == 7) int64s = fl;
      else if (fieldno == 5) int32s = fl;
      r.p += v;
    } else if (wire == 5 || wire == 1) {
      size_t skip = wire == 5 ? 4 : 8;
      if ((size_t)(r.end - r.p) < skip) goto bad;
      r.p += skip;
    } else {
      goto bad;
    }
  }
  if (data_type > 0xffff || !strata_dtype_size((strata_dtype)data_type))
    return strata_fail("%s: unsupported element type %llu", path,
                       (unsigned long long)data_type);
  size_t bytes;
  if (strata_tensor_byte_size((strata_dtype)data_type, rank, dims, &bytes))
    return 1;
  size_t n = bytes / strata_dtype_size((strata_dtype)data_type);
  /* Every form of data must account for all elements before memory for them
   * is taken: the shape alone may promise terabytes. */
  size_t w = strata_dtype_size((strata_dtype)data_type);
  if (raw.data) {
    if (raw.size != bytes)
      return strata_fail("%s: raw_data has %zu bytes, its shape needs %zu", path, raw.size,
                         bytes);
  } else if (floats.data && data_type == STRATA_FLOAT && floats.size == bytes) {
  } else if (doubles.data && data_type == STRATA_DOUBLE && doubles.size == bytes) {
  } else if (int64s.data || int32s.data) {
    /* Packed varints take at least a byte each. */
    if ((int64s.data ? int64s.size : int32s.size) < n)
      goto bad;
  } else if (n != 0) {
    return strata_fail("%s: no data in a form this reader knows (raw_data, "
                       "float_data, double_data, int32_data, int64_data)", path);
  }
  if (strata_tensor_alloc((strata_dtype)data_type, rank, dims, out))
    return 1;
  if (raw.data) {
    memcpy(out->data, raw.data, bytes);
  } else if (floats.data && data_type == STRATA_FLOAT && floats.size == bytes) {
    memcpy(out->data, floats.data, bytes);
  } else if (doubles.data && data_type == STRATA_DOUBLE && doubles.size == bytes) {
    memcpy(out->data, doubles.data, bytes);
  } else if (int64s.data || int32s.data) {
    /* Packed varints: int64_data for INT64; int32_data for the small types. */
    reader d = int64s.data ? (reader){int64s.data, int64s.data + int64s.size}
                           : (reader){int32s.data, int32s.data + int32s.size};
    for (size_t i = 0; i < n; ++i) {
      uint64_t x;
      if (!varint(&d, &x)) {
        strata_tensor_free(out);
        goto bad;
      }
      memcpy((char *)out->data + i * w, &x, w); /* little-endian truncation */
    }
  }
  return 0;
bad:
  return strata_fail("%s: not a valid TensorProto", path);
}

/* A growing byte buffer for the writer. */
typedef struct { unsigned char *p; size_t n, cap; int failed; } sink;

static void put(sink *s, const void *data, size_t n) {
  if (s->failed)
    return;
  if (s->n + n > s->cap) {
    size_t cap = (s->n + n) * 2 + 64;
    unsigned char *p = realloc(s->p, cap);
    if (!p) {
      s->failed = 1;
      return;
    }
    s->p = p, s->cap = cap;
  }
  memcpy(s->p + s->n, data, n);
  s->n += n;
}

static void put_varint(sink *s, uint64_t v) {
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    b = v ? (b | 0x80) : b;
    put(s, &b, 1);
  } while (v);
}

int strata_tensor_write_pb(const char *path, const char *name,
                           const strata_tensor *t) {
  sink s = {0};
  for (int32_t i = 0; i < t->rank; ++i) {
    put_varint(&s, 1 << 3 | 0);
    put_varint(&s, (uint64_t)t->dims[i]);
  }
  put_varint(&s, 2 << 3 | 0);
  put_varint(&s, (uint64_t)t->dtype);
  size_t len = strlen(name);
  put_varint(&s, 8 << 3 | 2);
  put_varint(&s, len);
  put(&s, name, len);
  size_t bytes = (size_t)strata_tensor_num_elements(t) * strata_dtype_size(t->dtype);
  put_varint(&s, 9 << 3 | 2);
  put_varint(&s, bytes);
  put(&s, t->data, bytes);
  int rc = s.failed ? strata_fail("%s: out of memory", path)
                    : strata_write_file_whole(path, s.p, s.n);
  free(s.p);
  return rc;
}

int strata_tensor_read_file(const char *path, strata_tensor *out) {
  /* Defined on failure too: no data to free. */
  memset(out, 0, sizeof *out);
  size_t n = strlen(path);
  if (n > 4 && strcmp(path + n - 4, ".npy") == 0)
    return strata_read_file_with(path, strata_tensor_parse_npy, out);
  if (n > 3 && strcmp(path + n - 3, ".pb") == 0)
    return strata_read_file_with(path, strata_tensor_parse_pb, out);
  return strata_fail("%s: unknown tensor file type (use .npy or .pb)", path);
}
