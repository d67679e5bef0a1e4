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
#include "llvm/Support/GlobPattern.h"

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
    for (int64_t bits : {convBits.getValue(), fcBits.getValue()})
      if (bits < 1 || bits > 16) {
        module.emitError() << "bits per weight must be in 1..16, not " << bits;
        return signalPassFailure();
      }
    std::vector<llvm::GlobPattern> globs;
    for (const std::string &g : weights) {
      auto pattern = llvm::GlobPattern::create(g);
      if (!pattern) {
        module.emitError() << "bad weight glob '" << g << "'";
        return signalPassFailure();
      }
      globs.push_back(std::move(*pattern));
    }
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main)
      return;
    std::vector<bool> used(globs.size(), false);
    std::vector<strata::PrunableWeight> candidates = strata::prunableWeights(main);
    for (strata::PrunableWeight &w : candidates) {
      bool chosen = globs.empty();
      for (auto [i, g] : llvm::enumerate(globs))
        if (g.match(w.name))
          chosen = used[i] = true;
      if (!chosen)
        continue;
      std::optional<std::vector<float>> values = strata::f32Values(w.constant);
      if (!values) {
        w.constant.emitError() << "weight '" << w.name << "' is not an f32 constant";
        return signalPassFailure();
      }
      int bits = static_cast<int>(feedsConvolution(w.constant) ? convBits : fcBits);
      strata::Codebook codebook = strata::clusterWeights(*values, bits);
      strata::replaceWeightValues(w, strata::sharedValues(codebook, values->size()));
      Builder b(&getContext());
      auto codebookType = RankedTensorType::get({(int64_t)codebook.centroids.size()},
                                                b.getF32Type());
      w.constant->setAttr(strata::kSharedBitsAttr, b.getI64IntegerAttr(bits));
      w.constant->setAttr(strata::kCodebookAttr,
                          DenseElementsAttr::get(codebookType,
                                                 llvm::ArrayRef<float>(codebook.centroids)));
    }
    for (auto [i, g] : llvm::enumerate(weights))
      if (!used[i]) {
        std::string names;
        for (const strata::PrunableWeight &w : candidates)
          names += (names.empty() ? "" : ", ") + w.name;
        module.emitError() << "weight glob '" << g << "' matches no layer weight ("
                           << (names.empty() ? "the model has none" : names) << ")";
        return signalPassFailure();
      }
  }
};

} // namespace
