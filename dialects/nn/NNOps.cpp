//===- NNOps.cpp - nn op verifiers ----------------------------------------===//
//
// Each verifier recomputes the result shape with ShapeRules and checks that
// the declared result type agrees (dynamic dimensions match anything).
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"
#include "dialects/nn/ElementTypes.h"
#include "dialects/nn/ShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace strata::nn;

static_assert(shape::kDynamic == ShapedType::kDynamic,
              "ShapeRules must use MLIR's dynamic-dimension marker");

namespace {

shape::Shape shapeOf(Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  return shape::Shape(type.getShape().begin(), type.getShape().end());
}

std::vector<int64_t> vec(ArrayRef<int64_t> a) { return {a.begin(), a.end()}; }

Type elementTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

/// Compares the declared result shape of `op` with the rule's answer.
LogicalResult checkResultShape(Operation *op, const shape::ShapeOrError &rule,
                               unsigned resultIndex = 0) {
  if (!rule.ok())
    return op->emitOpError() << rule.error;
  shape::Shape declared = shapeOf(op->getResult(resultIndex));
  if (!shape::compatible(declared, rule.shape))
    return op->emitOpError() << "result shape " << shape::toString(declared)
                             << " does not match the expected "
                             << shape::toString(rule.shape);
  return success();
}

/// All listed values share the element type of the first.
LogicalResult checkSameElementType(Operation *op, ValueRange values) {
  Type first = elementTypeOf(values.front());
  for (Value v : values.drop_front())
    if (elementTypeOf(v) != first)
      return op->emitOpError() << "element types differ: " << first << " vs "
                               << elementTypeOf(v);
  return success();
}

LogicalResult checkAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank)
    return op->emitOpError() << "axis " << axis << " is out of range for rank "
                             << rank << " (axes are normalized to >= 0)";
  return success();
}

} // namespace

LogicalResult strata::nn::verifyBroadcastOp(Operation *op) {
  SmallVector<Value> all(op->getOperands());
  all.push_back(op->getResult(0));
  if (failed(checkSameElementType(op, all)))
    return failure();
  return checkResultShape(op, shape::broadcast(shapeOf(op->getOperand(0)),
                                               shapeOf(op->getOperand(1))));
}

LogicalResult ClipOp::verify() {
  if (getMin() && getMax() && getMin()->convertToDouble() > getMax()->convertToDouble())
    return emitOpError() << "min " << getMin()->convertToDouble()
                         << " is greater than max "
                         << getMax()->convertToDouble();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return checkAxis(*this, getAxis(), getType().getRank());
}

LogicalResult LogSoftmaxOp::verify() {
  return checkAxis(*this, getAxis(), getType().getRank());
}

LogicalResult MatMulOp::verify() {
  if (failed(verifyContractionTypes(*this, getLhs(), getRhs(), getOutput())))
    return failure();
  return checkResultShape(*this,
                          shape::matmul(shapeOf(getLhs()), shapeOf(getRhs())));
}

LogicalResult GemmOp::verify() {
  if (failed(verifyContractionTypes(*this, getA(), getB(), getOutput(), getC())))
    return failure();
  shape::ShapeOrError rule =
      shape::gemm(shapeOf(getA()), shapeOf(getB()), getTransA(), getTransB());
  if (rule.ok() && getC()) {
    // C broadcasts one way: to the result, never the result to C.
    shape::ShapeOrError withC = shape::broadcast(rule.shape, shapeOf(getC()));
    if (!withC.ok() || !shape::compatible(withC.shape, rule.shape))
      return emitOpError() << "C of shape " << shape::toString(shapeOf(getC()))
                           << " does not broadcast to "
                           << shape::toString(rule.shape);
  }
  return checkResultShape(*this, rule);
}

LogicalResult ConvOp::verify() {
  if (getBias()) {
    shape::Shape b = shapeOf(getBias());
    int64_t m = shapeOf(getWeight())[0];
    if (b.size() != 1 || (b[0] != m && b[0] != shape::kDynamic &&
                          m != shape::kDynamic))
      return emitOpError() << "bias must be 1-D with one entry per output "
                              "channel, got "
                           << shape::toString(b);
  }
  if (failed(verifyContractionTypes(*this, getInput(), getWeight(), getOutput(),
                                    getBias())))
    return failure();
  return checkResultShape(
      *this, shape::conv(shapeOf(getInput()), shapeOf(getWeight()),
                         vec(getStrides()), vec(getPads()),
                         vec(getDilations()), getGroup()));
}

