//===- QuantizationOps.cpp - import quantized ONNX ops --------------------===//
//
// QuantizeLinear and DequantizeLinear become nn.quantize / nn.dequantize
// with the scale and zero point shaped to broadcast (per-tensor: rank 0;
// per-axis: [1, C, 1, ...] at the axis). MatMulInteger and ConvInteger are
// integer contractions into i32 (zero points subtracted exactly in i32).
// QLinearMatMul and QLinearConv are their definition, dequantize -> float op
// -> quantize, which strata-quantized-ops then computes in integers like
// any QDQ pattern. DynamicQuantizeLinear is its ONNX formula.
//
//===----------------------------------------------------------------------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/ops/Composites.h"
#include "compiler/onnx/ops/ConvAttributes.h"
#include "dialects/nn/NNOps.h"

#include <cmath>
#include <sstream>

using namespace mlir;

namespace strata::onnx_import {
namespace {

using composite::typeOf;

std::string inputName(NodeContext &n, int i) {
  return "'" + n.proto().input(i) + "'";
}

/// Checks a constant scale: every entry positive and finite.
void checkScale(NodeContext &n, int i) {
  auto values = n.constantDoublesIfKnown(i);
  if (!values)
    return;
  for (size_t k = 0; k < values->size(); ++k) {
    double s = (*values)[k];
    if (!(s > 0) || !std::isfinite(s)) {
      std::ostringstream os;
      os << "scale (input " << inputName(n, i) << ") must be positive and finite, got " << s;
      if (values->size() > 1)
        os << " at index " << k;
      n.fail(os.str());
    }
  }
}

/// A scale or zero point (input `i`) shaped to broadcast against an input of
/// `rank`: scalars per tensor, 1-D of the axis's length per axis.
Value broadcastable(NodeContext &n, int i, int64_t axis, RankedTensorType input) {
  Value v = n.input(i);
  auto t = typeOf(v);
  if (t.getRank() == 0)
    return v;
  if (t.getRank() != 1)
    n.fail("input " + inputName(n, i) + " must be a scalar or 1-D, got rank " +
           std::to_string(t.getRank()));
  int64_t length = t.getDimSize(0);
  int64_t rank = input.getRank();
  if (length == 1 && rank == 0)
    return n.builder().create<nn::ReshapeOp>(
        n.loc(), RankedTensorType::get({}, t.getElementType()), v);
  if (rank > 0)
    axis = n.normalizeAxis(axis, rank, "axis");
  if (length == 1 && input.getDimSize(axis) != 1)
    return n.builder().create<nn::ReshapeOp>(
        n.loc(), RankedTensorType::get({}, t.getElementType()), v);
  if (rank == 0 || input.getDimSize(axis) != length)
    n.fail("input " + inputName(n, i) + " has " + std::to_string(length) +
           " entries but axis " + std::to_string(axis) + " of the input has " +
           (rank == 0 ? std::string("none (the input is a scalar)")
                      : std::to_string(input.getDimSize(axis))));
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = length;
  return n.builder().create<nn::ReshapeOp>(
      n.loc(), RankedTensorType::get(shape, t.getElementType()), v);
}

/// The axis attribute (opset 13+), as given: it matters (and is checked)
/// only for a per-axis scale.
int64_t quantizationAxis(NodeContext &n) {
  return n.opset() >= 13 ? n.attrInt("axis", 1) : 1;
}

/// A zero point of `integerType` equal to 0, shaped as `like` (or a scalar).
Value zeroPoint(NodeContext &n, Type integerType) {
  return composite::scalar(n, integerType, 0);
}

void rejectBlockedQuantization(NodeContext &n) {
  if (n.hasAttr("block_size") && n.attrInt("block_size", 0) != 0)
    n.fail("blocked quantization (block_size) is not supported");
  if (n.hasAttr("saturate"))
    n.attrInt("saturate", 1); // only affects float8 outputs, which strata refuses by type
}

void importQuantizeLinear(NodeContext &n) {
  rejectBlockedQuantization(n);
  Value x = n.input(0);
  if (!isa<FloatType>(typeOf(x).getElementType())) // int32 inputs (opset 10)
    x = n.builder().create<nn::CastOp>(n.loc(), typeOf(x).clone(n.builder().getF32Type()), x);
  RankedTensorType result = n.resultType(0);
  if (!isa<IntegerType>(result.getElementType()) ||
      result.getElementType().getIntOrFloatBitWidth() != 8)
    n.fail("quantizing to " + std::string(result.getElementType().isF32() ? "float" : "this type") +
           " is not supported (uint8 and int8 are)");
  auto xType = typeOf(x);
  int64_t axis = quantizationAxis(n);
  checkScale(n, 1);
  Value scale = broadcastable(n, 1, axis, xType);
  if (typeOf(scale).getElementType() != xType.getElementType())
    scale = n.builder().create<nn::CastOp>(
        n.loc(), typeOf(scale).clone(xType.getElementType()), scale);
  Value zp = n.hasInput(2) ? broadcastable(n, 2, axis, xType)
                           : zeroPoint(n, result.getElementType());
  if (n.hasInput(2) && typeOf(n.input(1)).getShape() != typeOf(n.input(2)).getShape())
    n.fail("scale and zero point have different shapes");
  n.setResult(0, n.builder().create<nn::QuantizeOp>(n.loc(), result, x, scale, zp));
}

void importDequantizeLinear(NodeContext &n) {
  rejectBlockedQuantization(n);
  Value x = n.input(0);
  auto xType = typeOf(x);
  if (!isa<IntegerType>(xType.getElementType()))
    n.fail("dequantizing a non-integer input is not supported");
  int64_t axis = quantizationAxis(n);
  checkScale(n, 1);
  Value scale = broadcastable(n, 1, axis, xType);
  RankedTensorType result = n.resultType(0);
  Value zp;
  if (n.hasInput(2)) {
    if (typeOf(n.input(1)).getShape() != typeOf(n.input(2)).getShape())
      n.fail("scale and zero point have different shapes");
    if (xType.getElementType().isInteger(32))
      if (auto z = n.constantDoublesIfKnown(2))
        for (double v : *z)
          if (v != 0)
            n.fail("zero point (input " + inputName(n, 2) +
                   ") of an int32 input must be 0, got " + std::to_string((int64_t)v));
    zp = broadcastable(n, 2, axis, xType);
  } else {
    zp = zeroPoint(n, xType.getElementType());
  }
  n.setResult(0, n.builder().create<nn::DequantizeOp>(n.loc(), result, x, scale, zp));
}

/// y = quantize(x) with the range [min(0, min x), max(0, max x)] over 255
/// steps (ONNX's definition, uint8).
void importDynamicQuantizeLinear(NodeContext &n) {
  using namespace composite;
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  Type f32 = typeOf(x).getElementType();
  std::vector<int64_t> all;
  for (int64_t d = 0; d < typeOf(x).getRank(); ++d)
    all.push_back(d);
  Value zero = scalar(n, f32, 0.0);
  Value lo = binary<nn::MinOp>(n, reduce(n, nn::ReduceKind::min, x, all, false), zero);
  Value hi = binary<nn::MaxOp>(n, reduce(n, nn::ReduceKind::max, x, all, false), zero);
  Value scale = binary<nn::DivOp>(n, binary<nn::SubOp>(n, hi, lo), scalar(n, f32, 255.0));
  Value start = binary<nn::SubOp>(n, zero, binary<nn::DivOp>(n, lo, scale));
  Value clipped = b.create<nn::ClipOp>(n.loc(), typeOf(start), start,
                                       b.getF64FloatAttr(0), b.getF64FloatAttr(255));
  Value rounded = unary<nn::RoundOp>(n, clipped);
  RankedTensorType zpType = n.resultType(2);
  Value zp = b.create<nn::CastOp>(n.loc(), zpType, rounded);
  n.setResult(0, b.create<nn::QuantizeOp>(n.loc(), n.resultType(0), x, scale, zp));
  n.setResult(1, scale);
  n.setResult(2, zp);
}

/// `v` minus zero point input `i` (if given and not known to be 0), in
/// i32; `v` itself otherwise. `zpShape` reshapes a per-row zero point.
Value minusZeroPoint(NodeContext &n, Value v, int i, bool &subtracted,
                     std::optional<SmallVector<int64_t>> zpShape = std::nullopt) {
  if (!n.hasInput(i))
    return v;
  if (auto z = n.constantDoublesIfKnown(i))
    if (llvm::all_of(*z, [](double d) { return d == 0; }))
      return v;
  subtracted = true;
  OpBuilder &b = n.builder();
  Type i32 = b.getI32Type();
  Value zp = n.input(i);
  if (zpShape && typeOf(zp).getRank() == 1 && typeOf(zp).getDimSize(0) != 1)
    zp = b.create<nn::ReshapeOp>(n.loc(), RankedTensorType::get(*zpShape, typeOf(zp).getElementType()), zp);
  Value wide = b.create<nn::CastOp>(n.loc(), typeOf(v).clone(i32), v);
  Value zpWide = b.create<nn::CastOp>(n.loc(), typeOf(zp).clone(i32), zp);
  return composite::binary<nn::SubOp>(n, wide, zpWide);
}

/// Both operands in i32 when either had a zero point subtracted.
void matchWidths(NodeContext &n, Value &a, Value &b) {
  Type i32 = n.builder().getI32Type();
  for (Value *v : {&a, &b})
    if (!typeOf(*v).getElementType().isInteger(32))
      *v = n.builder().create<nn::CastOp>(n.loc(), typeOf(*v).clone(i32), *v);
}

void importMatMulInteger(NodeContext &n) {
  Value a = n.input(0), b = n.input(1);
  bool subtracted = false;
  auto aType = typeOf(a);
  // A's zero point is per row: [M] reads as [M, 1].
  std::optional<SmallVector<int64_t>> rowShape;
  if (aType.getRank() >= 2)
    rowShape = SmallVector<int64_t>{aType.getDimSize(aType.getRank() - 2), 1};
  a = minusZeroPoint(n, a, 2, subtracted, rowShape);
  b = minusZeroPoint(n, b, 3, subtracted);
  if (subtracted)
    matchWidths(n, a, b);
  n.setResult(0, n.builder().create<nn::MatMulOp>(n.loc(), n.resultType(), a, b));
}

void importConvInteger(NodeContext &n) {
  Value x = n.input(0), w = n.input(1);
  bool subtracted = false;
  x = minusZeroPoint(n, x, 2, subtracted);
  auto wType = typeOf(w);
  SmallVector<int64_t> perChannel(wType.getRank(), 1);
  perChannel[0] = wType.getDimSize(0);
  w = minusZeroPoint(n, w, 3, subtracted, perChannel);
  if (subtracted)
    matchWidths(n, x, w);
  n.setResult(0, buildConv(n, x, w, Value(), n.builder().getI32Type()));
}

/// dequantize(input `q`) with scale `q + 1` and zero point `q + 2` along
/// `axis` (per-axis weights of QLinearConv: axis 0).
Value dequantizeInput(NodeContext &n, int q, int64_t axis) {
  Value x = n.input(q);
  auto xType = typeOf(x);
  checkScale(n, q + 1);
  Value scale = broadcastable(n, q + 1, axis, xType);
  Value zp = broadcastable(n, q + 2, axis, xType);
  return n.builder().create<nn::DequantizeOp>(
      n.loc(), xType.clone(typeOf(scale).getElementType()), x, scale, zp);
}

Value quantizeResult(NodeContext &n, Value y, int scaleInput) {
  checkScale(n, scaleInput);
  auto yType = typeOf(y);
  Value scale = broadcastable(n, scaleInput, 0, yType);
  Value zp = broadcastable(n, scaleInput + 1, 0, yType);
  return n.builder().create<nn::QuantizeOp>(n.loc(), n.resultType(), y, scale, zp);
}

void importQLinearMatMul(NodeContext &n) {
  auto aType = n.inputType(0), bType = n.inputType(3);
  // a's scale and zero point are per row, b's per column.
  Value a = dequantizeInput(n, 0, std::max<int64_t>(0, aType.getRank() - 2));
  Value b = dequantizeInput(n, 3, bType.getRank() - 1);
  auto shape = n.resultType().getShape();
  Value y = n.builder().create<nn::MatMulOp>(
      n.loc(), RankedTensorType::get(shape, typeOf(a).getElementType()), a, b);
  n.setResult(0, quantizeResult(n, y, 6));
}

void importQLinearConv(NodeContext &n) {
  Value x = dequantizeInput(n, 0, 1);
  Value w = dequantizeInput(n, 3, 0);
  Type f = typeOf(x).getElementType();
  Value bias;
  if (n.hasInput(8)) {
    // The int32 bias is quantized with scale x_scale * w_scale, zero point 0.
    OpBuilder &b = n.builder();
    Value biasQ = n.input(8);
    Value xs = n.input(1), ws = n.input(4);
    if (typeOf(ws).getRank() == 0 || typeOf(ws).getNumElements() == 1)
      ws = b.create<nn::ReshapeOp>(n.loc(), RankedTensorType::get({}, f), ws);
    if (typeOf(xs).getRank() != 0)
      xs = b.create<nn::ReshapeOp>(n.loc(), RankedTensorType::get({}, f), xs);
    Value scale = composite::binary<nn::MulOp>(n, xs, ws);
    bias = b.create<nn::DequantizeOp>(n.loc(), typeOf(biasQ).clone(f), biasQ, scale,
                                      zeroPoint(n, b.getI32Type()));
  }
  Value y = buildConv(n, x, w, bias, f);
  n.setResult(0, quantizeResult(n, y, 6));
}

} // namespace

void registerQuantizationImporters(OpTable &t) {
  t.add("QuantizeLinear", 10, importQuantizeLinear);
  t.add("DequantizeLinear", 10, importDequantizeLinear);
  t.add("DynamicQuantizeLinear", 11, importDynamicQuantizeLinear);
  t.add("MatMulInteger", 10, importMatMulInteger);
  t.add("ConvInteger", 10, importConvInteger);
  t.add("QLinearMatMul", 10, importQLinearMatMul);
  t.add("QLinearConv", 10, importQLinearConv);
}

} // namespace strata::onnx_import
