//===- LowerConvAsMatmul.cpp - 2-D convolutions on the tiled matmul -------===//
//
// A dense 2-D convolution is a matmul of the weights, viewed as
// M x (C*KH*KW), with the input's patches laid out as (C*KH*KW) x (N*OH*OW)
// ("im2col"). Building the patch matrix costs one pass over K x P floats;
// in exchange the convolution runs on the cache- and register-tiled,
// vectorized, multi-threaded matmul of TileAndVectorize (about 20x the
// generic loop nest on AVX2). The bias initializes the accumulator, so it
// costs nothing extra. 1x1 convolutions with stride 1 and no padding need no
// patch matrix at all at batch 1.
//
// Grouped and depthwise convolutions keep the generic lowering.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LinalgBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace strata::lowering {
namespace {

using Iter = utils::IteratorType;

/// Columns of the patch matrix are padded to a multiple of this, so the
/// matmul's register tile (two vectors of up to 16 floats) always fits.
constexpr int64_t kColumnMultiple = 16;

Value extract2D(OpBuilder &b, Location loc, Value x, int64_t rows, int64_t cols) {
  auto t = cast<RankedTensorType>(x.getType());
  auto index = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
  return b.create<tensor::ExtractSliceOp>(
      loc, RankedTensorType::get({rows, cols}, t.getElementType()), x,
      ArrayRef<OpFoldResult>{index(0), index(0)},
      ArrayRef<OpFoldResult>{index(rows), index(cols)},
      ArrayRef<OpFoldResult>{index(1), index(1)});
}

/// The patch matrix of a 2-D convolution, (C*KH*KW) x (N*OH*OW).
Value patchMatrix(OpBuilder &b, Location loc, Value xpad, nn::ConvOp op,
                  int64_t kh, int64_t kw) {
  auto xt = cast<RankedTensorType>(xpad.getType());
  auto yt = op.getType();
  int64_t n = yt.getDimSize(0), c = xt.getDimSize(1);
  int64_t oh = yt.getDimSize(2), ow = yt.getDimSize(3);
  Value col = patchColumns(b, loc, xpad, {kh, kw}, op.getStrides(), op.getDilations(),
                           {oh, ow});
  return reshapeTo(b, loc, col,
                   RankedTensorType::get({c * kh * kw, n * oh * ow}, xt.getElementType()));
}

LogicalResult lowerConvAsMatmul(nn::ConvOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  auto yt = op.getType();
  auto xt = cast<RankedTensorType>(op.getInput().getType());
  auto wt = cast<RankedTensorType>(op.getWeight().getType());
  // All three f32: bf16/f16 operands (into f32) keep the generic lowering,
  // which widens them in its body; this one reshapes them as f32.
  if (yt.getRank() != 4 || op.getGroup() != 1 || !yt.getElementType().isF32() ||
      !xt.getElementType().isF32() || !wt.getElementType().isF32() ||
      !yt.hasStaticShape() || !xt.hasStaticShape())
    return rw.notifyMatchFailure(op, "not a dense 2-D f32 convolution");
  Location loc = op.getLoc();
  Type f32 = yt.getElementType();
  int64_t n = yt.getDimSize(0), m = yt.getDimSize(1);
  int64_t oh = yt.getDimSize(2), ow = yt.getDimSize(3);
  int64_t c = wt.getDimSize(1), kh = wt.getDimSize(2), kw = wt.getDimSize(3);
  int64_t k = c * kh * kw, p = n * oh * ow;
  int64_t pp = (p + kColumnMultiple - 1) / kColumnMultiple * kColumnMultiple;

  ArrayRef<int64_t> pads = op.getPads();
  bool unitWindow = kh == 1 && kw == 1 && llvm::all_of(op.getStrides(), [](int64_t v) { return v == 1; }) &&
                    llvm::all_of(pads, [](int64_t v) { return v == 0; });
  Value col;
  if (unitWindow && n == 1) {
    col = reshapeTo(rw, loc, op.getInput(), RankedTensorType::get({k, p}, f32));
  } else {
    Value xpad = padWith(rw, loc, op.getInput(), {0, 0, pads[0], pads[1]},
                         {0, 0, pads[2], pads[3]}, 0.0);
    col = patchMatrix(rw, loc, xpad, op, kh, kw);
  }
  if (pp != p)
    col = padWith(rw, loc, col, {0, 0}, {0, pp - p}, 0.0);

  // Accumulator: the bias broadcast along columns, or zeros.
  auto accType = RankedTensorType::get({m, pp}, f32);
  Value acc;
  if (Value bias = op.getBias()) {
    MLIRContext *ctx = rw.getContext();
    acc = rw.create<linalg::GenericOp>(
                loc, TypeRange{accType}, ValueRange{bias},
                ValueRange{emptyTensor(rw, loc, accType)},
                ArrayRef<AffineMap>{AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx),
                                    rw.getMultiDimIdentityMap(2)},
                SmallVector<Iter>(2, Iter::parallel),
                [](OpBuilder &nb, Location nl, ValueRange args) {
                  nb.create<linalg::YieldOp>(nl, args[0]);
                })
              .getResult(0);
  } else {
    acc = filled(rw, loc, accType, 0.0);
  }
  Value w = reshapeTo(rw, loc, op.getWeight(), RankedTensorType::get({m, k}, f32));
  Value y = rw.create<linalg::MatmulOp>(loc, ValueRange{w, col}, ValueRange{acc})
                .getResult(0);
  if (pp != p)
    y = extract2D(rw, loc, y, m, p);
  if (n == 1) {
    rw.replaceOp(op, reshapeTo(rw, loc, y, yt));
    return success();
  }
  // [M, N*OH*OW] -> [N, M, OH, OW].
  Value mnhw = reshapeTo(rw, loc, y, RankedTensorType::get({m, n, oh, ow}, f32));
  rw.replaceOpWithNewOp<linalg::TransposeOp>(op, mnhw, emptyTensor(rw, loc, yt),
                                             ArrayRef<int64_t>{1, 0, 2, 3});
  return success();
}

} // namespace

void populateConvAsMatmulLowering(RewritePatternSet &patterns) {
  // Preferred over the generic convolution where it applies.
  patterns.add(lowerConvAsMatmul, /*benefit=*/2);
}

} // namespace strata::lowering