LogicalResult PoolOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  return checkResultShape(
      *this, shape::pool(shapeOf(getInput()), vec(getKernelShape()),
                         vec(getStrides()), vec(getPads()), vec(getDilations()),
                         getCeilMode()));
}

LogicalResult Im2ColOp::verify() {
  shape::Shape in = shapeOf(getInput()), cols = shapeOf(getColumns());
  int64_t s = (int64_t)in.size() - 2;
  if (s < 1 || (int64_t)cols.size() != 2 + 2 * s)
    return emitOpError() << "columns must be [C, k..., N, o...] for a rank-" << in.size()
                         << " input";
  if ((int64_t)getKernelShape().size() != s || (int64_t)getStrides().size() != s ||
      (int64_t)getDilations().size() != s || (int64_t)getPads().size() != 2 * s)
    return emitOpError()
           << "needs one kernel size, stride and dilation, two pads per spatial dimension";
  shape::Shape expected{in[1]};
  for (int64_t i = 0; i < s; ++i)
    expected.push_back(getKernelShape()[i]);
  expected.push_back(in[0]);
  for (int64_t i = 0; i < s; ++i)
    expected.push_back(shape::windowOutputDim(in[2 + i], getKernelShape()[i],
                                              getStrides()[i], getPads()[i], getPads()[s + i],
                                              getDilations()[i], false));
  if (cols != expected)
    return emitOpError() << "columns " << shape::toString(cols) << " should be "
                         << shape::toString(expected) << " for input "
                         << shape::toString(in);
  return checkSameElementType(*this, {getInput(), getColumns()});
}

LogicalResult Col2ImOp::verify() {
  shape::Shape cols = shapeOf(getColumns()), out = shapeOf(getOutput());
  int64_t s = (int64_t)out.size() - 2;
  if (s < 1 || (int64_t)cols.size() != 2 + 2 * s)
    return emitOpError() << "columns must be [C, k..., N, o...] for a rank-"
                         << out.size() << " result";
  if ((int64_t)getStrides().size() != s || (int64_t)getDilations().size() != s ||
      (int64_t)getPads().size() != 2 * s)
    return emitOpError() << "needs one stride and dilation, two pads per spatial dimension";
  if (cols[0] != out[1] || cols[1 + s] != out[0])
    return emitOpError() << "channel or batch size of the columns "
                         << shape::toString(cols) << " does not match the result "
                         << shape::toString(out);
  for (int64_t i = 0; i < s; ++i)
    if (shape::windowOutputDim(out[2 + i], cols[1 + i], getStrides()[i], getPads()[i],
                               getPads()[s + i], getDilations()[i], false) != cols[2 + s + i])
      return emitOpError() << "window count " << cols[2 + s + i] << " of dimension " << i
                           << " does not match a convolution of size " << out[2 + i];
  return checkSameElementType(*this, {getColumns(), getOutput()});
}

/// Shapes of an ungrouped convolution's gradient op: `x` the convolution's
/// input (or its gradient), `dy` its output gradient, `w` its weights (or
/// their gradient).
static LogicalResult verifyConvGradient(Operation *op, const shape::Shape &x,
                                        const shape::Shape &dy, const shape::Shape &w,
                                        ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                                        ArrayRef<int64_t> dilations) {
  int64_t s = (int64_t)x.size() - 2;
  if (s < 1 || dy.size() != x.size() || w.size() != x.size())
    return op->emitOpError() << "input, output gradient and weight must have the same rank "
                                "(at least 3)";
  if ((int64_t)strides.size() != s || (int64_t)dilations.size() != s ||
      (int64_t)pads.size() != 2 * s)
    return op->emitOpError() << "needs one stride and dilation, two pads per spatial dimension";
  auto differ = [](int64_t a, int64_t b) {
    return a != b && a != shape::kDynamic && b != shape::kDynamic;
  };
  if (differ(dy[0], x[0]) || differ(w[0], dy[1]) || differ(w[1], x[1]))
    return op->emitOpError() << "input " << shape::toString(x) << ", output gradient "
                             << shape::toString(dy) << " and weight " << shape::toString(w)
                             << " do not match an ungrouped convolution";
  for (int64_t i = 0; i < s; ++i)
    if (w[2 + i] != shape::kDynamic &&
        differ(shape::windowOutputDim(x[2 + i], w[2 + i], strides[i], pads[i], pads[s + i],
                                      dilations[i], false),
               dy[2 + i]))
      return op->emitOpError() << "output gradient size " << dy[2 + i] << " of dimension " << i
                               << " does not match a convolution of size " << x[2 + i]
                               << " with kernel " << w[2 + i];
  return success();
}

