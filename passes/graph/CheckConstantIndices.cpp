//===- CheckConstantIndices.cpp - constant gather indices must be in range -===//
//
// ONNX defines Gather and GatherElements only for indices in [-n, n) along
// the axis (n its size). An index out of that range used to yield whatever
// the generated code happened to read (0 for a constant index past the end
// in one model). When the indices are constants, directly in the model or
// after folding, the error is the model's and is reported at compile time,
// naming the node. Indices computed at run time are checked by the code
// the lowering generates (LowerTensor.cpp), which reports the node at run time.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "dialects/nn/NNOps.h"

#include "mlir/IR/Matchers.h"

namespace strata {
#define GEN_PASS_DEF_CHECKCONSTANTINDICES
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// The integer values of a constant index tensor, if `v` is one.
std::optional<SmallVector<int64_t>> constantIndices(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (const APInt &i : attr.getValues<APInt>())
    out.push_back(i.getSExtValue());
  return out;
}

LogicalResult check(Operation *op, Value data, Value indices, int64_t axis) {
  int64_t size = cast<RankedTensorType>(data.getType()).getDimSize(axis);
  if (ShapedType::isDynamic(size))
    return success();
  std::optional<SmallVector<int64_t>> values = constantIndices(indices);
  if (!values)
    return success();
  for (int64_t i : *values)
    if (i < -size || i >= size)
      return op->emitError() << "index " << i << " is out of range [" << -size
                             << ", " << size << ") along axis " << axis
                             << " (the indices are constants)";
  return success();
}

struct CheckConstantIndicesPass
    : strata::impl::CheckConstantIndicesBase<CheckConstantIndicesPass> {
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](Operation *op) {
      LogicalResult ok = success();
      if (auto g = dyn_cast<strata::nn::GatherOp>(op))
        ok = check(op, g.getData(), g.getIndices(), g.getAxis());
      else if (auto g = dyn_cast<strata::nn::GatherElementsOp>(op))
        ok = check(op, g.getData(), g.getIndices(), g.getAxis());
      return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
