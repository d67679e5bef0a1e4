//===- NNBuilder.cpp - build nn ops with inferred result types ------------===//

#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/ShapeRules.h"

#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace strata::nn {
namespace {

shape::Shape shapeOf(Value v) {
  auto t = NNBuilder::typeOf(v);
  return shape::Shape(t.getShape().begin(), t.getShape().end());
}

/// The builders are called on shapes taken from verified ops; a rule that
/// fails here is a bug in a gradient rule, not bad user input.
shape::Shape must(const shape::ShapeOrError &s, const char *what) {
  if (!s.ok())
    llvm::report_fatal_error(llvm::Twine("strata: internal error building ") +
                             what + ": " + s.error);
  return s.shape;
}

RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type element) {
  return RankedTensorType::get(shape, element);
}

} // namespace

Value NNBuilder::scalar(Type element, double value) {
  return splat(RankedTensorType::get({}, element), value);
}

Value NNBuilder::splat(RankedTensorType type, double value) {
  Type e = type.getElementType();
  Attribute a = isa<FloatType>(e) ? Attribute(b.getFloatAttr(e, value))
                                  : Attribute(b.getIntegerAttr(e, (int64_t)value));
  return b.create<ConstantOp>(loc, DenseElementsAttr::get(type, a));
}

Value NNBuilder::iota(int64_t n, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> values;
  for (int64_t i = 0; i < n; ++i)
    values.push_back(i);
  auto type = RankedTensorType::get(shape, b.getI64Type());
  return b.create<ConstantOp>(loc, DenseElementsAttr::get(type, ArrayRef<int64_t>(values)));
}

Value NNBuilder::oneHot(Value indices, int64_t classes, Type element) {
  Value ids = cast(indices, b.getI64Type());
  Value negative = compare(ComparePredicate::lt, ids, scalar(b.getI64Type(), 0.0));
  ids = where(negative, add(ids, scalar(b.getI64Type(), (double)classes)), ids);
  SmallVector<int64_t> shape(typeOf(ids).getShape());
  shape.push_back(1);
  Value eq = compare(ComparePredicate::eq, reshape(ids, shape), iota(classes, {classes}));
  return cast(eq, element);
}

template <typename OpTy> Value NNBuilder::binary(Value x, Value y) {
  shape::Shape s = must(shape::broadcast(shapeOf(x), shapeOf(y)), "a broadcast");
  return b.create<OpTy>(loc, tensorOf(s, elementOf(x)), x, y);
}

Value NNBuilder::add(Value x, Value y) { return binary<AddOp>(x, y); }
Value NNBuilder::sub(Value x, Value y) { return binary<SubOp>(x, y); }
Value NNBuilder::mul(Value x, Value y) { return binary<MulOp>(x, y); }
Value NNBuilder::div(Value x, Value y) { return binary<DivOp>(x, y); }
Value NNBuilder::pow(Value x, Value y) { return binary<PowOp>(x, y); }
Value NNBuilder::max(Value x, Value y) { return binary<MaxOp>(x, y); }
Value NNBuilder::min(Value x, Value y) { return binary<MinOp>(x, y); }

Value NNBuilder::compare(ComparePredicate p, Value x, Value y) {
  shape::Shape s = must(shape::broadcast(shapeOf(x), shapeOf(y)), "a comparison");
  return b.create<CompareOp>(loc, tensorOf(s, b.getI1Type()),
                             ComparePredicateAttr::get(b.getContext(), p), x, y);
}

Value NNBuilder::where(Value c, Value x, Value y) {
  shape::Shape s = must(shape::broadcast(shapeOf(c), shapeOf(x)), "a select");
  s = must(shape::broadcast(s, shapeOf(y)), "a select");
  return b.create<WhereOp>(loc, tensorOf(s, elementOf(x)), c, x, y);
}

Value NNBuilder::select(Value c, Value x) {
  return where(c, x, scalar(elementOf(x), 0.0));
}

Value NNBuilder::reduce(ReduceKind kind, Value x, ArrayRef<int64_t> axes,
                        bool keepDims) {
  shape::Shape s = must(shape::reduce(shapeOf(x), {axes.begin(), axes.end()}, keepDims),
                        "a reduction");
  return b.create<ReduceOp>(loc, tensorOf(s, elementOf(x)),
                            ReduceKindAttr::get(b.getContext(), kind), x,
                            b.getDenseI64ArrayAttr(axes), b.getBoolAttr(keepDims));
}

Value NNBuilder::reshape(Value x, ArrayRef<int64_t> shape) {
  if (typeOf(x).getShape() == shape)
    return x;
  return b.create<ReshapeOp>(loc, tensorOf(shape, elementOf(x)), x);
}

