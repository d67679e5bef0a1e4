//===- LinalgBuilders.cpp - value-level builders for nn lowering ----------===//

#include "compiler/lowering/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace strata::lowering {

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
}

Value scalarConstant(OpBuilder &b, Location loc, Type t, double value) {
  if (auto ft = dyn_cast<FloatType>(t))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(ft, value));
  auto it = cast<IntegerType>(t);
  APInt v(it.getWidth(), (uint64_t)(int64_t)value,
          /*isSigned=*/it.getWidth() > 1);
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(it, v));
}

double lowestValue(Type t) {
  if (isa<FloatType>(t))
    return -std::numeric_limits<double>::infinity();
  unsigned w = t.getIntOrFloatBitWidth();
  return w == 1 ? 0.0 : -std::ldexp(1.0, w - 1);
}

double highestValue(Type t) {
  if (isa<FloatType>(t))
    return std::numeric_limits<double>::infinity();
  unsigned w = t.getIntOrFloatBitWidth();
  return w == 1 ? 1.0 : std::ldexp(1.0, w - 1) - 1;
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  Value c = scalarConstant(b, loc, type.getElementType(), value);
  return b.create<linalg::FillOp>(loc, c, emptyTensor(b, loc, type))
      .getResult(0);
}

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> operandShape,
                       ArrayRef<int64_t> resultShape) {
  size_t rank = resultShape.size(), lead = rank - operandShape.size();
  SmallVector<AffineExpr> exprs;
  for (size_t i = 0; i < operandShape.size(); ++i) {
    if (operandShape[i] == 1 && resultShape[lead + i] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(lead + i, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value mapElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                     ValueRange inputs, ScalarFn fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(in.getType()).getShape(),
        resultType.getShape()));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iters(resultType.getRank(),
                                         utils::IteratorType::parallel);
  auto op = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, inputs,
      ValueRange{emptyTensor(b, loc, resultType)}, maps, iters,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value r = fn(nb, nloc, args.drop_back());
        nb.create<linalg::YieldOp>(nloc, r);
      });
  return op.getResult(0);
}

Value reduceAxes(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
                 bool keepDims, double init, ScalarFn combine) {
  auto type = cast<RankedTensorType>(x.getType());
  MLIRContext *ctx = b.getContext();
  int64_t rank = type.getRank();
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iters.push_back(reduced ? utils::IteratorType::reduction
                            : utils::IteratorType::parallel);
    if (!reduced) {
      kept.push_back(type.getDimSize(d));
      outExprs.push_back(getAffineDimExpr(d, ctx));
    }
  }
  auto reducedType = RankedTensorType::get(kept, type.getElementType());
  Value acc = filled(b, loc, reducedType, init);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, outExprs, ctx)};
  Value r = b.create<linalg::GenericOp>(
                 loc, TypeRange{reducedType}, ValueRange{x}, ValueRange{acc},
                 maps, iters,
                 [&](OpBuilder &nb, Location nloc, ValueRange args) {
                   Value v = combine(nb, nloc, {args[1], args[0]});
                   nb.create<linalg::YieldOp>(nloc, v);
                 })
                .getResult(0);
  if (!keepDims)
    return r;
  SmallVector<int64_t> keptShape(type.getShape());
  for (int64_t a : axes)
    keptShape[a] = 1;
  return reshapeTo(b, loc, r,
                   RankedTensorType::get(keptShape, type.getElementType()));
}

ArrayRef<char> rawConstantBytes(Attribute value) {
  if (auto res = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    return blob ? blob->getData() : ArrayRef<char>();
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    if (!dense.isSplat() && !dense.getElementType().isInteger(1))
      return dense.getRawData();
  return {};
}

Value patchColumns(OpBuilder &b, Location loc, Value xpad, ArrayRef<int64_t> kernel,
                   ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                   ArrayRef<int64_t> windows) {
  MLIRContext *ctx = b.getContext();
  auto xt = cast<RankedTensorType>(xpad.getType());
  int64_t s = kernel.size(), loops = 2 + 2 * s;
  SmallVector<int64_t> shape{xt.getDimSize(1)};
  shape.append(kernel.begin(), kernel.end());
  shape.push_back(xt.getDimSize(0));
  shape.append(windows.begin(), windows.end());
  auto colType = RankedTensorType::get(shape, xt.getElementType());
  // Loops: c, k..., n, o...
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> read{d(1 + s), d(0)};
  for (int64_t i = 0; i < s; ++i)
    read.push_back(d(2 + s + i) * strides[i] + d(1 + i) * dilations[i]);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{colType}, ValueRange{xpad}, ValueRange{emptyTensor(b, loc, colType)},
          ArrayRef<AffineMap>{AffineMap::get(loops, 0, read, ctx),
                              b.getMultiDimIdentityMap(loops)},
          SmallVector<utils::IteratorType>(loops, utils::IteratorType::parallel),
          [](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, args[0]);
          })
      .getResult(0);
}

