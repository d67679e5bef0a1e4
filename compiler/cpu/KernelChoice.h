//===- KernelChoice.h - what computes each node, and why --------*- C++ -*-===//
//
// The CPU's kernel-selection passes (OneDnnConvs, WinogradConvs, DirectConv,
// VectorizePooling, VectorizeReductions) record on the op they leave behind
// which kernel computes it and the rule that chose it; convolutions they
// decline carry the reason. `strata compile --explain` prints the records,
// one line per ONNX node, before the generic lowering (ExplainKernels.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_CPU_KERNELCHOICE_H
#define STRATA_COMPILER_CPU_KERNELCHOICE_H

#include "compiler/cpu/CpuTarget.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace strata::cpu {

/// Whether the CPU's generated vector kernels (direct convolution, Winograd
/// transforms, vectorized pooling and reductions, the tiled matmul) take
/// `elementType`. They compute in f32; ops of other types (bf16/f16, int8
/// contractions into i32, ...) go to the generic lowering, which handles
/// every type pair nn allows (dialects/nn/ElementTypes.h). The one answer
/// every selection pass asks.
inline bool generatedKernelsTake(mlir::Type elementType) { return elementType.isF32(); }

/// Whether strata calls oneDNN for a contraction of `lhs` by `rhs` into
/// `result` (element types; a bias or sum has the result's). f32 today: the
/// call descriptor and runtime carry bf16 and int8 types already
/// (strata/onednn_calls.h), the kernel choice for them comes with mixed
/// precision and int8.
inline bool oneDnnTakes(mlir::Type lhs, mlir::Type rhs, mlir::Type result) {
  return lhs.isF32() && rhs.isF32() && result.isF32();
}

/// Discardable attributes the records live in.
inline constexpr llvm::StringLiteral kKernelAttr = "strata.kernel";
inline constexpr llvm::StringLiteral kRuleAttr = "strata.rule";

/// Records that `op` is computed by `kernel` ("oneDNN convolution") because
/// of `rule` ("3x3 stride 1, 196 tiles of 4x4").
inline void recordKernel(mlir::Operation *op, const llvm::Twine &kernel,
                         const llvm::Twine &rule) {
  if (!op)
    return;
  mlir::Builder b(op->getContext());
  op->setAttr(kKernelAttr, b.getStringAttr(kernel));
  op->setAttr(kRuleAttr, b.getStringAttr(rule));
}

/// Records why a selection pass left `op` to the ops after it (the rule
/// only; the kernel is whatever computes it in the end).
inline void recordDeclined(mlir::Operation *op, const llvm::Twine &rule) {
  op->setAttr(kRuleAttr, mlir::Builder(op->getContext()).getStringAttr(rule));
}

/// The location of a layout change inserted at the edge of a blocked region:
/// the reordered value's, marked so that --explain does not take the reorder
/// for its node's kernel.
inline mlir::Location reorderLoc(mlir::Location valueLoc) {
  mlir::MLIRContext *ctx = valueLoc.getContext();
  return mlir::FusedLoc::get({valueLoc}, mlir::StringAttr::get(ctx, "strata.reorder"), ctx);
}

/// Prints one line per ONNX node of @main: the kernel and layout it got and
/// the rule that chose it, after the target's summary. Run between kernel
/// selection and the generic lowering.
void explainKernels(mlir::ModuleOp module, const CpuTarget &target,
                    llvm::raw_ostream &os);

/// What both backends' --explain print: `header`, then one line per ONNX
/// node of @main with `describe` of the op that computes it (of the node's
/// ops, the first of highest `rank`), or, for a node fused into another's
/// op, whose kernel computes it.
void explainNodes(mlir::ModuleOp module, const std::string &header,
                  llvm::function_ref<int(mlir::Operation *)> rank,
                  llvm::function_ref<std::string(mlir::Operation *)> describe,
                  llvm::raw_ostream &os);

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_KERNELCHOICE_H
