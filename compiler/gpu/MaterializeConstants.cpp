//===- MaterializeConstants.cpp - tensor constants a kernel can reach ------===//
//
// On the CUDA path every value a kernel reads must live in device memory.
// Large constants are @main's weights (uploaded once by the runtime); what
// is left after moving them are splats, which become fills computed on the
// device, and boolean constants (bit-packed in MLIR, so not moved as raw
// bytes), which become i8 weights compared with zero.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata {
#define GEN_PASS_DEF_GPUMATERIALIZECONSTANTS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// `x != 0` over every element of the i8 tensor `bytes`, as an i1 tensor.
Value nonZero(OpBuilder &b, Location loc, Value bytes, RankedTensorType boolType) {
  Value init = b.create<tensor::EmptyOp>(loc, boolType.getShape(), b.getI1Type());
  auto id = b.getMultiDimIdentityMap(boolType.getRank());
  SmallVector<utils::IteratorType> iters(boolType.getRank(), utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, boolType, bytes, init, ArrayRef<AffineMap>{id, id}, iters,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value zero = nb.create<arith::ConstantIntOp>(l, 0, 8);
            Value ne = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, args[0], zero);
            nb.create<linalg::YieldOp>(l, ne);
          })
      .getResult(0);
}

struct GpuMaterializeConstants
    : strata::impl::GpuMaterializeConstantsBase<GpuMaterializeConstants> {
  void runOnOperation() override {
    SmallVector<arith::ConstantOp> constants;
    getOperation().walk([&](arith::ConstantOp c) {
      if (isa<RankedTensorType>(c.getType()) && isa<DenseElementsAttr>(c.getValue()))
        constants.push_back(c);
    });
    for (arith::ConstantOp c : constants) {
      auto type = cast<RankedTensorType>(c.getType());
      auto dense = cast<DenseElementsAttr>(c.getValue());
      OpBuilder b(c);
      Location loc = c.getLoc();
      Value replacement;
      if (dense.isSplat()) {
        Value scalar = b.create<arith::ConstantOp>(loc, dense.getSplatValue<TypedAttr>());
        Value empty = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
        replacement = b.create<linalg::FillOp>(loc, scalar, empty).getResult(0);
      } else if (type.getElementType().isInteger(1)) {
        SmallVector<int8_t> bytes;
        for (bool v : dense.getValues<bool>())
          bytes.push_back(v ? 1 : 0);
        auto byteType = RankedTensorType::get(type.getShape(), b.getI8Type());
        Value weight = b.create<arith::ConstantOp>(
            loc, DenseElementsAttr::get(byteType, ArrayRef<int8_t>(bytes)));
        replacement = nonZero(b, loc, weight, type);
      } else {
        continue; // a weight already, or one the driver moves
      }
      c.getResult().replaceAllUsesWith(replacement);
      c.erase();
    }
  }
};

} // namespace
