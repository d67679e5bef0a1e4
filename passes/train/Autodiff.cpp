//===- Autodiff.cpp - reverse-mode automatic differentiation of nn IR -----===//

#include "passes/train/Autodiff.h"
#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace strata::train {

FailureOr<SmallVector<Value>> buildGradients(OpBuilder &builder, Value loss,
                                             ArrayRef<Value> wrt) {
  Location loc = loss.getLoc();
  nn::NNBuilder b(builder, loc);
  Block *block = loss.getParentBlock();

  // Active values depend on some `wrt` value; only their ops are walked.
  llvm::DenseSet<Value> active(wrt.begin(), wrt.end());
  SmallVector<Operation *> ops;
  for (Operation &op : *block) {
    if (llvm::any_of(op.getOperands(), [&](Value v) { return active.contains(v); })) {
      for (Value r : op.getResults())
        active.insert(r);
      ops.push_back(&op);
    }
    if (&op == loss.getDefiningOp())
      break;
  }

  llvm::DenseMap<Value, Value> grads;
  auto accumulate = [&](Value v, Value g) {
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted)
      it->second = b.add(it->second, g);
  };
  accumulate(loss, b.splat(nn::NNBuilder::typeOf(loss), 1.0));

  for (Operation *op : llvm::reverse(ops)) {
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      Value g = grads.lookup(r);
      resultGrads.push_back(g);
      any |= bool(g);
    }
    if (!any || !llvm::any_of(op->getOperands(),
                              [&](Value v) { return active.contains(v); }))
      continue;
    auto rule = dyn_cast<nn::DifferentiableOpInterface>(op);
    if (!rule)
      return op->emitOpError()
             << "has no gradient rule, but the loss depends on it through "
                "trainable values";
    // A rule may need a gradient for every result; missing ones are zeros.
    for (auto [g, r] : llvm::zip(resultGrads, op->getResults()))
      if (!g && isa<FloatType>(nn::NNBuilder::elementOf(r)))
        g = b.zerosLike(r);
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradients(builder, resultGrads, operandGrads)))
      return failure();
    if (operandGrads.size() != op->getNumOperands())
      return op->emitOpError() << "gradient rule returned "
                               << operandGrads.size() << " values for "
                               << op->getNumOperands() << " operands";
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
      if (g && active.contains(operand))
        accumulate(operand, g);
  }

  SmallVector<Value> result;
  for (Value v : wrt) {
    Value g = grads.lookup(v);
    result.push_back(g ? g : b.zerosLike(v));
  }
  return result;
}

//===----------------------------------------------------------------------===//
// strata-autodiff: the walk as a pass, for lit tests and `strata opt`
//===----------------------------------------------------------------------===//

} // namespace strata::train

namespace strata {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace strata

namespace strata::train {
namespace {

struct AutodiffPass : strata::impl::AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    getOperation()->walk([&](func::FuncOp func) {
      if (func.isExternal() || func.getNumResults() == 0)
        return;
      auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
      Value loss = ret.getOperand(0);
      auto lossType = dyn_cast<RankedTensorType>(loss.getType());
      if (!lossType || !isa<FloatType>(lossType.getElementType())) {
        func.emitError() << "the first result (the loss) must be a "
                            "floating-point tensor";
        return signalPassFailure();
      }
      SmallVector<Value> wrt;
      for (BlockArgument arg : func.getArguments())
        if (auto t = dyn_cast<RankedTensorType>(arg.getType());
            t && isa<FloatType>(t.getElementType()))
          wrt.push_back(arg);
      OpBuilder builder(ret);
      auto grads = buildGradients(builder, loss, wrt);
      if (failed(grads))
        return signalPassFailure();
      SmallVector<Value> results(ret.getOperands());
      results.append(grads->begin(), grads->end());
      ret->setOperands(results);
      SmallVector<Type> types;
      for (Value v : results)
        types.push_back(v.getType());
      func.setFunctionType(
          FunctionType::get(func.getContext(), func.getArgumentTypes(), types));
    });
  }
};

} // namespace
} // namespace strata::train
