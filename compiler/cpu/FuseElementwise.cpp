//===- FuseElementwise.cpp - elementwise fusion that keeps matmuls --------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// Fusing a producer copies its body into its consumer, so a chain of n
/// elementwise ops fused one by one copies 1 + 2 + ... + n ops: a 50,000-op
/// chain never finished compiling. Past this many ops in the fused body the
/// chain is cut; one more pass over memory per 64 ops costs nothing measurable.
constexpr size_t kMaxFusedBodyOps = 64;

size_t bodySize(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic ? generic.getBody()->getOperations().size() : 1;
}

struct FuseElementwisePass
    : strata::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // Transposes as generics, so that an elementwise op reading one (a relu
    // after a convolution's [M, N*OH*OW] -> NCHW transpose) fuses into it
    // instead of making its own pass over the result.
    SmallVector<linalg::TransposeOp> transposes;
    getOperation()->walk([&](linalg::TransposeOp op) { transposes.push_back(op); });
    IRRewriter rewriter(ctx);
    for (linalg::TransposeOp op : transposes) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }
    // As upstream (fuse a producer only into its single user), except that
    // a linalg.matmul on either side is left alone.
    linalg::ControlFusionFn control = [ctx](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      if (!producer || !producer->hasOneUse())
        return false;
      Operation *consumer = operand->getOwner();
      if (bodySize(producer) + bodySize(consumer) > kMaxFusedBodyOps ||
          isa<linalg::MatmulOp>(producer) || isa<linalg::MatmulOp>(consumer))
        return false;
      // The fused op takes the consumer's location; fusing the producer's
      // in keeps its ONNX node in diagnostics and --explain ("pool1: fused
      // into conv2's kernel") instead of losing it.
      consumer->setLoc(FusedLoc::get(ctx, {consumer->getLoc(), producer->getLoc()}));
      return true;
    };
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, control);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
