//===- Composites.h - build nn ops inside one ONNX node's import -*- C++ -*-===//
//
// ONNX ops that are compositions (Elu, HardSwish, ReduceL2, LayerNorm, ...)
// are imported as several nn ops rather than new nn ops: the dialect stays
// small, and autodiff and lowering handle them for free. These helpers
// compute each intermediate result type with the shared shape rules.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_OPS_COMPOSITES_H
#define STRATA_COMPILER_ONNX_OPS_COMPOSITES_H

#include "compiler/onnx/NodeContext.h"
#include "dialects/nn/NNOps.h"
#include "dialects/nn/ShapeRules.h"

#include <algorithm>

namespace strata::onnx_import::composite {

inline mlir::RankedTensorType typeOf(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

/// A rank-0 constant of element type `t` (broadcasts against anything).
inline mlir::Value scalar(NodeContext &n, mlir::Type t, double v) {
  auto type = mlir::RankedTensorType::get({}, t);
  mlir::Attribute a = mlir::isa<mlir::FloatType>(t)
                          ? mlir::Attribute(n.builder().getFloatAttr(t, v))
                          : mlir::Attribute(n.builder().getIntegerAttr(t, (int64_t)v));
  return n.builder().create<nn::ConstantOp>(
      n.loc(), mlir::DenseElementsAttr::get(type, a));
}

/// The broadcast shape of a and b with element type `element`.
inline mlir::RankedTensorType broadcastType(NodeContext &n, mlir::Value a,
                                            mlir::Value b, mlir::Type element) {
  auto ta = typeOf(a), tb = typeOf(b);
  nn::shape::ShapeOrError s = nn::shape::broadcast(
      {ta.getShape().begin(), ta.getShape().end()},
      {tb.getShape().begin(), tb.getShape().end()});
  if (!s.ok())
    n.fail(s.error);
  return mlir::RankedTensorType::get(s.shape, element);
}

template <typename OpTy>
mlir::Value binary(NodeContext &n, mlir::Value a, mlir::Value b) {
  return n.builder().create<OpTy>(
      n.loc(), broadcastType(n, a, b, typeOf(a).getElementType()), a, b);
}

template <typename OpTy>
mlir::Value unary(NodeContext &n, mlir::Value x) {
  return n.builder().create<OpTy>(n.loc(), typeOf(x), x);
}

inline mlir::Value compare(NodeContext &n, nn::ComparePredicate p,
                           mlir::Value a, mlir::Value b) {
  mlir::OpBuilder &bld = n.builder();
  return bld.create<nn::CompareOp>(
      n.loc(), broadcastType(n, a, b, bld.getI1Type()),
      nn::ComparePredicateAttr::get(bld.getContext(), p), a, b);
}

inline mlir::Value where(NodeContext &n, mlir::Value c, mlir::Value x,
                         mlir::Value y) {
  nn::shape::Shape shape;
  for (mlir::Value v : {c, x, y}) {
    auto t = typeOf(v);
    nn::shape::ShapeOrError s =
        nn::shape::broadcast(shape, {t.getShape().begin(), t.getShape().end()});
    if (!s.ok())
      n.fail(s.error);
    shape = s.shape;
  }
  return n.builder().create<nn::WhereOp>(
      n.loc(), mlir::RankedTensorType::get(shape, typeOf(x).getElementType()),
      c, x, y);
}

/// Elu: x > 0 ? x : alpha * (exp(x) - 1).
inline mlir::Value elu(NodeContext &n, mlir::Value x, double alpha) {
  mlir::Type t = typeOf(x).getElementType();
  mlir::Value neg = binary<nn::MulOp>(
      n, binary<nn::SubOp>(n, unary<nn::ExpOp>(n, x), scalar(n, t, 1.0)),
      scalar(n, t, alpha));
  return where(n, compare(n, nn::ComparePredicate::gt, x, scalar(n, t, 0.0)), x, neg);
}

/// HardSigmoid: clip(alpha * x + beta, 0, 1).
inline mlir::Value hardSigmoid(NodeContext &n, mlir::Value x, double alpha, double beta) {
  mlir::Type t = typeOf(x).getElementType();
  mlir::Value y = binary<nn::AddOp>(n, binary<nn::MulOp>(n, x, scalar(n, t, alpha)),
                                    scalar(n, t, beta));
  mlir::OpBuilder &b = n.builder();
  return b.create<nn::ClipOp>(n.loc(), typeOf(y), y, b.getF64FloatAttr(0.0),
                              b.getF64FloatAttr(1.0));
}

/// nn.reduce over `axes` (any order, may be negative).
inline mlir::Value reduce(NodeContext &n, nn::ReduceKind kind, mlir::Value x,
                          std::vector<int64_t> axes, bool keepDims) {
  auto t = typeOf(x);
  for (int64_t &a : axes)
    a = n.normalizeAxis(a, t.getRank(), "reduction axis");
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  nn::shape::ShapeOrError s = nn::shape::reduce(
      {t.getShape().begin(), t.getShape().end()}, axes, keepDims);
  if (!s.ok())
    n.fail(s.error);
  mlir::OpBuilder &b = n.builder();
  return b.create<nn::ReduceOp>(
      n.loc(), mlir::RankedTensorType::get(s.shape, t.getElementType()),
      nn::ReduceKindAttr::get(b.getContext(), kind), x,
      b.getDenseI64ArrayAttr(axes), b.getBoolAttr(keepDims));
}

} // namespace strata::onnx_import::composite

#endif // STRATA_COMPILER_ONNX_OPS_COMPOSITES_H
