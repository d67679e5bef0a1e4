//===- Package.h - strata's compressed model package (.stz) ----*- C++ -*-===//
//
// Deep Compression's third stage (Han, Mao and Dally, ICLR 2016): the layer
// weights of a pruned, weight-shared ONNX model stored as Huffman-coded
// relative positions and cluster indices with their codebooks, the rest of
// the model (graph, biases) as ONNX, in one checksummed, versioned file.
// The writer is here; the reader is the plain-C runtime's
// (runtime/include/strata/package.h), which this file calls too, so the
// compiler and deployed programs decode the same way. Format:
// docs/package-format.md.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_PACKAGE_H
#define STRATA_COMPILER_ONNX_PACKAGE_H

#include "passes/compress/WeightSharing.h"

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class ModelProto; // onnx/onnx_pb.h, which tools outside the importer do not see
} // namespace onnx

namespace strata {

struct PackedLayerReport {
  std::string name;
  std::vector<int64_t> shape;
  int64_t count = 0, nonzero = 0;
  int bits = 0, centroids = 0, gapBits = 0;
  uint64_t storedBytes = 0; ///< the layer's record
  /// Writer only: the layer as Deep Compression's earlier stages store it,
  /// relative positions of fixed width (the best) with 32-bit values
  /// (pruning) or with fixed-width indices and the codebook (+ sharing).
  uint64_t prunedBytes = 0, sharedBytes = 0;
  bool convolution = false;
};

struct PackageReport {
  std::vector<PackedLayerReport> layers;
  uint64_t floatBytes = 0;   ///< every float initializer as dense float32
  uint64_t layerFloatBytes = 0; ///< the packed layers as dense float32
  uint64_t graphBytes = 0;   ///< the ONNX record: graph and unpacked initializers
  uint64_t packageBytes = 0; ///< the whole file
  /// Dense float32 weights / package bytes.
  double ratio() const { return packageBytes ? double(floatBytes) / double(packageBytes) : 0.0; }
};

/// A layer record's payload: `codebook` (WeightSharing.h) Huffman-coded as
/// relative positions (the gap width that codes smallest) and indices.
/// `gapBits` receives the width chosen.
std::string encodeLayer(const std::string &name, const std::vector<int64_t> &shape, int bits,
                        const Codebook &codebook, int *gapBits = nullptr);

/// Bytes of the entries of `codebook` at fixed width: valueBits per value
/// plus the gap width (1..12) that makes them fewest.
uint64_t fixedWidthBytes(const Codebook &codebook, int valueBits);

/// A whole package: header, the graph record (a serialized ONNX model),
/// then the layer records (encodeLayer), checksummed.
std::string assemblePackage(const std::string &graph, const std::vector<std::string> &layers);

/// True if `bytes` begin with the package header's magic.
bool isPackage(const void *bytes, size_t size);

/// Packs the model at `modelPath`: each Conv/Gemm/MatMul weight (f32
/// initializer, rank >= 2) is clustered (WeightSharing.h; a model that
/// strata share wrote keeps its exact codebooks) with `bits`, and its
/// positions and indices are Huffman-coded. Writes `outPath` whole or not
/// at all. Returns false with `error`.
bool writePackage(const std::string &modelPath, LayerBits bits, const std::string &outPath,
                  PackageReport &report, std::string &error);

/// The ONNX model in a package, its layer weights decoded (by the runtime's
/// decoder) back into float initializers. `name` names the package in
/// messages. Returns false with `error` (truncated, corrupted, wrong
/// checksum, unknown version: each its own message).
bool decodePackage(const void *bytes, size_t size, const std::string &name,
                   onnx::ModelProto &model, PackageReport *report, std::string &error);

/// A packed layer as a compiled program embeds it: the record (decoded at
/// load by strata_package_decode_record) and the values it decodes to.
struct PackedRecord {
  std::string name;
  std::string record;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// The layer records of the package at `path`, each with its decoded values.
bool packedRecords(const std::string &path, std::vector<PackedRecord> &out, std::string &error);

/// Reads and decodes the package at `path` for its report only.
bool readPackageReport(const std::string &path, PackageReport &report, std::string &error);

/// Decodes the package at `path` into the ONNX model `outPath` (written
/// whole or not at all).
bool unpackPackage(const std::string &path, const std::string &outPath, std::string &error);

/// True if the file at `path` begins with the package magic.
bool isPackageFile(const std::string &path);

} // namespace strata

#endif // STRATA_COMPILER_ONNX_PACKAGE_H
