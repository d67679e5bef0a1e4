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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
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

/// The codebook of `values` whose nonzeros are all among `centroids`
/// (ascending): each nonzero's index is that of its equal centroid. None if
/// a nonzero is not a centroid.
std::optional<Codebook> indexByCodebook(const std::vector<float> &values,
                                        const std::vector<float> &centroids);

struct LayerBits {
  int conv = 8; ///< convolution weights (the paper's default)
  int fc = 5;   ///< fully connected and matmul weights
};

/// Parses "conv=8,fc=5" (either may be left out) or one number for both.
bool parseLayerBits(llvm::StringRef text, LayerBits &out, std::string &error);

/// Shares the layer weights of @main (Pruning.h's prunableWeights) that one
/// of `globs` names, or all if there are none: their values become their
/// centroids and their constants get kSharedBitsAttr and kCodebookAttr.
/// Fails on bits outside 1..16 or a glob that matches no layer weight.
bool shareLayerWeights(mlir::func::FuncOp main, LayerBits bits,
                       const std::vector<std::string> &globs, std::string &error);

} // namespace strata

#endif // STRATA_PASSES_COMPRESS_WEIGHTSHARING_H
