//===- LinalgBuilders.h - value-level builders for nn lowering --*- C++ -*-===//
//
// The nn->linalg patterns are written with these few builders: an
// elementwise map with ONNX broadcasting, a reduction over axes, a static
// reshape, and scalar arithmetic that picks the float or integer op. Composite
// ops (softmax, average pooling's divisor) reuse them instead of repeating
// linalg boilerplate.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_LOWERING_LINALGBUILDERS_H
#define STRATA_COMPILER_LOWERING_LINALGBUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace strata::lowering {

using ScalarFn =
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>;

/// tensor.empty of a static type.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type);

/// A scalar constant of a float or integer element type.
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type elementType, double value);

/// The most negative / positive value of an element type (-inf/+inf for floats).
double lowestValue(mlir::Type elementType);
double highestValue(mlir::Type elementType);

/// A tensor of `type` filled with `value`.
mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc,
                   mlir::RankedTensorType type, double value);

/// Indexing map that reads an operand of `operandShape` broadcast (ONNX
/// rules) to `resultShape`.
mlir::AffineMap broadcastMap(mlir::MLIRContext *ctx,
                             llvm::ArrayRef<int64_t> operandShape,
                             llvm::ArrayRef<int64_t> resultShape);

/// result[i] = fn(inputs[j][broadcast(i)]...), one linalg.generic.
mlir::Value mapElementwise(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::RankedTensorType resultType,
                           mlir::ValueRange inputs, ScalarFn fn);

/// Folds `x` over sorted `axes` with combine(acc, element) from `init`.
/// The result drops the axes, or keeps them as 1 with `keepDims`.
mlir::Value reduceAxes(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                       llvm::ArrayRef<int64_t> axes, bool keepDims,
                       double init, ScalarFn combine);

/// The raw little-endian bytes of a constant (dense_resource or non-splat
/// dense, not i1), or an empty array if it has no such layout. Used to
/// re-lay out weights at compile time.
llvm::ArrayRef<char> rawConstantBytes(mlir::Attribute value);

/// Patch columns of a convolution input `xpad` ([N, C, spatial...], padding
/// already applied): cols[c, k..., n, o...] = xpad[n, c, o*stride + k*dilation]
/// for `windows` output positions per spatial dimension. One linalg.generic;
/// the forward convolution and nn.im2col build it identically, so CSE
/// keeps one copy when both need the same patches.
mlir::Value patchColumns(mlir::OpBuilder &b, mlir::Location loc, mlir::Value xpad,
                         llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> strides,
                         llvm::ArrayRef<int64_t> dilations,
                         llvm::ArrayRef<int64_t> windows);
/// Static reshape to `type` (same element count) via collapse/expand_shape.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::RankedTensorType type);

// Scalar arithmetic on float or signless integer values.
mlir::Value add(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Value y);
mlir::Value sub(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Value y);
mlir::Value mul(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Value y);
mlir::Value div(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Value y);
mlir::Value max(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Value y);
mlir::Value min(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Value y);
/// Converts a scalar between element types (ONNX Cast semantics).
mlir::Value convert(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                    mlir::Type to);

} // namespace strata::lowering

#endif // STRATA_COMPILER_LOWERING_LINALGBUILDERS_H