LogicalResult ConvFilterGradOp::verify() {
  if (failed(verifyConvGradient(*this, shapeOf(getInput()), shapeOf(getOutputGrad()),
                                shapeOf(getWeightGrad()), getStrides(), getPads(),
                                getDilations())))
    return failure();
  return checkSameElementType(*this, {getInput(), getOutputGrad(), getWeightGrad()});
}

LogicalResult ConvInputGradOp::verify() {
  if (failed(verifyConvGradient(*this, shapeOf(getInputGrad()), shapeOf(getOutputGrad()),
                                shapeOf(getWeight()), getStrides(), getPads(),
                                getDilations())))
    return failure();
  return checkSameElementType(*this, {getOutputGrad(), getWeight(), getInputGrad()});
}

LogicalResult PoolGradOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutputGrad(), getInputGrad()})))
    return failure();
  if (getInput().getType() != getInputGrad().getType())
    return emitOpError() << "the input gradient must have the input's type";
  shape::ShapeOrError forward =
      shape::pool(shapeOf(getInput()), vec(getKernelShape()), vec(getStrides()),
                  vec(getPads()), vec(getDilations()), getCeilMode());
  if (!forward.ok())
    return emitOpError() << forward.error;
  if (!shape::compatible(shapeOf(getOutputGrad()), forward.shape))
    return emitOpError() << "output gradient shape "
                         << shape::toString(shapeOf(getOutputGrad()))
                         << " does not match the pool's output "
                         << shape::toString(forward.shape);
  return success();
}

LogicalResult BatchNormOp::verify() {
  if (failed(checkSameElementType(
          *this, {getInput(), getScale(), getBias(), getMean(), getVariance(),
                  getOutput()})))
    return failure();
  shape::Shape in = shapeOf(getInput());
  if (in.size() < 2)
    return emitOpError() << "input must have a channel dimension";
  for (Value v : {getScale(), getBias(), getMean(), getVariance()}) {
    shape::Shape s = shapeOf(v);
    if (!shape::compatible(s, {in[1]}))
      return emitOpError() << "per-channel operand has shape "
                           << shape::toString(s) << ", expected ["
                           << shape::toString({in[1]}) << "]";
  }
  return checkResultShape(*this, {in, {}});
}

LogicalResult ReduceOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  return checkResultShape(*this, shape::reduce(shapeOf(getInput()),
                                               vec(getAxes()), getKeepdims()));
}

LogicalResult ReshapeOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  int64_t in = shape::numElements(shapeOf(getInput()));
  int64_t out = shape::numElements(shapeOf(getOutput()));
  if (in != shape::kDynamic && out != shape::kDynamic && in != out)
    return emitOpError() << "cannot reshape " << in << " elements into "
                         << out;
  return success();
}

LogicalResult TransposeOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  return checkResultShape(*this,
                          shape::transpose(shapeOf(getInput()), vec(getPerm())));
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  SmallVector<Value> all(getInputs());
  all.push_back(getOutput());
  if (failed(checkSameElementType(*this, all)))
    return failure();
  std::vector<shape::Shape> shapes;
  for (Value v : getInputs())
    shapes.push_back(shapeOf(v));
  return checkResultShape(*this, shape::concat(shapes, getAxis()));
}

LogicalResult SliceOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  return checkResultShape(*this,
                          shape::slice(shapeOf(getInput()), vec(getStarts()),
                                       vec(getEnds()), vec(getSteps())));
}

LogicalResult GatherOp::verify() {
  if (failed(checkSameElementType(*this, {getData(), getOutput()})))
    return failure();
  return checkResultShape(*this, shape::gather(shapeOf(getData()),
                                               shapeOf(getIndices()),
                                               getAxis()));
}

