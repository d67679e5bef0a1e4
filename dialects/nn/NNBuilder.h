//===- NNBuilder.h - build nn ops with inferred result types ----*- C++ -*-===//
//
// Gradient rules and the training-step builder compose many nn ops; each
// needs its result type, which the shared shape rules compute. NNBuilder
// wraps an OpBuilder and a location so that a rule reads like the math:
// `b.mul(dy, b.sub(one, b.mul(y, y)))`.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECTS_NN_NNBUILDER_H
#define STRATA_DIALECTS_NN_NNBUILDER_H

#include "dialects/nn/NNOps.h"

#include "mlir/IR/Builders.h"

namespace strata::nn {

class NNBuilder {
public:
  NNBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : b(builder), loc(loc) {}

  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() const { return loc; }

  static mlir::RankedTensorType typeOf(mlir::Value v) {
    return mlir::cast<mlir::RankedTensorType>(v.getType());
  }
  static mlir::Type elementOf(mlir::Value v) { return typeOf(v).getElementType(); }

  /// A rank-0 constant of `element` type (broadcasts against anything).
  mlir::Value scalar(mlir::Type element, double value);
  /// A splat constant of `type`.
  mlir::Value splat(mlir::RankedTensorType type, double value);
  mlir::Value zerosLike(mlir::Value v) { return splat(typeOf(v), 0.0); }
  /// [0, 1, ..., n-1] as i64, reshaped to `shape` (n elements).
  mlir::Value iota(int64_t n, llvm::ArrayRef<int64_t> shape);
  /// One-hot of integer `indices` over `classes` (negative ids count from
  /// the end): shape indices.shape + [classes], element type `element`.
  mlir::Value oneHot(mlir::Value indices, int64_t classes, mlir::Type element);

  // Elementwise with ONNX broadcasting; the result has the broadcast shape.
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y);
  mlir::Value pow(mlir::Value x, mlir::Value y);
  mlir::Value max(mlir::Value x, mlir::Value y);
  mlir::Value min(mlir::Value x, mlir::Value y);
  mlir::Value mulScalar(mlir::Value x, double c) { return mul(x, scalar(elementOf(x), c)); }
  mlir::Value compare(ComparePredicate p, mlir::Value x, mlir::Value y);
  mlir::Value where(mlir::Value c, mlir::Value x, mlir::Value y);
  /// where(c, x, 0).
  mlir::Value select(mlir::Value c, mlir::Value x);

  template <typename UnaryOpTy> mlir::Value unary(mlir::Value x) {
    return b.create<UnaryOpTy>(loc, x.getType(), x);
  }
  mlir::Value neg(mlir::Value x) { return unary<NegOp>(x); }
  mlir::Value exp(mlir::Value x) { return unary<ExpOp>(x); }
  mlir::Value sqrt(mlir::Value x) { return unary<SqrtOp>(x); }

  mlir::Value reduce(ReduceKind kind, mlir::Value x, llvm::ArrayRef<int64_t> axes,
                     bool keepDims);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm);
  /// Swaps the last two dimensions.
  mlir::Value transposeLast2(mlir::Value x);
  mlir::Value broadcastTo(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  /// Sums a broadcast gradient back to `shape` (the operand's shape before
  /// ONNX broadcasting): over extra leading axes and axes that were 1.
  mlir::Value sumToShape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  /// `pads`: all begin pads then all end pads; negative entries crop.
  mlir::Value padOrCrop(mlir::Value x, llvm::ArrayRef<int64_t> pads);
  mlir::Value slice(mlir::Value x, llvm::ArrayRef<int64_t> starts,
                    llvm::ArrayRef<int64_t> ends, llvm::ArrayRef<int64_t> steps);
  mlir::Value cast(mlir::Value x, mlir::Type element);

  mlir::Value matmul(mlir::Value x, mlir::Value y);
  mlir::Value gemm(mlir::Value a, mlir::Value bm, double alpha, bool transA,
                   bool transB);
  mlir::Value conv(mlir::Value x, mlir::Value w, llvm::ArrayRef<int64_t> strides,
                   llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
                   int64_t group);

private:
  template <typename OpTy> mlir::Value binary(mlir::Value x, mlir::Value y);
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace strata::nn

#endif // STRATA_DIALECTS_NN_NNBUILDER_H
