//===- PackageTable.cpp - the per-layer table of a compressed package -----===//

#include "PackageTable.h"

#include "llvm/Support/Format.h"

#include <algorithm>

namespace strata::cli {

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s;
  for (int64_t d : shape)
    s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

double ratio(uint64_t dense, uint64_t packed) {
  return packed ? double(dense) / double(packed) : 0.0;
}

} // namespace

void printPackageTable(const PackageReport &report, llvm::raw_ostream &os) {
  size_t width = 20;
  for (const PackedLayerReport &l : report.layers)
    width = std::max(width, l.name.size());
  os << llvm::left_justify("layer", width)
     << "  shape            weights    kept  bits  gap   dense bytes  packed bytes   ratio\n";
  for (const PackedLayerReport &l : report.layers)
    os << llvm::left_justify(l.name, width) << "  " << llvm::left_justify(shapeText(l.shape), 14)
       << llvm::format("%10lld  %5.1f%%  %4d  %3d  %12llu  %12llu  %6.1fx\n", (long long)l.count,
                       l.count ? 100.0 * double(l.nonzero) / double(l.count) : 0.0, l.bits,
                       l.gapBits, (unsigned long long)(l.count * 4),
                       (unsigned long long)l.storedBytes,
                       ratio(uint64_t(l.count) * 4, l.storedBytes));
  uint64_t otherDense = report.floatBytes - report.layerFloatBytes;
  os << llvm::left_justify("graph, other weights", width) << "  "
     << llvm::left_justify("", 14)
     << std::string(31, ' ')
     << llvm::format("%12llu  %12llu  %6.1fx\n", (unsigned long long)otherDense, (unsigned long long)report.graphBytes,
                     ratio(otherDense, report.graphBytes));
  os << llvm::left_justify("total (with header)", width) << "  " << llvm::left_justify("", 14)
     << std::string(31, ' ')
     << llvm::format("%12llu  %12llu  %6.1fx\n", (unsigned long long)report.floatBytes,
                     (unsigned long long)report.packageBytes, report.ratio());
  // Deep Compression's stages (writer only: a read package has no earlier
  // stages to report).
  uint64_t pruned = report.packageBytes, shared = report.packageBytes;
  bool staged = !report.layers.empty();
  for (const PackedLayerReport &l : report.layers) {
    staged &= l.prunedBytes > 0;
    pruned += l.prunedBytes - l.storedBytes + 16;
    shared += l.sharedBytes - l.storedBytes + 16;
  }
  if (staged)
    os << llvm::format("stages: pruned %.1fx, + shared %.1fx, + Huffman %.1fx (dense float32 "
                       "over stored bytes)\n",
                       ratio(report.floatBytes, pruned), ratio(report.floatBytes, shared),
                       report.ratio());
  os << llvm::format("compression=%.1fx dense_bytes=%llu package_bytes=%llu\n", report.ratio(),
                     (unsigned long long)report.floatBytes,
                     (unsigned long long)report.packageBytes);
}

} // namespace strata::cli
