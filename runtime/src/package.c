/* Reading and decoding strata's compressed model packages (.stz); the
 * format is in docs/package-format.md. Everything read is checked against
 * the buffer's bounds: packages are user input. */
#include "strata/package.h"

#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { kHeaderBytes = 32, kRecordHeaderBytes = 16, kGraphRecord = 1, kLayerRecord = 2 };
enum { kMaxCodeLength = 15, kMaxSymbols = 65537 };

uint32_t strata_crc32(uint32_t crc, const void *data, size_t size) {
  static uint32_t table[256];
  static int ready;
  if (!ready) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  const unsigned char *p = data;
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

/* A bounds-checked little-endian reader over [p, end). */
typedef struct {
  const unsigned char *p, *end;
  int failed;
} reader;

static int take(reader *r, void *out, size_t n) {
  if (r->failed || (size_t)(r->end - r->p) < n) {
    r->failed = 1;
    memset(out, 0, n);
    return 0;
  }
  memcpy(out, r->p, n);
  r->p += n;
  return 1;
}

static uint64_t take_u64(reader *r) { uint64_t v; take(r, &v, 8); return v; }
static uint32_t take_u32(reader *r) { uint32_t v; take(r, &v, 4); return v; }
static uint16_t take_u16(reader *r) { uint16_t v; take(r, &v, 2); return v; }
static uint8_t take_u8(reader *r) { uint8_t v; take(r, &v, 1); return v; }

static const unsigned char *skip(reader *r, uint64_t n) {
  if (r->failed || (uint64_t)(r->end - r->p) < n) {
    r->failed = 1;
    return NULL;
  }
  const unsigned char *at = r->p;
  r->p += n;
  return at;
}

/* A canonical Huffman code: symbols ordered by (length, symbol). */
typedef struct {
  uint32_t num_symbols;
  const unsigned char *lengths; /* two 4-bit lengths per byte, low nibble first */
  int count[kMaxCodeLength + 1];
  int32_t *sorted;
} huffman;

typedef struct {
  strata_packed_layer info;
  char *name;
  const unsigned char *centroids; /* num_centroids little-endian floats */
  uint64_t entries;
  huffman gaps, indices;
  const unsigned char *gap_stream, *index_stream;
  uint64_t gap_bytes, index_bytes;
} layer;

static void free_layer(layer *l);

struct strata_package {
  const char *name;
  const void *graph;
  size_t graph_size;
  int num_layers;
  layer *layers;
};

static int code_length(const huffman *h, uint32_t symbol) {
  return (h->lengths[symbol / 2] >> (4 * (symbol % 2))) & 15;
}

/* Reads a code table of layer `layer` in package `pkg` (for messages). */
static int read_code(reader *r, const char *pkg, const char *layer, const char *where,
                     huffman *h) {
  h->num_symbols = take_u32(r);
  if (r->failed || h->num_symbols < 1 || h->num_symbols > kMaxSymbols)
    return strata_fail("%s: layer '%s': bad %s code table (%u symbols)", pkg, layer, where,
                       h->num_symbols);
  h->lengths = skip(r, (h->num_symbols + 1) / 2);
  if (!h->lengths)
    return strata_fail("%s: layer '%s': %s code table truncated", pkg, layer, where);
  /* Kraft's inequality: a prefix code never oversubscribes. */
  uint64_t space = 0;
  for (uint32_t s = 0; s < h->num_symbols; ++s) {
    int len = code_length(h, s);
    ++h->count[len];
    if (len)
      space += (uint64_t)1 << (kMaxCodeLength - len);
  }
  if (space > ((uint64_t)1 << kMaxCodeLength))
    return strata_fail("%s: layer '%s': %s code table is not a prefix code", pkg, layer, where);
  h->sorted = malloc(sizeof(int32_t) * h->num_symbols);
  if (!h->sorted)
    return strata_fail("out of memory");
  int offset[kMaxCodeLength + 2] = {0};
  for (int len = 1; len <= kMaxCodeLength; ++len)
    offset[len + 1] = offset[len] + h->count[len];
  for (uint32_t s = 0; s < h->num_symbols; ++s)
    if (code_length(h, s))
      h->sorted[offset[code_length(h, s)]++] = (int32_t)s;
  return 0;
}

typedef struct {
  const unsigned char *p;
  uint64_t size, bit;
} bits;

/* The next symbol, or -1 at the stream's end or on a code not in the table. */
static int32_t decode_symbol(bits *b, const huffman *h) {
  int code = 0, first = 0, index = 0;
  for (int len = 1; len <= kMaxCodeLength; ++len) {
    if (b->bit >= b->size * 8)
      return -1;
    code |= (b->p[b->bit >> 3] >> (7 - (b->bit & 7))) & 1;
    ++b->bit;
    int count = h->count[len];
    if (code - first < count)
      return h->sorted[index + code - first];
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -1;
}

static int read_layer(reader *r, const char *pkg, layer *l) {
  uint16_t name_len = take_u16(r);
  const unsigned char *name = skip(r, name_len);
  if (!name)
    return strata_fail("%s: truncated layer record", pkg);
  l->name = malloc((size_t)name_len + 1);
  if (!l->name)
    return strata_fail("out of memory");
  memcpy(l->name, name, name_len);
  l->name[name_len] = 0;
  l->info.name = l->name;
  l->info.rank = take_u8(r);
  l->info.bits = take_u8(r);
  l->info.gap_bits = take_u8(r);
  take_u8(r);
  if (r->failed || l->info.rank < 1 || l->info.rank > STRATA_PACKAGE_MAX_RANK)
    return strata_fail("%s: layer '%s' has rank %d (1..%d)", pkg, l->name, l->info.rank,
                       STRATA_PACKAGE_MAX_RANK);
  if (l->info.bits < 1 || l->info.bits > 16)
    return strata_fail("%s: layer '%s' has %d bits per index (1..16)", pkg, l->name,
                       l->info.bits);
  if (l->info.gap_bits < 1 || l->info.gap_bits > 16)
    return strata_fail("%s: layer '%s' has %d bits per position (1..16)", pkg, l->name,
                       l->info.gap_bits);
  l->info.count = 1;
  for (int d = 0; d < l->info.rank; ++d) {
    int64_t dim;
    take(r, &dim, 8);
    if (dim < 1 || l->info.count > ((int64_t)1 << 40) / dim)
      return strata_fail("%s: layer '%s' has a bad shape", pkg, l->name);
    l->info.dims[d] = dim;
    l->info.count *= dim;
  }
  uint32_t k = take_u32(r);
  if (r->failed || k > (1u << l->info.bits))
    return strata_fail("%s: layer '%s' has %u centroids for %d bits", pkg, l->name, k,
                       l->info.bits);
  l->info.num_centroids = (int32_t)k;
  l->centroids = skip(r, (uint64_t)k * 4);
  l->entries = take_u64(r);
  uint64_t nonzero = take_u64(r);
  if (r->failed || nonzero > (uint64_t)l->info.count || l->entries > 2 * (uint64_t)l->info.count + 1)
    return strata_fail("%s: layer '%s' has a bad entry count", pkg, l->name);
  l->info.nonzero = (int64_t)nonzero;
  if (read_code(r, pkg, l->name, "position", &l->gaps) ||
      read_code(r, pkg, l->name, "index", &l->indices))
    return 1; /* the message is set */
  if (l->gaps.num_symbols != (1u << l->info.gap_bits) || l->indices.num_symbols != k + 1)
    return strata_fail("%s: layer '%s' code tables do not match its bits", pkg, l->name);
  l->gap_bytes = take_u64(r);
  l->gap_stream = skip(r, l->gap_bytes);
  l->index_bytes = take_u64(r);
  l->index_stream = skip(r, l->index_bytes);
  if (r->failed)
    return strata_fail("%s: layer '%s' is truncated", pkg, l->name);
  return 0;
}

int strata_package_open(const void *data, size_t size, const char *name,
                        strata_package **out) {
  *out = NULL;
  if (!name)
    name = "package";
  const unsigned char *bytes = data;
  if (size < kHeaderBytes || memcmp(bytes, STRATA_PACKAGE_MAGIC, 8) != 0)
    return strata_fail("%s: not a strata package (no STRATAZ header)", name);
  reader r = {bytes + 8, bytes + kHeaderBytes, 0};
  uint32_t version = take_u32(&r), records = take_u32(&r);
  uint64_t file_size = take_u64(&r);
  uint32_t crc = take_u32(&r), reserved = take_u32(&r);
  if (version != STRATA_PACKAGE_VERSION)
    return strata_fail("%s: package format version %u; this strata reads version %d", name,
                       version, STRATA_PACKAGE_VERSION);
  if (file_size != size)
    return strata_fail("%s: %zu bytes, but the package says %llu (truncated or appended to)",
                       name, size, (unsigned long long)file_size);
  if (reserved != 0)
    return strata_fail("%s: the header's reserved field is not zero (corrupted?)", name);
  uint32_t actual = strata_crc32(0, bytes + kHeaderBytes, size - kHeaderBytes);
  if (actual != crc)
    return strata_fail("%s: checksum mismatch (stored %08x, computed %08x): the package is "
                       "corrupted", name, crc, actual);
  if (records > 1u << 20)
    return strata_fail("%s: %u records", name, records);
  strata_package *p = calloc(1, sizeof *p);
  if (!p)
    return strata_fail("out of memory");
  p->name = name;
  p->layers = calloc(records ? records : 1, sizeof(layer));
  if (!p->layers) {
    free(p);
    return strata_fail("out of memory");
  }
  r = (reader){bytes + kHeaderBytes, bytes + size, 0};
  int failed = 0;
  for (uint32_t i = 0; i < records && !failed; ++i) {
    uint32_t kind = take_u32(&r);
    take_u32(&r);
    uint64_t length = take_u64(&r);
    const unsigned char *payload = skip(&r, length);
    if (!payload) {
      failed = strata_fail("%s: record %u is truncated", name, i);
      break;
    }
    if (kind == kGraphRecord) {
      if (p->graph) {
        failed = strata_fail("%s: two graph records", name);
        break;
      }
      p->graph = payload;
      p->graph_size = length;
    } else if (kind == kLayerRecord) {
      reader lr = {payload, payload + length, 0};
      layer *l = &p->layers[p->num_layers++];
      l->info.stored_bytes = length + kRecordHeaderBytes;
      failed = read_layer(&lr, name, l);
      if (!failed && lr.p != lr.end)
        failed = strata_fail("%s: layer '%s' has %zu unread bytes", name, l->name,
                             (size_t)(lr.end - lr.p));
    } else {
      failed = strata_fail("%s: record %u has unknown kind %u", name, i, kind);
    }
  }
  if (!failed && r.p != r.end)
    failed = strata_fail("%s: bytes after the last record", name);
  if (!failed && !p->graph)
    failed = strata_fail("%s: no graph record", name);
  if (failed) {
    strata_package_close(p);
    return 1;
  }
  *out = p;
  return 0;
}

void strata_package_close(strata_package *p) {
  if (!p)
    return;
  for (int i = 0; i < p->num_layers; ++i)
    free_layer(&p->layers[i]);
  free(p->layers);
  free(p);
}

const void *strata_package_graph(const strata_package *p, size_t *size) {
  *size = p->graph_size;
  return p->graph;
}

int strata_package_num_layers(const strata_package *p) { return p->num_layers; }

int strata_package_layer(const strata_package *p, int index, strata_packed_layer *out) {
  if (index < 0 || index >= p->num_layers)
    return strata_fail("%s: no layer %d", p->name, index);
  *out = p->layers[index].info;
  return 0;
}

int strata_package_copy_centroids(const strata_package *p, int index, float *out) {
  if (index < 0 || index >= p->num_layers)
    return strata_fail("%s: no layer %d", p->name, index);
  const layer *l = &p->layers[index];
  if (l->info.num_centroids) /* an all-pruned layer has none (and no pointer) */
    memcpy(out, l->centroids, sizeof(float) * (size_t)l->info.num_centroids);
  return 0;
}

/* Decodes layer `l` of package `pkg` (for messages) into `out`. */
static int decode(const layer *l, const char *pkg, float *out, int64_t count) {
  if (count != l->info.count)
    return strata_fail("%s: layer '%s' has %lld values, not %lld", pkg, l->name,
                       (long long)l->info.count, (long long)count);
  memset(out, 0, sizeof(float) * (size_t)count);
  bits gaps = {l->gap_stream, l->gap_bytes, 0}, indices = {l->index_stream, l->index_bytes, 0};
  int64_t position = -1, nonzero = 0;
  uint32_t filler = (uint32_t)l->info.num_centroids;
  for (uint64_t e = 0; e < l->entries; ++e) {
    int32_t gap = decode_symbol(&gaps, &l->gaps), symbol = decode_symbol(&indices, &l->indices);
    if (gap < 0 || symbol < 0)
      return strata_fail("%s: layer '%s': corrupted code at entry %llu", pkg, l->name,
                         (unsigned long long)e);
    position += (int64_t)gap + 1;
    if (position >= count)
      return strata_fail("%s: layer '%s': a position past its %lld values", pkg, l->name,
                         (long long)count);
    if ((uint32_t)symbol == filler)
      continue;
    float v;
    memcpy(&v, l->centroids + 4 * (size_t)symbol, 4);
    out[position] = v;
    ++nonzero;
  }
  if (nonzero != l->info.nonzero)
    return strata_fail("%s: layer '%s' decoded %lld nonzero values, the record says %lld",
                       pkg, l->name, (long long)nonzero, (long long)l->info.nonzero);
  return 0;
}

int strata_package_decode_layer(const strata_package *p, int index, float *out, int64_t count) {
  if (index < 0 || index >= p->num_layers)
    return strata_fail("%s: no layer %d", p->name, index);
  return decode(&p->layers[index], p->name, out, count);
}

static void free_layer(layer *l) {
  free(l->name);
  free(l->gaps.sorted);
  free(l->indices.sorted);
}

int strata_package_decode_record(const void *record, uint64_t size, const char *name,
                                 float *out, int64_t count) {
  if (!name)
    name = "package";
  layer l;
  memset(&l, 0, sizeof l);
  reader r = {record, (const unsigned char *)record + size, 0};
  int failed = read_layer(&r, name, &l);
  if (!failed && r.p != r.end)
    failed = strata_fail("%s: layer '%s' has %zu unread bytes", name, l.name,
                         (size_t)(r.end - r.p));
  if (!failed)
    failed = decode(&l, name, out, count);
  free_layer(&l);
  return failed;
}

/* Decodes one record into `out` (`count` floats), or if rows > 0 the
 * [rows, cols] layer transposed, each row of the result `stride` long
 * (padding left as it is: zero). */
static int unpack_one(const void *record, uint64_t size, const char *name, float *out,
                      int64_t count, int64_t rows, int64_t cols, int64_t stride) {
  if (rows <= 0)
    return strata_package_decode_record(record, size, name, out, count);
  if (stride < rows || cols * stride != count)
    return strata_fail("%s: a transposed %lld x %lld layer does not fill %lld values", name,
                       (long long)rows, (long long)cols, (long long)count);
  float *tmp = malloc(sizeof(float) * (size_t)(rows * cols));
  if (!tmp)
    return strata_fail("out of memory decoding %s", name);
  int failed = strata_package_decode_record(record, size, name, tmp, rows * cols);
  if (!failed)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        out[c * stride + r] = tmp[r * cols + c];
  free(tmp);
  return failed;
}

const char *strata_unpack_weights(int32_t *state, int32_t n, const void *const *records,
                                  const uint64_t *sizes, const char *const *names,
                                  float *const *outs, const int64_t *counts,
                                  const int64_t *transposes) {
  /* Loads of the same library share its buffers: the first decodes them,
   * the others wait for it (a failed decode leaves them to try again). */
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  const char *error = NULL;
  if (!__atomic_load_n(state, __ATOMIC_ACQUIRE)) {
    for (int32_t i = 0; i < n && !error; ++i)
      if (unpack_one(records[i], sizes[i], names[i], outs[i], counts[i], transposes[3 * i],
                     transposes[3 * i + 1], transposes[3 * i + 2]))
        error = strata_last_error();
    if (!error)
      __atomic_store_n(state, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&lock);
  return error;
}
