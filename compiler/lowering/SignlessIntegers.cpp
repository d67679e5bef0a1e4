//===- SignlessIntegers.cpp - the strata-signless-integers pass -----------===//
//
// ui8 tensors become i8 bits. Ops that only move elements keep working on the
// bits; any other op reads its former ui8 operands zero-extended to i32 and
// produces i32 where it produced ui8, truncated back to the bits. See the
// pass description in passes/Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/ElementTypes.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace strata {
#define GEN_PASS_DEF_SIGNLESSINTEGERS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;

namespace {

bool isUnsigned8(Type t) {
  auto tt = dyn_cast<RankedTensorType>(t);
  return tt && tt.getElementType().isUnsignedInteger(8);
}

Type withElement(Type t, Type element) {
  return cast<RankedTensorType>(t).clone(element);
}

/// Ops whose result is a rearrangement of their operands' elements: the
/// bits are all they need.
bool movesBitsOnly(Operation *op) {
  return isa<nn::ConstantOp, nn::ReshapeOp, nn::TransposeOp, nn::ConcatOp,
             nn::SliceOp, nn::GatherOp, nn::GatherElementsOp, nn::BroadcastToOp,
             nn::TileOp, nn::WhereOp, func::ReturnOp, func::CallOp>(op);
}

/// Contractions take i8/u8 pairs or equal types: once one operand is
/// widened to i32, the other 8-bit one must be as well.
bool isContraction(Operation *op) {
  return isa<nn::MatMulOp, nn::GemmOp, nn::ConvOp>(op);
}

Attribute retypedConstant(Attribute value, Type newType) {
  auto shaped = cast<ShapedType>(newType);
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    return dense.bitcast(shaped.getElementType());
  if (auto blob = dyn_cast<DenseResourceElementsAttr>(value))
    return DenseResourceElementsAttr::get(shaped, blob.getRawHandle());
  return {};
}

/// `v` (i8 bits of a former ui8) zero-extended to i32; constants widen at
/// compile time.
Value widenUnsigned(OpBuilder &b, Location loc, Value v) {
  auto i32Type = cast<RankedTensorType>(withElement(v.getType(), b.getI32Type()));
  if (auto c = v.getDefiningOp<nn::ConstantOp>())
    if (auto dense = dyn_cast<DenseIntElementsAttr>(c.getValue())) {
      SmallVector<APInt> wide;
      for (const APInt &x : dense.getValues<APInt>())
        wide.push_back(x.zext(32));
      return b.create<nn::ConstantOp>(loc, DenseElementsAttr::get(i32Type, wide));
    }
  return b.create<nn::ExtendUnsignedOp>(loc, i32Type, v);
}

Value widenSigned(OpBuilder &b, Location loc, Value v) {
  return b.create<nn::CastOp>(loc, withElement(v.getType(), b.getI32Type()), v);
}

struct SignlessIntegersPass
    : strata::impl::SignlessIntegersBase<SignlessIntegersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Which operands and results were ui8, before any type changes.
    struct Widening {
      Operation *op;
      SmallVector<unsigned> operands, results;
    };
    SmallVector<Widening> widenings;
    Builder attrs(&getContext());
    module.walk([&](Operation *op) {
      if (movesBitsOnly(op) || isa<func::FuncOp>(op))
        return;
      if (!isa<nn::NNDialect>(op->getDialect())) {
        // A kernel op (onednn) takes the bytes as they are and is told
        // which operands are unsigned.
        SmallVector<int64_t> unsignedOperands;
        for (OpOperand &o : op->getOpOperands())
          if (isUnsigned8(o.get().getType()))
            unsignedOperands.push_back(o.getOperandNumber());
        if (!unsignedOperands.empty())
          op->setAttr(nn::kUnsignedOperandsAttr, attrs.getDenseI64ArrayAttr(unsignedOperands));
        return;
      }
      Widening w{op, {}, {}};
      for (OpOperand &o : op->getOpOperands())
        if (isUnsigned8(o.get().getType()))
          w.operands.push_back(o.getOperandNumber());
      for (OpResult r : op->getResults())
        if (isUnsigned8(r.getType()))
          w.results.push_back(r.getResultNumber());
      if (!w.operands.empty() || !w.results.empty())
        widenings.push_back(std::move(w));
    });

    // Every ui8 value becomes i8 bits.
    Type i8 = IntegerType::get(&getContext(), 8);
    bool failedConstant = false;
    module.walk([&](Operation *op) {
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument arg : block.getArguments())
            if (isUnsigned8(arg.getType()))
              arg.setType(withElement(arg.getType(), i8));
      for (OpResult r : op->getResults())
        if (isUnsigned8(r.getType()))
          r.setType(withElement(r.getType(), i8));
      if (auto c = dyn_cast<nn::ConstantOp>(op))
        if (c.getValue().getType() != c.getType()) {
          Attribute v = retypedConstant(c.getValue(), c.getType());
          if (!v) {
            c.emitOpError() << "holds an unsigned constant of an unexpected kind";
            failedConstant = true;
            return;
          }
          c.setValueAttr(cast<ElementsAttr>(v));
        }
    });
    if (failedConstant)
      return signalPassFailure();

    // Ops that read or produced values now compute in i32.
    OpBuilder b(&getContext());
    Type i32 = b.getI32Type();
    for (Widening &w : widenings) {
      Operation *op = w.op;
      Location loc = op->getLoc();
      b.setInsertionPoint(op);
      for (unsigned i : w.operands)
        op->setOperand(i, widenUnsigned(b, loc, op->getOperand(i)));
      if (isContraction(op) && !w.operands.empty())
        for (OpOperand &o : op->getOpOperands()) {
          auto t = cast<RankedTensorType>(o.get().getType());
          if (t.getElementType().isInteger(8))
            o.set(widenSigned(b, loc, o.get()));
        }
      b.setInsertionPointAfter(op);
      for (unsigned i : w.results) {
        OpResult r = op->getResult(i);
        Type bits = r.getType();
        r.setType(withElement(bits, i32));
        Value wide = r;
        if (isa<nn::QuantizeOp>(op)) // saturate to ui8's range, not i32's
          wide = b.create<nn::ClipOp>(loc, r.getType(), r, b.getF64FloatAttr(0),
                                      b.getF64FloatAttr(255));
        Value narrow = b.create<nn::CastOp>(loc, bits, wide);
        r.replaceAllUsesExcept(narrow, wide == r ? narrow.getDefiningOp()
                                                 : wide.getDefiningOp());
      }
    }

    // Function types follow their blocks.
    module.walk([&](func::FuncOp f) {
      if (f.isExternal()) {
        SmallVector<Type> ins, outs;
        for (Type t : f.getArgumentTypes())
          ins.push_back(isUnsigned8(t) ? withElement(t, i8) : t);
        for (Type t : f.getResultTypes())
          outs.push_back(isUnsigned8(t) ? withElement(t, i8) : t);
        f.setFunctionType(b.getFunctionType(ins, outs));
        return;
      }
      Block &entry = f.front();
      SmallVector<Type> outs;
      f.walk([&](func::ReturnOp ret) {
        outs.assign(ret.getOperandTypes().begin(), ret.getOperandTypes().end());
      });
      f.setFunctionType(b.getFunctionType(entry.getArgumentTypes(),
                                          outs.empty() ? f.getResultTypes()
                                                       : TypeRange(outs)));
    });
  }
};

} // namespace
