//===- ApproximateTanh.cpp - f32 tanh as inline arithmetic ----------------===//
//
// math.tanh has no LLVM intrinsic, so it became a call to libm's tanhf per
// element: a call in every iteration keeps the loop scalar, and recurrent
// layers (LSTM, GRU, RNN) apply tanh to every gate of every step. MLIR's
// rational approximation (clamped to +-7.9, like Eigen's) is plain
// arithmetic that vectorizes; on f32 it stays within a few ulp of libm
// (test/lit/compiler/cpu/approximate-tanh.mlir; every ONNX node test with a
// tanh, and the recurrent networks against PyTorch at 1e-4). Other math
// functions keep libm: only tanh is rewritten.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_APPROXIMATETANH
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {
struct ApproximateTanhPass : strata::impl::ApproximateTanhBase<ApproximateTanhPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populatePolynomialApproximateTanhPattern(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
