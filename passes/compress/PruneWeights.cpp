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
    std::vector<std::pair<std::string, llvm::GlobPattern>> globs;
    for (const std::string &g : weights) {
      auto pattern = llvm::GlobPattern::create(g);
      if (!pattern) {
        module.emitError() << "bad weight glob '" << g << "'";
        return signalPassFailure();
      }
      globs.push_back({g, std::move(*pattern)});
    }
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main)
      return;
    std::vector<strata::PrunableWeight> candidates = strata::prunableWeights(main);
    std::vector<bool> globUsed(globs.size(), false);
    for (auto [index, w] : llvm::enumerate(candidates)) {
      bool chosen = globs.empty() ? index != 0 : false;
      for (auto [i, g] : llvm::enumerate(globs))
        if (g.second.match(w.name)) {
          chosen = true;
          globUsed[i] = true;
        }
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
    for (auto [i, g] : llvm::enumerate(globs))
      if (!globUsed[i]) {
        std::string names;
        for (const strata::PrunableWeight &w : candidates)
          names += (names.empty() ? "" : ", ") + w.name;
        module.emitError() << "weight glob '" << g.first << "' matches no prunable weight ("
                           << (names.empty() ? "the model has none" : names) << ")";
        return signalPassFailure();
      }
  }
};

} // namespace
