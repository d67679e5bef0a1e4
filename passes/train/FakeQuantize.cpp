//===- FakeQuantize.cpp - the strata-fake-quantize pass -------------------===//
//
// Quantization-aware training trains a model whose activations and weights
// pass through QDQ pairs (strata train --qat writes them in with
// compiler/onnx/QdqModel.h). nn.quantize has no gradient (its result is an
// integer), so each dequantize(quantize(x)) pair of a float x with constant,
// equal scale and zero point becomes one nn.fake_quantize, which computes
// the same float and has the straight-through gradient.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"
#include "passes/compress/QuantizationParams.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_FAKEQUANTIZE
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;

namespace {

/// The axis a per-channel scale (shaped to broadcast: 1 everywhere but the
/// channel) runs along, 0 for a per-tensor one.
int64_t channelAxis(Value scale) {
  auto shape = cast<RankedTensorType>(scale.getType()).getShape();
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] > 1)
      return d;
  return 0;
}

struct FuseQdqPair : OpRewritePattern<nn::DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::DequantizeOp dq, PatternRewriter &rw) const override {
    auto q = dq.getInput().getDefiningOp<nn::QuantizeOp>();
    if (!q || !isa<FloatType>(q.getInput().getType().getElementType()) ||
        q.getType().getElementType().getIntOrFloatBitWidth() != 8 ||
        dq.getType() != q.getInput().getType())
      return failure();
    auto qp = strata::quantizationOf(q.getScale(), q.getZeroPoint());
    auto dp = strata::quantizationOf(dq.getScale(), dq.getZeroPoint());
    if (!qp || !dp || qp->scale != dp->scale || qp->zeroPoint != dp->zeroPoint ||
        qp->scale.size() != qp->zeroPoint.size())
      return rw.notifyMatchFailure(dq, "scales or zero points differ or are not constant");
    bool isUnsigned = q.getType().getElementType().isUnsignedInteger();
    int64_t axis = qp->scale.size() > 1 ? channelAxis(q.getScale()) : 0;
    auto fq = rw.create<nn::FakeQuantizeOp>(
        dq.getLoc(), dq.getType(), q.getInput(), rw.getDenseF64ArrayAttr(qp->scale),
        rw.getDenseI64ArrayAttr(qp->zeroPoint), rw.getI64IntegerAttr(axis),
        rw.getI64IntegerAttr(isUnsigned ? 0 : -128), rw.getI64IntegerAttr(isUnsigned ? 255 : 127));
    rw.replaceOp(dq, fq.getResult());
    return success();
  }
};

struct FakeQuantizePass : strata::impl::FakeQuantizeBase<FakeQuantizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseQdqPair>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
