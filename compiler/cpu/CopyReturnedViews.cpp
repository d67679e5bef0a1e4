//===- CopyReturnedViews.cpp - fresh buffers for function results ---------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace strata {
#define GEN_PASS_DEF_COPYRETURNEDVIEWS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// True if `v` bufferizes to an allocation of its own: the result of a
/// computation (linalg, tensor.pad, tensor.insert_slice into a new tensor).
bool isFreshAllocation(Value v) {
  Operation *def = v.getDefiningOp();
  return def && isa<linalg::LinalgOp, tensor::PadOp, tensor::InsertSliceOp>(def);
}

struct CopyReturnedViewsPass
    : strata::impl::CopyReturnedViewsBase<CopyReturnedViewsPass> {
  void runOnOperation() override {
    // Inputs belong to the caller: bufferization must copy rather than
    // compute in place into them (a fused Gemm bias would otherwise be
    // overwritten).
    func::FuncOp func = getOperation();
    if (func.isExternal()) // declarations (runtime functions) have no body
      return;
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (isa<TensorType>(func.getArgument(i).getType()))
        func.setArgAttr(i, "bufferization.writable",
                        BoolAttr::get(&getContext(), false));
    func.walk([](func::ReturnOp ret) {
      OpBuilder b(ret);
      llvm::SmallPtrSet<Value, 4> seen;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || (isFreshAllocation(v) && seen.insert(v).second))
          continue;
        Value init = b.create<tensor::EmptyOp>(ret.getLoc(), type.getShape(),
                                               type.getElementType());
        operand.set(b.create<linalg::CopyOp>(ret.getLoc(), v, init).getResult(0));
      }
    });
  }
};

} // namespace
