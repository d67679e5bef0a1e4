//===- NNToLinalgPass.cpp - the strata-lower-nn-to-linalg pass ------------===//

#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_LOWERNNTOLINALG
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {
struct LowerNNToLinalgPass
    : strata::impl::LowerNNToLinalgBase<LowerNNToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    strata::lowering::populateElementwiseLowering(patterns);
    strata::lowering::populateTensorLowering(patterns);
    strata::lowering::populateNeuralLowering(patterns);
    strata::lowering::populateConvAsMatmulLowering(patterns);
    strata::lowering::populatePatchColumnsLowering(patterns);
    GreedyRewriteConfig config;
    config.maxIterations = GreedyRewriteConfig::kNoLimit;
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                       config);
    // Whatever is left could not be lowered: say which op and why.
    bool failed = false;
    getOperation().walk([&](Operation *op) {
      if (!isa<strata::nn::NNDialect>(op->getDialect()) ||
          isa<strata::nn::OneDnnConvOp, strata::nn::OneDnnPoolOp,
              strata::nn::OneDnnInnerProductOp, strata::nn::OneDnnBatchMatmulOp>(op))
        return; // oneDNN's ops bufferize into runtime calls
      std::string reason = strata::lowering::unsupportedReason(op);
      op->emitError() << "cannot lower '" << op->getName()
                      << "' for the CPU: "
                      << (reason.empty() ? "this form is not supported yet"
                                         : reason);
      failed = true;
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
