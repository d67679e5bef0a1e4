//===- VectorBuilders.h - shared builders of the CPU vector kernels -*- C++ -*-===//
//
// What the passes that write vector code for the CPU straight from nn ops
// (DirectConv, VectorizePooling, VectorizeReductions, WinogradConvs) build
// the same way: index constants, zero vectors, and the scf.forall of work
// items that each write one slice of a fresh result tensor.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_CPU_VECTORBUILDERS_H
#define STRATA_COMPILER_CPU_VECTORBUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace strata::cpu {

/// The vector width for rows of `width` floats on a target whose registers
/// hold `maxLanes`: the widest of maxLanes, maxLanes/2, ... (down to 8) that
/// divides the row, so that no register is spent on a masked tail (LeNet-5's
/// rows of 24 train ~15% faster in 8-lane than in 16-lane vectors on
/// AVX-512); maxLanes when none does.
int64_t rowLanes(int64_t width, int64_t maxLanes);

mlir::Value index(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// v + c (v itself when c is 0).
mlir::Value addIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, int64_t c);

mlir::Value zeros(mlir::OpBuilder &b, mlir::Location loc, mlir::VectorType type);

/// Builds one work item's ops, writing into a slice of the result `out`
/// that it extracts at `offsets` with `sizes` (unit dimensions may be
/// dropped) and returns.
using ItemBody = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange ivs, mlir::Value out,
    llvm::SmallVectorImpl<mlir::OpFoldResult> &offsets,
    llvm::SmallVectorImpl<mlir::OpFoldResult> &sizes)>;

/// An scf.forall over `bounds` computing into a fresh tensor of `type`, one
/// `body` per item, whose slices are inserted in parallel.
mlir::Value forEachItem(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> bounds, mlir::RankedTensorType type,
                        ItemBody body);

/// A slice of `out` of f32 type `kept` (the unit dimensions dropped).
mlir::Value sliceOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value out,
                    llvm::ArrayRef<mlir::OpFoldResult> offsets,
                    llvm::ArrayRef<mlir::OpFoldResult> sizes, llvm::ArrayRef<int64_t> kept);

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_VECTORBUILDERS_H
