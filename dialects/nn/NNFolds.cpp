//===- NNFolds.cpp - constant folding of nn ops ---------------------------===//
//
// Folding is kept cheap: only `dense` constants (never `dense_resource`
// weights) of at most kMaxFoldElements are computed, and algebraic identities
// fold only when the result type is unchanged.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <cstring>
#include <optional>

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

/// Integers up to 2^53 convert to double and back exactly; folds of larger
/// ones (INT64_MAX as "to the end" in Slice bounds) give up instead.
constexpr double kExactInDouble = 9007199254740992.0;

/// For each row-major index of `outShape`, the row-major index of the
/// element of a tensor of `inShape` that ONNX broadcasting reads there;
/// nothing when `inShape` does not broadcast to `outShape`.
std::optional<SmallVector<int64_t>> broadcastIndices(ArrayRef<int64_t> inShape,
                                                     ArrayRef<int64_t> outShape) {
  size_t rank = outShape.size();
  if (inShape.size() > rank)
    return std::nullopt;
  SmallVector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (int64_t d = (int64_t)inShape.size() - 1; d >= 0; --d) {
    size_t out = d + rank - inShape.size();
    if (inShape[d] == outShape[out])
      strides[out] = inShape[d] == 1 ? 0 : stride;
    else if (inShape[d] != 1)
      return std::nullopt;
    stride *= inShape[d];
  }
  int64_t count = 1;
  for (int64_t d : outShape)
    count *= d;
  SmallVector<int64_t> indices(count);
  SmallVector<int64_t> position(rank, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < count; ++i) {
    indices[i] = offset;
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      offset += strides[d];
      if (++position[d] < outShape[d])
        break;
      offset -= strides[d] * outShape[d];
      position[d] = 0;
    }
  }
  return indices;
}

/// Folds an elementwise op with ONNX broadcasting over small dense
/// operands: `fn` gets each operand's element as a double and returns the
/// result element, or nothing to give up.
OpFoldResult foldElementwise(
    RankedTensorType resultType, ArrayRef<Attribute> operands,
    llvm::function_ref<std::optional<Attribute>(ArrayRef<double>)> fn) {
  if (!resultType.hasStaticShape() ||
      resultType.getNumElements() > kMaxFoldElements)
    return {};
  SmallVector<SmallVector<double>> values;
  SmallVector<SmallVector<int64_t>> indices;
  for (Attribute a : operands) {
    DenseElementsAttr dense = smallDense(a);
    if (!dense)
      return {};
    auto index = broadcastIndices(dense.getType().getShape(), resultType.getShape());
    if (!index)
      return {};
    SmallVector<double> v;
    for (Attribute e : dense.getValues<Attribute>()) {
      double x = elementAsDouble(e);
      if (!isa<FloatType>(dense.getElementType()) && std::fabs(x) > kExactInDouble)
        return {};
      v.push_back(x);
    }
    values.push_back(std::move(v));
    indices.push_back(std::move(*index));
  }
  SmallVector<Attribute> out;
  SmallVector<double> args(operands.size());
  for (int64_t i = 0, n = resultType.getNumElements(); i < n; ++i) {
    for (size_t k = 0; k < operands.size(); ++k)
      args[k] = values[k][indices[k][i]];
    std::optional<Attribute> r = fn(args);
    if (!r)
      return {};
    out.push_back(*r);
  }
  return DenseElementsAttr::get(resultType, out);
}

/// Row-major strides of `shape`, in elements.
SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = (int64_t)shape.size() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// A weight blob's bytes permuted into a new blob: a transposed weight
/// (exporters write Transpose -> MatMul; recurrent layers read R^T at every
/// step) becomes one constant at compile time instead of a copy per run.
Attribute transposeBlob(DenseResourceElementsAttr blob, ArrayRef<int64_t> perm,
                        RankedTensorType resultType) {
  AsmResourceBlob *data = blob.getRawHandle().getBlob();
  auto inType = cast<RankedTensorType>(blob.getType());
  unsigned bits = inType.getElementTypeBitWidth();
  if (!data || !resultType.hasStaticShape() || bits % 8 != 0)
    return {};
  size_t elementBytes = bits / 8, count = inType.getNumElements();
  ArrayRef<char> in = data->getData();
  if (in.size() != count * elementBytes)
    return {};
  ArrayRef<int64_t> inShape = inType.getShape(), outShape = resultType.getShape();
  size_t rank = inShape.size();
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  AsmResourceBlob out = HeapAsmResourceBlob::allocate(in.size(), 64);
  char *dst = out.getMutableData().data();
  SmallVector<int64_t> index(rank, 0);
  for (size_t n = 0; n < count; ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset += index[d] * inStrides[perm[d]];
    std::memcpy(dst + n * elementBytes, in.data() + offset * elementBytes, elementBytes);
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      if (++index[d] < outShape[d])
        break;
      index[d] = 0;
    }
  }
  return DenseResourceElementsAttr::get(resultType, "transposed_weight", std::move(out));
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
  Type element = resultType.getElementType();
  return foldElementwise(resultType, {lhs, rhs}, [&](ArrayRef<double> v) {
    double r = fn(v[0], v[1]);
    // Integer results must stay exact and defined (no division by zero).
    if (!isa<FloatType>(element) && !(std::isfinite(r) && std::fabs(r) <= kExactInDouble))
      return std::optional<Attribute>();
    return std::optional<Attribute>(elementFromDouble(element, r));
  });
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
  // A weight blob under another shape is the same bytes: no copy, and a
  // later pass (Gemm's compile-time transpose) sees the constant.
  if (auto blob = dyn_cast_or_null<DenseResourceElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return DenseResourceElementsAttr::get(getType(), blob.getRawHandle());
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity && getInput().getType() == getType())
    return getInput();

  if (auto blob = dyn_cast_or_null<DenseResourceElementsAttr>(adaptor.getInput()))
    return transposeBlob(blob, perm, getType());
  DenseElementsAttr dense = smallDense(adaptor.getInput());
  if (!dense || !getType().hasStaticShape())
    return {};
  if (dense.isSplat())
    return dense.resizeSplat(getType());
  // Walk the output in row-major order and pick the matching input element.
  ArrayRef<int64_t> inShape = dense.getType().getShape();
  ArrayRef<int64_t> outShape = getType().getShape();
  size_t rank = inShape.size();
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
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

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  RankedTensorType type = getType();
  if (!type.hasStaticShape() || type.getNumElements() > kMaxFoldElements)
    return {};
  // Row-major: for each index before the axis, each input's slab in turn.
  int64_t axis = getAxis(), outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= type.getDimSize(d);
  SmallVector<SmallVector<Attribute>> inputs;
  for (Attribute a : adaptor.getInputs()) {
    DenseElementsAttr dense = smallDense(a);
    if (!dense)
      return {};
    inputs.push_back(llvm::to_vector(dense.getValues<Attribute>()));
  }
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (const auto &values : inputs) {
      int64_t slab = (int64_t)values.size() / outer;
      out.append(values.begin() + o * slab, values.begin() + (o + 1) * slab);
    }
  return DenseElementsAttr::get(type, out);
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

