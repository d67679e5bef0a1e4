//===- ExpandGpuMath.cpp - math ops NVVM has no lowering for ---------------===//
//
// convert-gpu-to-nvvm (LLVM 19) maps most math ops to instructions or
// libdevice calls, but not the hyperbolic and inverse trigonometric ones
// that ONNX has (Sinh, Cosh, Asinh, Acosh, Atanh, Asin, Acos). They are
// rewritten here in terms of exp, log, sqrt and atan2, which it does map.
//
//===----------------------------------------------------------------------===//

#include "compiler/gpu/GpuPipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace {

/// asin(x) = atan2(x, sqrt(1 - x^2)); acos(x) = atan2(sqrt(1 - x^2), x).
template <typename Op, bool Sine>
struct InverseTrigViaAtan2 : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value one = rewriter.create<arith::ConstantOp>(loc, rewriter.getFloatAttr(x.getType(), 1.0));
    Value cos = rewriter.create<math::SqrtOp>(
        loc, rewriter.create<arith::SubFOp>(loc, one, rewriter.create<arith::MulFOp>(loc, x, x)));
    Value result = Sine ? rewriter.create<math::Atan2Op>(loc, x, cos)
                        : rewriter.create<math::Atan2Op>(loc, cos, x);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ExpandGpuMath : PassWrapper<ExpandGpuMath, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandGpuMath)
  StringRef getArgument() const final { return "strata-expand-gpu-math"; }
  StringRef getDescription() const final {
    return "Rewrite the math ops convert-gpu-to-nvvm cannot lower (sinh, cosh, "
           "asinh, acosh, atanh, asin, acos) with exp, log, sqrt and atan2 "
           "(lit test: test/lit/compiler/gpu/expand-gpu-math.mlir)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, math::MathDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandSinhPattern(patterns);
    populateExpandCoshPattern(patterns);
    populateExpandAsinhPattern(patterns);
    populateExpandAcoshPattern(patterns);
    populateExpandAtanhPattern(patterns);
    patterns.add<InverseTrigViaAtan2<math::AsinOp, true>,
                 InverseTrigViaAtan2<math::AcosOp, false>>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

namespace strata::gpu {
std::unique_ptr<Pass> createExpandGpuMath() { return std::make_unique<ExpandGpuMath>(); }
void registerExpandGpuMath() { PassRegistration<ExpandGpuMath>(); }
} // namespace strata::gpu
