//===- OneDnnOps.cpp - verifiers of the oneDNN kernel ops -----------------===//
//
// The shapes are checked with the same rules (ShapeRules.h) as nn.conv and nn.pool, after
// reading a blocked (nChw<block>c: nChw8c, nChw16c) tensor as the NCHW shape
// it stands for.
//
//===----------------------------------------------------------------------===//

#include "dialects/onednn/OneDnnOps.h"
#include "dialects/nn/ElementTypes.h"
#include "dialects/nn/ShapeRules.h"

using namespace mlir;
using namespace strata;
namespace shape = strata::nn::shape;
namespace nn = strata::nn;
using namespace strata::onednn;

namespace {

/// The channel blocks the runtime's oneDNN glue takes (strata/onednn_calls.h).
bool knownBlock(int64_t block) { return block == 8 || block == 16; }

/// The NCHW shape `v` holds in `layout`, or an error.
FailureOr<shape::Shape> logicalShape(Operation *op, Value v, StringRef layout) {
  auto type = cast<RankedTensorType>(v.getType());
  ArrayRef<int64_t> s = type.getShape();
  if (!type.hasStaticShape())
    return op->emitOpError() << "needs static shapes";
  if (layout == "nchw") {
    if (s.size() != 4)
      return op->emitOpError() << "an nchw tensor must be 4-d";
    return shape::Shape(s.begin(), s.end());
  }
  if (layout == "nhwc") { // channels last: int8 convolutions
    if (s.size() != 4)
      return op->emitOpError() << "an nhwc tensor must be 4-d";
    return shape::Shape{s[0], s[3], s[1], s[2]};
  }
  StringRef digits = layout;
  int64_t block = 0;
  if (digits.consume_front("nChw") && digits.consume_back("c") &&
      !digits.getAsInteger(10, block) && knownBlock(block)) {
    if (s.size() != 5 || s[4] != block)
      return op->emitOpError() << "an " << layout << " tensor must be N x C/" << block
                               << " x H x W x " << block;
    return shape::Shape{s[0], s[1] * block, s[2], s[3]};
  }
  return op->emitOpError() << "unknown layout '" << layout
                           << "' (nchw, nhwc, nChw8c or nChw16c)";
}

std::vector<int64_t> vec(ArrayRef<int64_t> a) { return {a.begin(), a.end()}; }

LogicalResult compare(Operation *op, const shape::ShapeOrError &rule,
                      const shape::Shape &declared) {
  if (!rule.ok())
    return op->emitOpError() << rule.error;
  if (rule.shape != declared)
    return op->emitOpError()
           << "result stands for " << shape::toString(declared)
           << " but the window rule gives " << shape::toString(rule.shape);
  return success();
}

} // namespace

LogicalResult ConvOp::verify() {
  auto in = logicalShape(*this, getInput(), getSrcLayout());
  auto out = logicalShape(*this, getOutput(), getDstLayout());
  if (failed(in) || failed(out))
    return failure();
  if (getSum() && getSum().getType() != getOutput().getType())
    return emitOpError() << "the sum operand must have the result's type";
  if (failed(nn::verifyContractionTypes(*this, getInput(), getWeight(), getOutput(),
                                        getBias())))
    return failure();
  bool sawSum = false, sawClip = false;
  for (Attribute a : getPostOps()) {
    StringRef p = cast<StringAttr>(a).getValue();
    if (p == "sum")
      sawSum = true;
    else if (p == "clip")
      sawClip = true;
    else if (p != "relu")
      return emitOpError() << "unknown post-op '" << p << "' (sum, relu, clip)";
  }
  if (sawSum != bool(getSum()))
    return emitOpError() << "a sum operand goes with a \"sum\" post-op";
  if (sawClip && (!getClipMin() || !getClipMax()))
    return emitOpError() << "a \"clip\" post-op needs clip_min and clip_max";
  auto weight = cast<RankedTensorType>(getWeight().getType()).getShape();
  if (weight.size() != 4)
    return emitOpError() << "the weight must be 4-d";
  if (getBias() &&
      cast<RankedTensorType>(getBias().getType()).getShape() !=
          ArrayRef<int64_t>{weight[0]})
    return emitOpError() << "the bias must have one entry per output channel";
  return compare(*this,
                 shape::conv(*in, shape::Shape(weight.begin(), weight.end()),
                             vec(getStrides()), vec(getPads()),
                             vec(getDilations()), getGroup()),
                 *out);
}

LogicalResult PoolOp::verify() {
  auto in = logicalShape(*this, getInput(), getLayout());
  auto out = logicalShape(*this, getOutput(), getLayout());
  if (failed(in) || failed(out))
    return failure();
  if (getInput().getType().getElementType() != getOutput().getType().getElementType())
    return emitOpError() << "pooling keeps the element type";
  // oneDNN's rule (floor); the pass widened the end pads for ceil_mode.
  for (int d = 0; d < 2; ++d) {
    int64_t span = (*in)[2 + d] + getPads()[d] + getPads()[2 + d] -
                   getKernelShape()[d];
    if (span < 0 || span / getStrides()[d] + 1 != (*out)[2 + d])
      return emitOpError() << "the result's spatial size does not match the "
                              "window, strides and pads";
  }
  if ((*in)[0] != (*out)[0] || (*in)[1] != (*out)[1])
    return emitOpError() << "pooling keeps N and C";
  return success();
}

LogicalResult InnerProductOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType()).getShape();
  auto w = cast<RankedTensorType>(getWeight().getType()).getShape();
  auto out = cast<RankedTensorType>(getOutput().getType()).getShape();
  if (in.size() != 2 || w.size() != 2 || out.size() != 2)
    return emitOpError() << "input, weight and result must be 2-d";
  if (failed(nn::verifyContractionTypes(*this, getInput(), getWeight(), getOutput(),
                                        getBias())))
    return failure();
  if (in[1] != w[1] || out[0] != in[0] || out[1] != w[0])
    return emitOpError() << "expects M x K input, N x K weight, M x N result";
  if (getBias() && cast<RankedTensorType>(getBias().getType()).getShape() !=
                       ArrayRef<int64_t>{w[0]})
    return emitOpError() << "the bias must have one entry per output";
  for (Attribute a : getPostOps()) {
    StringRef p = cast<StringAttr>(a).getValue();
    if (p != "relu" && p != "clip")
      return emitOpError() << "unknown post-op '" << p << "' (relu, clip)";
    if (p == "clip" && (!getClipMin() || !getClipMax()))
      return emitOpError() << "a \"clip\" post-op needs clip_min and clip_max";
  }
  return success();
}

LogicalResult BatchMatmulOp::verify() {
  auto a = cast<RankedTensorType>(getLhs().getType()).getShape();
  auto b = cast<RankedTensorType>(getRhs().getType()).getShape();
  auto out = cast<RankedTensorType>(getOutput().getType()).getShape();
  if (a.size() != 3 || b.size() != 3 || out.size() != 3)
    return emitOpError() << "lhs, rhs and result must be 3-d";
  if (failed(nn::verifyContractionTypes(*this, getLhs(), getRhs(), getOutput())))
    return failure();
  if (a[0] != b[0] || a[2] != b[1] || out != ArrayRef<int64_t>{a[0], a[1], b[2]})
    return emitOpError() << "expects G x M x K lhs, G x K x N rhs, G x M x N result";
  return success();
}
