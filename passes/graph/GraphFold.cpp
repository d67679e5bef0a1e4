//===- GraphFold.cpp - fold constants and identities in nn graphs ---------===//

#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_GRAPHFOLD
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {
struct GraphFoldPass : strata::impl::GraphFoldBase<GraphFoldPass> {
  void runOnOperation() override {
    // No patterns: the greedy driver then only folds and erases dead ops.
    RewritePatternSet patterns(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