LogicalResult SegmentSumOp::verify() {
  if (failed(checkSameElementType(*this, {getData(), getOutput()})))
    return failure();
  shape::Shape data = shapeOf(getData()), ids = shapeOf(getSegmentIds()),
               out = shapeOf(getOutput());
  if (data.size() != 1 || ids.size() != 1 || out.size() != 1 || data != ids ||
      ShapedType::isDynamic(out[0]))
    return emitOpError() << "takes data and segment ids of one length and gives a static "
                            "1-D result";
  return success();
}

LogicalResult PadOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  return checkResultShape(*this,
                          shape::pad(shapeOf(getInput()), vec(getPads())));
}

namespace {
/// Scale and zero point broadcast to the input, which the result's shape is.
LogicalResult checkQuantizationOperands(Operation *op, Value input, Value scale,
                                        Value zeroPoint, Value output) {
  shape::Shape in = shapeOf(input);
  for (Value v : {scale, zeroPoint}) {
    shape::ShapeOrError b = shape::broadcast(in, shapeOf(v));
    if (!b.ok() || !shape::compatible(b.shape, in))
      return op->emitOpError() << "scale and zero point must broadcast to the input "
                               << shape::toString(in) << ", got "
                               << shape::toString(shapeOf(v));
  }
  if (!isa<IntegerType>(elementTypeOf(zeroPoint)))
    return op->emitOpError() << "zero point must be an integer, got "
                             << elementTypeOf(zeroPoint);
  return checkResultShape(op, shape::ShapeOrError{in, ""});
}
} // namespace

LogicalResult QuantizeOp::verify() {
  if (!isa<IntegerType>(elementTypeOf(getOutput())))
    return emitOpError() << "result must be an integer tensor";
  if (elementTypeOf(getScale()) != elementTypeOf(getInput()))
    return emitOpError() << "scale must have the input's element type";
  return checkQuantizationOperands(*this, getInput(), getScale(), getZeroPoint(),
                                   getOutput());
}

LogicalResult DequantizeOp::verify() {
  if (!isa<IntegerType>(elementTypeOf(getInput())))
    return emitOpError() << "input must be an integer tensor";
  if (elementTypeOf(getScale()) != elementTypeOf(getOutput()))
    return emitOpError() << "scale must have the result's element type";
  return checkQuantizationOperands(*this, getInput(), getScale(), getZeroPoint(),
                                   getOutput());
}

LogicalResult RequantizeOp::verify() {
  for (Value v : {getInput(), getMultiplier(), getShift(), getZeroPoint()})
    if (!elementTypeOf(v).isInteger(32))
      return emitOpError() << "takes i32 operands, got " << elementTypeOf(v);
  auto result = dyn_cast<IntegerType>(elementTypeOf(getOutput()));
  if (!result)
    return emitOpError() << "result must be an integer tensor";
  int64_t lo = result.isUnsigned() ? 0 : -(int64_t(1) << (result.getWidth() - 1));
  int64_t hi = result.isUnsigned() ? (int64_t(1) << result.getWidth()) - 1
                                   : (int64_t(1) << (result.getWidth() - 1)) - 1;
  // I64Attr getters return uint64_t.
  int64_t min = (int64_t)getMin(), max = (int64_t)getMax();
  if (min > max || min < lo || max > hi)
    return emitOpError() << "bounds [" << min << ", " << max
                         << "] must be ordered and within " << result;
  shape::Shape in = shapeOf(getInput());
  for (Value v : {getMultiplier(), getShift(), getZeroPoint()}) {
    shape::ShapeOrError b = shape::broadcast(in, shapeOf(v));
    if (!b.ok() || !shape::compatible(b.shape, in))
      return emitOpError() << "multiplier, shift and zero point must broadcast to the input";
  }
  return checkResultShape(*this, shape::ShapeOrError{in, ""});
}

LogicalResult FakeQuantizeOp::verify() {
  auto type = cast<RankedTensorType>(getInput().getType());
  auto scaleType = cast<RankedTensorType>(getScale().getType());
  if (scaleType.getElementType() != type.getElementType())
    return emitOpError() << "scale must have the input's element type";
  // Per tensor ([]) or per channel ([1, .., C, .., 1] along one axis).
  int64_t n = scaleType.getNumElements(), channelAxes = 0;
  if (scaleType.getRank() != 0) {
    if (scaleType.getRank() != type.getRank())
      return emitOpError() << "scale must be a scalar or have the input's rank";
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (scaleType.getDimSize(d) != 1 &&
          (++channelAxes > 1 || scaleType.getDimSize(d) != type.getDimSize(d)))
        return emitOpError() << "scale must be 1 along every axis but one channel axis";
  }
  if ((int64_t)getZeroPoint().size() != n)
    return emitOpError() << "needs one zero point per scale (" << n << ")";
  if ((int64_t)getQmin() >= (int64_t)getQmax())
    return emitOpError() << "qmin must be below qmax";
  return success();
}

