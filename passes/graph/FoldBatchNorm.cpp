//===- FoldBatchNorm.cpp - batch normalization into the preceding conv ----===//
//
// In inference, BatchNormalization after a convolution is a per-output-
// channel scale and shift: conv(x, W, b) then s * (y - mean) + beta with
// s = gamma / sqrt(var + eps) equals conv(x, W * s, (b - mean) * s + beta).
// Folding it at compile time removes a full pass over the activation.
// Exporters usually fold it already (torch.onnx in eval mode); models
// exported with training=PRESERVE, or from other frameworks, keep it.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace strata {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using strata::f32Constant;
using strata::f32Values;

namespace {

struct FoldIntoConv : OpRewritePattern<strata::nn::BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(strata::nn::BatchNormOp bn,
                                PatternRewriter &rw) const override {
    auto conv = bn.getInput().getDefiningOp<strata::nn::ConvOp>();
    if (!conv || !conv->hasOneUse())
      return rw.notifyMatchFailure(bn, "input is not a convolution used once");
    auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
    std::optional<std::vector<float>> w = f32Values(conv.getWeight()),
                                      gamma = f32Values(bn.getScale()),
                                      beta = f32Values(bn.getBias()),
                                      mean = f32Values(bn.getMean()),
                                      var = f32Values(bn.getVariance());
    if (!w || !gamma || !beta || !mean || !var)
      return rw.notifyMatchFailure(bn, "weights or statistics are not f32 constants");
    int64_t m = weightType.getDimSize(0);
    if ((int64_t)gamma->size() != m || (int64_t)beta->size() != m ||
        (int64_t)mean->size() != m || (int64_t)var->size() != m)
      return rw.notifyMatchFailure(bn, "statistics do not match the output channels");
    std::vector<float> b(m, 0.0f);
    if (conv.getBias()) {
      std::optional<std::vector<float>> given = f32Values(conv.getBias());
      if (!given || (int64_t)given->size() != m)
        return rw.notifyMatchFailure(bn, "the convolution's bias is not a constant");
      b = *given;
    }
    double eps = bn.getEpsilon().convertToDouble();
    int64_t perChannel = w->size() / m;
    for (int64_t o = 0; o < m; ++o) {
      double s = (*gamma)[o] / std::sqrt(double((*var)[o]) + eps);
      for (int64_t i = 0; i < perChannel; ++i)
        (*w)[o * perChannel + i] = float((*w)[o * perChannel + i] * s);
      b[o] = float((b[o] - (*mean)[o]) * s + (*beta)[o]);
    }
    Location loc = bn.getLoc();
    Value newWeight = f32Constant(rw, loc, weightType, *w, "folded_conv_weight");
    Value newBias = f32Constant(
        rw, loc, RankedTensorType::get({m}, weightType.getElementType()), b,
        "folded_conv_bias");
    // Named after both nodes, the convolution first: diagnostics and
    // --explain name the convolution and say the batch norm is in it.
    auto folded = rw.create<strata::nn::ConvOp>(
        rw.getFusedLoc({conv.getLoc(), bn.getLoc()}), bn.getType(), conv.getInput(),
        newWeight, newBias, conv.getStridesAttr(), conv.getPadsAttr(),
        conv.getDilationsAttr(), conv.getGroupAttr());
    rw.replaceOp(bn, folded.getResult());
    rw.eraseOp(conv);
    return success();
  }
};

struct FoldBatchNormPass : strata::impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoConv>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
