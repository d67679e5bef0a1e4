//===- WidenHalfContractions.cpp - 16-bit contractions without a kernel ---===//
//
// strata-mixed-precision lets convolutions, matmuls and Gemms read bf16 or
// fp16 operands; the CPU computes them in 16 bits only where oneDNN has a
// kernel for them on the target (strata-onednn-convs: bf16 with AVX512_BF16
// or AMX). What is left -- a target without those, fp16, small Gemms the
// generated matmul runs, grouped convolutions -- computes in f32 here, on
// the generated kernels that take f32, from the same rounded operands: the
// 16-bit values widened exactly (a constant once, an activation by a cast
// back that fuses with its rounding). The products are then the 16-bit
// kernels' exactly (a bf16 product is exact in f32), so a program gives the
// same results, up to summation order, on every host. Runs right after
// oneDNN's choice, before the f32 kernels' (Winograd, direct, tiled matmul).
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"
#include "passes/graph/ConstantValues.h"

#include "llvm/ADT/SetVector.h"

namespace strata {
#define GEN_PASS_DEF_WIDENHALFCONTRACTIONS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

bool isHalf(Value v) {
  Type t = typeOf(v).getElementType();
  return t.isBF16() || t.isF16();
}

/// `v` (bf16/f16) widened to f32: a constant's values, or a cast.
Value widen(OpBuilder &b, Value v) {
  auto f32Type = typeOf(v).clone(b.getF32Type());
  if (auto c = v.getDefiningOp<nn::ConstantOp>(); c && f32Type.hasStaticShape())
    if (auto values = strata::floatValuesAsF32(v)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfter(c);
      return strata::makeFloatConstant(b, c.getLoc(), f32Type, *values, "weight_widened");
    }
  return b.create<nn::CastOp>(v.getLoc(), f32Type, v);
}

struct WidenHalfContractionsPass
    : strata::impl::WidenHalfContractionsBase<WidenHalfContractionsPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    llvm::DenseMap<Value, Value> widened;
    // A rounding read by several contractions is listed once: it is erased
    // once.
    llvm::SetVector<Operation *> dead;
    getOperation()->walk([&](Operation *op) {
      if (!isa<nn::ConvOp, nn::MatMulOp, nn::GemmOp>(op) || !isHalf(op->getOperand(0)) ||
          !isHalf(op->getOperand(1)) || !typeOf(op->getResult(0)).getElementType().isF32())
        return;
      b.setInsertionPoint(op);
      for (unsigned i = 0; i < 2; ++i) {
        Value v = op->getOperand(i);
        Value &w = widened[v];
        if (!w)
          w = widen(b, v);
        op->setOperand(i, w);
        if (Operation *def = v.getDefiningOp())
          dead.insert(def);
      }
      strata::cpu::recordDeclined(
          op, "16-bit operands (--precision) but no 16-bit kernel for it on this target: "
              "computed in f32");
    });
    for (Operation *op : dead)
      if (op->use_empty())
        op->erase();
  }
};

} // namespace