DenseElementsAttr FakeQuantizeOp::channelConstant(ArrayRef<double> values) {
  Type et = getType().getElementType();
  SmallVector<APFloat> converted;
  for (double x : values) {
    APFloat f(x);
    bool lost;
    f.convert(cast<FloatType>(et).getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    converted.push_back(f);
  }
  auto shape = cast<RankedTensorType>(getScale().getType()).getShape();
  return DenseElementsAttr::get(RankedTensorType::get(shape, et), converted);
}

double FakeQuantizeOp::gradientScale() {
  double n = (double)cast<RankedTensorType>(getInput().getType()).getNumElements();
  return 1.0 / std::sqrt(n * std::max<double>(1.0, (double)(int64_t)getQmax()));
}

LogicalResult ExtendUnsignedOp::verify() {
  auto from = dyn_cast<IntegerType>(elementTypeOf(getInput()));
  auto to = dyn_cast<IntegerType>(elementTypeOf(getOutput()));
  if (!from || !to || !from.isSignless() || !to.isSignless() ||
      to.getWidth() <= from.getWidth())
    return emitOpError() << "widens a signless integer to a wider one";
  return checkResultShape(*this, shape::ShapeOrError{shapeOf(getInput()), ""});
}

LogicalResult CastOp::verify() {
  if (!shape::compatible(shapeOf(getInput()), shapeOf(getOutput())))
    return emitOpError() << "cast changes the shape from "
                         << shape::toString(shapeOf(getInput())) << " to "
                         << shape::toString(shapeOf(getOutput()));
  return success();
}

LogicalResult CompareOp::verify() {
  if (failed(checkSameElementType(*this, {getLhs(), getRhs()})))
    return failure();
  return checkResultShape(*this, shape::broadcast(shapeOf(getLhs()),
                                                  shapeOf(getRhs())));
}

LogicalResult WhereOp::verify() {
  if (failed(checkSameElementType(*this, {getX(), getY(), getOutput()})))
    return failure();
  shape::ShapeOrError xy = shape::broadcast(shapeOf(getX()), shapeOf(getY()));
  if (!xy.ok())
    return emitOpError() << xy.error;
  return checkResultShape(*this,
                          shape::broadcast(shapeOf(getCondition()), xy.shape));
}

LogicalResult ArgReduceOp::verify() {
  int64_t rank = cast<RankedTensorType>(getInput().getType()).getRank();
  if (failed(checkAxis(*this, getAxis(), rank)))
    return failure();
  return checkResultShape(*this, shape::reduce(shapeOf(getInput()),
                                               {(int64_t)getAxis()}, getKeepdims()));
}

LogicalResult GatherElementsOp::verify() {
  if (failed(checkSameElementType(*this, {getData(), getOutput()})))
    return failure();
  shape::Shape data = shapeOf(getData()), idx = shapeOf(getIndices());
  if (data.size() != idx.size())
    return emitOpError() << "indices must have the data's rank";
  if (failed(checkAxis(*this, getAxis(), data.size())))
    return failure();
  return checkResultShape(*this, {idx, {}});
}

LogicalResult BroadcastToOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  shape::Shape out = shapeOf(getOutput());
  shape::ShapeOrError b = shape::broadcast(shapeOf(getInput()), out);
  if (!b.ok())
    return emitOpError() << b.error;
  return checkResultShape(*this, {out, {}});
}

LogicalResult TileOp::verify() {
  if (failed(checkSameElementType(*this, {getInput(), getOutput()})))
    return failure();
  shape::Shape in = shapeOf(getInput());
  if (getRepeats().size() != in.size())
    return emitOpError() << "needs one repeat count per dimension";
  shape::Shape out;
  for (size_t d = 0; d < in.size(); ++d)
    out.push_back(in[d] == shape::kDynamic ? shape::kDynamic
                                           : shape::mulSat(in[d], getRepeats()[d]));
  return checkResultShape(*this, {out, {}});
}

#define GET_OP_CLASSES
#include "dialects/nn/NNOps.cpp.inc"
