//===- NNFolds.cpp - constant folding of nn ops ---------------------------===//
//
// Folding is kept cheap: only `dense` constants (never `dense_resource`
// weights) of at most kMaxFoldElements are computed, and algebraic identities
// fold only when the result type is unchanged.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace strata::nn;

namespace {

constexpr int64_t kMaxFoldElements = 1 << 16;

APFloat toAPFloat(double v, const llvm::fltSemantics &sem) {
  APFloat f(v);
  bool losesInfo = false;
  f.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
  return f;
}

/// Reads a float or integer element as double (integers by their signedness).
double elementAsDouble(Attribute a) {
  if (auto f = dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  auto i = cast<IntegerAttr>(a);
  if (i.getType().isUnsignedInteger())
    return (double)i.getValue().getZExtValue();
  if (i.getType().isInteger(1))
    return i.getValue().getBoolValue() ? 1.0 : 0.0;
  return (double)i.getValue().getSExtValue();
}

/// Builds an element attribute of `type` from a double (float or integer).
Attribute elementFromDouble(Type type, double v) {
  if (auto ft = dyn_cast<FloatType>(type))
    return FloatAttr::get(ft, toAPFloat(v, ft.getFloatSemantics()));
  auto it = cast<IntegerType>(type);
  if (it.getWidth() == 1)
    return IntegerAttr::get(it, APInt(1, v != 0.0));
  return IntegerAttr::get(it, APInt(it.getWidth(), (int64_t)std::trunc(v),
                                    /*isSigned=*/!it.isUnsigned()));
}

/// A foldable constant: dense, static, small.
DenseElementsAttr smallDense(Attribute a) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(a);
  if (!dense || !dense.getType().hasStaticShape() ||
      dense.getNumElements() > kMaxFoldElements)
    return {};
  return dense;
}

bool isSplatOf(Attribute a, double value) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(a);
  return dense && dense.isSplat() &&
         dense.getSplatValue<APFloat>().convertToDouble() == value;
}

} // namespace

OpFoldResult strata::nn::foldBinary(Operation *op, Attribute lhs, Attribute rhs,
                                    double (*fn)(double, double),
                                    double rightIdentity) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Value lhsValue = op->getOperand(0);
  if (isSplatOf(rhs, rightIdentity) && lhsValue.getType() == resultType)
    return lhsValue;

  DenseElementsAttr a = smallDense(lhs), b = smallDense(rhs);
  auto elementType = dyn_cast<FloatType>(resultType.getElementType());
  if (!a || !b || !elementType || !resultType.hasStaticShape())
    return {};
  // Same shape as the result, or a splat: no index arithmetic needed.
  auto fits = [&](DenseElementsAttr d) {
    return d.isSplat() || d.getType().getShape() == resultType.getShape();
  };
  if (!fits(a) || !fits(b))
    return {};
  const auto &sem = elementType.getFloatSemantics();
  auto valueAt = [](DenseElementsAttr d, int64_t i) {
    return d.isSplat() ? d.getSplatValue<APFloat>().convertToDouble()
                       : d.getValues<APFloat>()[i].convertToDouble();
  };
  SmallVector<APFloat> out;
  int64_t n = resultType.getNumElements();
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    out.push_back(toAPFloat(fn(valueAt(a, i), valueAt(b, i)), sem));
  return DenseElementsAttr::get(resultType, out);
}

OpFoldResult strata::nn::foldUnary(Operation *op, Attribute input,
                                   double (*fn)(double)) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(smallDense(input));
  if (!dense)
    return {};
  const auto &sem =
      cast<FloatType>(dense.getElementType()).getFloatSemantics();
  return dense.mapValues(dense.getElementType(), [&](const APFloat &v) {
    return toAPFloat(fn(v.convertToDouble()), sem).bitcastToAPInt();
  });
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) == reshape(x): skip the inner one.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return dense.reshape(getType());
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity && getInput().getType() == getType())
    return getInput();

  DenseElementsAttr dense = smallDense(adaptor.getInput());
  if (!dense || !getType().hasStaticShape())
    return {};
  if (dense.isSplat())
    return dense.resizeSplat(getType());
  // Walk the output in row-major order and pick the matching input element.
  ArrayRef<int64_t> inShape = dense.getType().getShape();
  ArrayRef<int64_t> outShape = getType().getShape();
  size_t rank = inShape.size();
  SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t d = (int64_t)rank - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * inShape[d + 1];
  auto values = llvm::to_vector(dense.getValues<Attribute>());
  SmallVector<Attribute> out;
  out.reserve(values.size());
  SmallVector<int64_t> index(rank, 0);
  for (size_t n = 0; n < values.size(); ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset += index[d] * inStrides[perm[d]];
    out.push_back(values[offset]);
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  DenseElementsAttr dense = smallDense(adaptor.getInput());
  if (!dense || !getType().hasStaticShape())
    return {};
  Type to = getType().getElementType();
  SmallVector<Attribute> out;
  for (Attribute a : dense.getValues<Attribute>())
    out.push_back(elementFromDouble(to, elementAsDouble(a)));
  return DenseElementsAttr::get(getType(), out);
}
