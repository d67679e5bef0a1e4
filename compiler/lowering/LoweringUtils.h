//===- LoweringUtils.h - shared checks of the nn lowering -------*- C++ -*-===//

#ifndef STRATA_COMPILER_LOWERING_LOWERINGUTILS_H
#define STRATA_COMPILER_LOWERING_LOWERINGUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

namespace strata::lowering {

/// Why `op` cannot be lowered by the CPU backend (dynamic shapes, unsigned
/// arithmetic), or an empty string if it can.
std::string unsupportedReason(mlir::Operation *op);

/// First statement of every op lowering: leave ops the CPU backend cannot
/// handle to the pass, which reports them with unsupportedReason().
#define REQUIRE_SUPPORTED(op)                                                  \
  if (!::strata::lowering::unsupportedReason(op).empty())                      \
    return rw.notifyMatchFailure(op, "unsupported shape or type");

/// Pads `x` with `value`; `low`/`high` per dimension. Returns `x` if no pad.
mlir::Value padWith(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                    llvm::ArrayRef<int64_t> low, llvm::ArrayRef<int64_t> high,
                    double value);

void populateElementwiseLowering(mlir::RewritePatternSet &patterns);
void populateTensorLowering(mlir::RewritePatternSet &patterns);
void populateNeuralLowering(mlir::RewritePatternSet &patterns);
void populateConvAsMatmulLowering(mlir::RewritePatternSet &patterns);
void populatePatchColumnsLowering(mlir::RewritePatternSet &patterns);
void populateQuantizationLowering(mlir::RewritePatternSet &patterns);

} // namespace strata::lowering

#endif // STRATA_COMPILER_LOWERING_LOWERINGUTILS_H
