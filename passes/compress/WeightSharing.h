//===- WeightSharing.h - k-means codebooks for a layer's weights -*- C++ -*-===//
//
// Stage 2 of Deep Compression (Han, Mao and Dally, ICLR 2016): the nonzero
// weights of a layer share 2^bits values, the centroids of a 1-D k-means
// started from centroids spread linearly between the smallest and largest
// weight (the paper's best initialization: it keeps the few large weights
// that matter most represented). Pruned zeros stay zero, outside the
// clusters. Shared by the pass (strata-share-weights) and, later, the
// training step that fine-tunes the centroids and the package writer.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_COMPRESS_WEIGHTSHARING_H
#define STRATA_PASSES_COMPRESS_WEIGHTSHARING_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <vector>

namespace strata {

/// Set on a shared weight's nn.constant: its bits per index (i64) and its
/// codebook (a 1-D f32 dense attribute, centroids ascending).
inline constexpr llvm::StringLiteral kSharedBitsAttr = "strata.shared_bits";
inline constexpr llvm::StringLiteral kCodebookAttr = "strata.codebook";

struct Codebook {
  std::vector<float> centroids;  ///< ascending; at most 2^bits
  std::vector<int32_t> index;    ///< per value: its centroid, or -1 for a zero
  int iterations = 0;            ///< Lloyd iterations until no value moved
};

/// k-means of `values`' nonzeros into at most 2^bits clusters (fewer when
/// there are fewer distinct nonzero values), from linear initialization,
/// until no assignment changes (at most `maxIterations`). Empty clusters are
/// dropped. bits must be in 1..16.
Codebook clusterWeights(const std::vector<float> &values, int bits, int maxIterations = 100);

/// `values` with every nonzero replaced by its centroid.
std::vector<float> sharedValues(const Codebook &codebook, size_t count);

} // namespace strata

#endif // STRATA_PASSES_COMPRESS_WEIGHTSHARING_H
