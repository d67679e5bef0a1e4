//===- LowerTensor.cpp - nn constants and data movement to linalg/tensor --===//

#include "compiler/lowering/LinalgBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace strata::lowering {
namespace {

LogicalResult lowerConstant(nn::ConstantOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  rw.replaceOpWithNewOp<arith::ConstantOp>(op, cast<TypedAttr>(op.getValue()));
  return success();
}

LogicalResult lowerReshape(nn::ReshapeOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  rw.replaceOp(op, reshapeTo(rw, op.getLoc(), op.getInput(), op.getType()));
  return success();
}

LogicalResult lowerTranspose(nn::TransposeOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Value init = emptyTensor(rw, op.getLoc(), op.getType());
  rw.replaceOp(op, rw.create<linalg::TransposeOp>(op.getLoc(), op.getInput(),
                                                  init, op.getPerm())
                       .getResult()[0]);
  return success();
}

LogicalResult lowerConcat(nn::ConcatOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  int64_t rank = op.getType().getRank(), axis = op.getAxis(), offset = 0;
  Value result = emptyTensor(rw, loc, op.getType());
  for (Value in : op.getInputs()) {
    auto t = cast<RankedTensorType>(in.getType());
    SmallVector<OpFoldResult> offsets(rank, rw.getIndexAttr(0)),
        strides(rank, rw.getIndexAttr(1)), sizes;
    for (int64_t d = 0; d < rank; ++d)
      sizes.push_back(rw.getIndexAttr(t.getDimSize(d)));
    offsets[axis] = rw.getIndexAttr(offset);
    offset += t.getDimSize(axis);
    result = rw.create<tensor::InsertSliceOp>(loc, in, result, offsets, sizes,
                                              strides);
  }
  rw.replaceOp(op, result);
  return success();
}

/// A strided tensor.extract_slice over the elements the slice visits, in
/// ascending order; then, only if some step is negative, a generic that
/// reverses those dimensions (its input and output have equal shapes, so
/// linalg infers the loop bounds correctly).
LogicalResult lowerSlice(nn::SliceOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rw.getContext();
  int64_t rank = op.getType().getRank();
  SmallVector<OpFoldResult> offsets, sizes, strides;
  bool reverse = false;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t n = op.getType().getDimSize(d), step = op.getSteps()[d];
    int64_t first = step > 0 ? op.getStarts()[d]
                             : op.getStarts()[d] + (n - 1) * step;
    if (n == 0)
      first = 0;
    offsets.push_back(rw.getIndexAttr(first));
    sizes.push_back(rw.getIndexAttr(n));
    strides.push_back(rw.getIndexAttr(std::abs(step)));
    reverse |= step < 0;
  }
  Value ascending = rw.create<tensor::ExtractSliceOp>(
      loc, op.getType(), op.getInput(), offsets, sizes, strides);
  if (!reverse) {
    rw.replaceOp(op, ascending);
    return success();
  }
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d) {
    AffineExpr e = getAffineDimExpr(d, ctx);
    exprs.push_back(op.getSteps()[d] < 0
                        ? getAffineConstantExpr(op.getType().getDimSize(d) - 1, ctx) - e
                        : e);
  }
  auto generic = rw.create<linalg::GenericOp>(
      loc, TypeRange{op.getType()}, ValueRange{ascending},
      ValueRange{emptyTensor(rw, loc, op.getType())},
      SmallVector<AffineMap>{AffineMap::get(rank, 0, exprs, ctx),
                             rw.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &b, Location l, ValueRange args) {
        b.create<linalg::YieldOp>(l, args[0]);
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

/// How a gather treats its run-time indices: `context` and `node` are set
/// (outside the generic) when an index out of range is reported to the run
/// (strata.index_report, see NNToLinalgPass.cpp); otherwise it is only made
/// harmless.
struct IndexCheck {
  Value context, node;

  static IndexCheck before(Operation *op, PatternRewriter &rw) {
    IndexCheck check;
    auto symbol = op->getAttrOfType<FlatSymbolRefAttr>("strata.index_report");
    if (!symbol)
      return check;
    Location loc = op->getLoc();
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(op, symbol);
    if (!global)
      return check;
    check.context =
        rw.create<func::CallOp>(loc, "strata_run_context", rw.getIndexType(), ValueRange{})
            .getResult(0);
    Value name = rw.create<memref::GetGlobalOp>(loc, global.getType(), symbol.getValue());
    check.node = rw.create<memref::ExtractAlignedPointerAsIndexOp>(loc, name);
    return check;
  }

  /// The position to read for `raw` (an element of the indices) along an
  /// axis of `size`: negative indices count from the end, and one outside
  /// [-size, size) reads position 0 instead of memory outside the tensor
  /// (and is reported, the first of the run, when the check reports).
  Value position(OpBuilder &b, Location loc, Value raw, int64_t size) const {
    Value i = b.create<arith::IndexCastOp>(loc, b.getIndexType(), raw);
    Value n = b.create<arith::ConstantIndexOp>(loc, size);
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    Value negative = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, zero);
    i = b.create<arith::SelectOp>(loc, negative, b.create<arith::AddIOp>(loc, i, n), i);
    // One unsigned compare: a still negative i is a huge unsigned number.
    Value inside = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, i, n);
    if (context) {
      Value outside = b.create<arith::XOrIOp>(
          loc, inside, b.create<arith::ConstantIntOp>(loc, 1, 1));
      b.create<scf::IfOp>(loc, outside, [&](OpBuilder &t, Location l) {
        Value wide = raw.getType().isInteger(64)
                         ? raw
                         : t.create<arith::ExtSIOp>(l, t.getI64Type(), raw).getResult();
        t.create<func::CallOp>(
            l, "strata_index_out_of_range", TypeRange{},
            ValueRange{context, node, wide,
                       t.create<arith::ConstantIntOp>(l, size, 64).getResult()});
        t.create<scf::YieldOp>(l);
      });
    }
    return b.create<arith::SelectOp>(loc, inside, i, zero);
  }
};

