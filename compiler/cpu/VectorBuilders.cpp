//===- VectorBuilders.cpp - shared builders of the CPU vector kernels ------===//

#include "compiler/cpu/VectorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace strata::cpu {

int64_t rowLanes(int64_t width, int64_t maxLanes) {
  for (int64_t lanes = maxLanes; lanes >= 8; lanes /= 2)
    if (width % lanes == 0)
      return lanes;
  return maxLanes;
}

Value index(OpBuilder &b, Location loc, int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

Value addIndex(OpBuilder &b, Location loc, Value v, int64_t c) {
  return c == 0 ? v : b.create<arith::AddIOp>(loc, v, index(b, loc, c)).getResult();
}

Value zeros(OpBuilder &b, Location loc, VectorType type) {
  return b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(type, b.getF32FloatAttr(0.0f).getValue()));
}

Value forEachItem(OpBuilder &b, Location loc, ArrayRef<int64_t> bounds,
                  RankedTensorType type, ItemBody body) {
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  SmallVector<OpFoldResult> ubs;
  for (int64_t bound : bounds)
    ubs.push_back(b.getIndexAttr(bound));
  auto forall = b.create<scf::ForallOp>(loc, ubs, ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value out = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets, sizes;
  Value slice = body(b, loc, forall.getInductionVars(), out, offsets, sizes);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> ones(type.getRank(), b.getIndexAttr(1));
  b.create<tensor::ParallelInsertSliceOp>(loc, slice, out, offsets, sizes, ones);
  return forall.getResult(0);
}

Value sliceOf(OpBuilder &b, Location loc, Value out, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes, ArrayRef<int64_t> kept) {
  SmallVector<OpFoldResult> ones(offsets.size(), b.getIndexAttr(1));
  auto type = RankedTensorType::get(kept, b.getF32Type());
  return b.create<tensor::ExtractSliceOp>(loc, type, out, offsets, sizes, ones);
}

} // namespace strata::cpu