Value reshapeTo(OpBuilder &b, Location loc, Value x, RankedTensorType to) {
  auto from = cast<RankedTensorType>(x.getType());
  if (from == to)
    return x;
  // Collapse to 1-D, then expand: valid for any two static shapes.
  auto flatType = RankedTensorType::get({from.getNumElements()},
                                        from.getElementType());
  auto allDims = [](int64_t rank) {
    ReassociationIndices all;
    for (int64_t i = 0; i < rank; ++i)
      all.push_back(i);
    return SmallVector<ReassociationIndices>{all};
  };
  Value flat = x;
  if (from.getRank() == 0)
    flat = b.create<tensor::ExpandShapeOp>(loc, flatType, x,
                                           SmallVector<ReassociationIndices>{});
  else if (from.getRank() != 1)
    flat = b.create<tensor::CollapseShapeOp>(loc, flatType, x,
                                             allDims(from.getRank()));
  if (to.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, to, flat,
                                             SmallVector<ReassociationIndices>{});
  if (to.getRank() == 1)
    return flat;
  return b.create<tensor::ExpandShapeOp>(loc, to, flat, allDims(to.getRank()));
}

namespace {
bool isFloat(Value v) { return isa<FloatType>(v.getType()); }
} // namespace

Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return isFloat(x) ? b.create<arith::AddFOp>(loc, x, y).getResult()
                    : b.create<arith::AddIOp>(loc, x, y).getResult();
}
Value sub(OpBuilder &b, Location loc, Value x, Value y) {
  return isFloat(x) ? b.create<arith::SubFOp>(loc, x, y).getResult()
                    : b.create<arith::SubIOp>(loc, x, y).getResult();
}
Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  return isFloat(x) ? b.create<arith::MulFOp>(loc, x, y).getResult()
                    : b.create<arith::MulIOp>(loc, x, y).getResult();
}
Value div(OpBuilder &b, Location loc, Value x, Value y) {
  return isFloat(x) ? b.create<arith::DivFOp>(loc, x, y).getResult()
                    : b.create<arith::DivSIOp>(loc, x, y).getResult();
}
Value max(OpBuilder &b, Location loc, Value x, Value y) {
  return isFloat(x) ? b.create<arith::MaximumFOp>(loc, x, y).getResult()
                    : b.create<arith::MaxSIOp>(loc, x, y).getResult();
}
Value min(OpBuilder &b, Location loc, Value x, Value y) {
  return isFloat(x) ? b.create<arith::MinimumFOp>(loc, x, y).getResult()
                    : b.create<arith::MinSIOp>(loc, x, y).getResult();
}

Value convert(OpBuilder &b, Location loc, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  if (fromF && toF)
    return fromF.getWidth() < toF.getWidth()
               ? b.create<arith::ExtFOp>(loc, to, x).getResult()
               : b.create<arith::TruncFOp>(loc, to, x).getResult();
  if (fromF) {
    if (to.isInteger(1)) // ONNX: nonzero is true
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, x,
                                     scalarConstant(b, loc, from, 0.0));
    return b.create<arith::FPToSIOp>(loc, to, x);
  }
  if (toF)
    return from.isInteger(1) ? b.create<arith::UIToFPOp>(loc, to, x).getResult()
                             : b.create<arith::SIToFPOp>(loc, to, x).getResult();
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (tw == 1)
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, x,
                                   scalarConstant(b, loc, from, 0.0));
  if (fw < tw)
    return fw == 1 ? b.create<arith::ExtUIOp>(loc, to, x).getResult()
                   : b.create<arith::ExtSIOp>(loc, to, x).getResult();
  return b.create<arith::TruncIOp>(loc, to, x);
}

} // namespace strata::lowering