OpFoldResult CompareOp::fold(FoldAdaptor adaptor) {
  ComparePredicate predicate = getPredicate();
  Type i1 = getType().getElementType();
  return foldElementwise(getType(), {adaptor.getLhs(), adaptor.getRhs()},
                         [&](ArrayRef<double> v) -> std::optional<Attribute> {
    bool r = false;
    switch (predicate) {
    case ComparePredicate::eq: r = v[0] == v[1]; break;
    case ComparePredicate::lt: r = v[0] < v[1]; break;
    case ComparePredicate::le: r = v[0] <= v[1]; break;
    case ComparePredicate::gt: r = v[0] > v[1]; break;
    case ComparePredicate::ge: r = v[0] >= v[1]; break;
    }
    return elementFromDouble(i1, r);
  });
}

OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  Type i1 = getType().getElementType();
  return foldElementwise(getType(), {adaptor.getInput()},
                         [&](ArrayRef<double> v) -> std::optional<Attribute> {
    return elementFromDouble(i1, v[0] == 0.0);
  });
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  // Selects elements as they are: no round trip through double, so
  // INT64_MAX bounds survive.
  DenseElementsAttr c = smallDense(adaptor.getCondition()),
                    x = smallDense(adaptor.getX()), y = smallDense(adaptor.getY());
  RankedTensorType type = getType();
  if (!c || !x || !y || !type.hasStaticShape() ||
      x.getElementType() != type.getElementType())
    return {};
  auto ci = broadcastIndices(c.getType().getShape(), type.getShape());
  auto xi = broadcastIndices(x.getType().getShape(), type.getShape());
  auto yi = broadcastIndices(y.getType().getShape(), type.getShape());
  if (!ci || !xi || !yi)
    return {};
  auto cv = llvm::to_vector(c.getValues<bool>());
  auto xv = llvm::to_vector(x.getValues<Attribute>());
  auto yv = llvm::to_vector(y.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t i = 0, n = type.getNumElements(); i < n; ++i)
    out.push_back(cv[(*ci)[i]] ? xv[(*xi)[i]] : yv[(*yi)[i]]);
  return DenseElementsAttr::get(type, out);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = smallDense(adaptor.getData()),
                    indices = smallDense(adaptor.getIndices());
  RankedTensorType type = getType();
  if (!data || !indices || !type.hasStaticShape())
    return {};
  ArrayRef<int64_t> shape = data.getType().getShape();
  int64_t axis = getAxis(), dim = shape[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  auto values = llvm::to_vector(data.getValues<Attribute>());
  SmallVector<int64_t> picks;
  for (Attribute a : indices.getValues<Attribute>()) {
    int64_t i = (int64_t)elementAsDouble(a);
    if (i < -dim || i >= dim)
      return {}; // out of range: left for the run-time check to report
    picks.push_back(i < 0 ? i + dim : i);
  }
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t p : picks)
      for (int64_t i = 0; i < inner; ++i)
        out.push_back(values[(o * dim + p) * inner + i]);
  return DenseElementsAttr::get(type, out);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  bool whole = getInput().getType() == getType() &&
               llvm::all_of(getStarts(), [](int64_t s) { return s == 0; }) &&
               llvm::all_of(getSteps(), [](int64_t s) { return s == 1; });
  if (whole)
    return getInput();
  DenseElementsAttr data = smallDense(adaptor.getInput());
  RankedTensorType type = getType();
  if (!data || !type.hasStaticShape())
    return {};
  ArrayRef<int64_t> inShape = data.getType().getShape(), outShape = type.getShape();
  ArrayRef<int64_t> starts = getStarts(), steps = getSteps();
  size_t rank = inShape.size();
  SmallVector<int64_t> strides = rowMajorStrides(inShape);
  auto values = llvm::to_vector(data.getValues<Attribute>());
  SmallVector<Attribute> out;
  SmallVector<int64_t> position(rank, 0);
  for (int64_t n = 0, count = type.getNumElements(); n < count; ++n) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d)
      offset += (starts[d] + position[d] * steps[d]) * strides[d];
    out.push_back(values[offset]);
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      if (++position[d] < outShape[d])
        break;
      position[d] = 0;
    }
  }
  return DenseElementsAttr::get(type, out);
}