Value NNBuilder::transpose(Value x, ArrayRef<int64_t> perm) {
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity)
    return x;
  shape::Shape s = must(shape::transpose(shapeOf(x), {perm.begin(), perm.end()}),
                        "a transpose");
  return b.create<TransposeOp>(loc, tensorOf(s, elementOf(x)), x,
                               b.getDenseI64ArrayAttr(perm));
}

Value NNBuilder::transposeLast2(Value x) {
  int64_t r = typeOf(x).getRank();
  SmallVector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i)
    perm.push_back(i);
  std::swap(perm[r - 1], perm[r - 2]);
  return transpose(x, perm);
}

Value NNBuilder::broadcastTo(Value x, ArrayRef<int64_t> shape) {
  if (typeOf(x).getShape() == shape)
    return x;
  return b.create<BroadcastToOp>(loc, tensorOf(shape, elementOf(x)), x);
}

Value NNBuilder::sumToShape(Value x, ArrayRef<int64_t> shape) {
  auto t = typeOf(x);
  if (t.getShape() == shape)
    return x;
  int64_t lead = t.getRank() - (int64_t)shape.size();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (i < lead || (shape[i - lead] == 1 && t.getDimSize(i) != 1))
      axes.push_back(i);
  Value summed = axes.empty() ? x : reduce(ReduceKind::sum, x, axes, /*keepDims=*/true);
  return reshape(summed, shape);
}

Value NNBuilder::padOrCrop(Value x, ArrayRef<int64_t> pads) {
  auto t = typeOf(x);
  int64_t r = t.getRank();
  SmallVector<int64_t> grow(2 * r, 0), starts(r, 0), ends(t.getShape()), steps(r, 1);
  bool anyGrow = false, anyCrop = false;
  for (int64_t i = 0; i < r; ++i) {
    if (pads[i] < 0) {
      starts[i] = -pads[i];
      anyCrop = true;
    } else if (pads[i] > 0) {
      grow[i] = pads[i];
      anyGrow = true;
    }
    if (pads[i + r] < 0) {
      ends[i] += pads[i + r];
      anyCrop = true;
    } else if (pads[i + r] > 0) {
      grow[i + r] = pads[i + r];
      anyGrow = true;
    }
  }
  if (anyCrop)
    x = slice(x, starts, ends, steps);
  if (!anyGrow)
    return x;
  shape::Shape s = must(shape::pad(shapeOf(x), {grow.begin(), grow.end()}), "a pad");
  return b.create<PadOp>(loc, tensorOf(s, elementOf(x)),
                         PadModeAttr::get(b.getContext(), PadMode::constant), x,
                         b.getDenseI64ArrayAttr(grow), b.getF64FloatAttr(0.0));
}

Value NNBuilder::slice(Value x, ArrayRef<int64_t> starts, ArrayRef<int64_t> ends,
                       ArrayRef<int64_t> steps) {
  shape::Shape s = must(shape::slice(shapeOf(x), {starts.begin(), starts.end()},
                                     {ends.begin(), ends.end()},
                                     {steps.begin(), steps.end()}),
                        "a slice");
  return b.create<SliceOp>(loc, tensorOf(s, elementOf(x)), x,
                           b.getDenseI64ArrayAttr(starts),
                           b.getDenseI64ArrayAttr(ends),
                           b.getDenseI64ArrayAttr(steps));
}

Value NNBuilder::cast(Value x, Type element) {
  if (elementOf(x) == element)
    return x;
  return b.create<CastOp>(loc, tensorOf(typeOf(x).getShape(), element), x);
}

Value NNBuilder::matmul(Value x, Value y) {
  shape::Shape s = must(shape::matmul(shapeOf(x), shapeOf(y)), "a matmul");
  return b.create<MatMulOp>(loc, tensorOf(s, elementOf(x)), x, y);
}

Value NNBuilder::gemm(Value a, Value bm, double alpha, bool transA, bool transB) {
  shape::Shape s = must(shape::gemm(shapeOf(a), shapeOf(bm), transA, transB), "a gemm");
  return b.create<GemmOp>(loc, tensorOf(s, elementOf(a)), a, bm, Value(),
                          b.getF32FloatAttr(alpha), b.getF32FloatAttr(1.0),
                          b.getBoolAttr(transA), b.getBoolAttr(transB));
}

Value NNBuilder::conv(Value x, Value w, ArrayRef<int64_t> strides,
                      ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                      int64_t group) {
  shape::Shape s = must(shape::conv(shapeOf(x), shapeOf(w), {strides.begin(), strides.end()},
                                    {pads.begin(), pads.end()},
                                    {dilations.begin(), dilations.end()}, group),
                        "a convolution");
  return b.create<ConvOp>(loc, tensorOf(s, elementOf(x)), x, w, Value(),
                          b.getDenseI64ArrayAttr(strides), b.getDenseI64ArrayAttr(pads),
                          b.getDenseI64ArrayAttr(dilations), b.getI64IntegerAttr(group));
}

} // namespace strata::nn
