//===- FakeQuantize.cpp - the strata-fake-quantize pass -------------------===//
//
// Quantization-aware training trains a model whose activations and weights
// pass through QDQ pairs (strata train --qat writes them in with
// compiler/onnx/QdqModel.h). nn.quantize has no gradient (its result is an
// integer), so each dequantize(quantize(x)) pair of a float x with constant,
// equal scale and zero point becomes one nn.fake_quantize, which computes
// the same float and has gradients for its input (straight-through) and for
// its scale (learned, as LSQ learns it).
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNBuilder.h"
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

struct FuseQdqPair : OpRewritePattern<nn::DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::DequantizeOp dq, PatternRewriter &rw) const override {
    auto q = dq.getInput().getDefiningOp<nn::QuantizeOp>();
    if (!q || !isa<FloatType>(q.getInput().getType().getElementType()) ||
        q.getType().getElementType().getIntOrFloatBitWidth() != 8 ||
        dq.getType() != q.getInput().getType() ||
        getElementTypeOrSelf(q.getScale().getType()) != q.getInput().getType().getElementType())
      return failure();
    auto qp = strata::quantizationOf(q.getScale(), q.getZeroPoint());
    auto dp = strata::quantizationOf(dq.getScale(), dq.getZeroPoint());
    if (!qp || !dp || qp->scale != dp->scale || qp->zeroPoint != dp->zeroPoint ||
        qp->scale.size() != qp->zeroPoint.size())
      return rw.notifyMatchFailure(dq, "scales or zero points differ or are not constant");
    // The scale stays a value (the initializer the QDQ pair reads), so that
    // training learns it; the zero point becomes an attribute.
    // ONNX broadcasting aligns a shorter scale to the right: give it the
    // input's rank, the form nn.fake_quantize takes.
    Value scale = q.getScale();
    auto scaleType = cast<RankedTensorType>(scale.getType());
    int64_t rank = q.getInput().getType().getRank();
    if (scaleType.getRank() != 0 && scaleType.getRank() != rank) {
      SmallVector<int64_t> shape(rank - scaleType.getRank(), 1);
      llvm::append_range(shape, scaleType.getShape());
      nn::NNBuilder b(rw, dq.getLoc());
      scale = b.reshape(scale, shape);
    }
    bool isUnsigned = q.getType().getElementType().isUnsignedInteger();
    auto fq = rw.create<nn::FakeQuantizeOp>(
        dq.getLoc(), dq.getType(), q.getInput(), scale,
        rw.getDenseI64ArrayAttr(qp->zeroPoint), rw.getI64IntegerAttr(isUnsigned ? 0 : -128),
        rw.getI64IntegerAttr(isUnsigned ? 255 : 127));
    rw.replaceOp(dq, fq.getResult());
    return success();
  }
};

struct FakeQuantizePass : strata::impl::FakeQuantizeBase<FakeQuantizePass> {
  void runOnOperation() override {
    // One walk, no greedy driver: it would fold a scale's reshape into a new
    // constant, and the scale would no longer be the initializer training
    // learns.
    MLIRContext *ctx = &getContext();
    FuseQdqPair pattern(ctx);
    PatternRewriter rewriter(ctx);
    SmallVector<nn::DequantizeOp> pairs;
    getOperation()->walk([&](nn::DequantizeOp dq) { pairs.push_back(dq); });
    for (nn::DequantizeOp dq : pairs) {
      rewriter.setInsertionPoint(dq);
      (void)pattern.matchAndRewrite(dq, rewriter);
    }
    // Quantize ops whose pair is gone, and zero points nothing reads now.
    SmallVector<nn::QuantizeOp> dead;
    getOperation()->walk([&](nn::QuantizeOp q) {
      if (q->use_empty())
        dead.push_back(q);
    });
    for (nn::QuantizeOp q : dead) {
      Operation *zeroPoint = q.getZeroPoint().getDefiningOp();
      q->erase();
      if (zeroPoint && isa<nn::ConstantOp>(zeroPoint) && zeroPoint->use_empty())
        zeroPoint->erase();
    }
  }
};

} // namespace