/// out[i..., j..., k...] = data[i..., idx[j...], k...], negative indices
/// counted from the end.
LogicalResult lowerGather(nn::GatherOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  MLIRContext *ctx = rw.getContext();
  Value data = op.getData(), indices = op.getIndices();
  auto dataType = cast<RankedTensorType>(data.getType());
  auto idxType = cast<RankedTensorType>(indices.getType());
  int64_t axis = op.getAxis(), q = idxType.getRank();
  int64_t rank = op.getType().getRank(), dim = dataType.getDimSize(axis);
  SmallVector<AffineExpr> idxExprs;
  for (int64_t j = 0; j < q; ++j)
    idxExprs.push_back(getAffineDimExpr(axis + j, ctx));
  SmallVector<AffineMap> maps{AffineMap::get(rank, 0, idxExprs, ctx),
                              rw.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  IndexCheck check = IndexCheck::before(op, rw);
  auto generic = rw.create<linalg::GenericOp>(
      op.getLoc(), TypeRange{op.getType()}, ValueRange{indices},
      ValueRange{emptyTensor(rw, op.getLoc(), op.getType())}, maps, iters,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < axis; ++d)
          at.push_back(b.create<linalg::IndexOp>(loc, d));
        at.push_back(check.position(b, loc, args[0], dim));
        for (int64_t d = axis + q; d < rank; ++d)
          at.push_back(b.create<linalg::IndexOp>(loc, d));
        b.create<linalg::YieldOp>(loc,
                                  b.create<tensor::ExtractOp>(loc, data, at).getResult());
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

/// out[ids[i]] += data[i], in order: a loop over the data, each id
/// clamped (as unsigned) to an extra last segment that is cut off, so ids
/// outside [0, k) add nowhere without a branch.
LogicalResult lowerSegmentSum(nn::SegmentSumOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto outType = cast<RankedTensorType>(op.getType());
  int64_t k = outType.getDimSize(0);
  int64_t n = cast<RankedTensorType>(op.getData().getType()).getDimSize(0);
  Type et = outType.getElementType();
  auto accType = RankedTensorType::get({k + 1}, et);
  Value zero = rw.create<arith::ConstantOp>(loc, rw.getFloatAttr(et, 0.0));
  Value acc = rw.create<linalg::FillOp>(loc, zero, emptyTensor(rw, loc, accType)).getResult(0);
  Value lb = rw.create<arith::ConstantIndexOp>(loc, 0);
  Value ub = rw.create<arith::ConstantIndexOp>(loc, n);
  Value one = rw.create<arith::ConstantIndexOp>(loc, 1);
  Value last = rw.create<arith::ConstantIndexOp>(loc, k);
  auto loop = rw.create<scf::ForOp>(
      loc, lb, ub, one, ValueRange{acc},
      [&](OpBuilder &b, Location l, Value i, ValueRange iter) {
        Value raw = b.create<tensor::ExtractOp>(l, op.getSegmentIds(), ValueRange{i});
        Value id = b.create<arith::IndexCastOp>(l, b.getIndexType(), raw);
        id = b.create<arith::MinUIOp>(l, id, last);
        Value v = b.create<tensor::ExtractOp>(l, op.getData(), ValueRange{i});
        Value old = b.create<tensor::ExtractOp>(l, iter[0], ValueRange{id});
        Value sum = b.create<arith::AddFOp>(l, old, v);
        b.create<scf::YieldOp>(
            l, b.create<tensor::InsertOp>(l, sum, iter[0], ValueRange{id}).getResult());
      });
  SmallVector<OpFoldResult> offsets{rw.getIndexAttr(0)}, sizes{rw.getIndexAttr(k)},
      strides{rw.getIndexAttr(1)};
  rw.replaceOpWithNewOp<tensor::ExtractSliceOp>(op, outType, loop.getResult(0), offsets, sizes,
                                                strides);
  return success();
}

LogicalResult lowerPad(nn::PadOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  int64_t rank = inType.getRank();
  ArrayRef<int64_t> pads = op.getPads();
  if (op.getMode() == nn::PadMode::constant) {
    rw.replaceOp(op, padWith(rw, loc, op.getInput(), pads.take_front(rank),
                             pads.drop_front(rank),
                             op.getValue().convertToDouble()));
    return success();
  }
  // reflect / edge: each output element reads a clamped or mirrored index.
  bool reflect = op.getMode() == nn::PadMode::reflect;
  Value input = op.getInput();
  SmallVector<AffineMap> maps{rw.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = rw.create<linalg::GenericOp>(
      loc, TypeRange{op.getType()}, ValueRange{},
      ValueRange{emptyTensor(rw, loc, op.getType())}, maps, iters,
      [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> at;
        for (int64_t d = 0; d < rank; ++d) {
          int64_t size = inType.getDimSize(d);
          Value i = b.create<arith::SubIOp>(
              l, b.create<linalg::IndexOp>(l, d),
              b.create<arith::ConstantIndexOp>(l, pads[d]));
          Value zero = b.create<arith::ConstantIndexOp>(l, 0);
          Value last = b.create<arith::ConstantIndexOp>(l, size - 1);
          if (reflect) {
            // i < 0 -> -i; i > last -> 2*last - i
            Value neg = b.create<arith::SubIOp>(l, zero, i);
            i = b.create<arith::MaxSIOp>(l, i, neg);
            Value twice = b.create<arith::ConstantIndexOp>(l, 2 * (size - 1));
            i = b.create<arith::MinSIOp>(l, i, b.create<arith::SubIOp>(l, twice, i));
          } else {
            i = b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, i, zero), last);
          }
          at.push_back(i);
        }
        b.create<linalg::YieldOp>(l, b.create<tensor::ExtractOp>(l, input, at).getResult());
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

/// out[i] = data[i with i[axis] = idx[i]] (negative indices from the end).
LogicalResult lowerGatherElements(nn::GatherElementsOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Value data = op.getData();
  auto dataType = cast<RankedTensorType>(data.getType());
  int64_t rank = op.getType().getRank(), axis = op.getAxis();
  int64_t size = dataType.getDimSize(axis);
  IndexCheck check = IndexCheck::before(op, rw);
  auto generic = rw.create<linalg::GenericOp>(
      op.getLoc(), TypeRange{op.getType()}, ValueRange{op.getIndices()},
      ValueRange{emptyTensor(rw, op.getLoc(), op.getType())},
      SmallVector<AffineMap>{rw.getMultiDimIdentityMap(rank), rw.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value i = check.position(b, loc, args[0], size);
        SmallVector<Value> at;
        for (int64_t d = 0; d < rank; ++d)
          at.push_back(d == axis ? i : b.create<linalg::IndexOp>(loc, d).getResult());
        b.create<linalg::YieldOp>(loc, b.create<tensor::ExtractOp>(loc, data, at).getResult());
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

LogicalResult lowerBroadcastTo(nn::BroadcastToOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  rw.replaceOp(op, mapElementwise(rw, op.getLoc(), op.getType(),
                                  ValueRange{op.getInput()},
                                  [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
  return success();
}

/// out[i] = in[i mod size] per dimension.
LogicalResult lowerTile(nn::TileOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  MLIRContext *ctx = rw.getContext();
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  int64_t rank = inType.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    exprs.push_back(getAffineDimExpr(d, ctx) % inType.getDimSize(d));
  auto generic = rw.create<linalg::GenericOp>(
      op.getLoc(), TypeRange{op.getType()}, ValueRange{op.getInput()},
      ValueRange{emptyTensor(rw, op.getLoc(), op.getType())},
      SmallVector<AffineMap>{AffineMap::get(rank, 0, exprs, ctx),
                             rw.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &b, Location loc, ValueRange a) {
        b.create<linalg::YieldOp>(loc, a[0]);
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

/// Keeps x where (j - i) >= k (upper) or <= k (lower) in the last two dims.
LogicalResult lowerTrilu(nn::TriluOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  int64_t rank = op.getType().getRank(), k = op.getK();
  bool upper = op.getUpper();
  Value kValue;
  if (op.getKValue())
    kValue = rw.create<arith::IndexCastOp>(
        op.getLoc(), rw.getIndexType(),
        rw.create<tensor::ExtractOp>(op.getLoc(), op.getKValue(), ValueRange{}));
  auto generic = rw.create<linalg::GenericOp>(
      op.getLoc(), TypeRange{op.getType()}, ValueRange{op.getInput()},
      ValueRange{emptyTensor(rw, op.getLoc(), op.getType())},
      SmallVector<AffineMap>{rw.getMultiDimIdentityMap(rank), rw.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location loc, ValueRange a) {
        Value i = b.create<linalg::IndexOp>(loc, rank - 2);
        Value j = b.create<linalg::IndexOp>(loc, rank - 1);
        Value diff = b.create<arith::SubIOp>(loc, j, i);
        Value kk = kValue ? kValue : b.create<arith::ConstantIndexOp>(loc, k).getResult();
        Value keep = b.create<arith::CmpIOp>(
            loc, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diff, kk);
        Value zero = scalarConstant(b, loc, a[0].getType(), 0.0);
        b.create<linalg::YieldOp>(loc, b.create<arith::SelectOp>(loc, keep, a[0], zero).getResult());
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

} // namespace

void populateTensorLowering(RewritePatternSet &patterns) {
  patterns.add(lowerGatherElements);
  patterns.add(lowerBroadcastTo);
  patterns.add(lowerTile);
  patterns.add(lowerTrilu);
  patterns.add(lowerConstant);
  patterns.add(lowerReshape);
  patterns.add(lowerTranspose);
  patterns.add(lowerConcat);
  patterns.add(lowerSlice);
  patterns.add(lowerGather);
  patterns.add(lowerPad);
  patterns.add(lowerSegmentSum);
}

} // namespace strata::lowering
