//===- ShareWeights.cpp - Deep Compression's weight sharing ---------------===//
//
// Each chosen layer weight's nonzeros become the centroids of a k-means
// codebook of 2^bits entries (passes/compress/WeightSharing.h). See
// Passes.td (strata-share-weights) for the rules.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/compress/Pruning.h"
#include "passes/compress/WeightSharing.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace strata {
#define GEN_PASS_DEF_SHAREWEIGHTS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;

namespace {

bool feedsConvolution(nn::ConstantOp weight) {
  return llvm::any_of(weight->getUsers(), [](Operation *user) { return isa<nn::ConvOp>(user); });
}

struct ShareWeightsPass : strata::impl::ShareWeightsBase<ShareWeightsPass> {
  using ShareWeightsBase::ShareWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    std::string error;
    strata::LayerBits bits{static_cast<int>(convBits), static_cast<int>(fcBits)};
    if (main && !strata::shareLayerWeights(main, bits, {weights.begin(), weights.end()}, error)) {
      module.emitError() << error;
      return signalPassFailure();
    }
  }
};

} // namespace

bool strata::shareLayerWeights(func::FuncOp main, LayerBits bits,
                               const std::vector<std::string> &globs, std::string &error) {
  for (int b : {bits.conv, bits.fc})
    if (b < 1 || b > 16) {
      error = "bits per weight must be in 1..16, not " + std::to_string(b);
      return false;
    }
  std::vector<PrunableWeight> candidates = prunableWeights(main);
  std::vector<int> matches;
  if (!matchWeightGlobs(candidates, globs, "weight", matches, error))
    return false;
  Builder b(main.getContext());
  for (auto [i, w] : llvm::enumerate(candidates)) {
    if (!globs.empty() && matches[i] < 0)
      continue;
    std::optional<std::vector<float>> values = f32Values(w.constant);
    if (!values)
      continue; // prunableWeights returns f32 constants only
    int layerBits = feedsConvolution(w.constant) ? bits.conv : bits.fc;
    Codebook codebook = clusterWeights(*values, layerBits);
    replaceWeightValues(w, sharedValues(codebook, values->size()));
    auto codebookType =
        RankedTensorType::get({(int64_t)codebook.centroids.size()}, b.getF32Type());
    w.constant->setAttr(kSharedBitsAttr, b.getI64IntegerAttr(layerBits));
    w.constant->setAttr(kCodebookAttr,
                        DenseElementsAttr::get(codebookType,
                                               llvm::ArrayRef<float>(codebook.centroids)));
  }
  return true;
}
