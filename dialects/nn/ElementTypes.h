//===- ElementTypes.h - which element types a contraction takes -*- C++ -*-===//
//
// Matrix products and convolutions multiply narrow operands into a wider
// accumulator: int8 models multiply u8/i8 into i32 (ONNX MatMulInteger,
// ConvInteger; oneDNN's int8 kernels), mixed-precision models multiply
// bf16/f16 into f32. nn.matmul, nn.gemm, nn.conv and the backends' kernel
// forms of them (onednn.conv, onednn.inner_product, ...) all take their
// operand and result types by this one rule, so a quantization or mixed
// precision pass writes what it means and every verifier agrees.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECTS_NN_ELEMENTTYPES_H
#define STRATA_DIALECTS_NN_ELEMENTTYPES_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace strata::nn {

/// On an op of a kernel dialect (onednn): the operand indices that were ui8
/// before strata-signless-integers stored them as i8 bits, so the kernel
/// call still reads them as unsigned.
inline constexpr llvm::StringLiteral kUnsignedOperandsAttr = "strata.unsigned_operands";

/// i8 or u8 (signless 8-bit integers count as i8).
bool isInt8(mlir::Type t);

/// The accumulator type a contraction of `operand`s produces by default:
/// i32 for i8/u8, f32 for bf16/f16, the operand type itself otherwise.
mlir::Type defaultAccumulatorType(mlir::Type operand);

/// Why `lhs` x `rhs` cannot accumulate into `result`, or "" when it can:
///  - all three equal (f32 x f32 -> f32, i32 x i32 -> i32, ...);
///  - i8/u8 x i8/u8 -> i32 (any mix of signedness);
///  - bf16 x bf16 and f16 x f16 -> f32.
std::string contractionTypeError(mlir::Type lhs, mlir::Type rhs, mlir::Type result);

/// Verifier helper: checks the rule above on element types of `lhs`, `rhs`
/// and `result` (values of shaped type), and that every value in
/// `accumulatorTyped` (bias, C, a residual sum) has the result's element type.
mlir::LogicalResult verifyContractionTypes(mlir::Operation *op, mlir::Value lhs,
                                           mlir::Value rhs, mlir::Value result,
                                           mlir::ValueRange accumulatorTyped = {});

} // namespace strata::nn

#endif // STRATA_DIALECTS_NN_ELEMENTTYPES_H
