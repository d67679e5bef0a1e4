//===- ConstantValues.h - weights read and written at compile time -*- C++ -*-===//
//
// Passes that transform constant weights ahead of time (batch-norm folding,
// Winograd weight transforms; pruning, weight sharing, quantization and
// mixed precision to come) read an nn.constant's values and make a new one
// from computed values, of any numeric element type: f32/f64, bf16/f16
// (read widened to float, written rounded to nearest even), i8/u8, i32/i64.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_GRAPH_CONSTANTVALUES_H
#define STRATA_PASSES_GRAPH_CONSTANTVALUES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace strata {

/// Whether C++ type `T` holds `elementType`'s values exactly: float = f32,
/// double = f64, int8_t = i8, uint8_t = ui8, int32_t = i32, int64_t = i64.
template <typename T> bool holdsExactly(mlir::Type elementType);

/// The values of a static-shaped nn.constant (dense, splat or
/// dense_resource) whose element type `T` holds exactly, or nothing when `v`
/// is not one.
template <typename T> std::optional<std::vector<T>> constantValues(mlir::Value v);

/// A float constant's values (f32, bf16 or f16) as f32, or nothing.
std::optional<std::vector<float>> floatValuesAsF32(mlir::Value v);

/// The f32 values of an nn.constant, or nothing (constantValues<float>).
inline std::optional<std::vector<float>> f32Values(mlir::Value v) {
  return constantValues<float>(v);
}

/// An nn.constant of `type` holding `values` (element type held exactly by
/// `T`): small ones inline, others as a dense resource blob named `name`.
template <typename T>
mlir::Value makeConstant(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                         llvm::ArrayRef<T> values, llvm::StringRef name);

/// An nn.constant of float `type` (f32, bf16 or f16) holding `values`
/// rounded to nearest even.
mlir::Value makeFloatConstant(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::RankedTensorType type, llvm::ArrayRef<float> values,
                              llvm::StringRef name);

/// An f32 nn.constant (makeConstant<float>).
inline mlir::Value f32Constant(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::RankedTensorType type, const std::vector<float> &values,
                               llvm::StringRef name) {
  return makeConstant<float>(b, loc, type, values, name);
}

} // namespace strata

#endif // STRATA_PASSES_GRAPH_CONSTANTVALUES_H
