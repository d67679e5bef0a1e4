//===- PruneWeights.cpp - magnitude pruning of chosen weights --------------===//
//
// The pruned weight is an ordinary constant whose zeros are the pruned
// connections; a later pass or training step reads the mask back from
// them. See Passes.td (strata-prune-weights) for the rules.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"
#include "passes/compress/Pruning.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/GlobPattern.h"

namespace strata {
#define GEN_PASS_DEF_PRUNEWEIGHTS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;

namespace {

struct PruneWeightsPass : strata::impl::PruneWeightsBase<PruneWeightsPass> {
  using PruneWeightsBase::PruneWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool bySparsity = sparsity >= 0.0, byQuality = quality >= 0.0;
    if (bySparsity == byQuality) {
      module.emitError() << "strata-prune-weights needs exactly one of sparsity and quality";
      return signalPassFailure();
    }
    if (bySparsity && sparsity >= 1.0) {
      module.emitError() << "sparsity " << sparsity.getValue()
                         << " is outside [0, 1): a layer needs a weight left";
      return signalPassFailure();
    }
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main)
      return;
    std::vector<strata::PrunableWeight> candidates = strata::prunableWeights(main);
    std::vector<int> matches;
    std::string error;
    if (!strata::matchWeightGlobs(candidates, {weights.begin(), weights.end()}, "weight",
                                  matches, error)) {
      module.emitError() << error;
      return signalPassFailure();
    }
    for (auto [index, w] : llvm::enumerate(candidates)) {
      // No globs: every layer weight but the first layer's.
      bool chosen = weights.empty() ? index != 0 : matches[index] >= 0;
      if (!chosen)
        continue;
      std::optional<std::vector<float>> values = strata::f32Values(w.constant);
      if (!values) {
        w.constant.emitError() << "weight '" << w.name << "' is not an f32 constant";
        return signalPassFailure();
      }
      if (bySparsity)
        strata::pruneSmallest(*values, sparsity);
      else
        strata::pruneBelow(*values, quality * strata::standardDeviation(*values));
      strata::replaceWithPruned(w, *values);
    }
  }
};

} // namespace
