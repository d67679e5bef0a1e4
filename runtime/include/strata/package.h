/* strata's compressed model package (.stz): reading and decoding.
 *
 * A package is what `strata pack` / `strata compress` write (Deep
 * Compression: pruned, weight-shared, Huffman-coded layer weights) and what
 * `strata compile|run|inspect|unpack` read. The format is documented in
 * docs/package-format.md. Every function checks what it reads: a truncated
 * or corrupted package, a wrong checksum or an unknown version is an error
 * (strata_last_error), never a crash. Plain C, no dependencies.
 */
#ifndef STRATA_PACKAGE_H
#define STRATA_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STRATA_PACKAGE_MAGIC "STRATAZ"   /* 8 bytes with its NUL */
#define STRATA_PACKAGE_VERSION 1
#define STRATA_PACKAGE_MAX_RANK 8

typedef struct strata_package strata_package;

typedef struct {
  const char *name;         /* the ONNX initializer (valid while open) */
  int32_t rank;
  int64_t dims[STRATA_PACKAGE_MAX_RANK];
  int64_t count;            /* values: the product of dims */
  int64_t nonzero;          /* values that are not pruned */
  int32_t bits;             /* bits per cluster index */
  int32_t num_centroids;
  int32_t gap_bits;         /* bits per relative position */
  uint64_t stored_bytes;    /* the layer's record in the package */
} strata_packed_layer;

/* CRC-32 (IEEE 802.3, zlib's) of `size` bytes, continuing from `crc` (0 to
 * start). */
uint32_t strata_crc32(uint32_t crc, const void *data, size_t size);

/* Checks a package held in memory (header, version, checksum, every
 * record's bounds) and indexes it; `data` is not copied and must outlive
 * the package. `name` is used in messages. Returns 0, or 1 with the error. */
int strata_package_open(const void *data, size_t size, const char *name,
                        strata_package **out);
void strata_package_close(strata_package *package);

/* The ONNX model (a serialized ModelProto) without the packed layers'
 * initializers. */
const void *strata_package_graph(const strata_package *package, size_t *size);

int strata_package_num_layers(const strata_package *package);
int strata_package_layer(const strata_package *package, int index,
                         strata_packed_layer *out);
/* Copies the layer's centroids (num_centroids floats) into `out`. */
int strata_package_copy_centroids(const strata_package *package, int index, float *out);

/* Decodes layer `index` into `out` (`count` floats, its values in
 * row-major order): Huffman-coded relative positions and cluster indices
 * into codebook values, zeros elsewhere. Returns 0, or 1 with the error. */
int strata_package_decode_layer(const strata_package *package, int index, float *out,
                                int64_t count);

/* Decodes one layer record on its own (a kind-2 record's payload, as a
 * compiled program embeds it; `name` for messages) into `out`. */
int strata_package_decode_record(const void *record, uint64_t size, const char *name,
                                 float *out, int64_t count);

/* What a compiled program's strata_model_unpack calls: decodes its `n`
 * packed layers (records[i] of sizes[i] bytes into outs[i], counts[i]
 * floats; when transposes[3i] (rows) is not 0, transposed from [rows,
 * cols = transposes[3i+1]] with each result row padded to transposes[3i+2]
 * values) unless `state` says they are decoded already; one loader at a
 * time. Returns NULL, or the error message. */
const char *strata_unpack_weights(int32_t *state, int32_t n, const void *const *records,
                                  const uint64_t *sizes, const char *const *names,
                                  float *const *outs, const int64_t *counts,
                                  const int64_t *transposes);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_PACKAGE_H */
