//===- LoweringUtils.cpp - shared checks of the nn lowering ---------------===//

#include "compiler/lowering/LoweringUtils.h"
#include "compiler/lowering/LinalgBuilders.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace strata::lowering {

std::string unsupportedReason(Operation *op) {
  auto check = [](Type t) -> std::string {
    auto tt = dyn_cast<RankedTensorType>(t);
    if (!tt)
      return {};
    if (!tt.hasStaticShape())
      return "it has a dynamic dimension; compile with --batch=N to fix "
             "symbolic dimensions";
    if (tt.getElementType().isUnsignedInteger())
      return "unsigned integer arithmetic is not supported by the CPU backend";
    return {};
  };
  for (Type t : op->getOperandTypes())
    if (std::string r = check(t); !r.empty())
      return r;
  for (Type t : op->getResultTypes())
    if (std::string r = check(t); !r.empty())
      return r;
  return {};
}

Value padWith(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> low,
              ArrayRef<int64_t> high, double value) {
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> lo, hi;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    shape.push_back(type.getDimSize(d) + low[d] + high[d]);
    lo.push_back(b.getIndexAttr(low[d]));
    hi.push_back(b.getIndexAttr(high[d]));
  }
  Value v = scalarConstant(b, loc, type.getElementType(), value);
  return b.create<tensor::PadOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), x, lo, hi, v);
}

} // namespace strata::lowering
