//===- ConstantValues.h - f32 weights read and written at compile time -*- C++ -*-===//
//
// Passes that transform constant weights ahead of time (batch-norm folding,
// Winograd weight transforms) read an nn.constant's floats and make a new
// one from computed floats.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_GRAPH_CONSTANTVALUES_H
#define STRATA_PASSES_GRAPH_CONSTANTVALUES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <vector>

namespace strata {

/// The f32 values of an nn.constant (dense, splat or dense_resource), or
/// nothing when `v` is not one.
std::optional<std::vector<float>> f32Values(mlir::Value v);

/// An nn.constant of `type` holding `values`: small ones inline, others as
/// a dense resource blob named after `name`.
mlir::Value f32Constant(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                        const std::vector<float> &values, llvm::StringRef name);

} // namespace strata

#endif // STRATA_PASSES_GRAPH_CONSTANTVALUES_H
