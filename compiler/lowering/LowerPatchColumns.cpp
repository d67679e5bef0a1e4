//===- LowerPatchColumns.cpp - nn.im2col and nn.col2im ---------------------===//
//
// The ops convolution gradients are built from.
//
// nn.im2col is the forward convolution's patch generic (patchColumns), on
// the input padded the same way, so CSE merges it with the forward pass's.
//
// nn.col2im sums columns [C, k..., N, o...] back into the convolution
// input's positions: input position o * stride + k * dilation - pad gets
// columns[c, k, n, o]. Written as a gather (every output looks for the
// windows that read it), the innermost loop runs over kernel offsets with
// a bounds check and a select per tap, and cannot vectorize; LeNet-5's
// training step spent 14% of its time there.
//
// Here it is a scatter without conflicts instead: a zeroed, padded image is
// updated once per kernel offset k, adding the [N, C, o...] slice of the
// columns for k to the strided window of the image that offset reads
// (tensor.extract_slice / linalg.generic / tensor.insert_slice, which
// bufferize in place). Each update is a plain elementwise loop over
// contiguous output rows, so it vectorizes and runs in parallel over the
// batch; the padding is cropped at the end. KH*KW small loops replace one
// loop with KH*KW taps per element.
//
// nn.conv_input_grad becomes nn ops again: the columns W^T dY ([C*k, N*o],
// a matmul) summed back into input positions by nn.col2im.
//
// nn.conv_filter_grad becomes nn ops again: dW^T = cols(x) dY, the patch
// columns of the input ([C*k, N*o], what the forward convolution
// multiplies its weights with, so both share one copy) times the output
// gradient with positions as rows ([N*o, O]). Written as a convolution
// over the batch instead, the "kernel" would be the output gradient and
// the patch matrix would have only k columns (LeNet-5: 36864 x 25), which
// is slow to build and multiply.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LinalgBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace strata::lowering {
namespace {

using Iter = utils::IteratorType;

LogicalResult lowerIm2Col(nn::Im2ColOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  int64_t s = op.getKernelShape().size();
  ArrayRef<int64_t> pads = op.getPads();
  SmallVector<int64_t> low{0, 0}, high{0, 0};
  low.append(pads.begin(), pads.begin() + s);
  high.append(pads.begin() + s, pads.end());
  Value xpad = padWith(rw, op.getLoc(), op.getInput(), low, high, 0.0);
  ArrayRef<int64_t> windows = op.getType().getShape().take_back(s);
  rw.replaceOp(op, patchColumns(rw, op.getLoc(), xpad, op.getKernelShape(), op.getStrides(),
                                op.getDilations(), windows));
  return success();
}

LogicalResult decomposeConvFilterGrad(nn::ConvFilterGradOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  nn::NNBuilder b(rw, op.getLoc());
  Value x = op.getInput(), dy = op.getOutputGrad();
  ArrayRef<int64_t> ws = op.getType().getShape(),
                    ys = cast<RankedTensorType>(dy.getType()).getShape();
  int64_t s = ws.size() - 2, n = ys[0], c = ws[1], o = ws[0];
  SmallVector<int64_t> kernel(ws.begin() + 2, ws.end()), toRows{0}, colShape{c};
  int64_t kernelSize = 1, positions = n;
  for (int64_t i = 0; i < s; ++i) {
    kernelSize *= ws[2 + i];
    positions *= ys[2 + i];
    toRows.push_back(2 + i);
  }
  toRows.push_back(1);
  colShape.append(kernel.begin(), kernel.end());
  colShape.push_back(n);
  colShape.append(ys.begin() + 2, ys.end());
  auto colsType = RankedTensorType::get(colShape, op.getType().getElementType());
  Value cols = rw.create<nn::Im2ColOp>(op.getLoc(), colsType, x,
                                       rw.getDenseI64ArrayAttr(kernel), op.getStridesAttr(),
                                       op.getPadsAttr(), op.getDilationsAttr());
  Value dyRows = b.reshape(b.transpose(dy, toRows), {positions, o});
  Value dwT = b.matmul(b.reshape(cols, {c * kernelSize, positions}), dyRows);
  rw.replaceOp(op, b.reshape(b.transposeLast2(dwT), ws));
  return success();
}

LogicalResult decomposeConvInputGrad(nn::ConvInputGradOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  nn::NNBuilder b(rw, op.getLoc());
  Value dy = op.getOutputGrad(), w = op.getWeight();
  ArrayRef<int64_t> ws = cast<RankedTensorType>(w.getType()).getShape(),
                    ys = cast<RankedTensorType>(dy.getType()).getShape();
  int64_t s = ws.size() - 2, n = ys[0], c = ws[1], o = ws[0];
  SmallVector<int64_t> colShape{c}, swapChannels{1, 0};
  int64_t kernelSize = 1, positions = n;
  for (int64_t i = 0; i < s; ++i) {
    kernelSize *= ws[2 + i];
    positions *= ys[2 + i];
    colShape.push_back(ws[2 + i]);
    swapChannels.push_back(2 + i);
  }
  colShape.push_back(n);
  colShape.append(ys.begin() + 2, ys.end());
  Value wT = b.transposeLast2(b.reshape(w, {o, c * kernelSize}));
  Value dyT = b.reshape(b.transpose(dy, swapChannels), {o, positions});
  Value cols = b.reshape(b.matmul(wT, dyT), colShape);
  rw.replaceOpWithNewOp<nn::Col2ImOp>(op, op.getType(), cols, op.getStridesAttr(),
                                      op.getPadsAttr(), op.getDilationsAttr());
  return success();
}

LogicalResult lowerCol2Im(nn::Col2ImOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rw.getContext();
  RankedTensorType outType = op.getType();
  Value cols = op.getColumns();
  auto colsType = cast<RankedTensorType>(cols.getType());
  Type et = outType.getElementType();
  int64_t rank = outType.getRank(), s = rank - 2;
  int64_t n = outType.getDimSize(0), c = outType.getDimSize(1);
  ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(),
                    pads = op.getPads();
  ArrayRef<int64_t> colShape = colsType.getShape();
  ArrayRef<int64_t> kernel = colShape.slice(1, s), windows = colShape.slice(2 + s, s);

  // The padded image every window lies in; positions past the input's end
  // (pads, or rows a floor-mode window count never reaches) are cropped.
  SmallVector<int64_t> padded{n, c};
  bool crop = false;
  for (int64_t i = 0; i < s; ++i) {
    int64_t reach = (windows[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1;
    int64_t extent = std::max(outType.getDimSize(2 + i) + pads[i], reach);
    crop |= pads[i] != 0 || extent != outType.getDimSize(2 + i);
    padded.push_back(extent);
  }
  Value image = filled(rw, loc, RankedTensorType::get(padded, et), 0.0);

  auto index = [&](int64_t v) -> OpFoldResult { return rw.getIndexAttr(v); };
  SmallVector<int64_t> windowShape{n, c};
  windowShape.append(windows.begin(), windows.end());
  auto windowType = RankedTensorType::get(windowShape, et);
  // The columns of one offset, [C, N, o...], read transposed to [N, C, o...].
  SmallVector<AffineExpr> readExprs{getAffineDimExpr(1, ctx), getAffineDimExpr(0, ctx)};
  for (int64_t i = 0; i < s; ++i)
    readExprs.push_back(getAffineDimExpr(2 + i, ctx));
  AffineMap readColumns = AffineMap::get(rank, 0, readExprs, ctx);

  int64_t offsets = 1;
  for (int64_t k : kernel)
    offsets *= k;
  SmallVector<int64_t> k(s, 0);
  for (int64_t linear = 0; linear < offsets; ++linear) {
    // Slice of the columns at kernel offset k: [C, 1..., N, o...] -> [C, N, o...].
    SmallVector<OpFoldResult> colOffsets{index(0)}, colSizes{index(c)}, ones;
    for (int64_t i = 0; i < s; ++i) {
      colOffsets.push_back(index(k[i]));
      colSizes.push_back(index(1));
    }
    colOffsets.push_back(index(0));
    colSizes.push_back(index(n));
    for (int64_t i = 0; i < s; ++i) {
      colOffsets.push_back(index(0));
      colSizes.push_back(index(windows[i]));
    }
    ones.assign(colShape.size(), index(1));
    SmallVector<int64_t> sliceShape{c, n};
    sliceShape.append(windows.begin(), windows.end());
    Value slice = rw.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(sliceShape, et), cols, colOffsets, colSizes, ones);

    // The image positions this offset read: start k * dilation, step stride.
    SmallVector<OpFoldResult> at{index(0), index(0)}, sizes{index(n), index(c)},
        steps{index(1), index(1)};
    for (int64_t i = 0; i < s; ++i) {
      at.push_back(index(k[i] * dilations[i]));
      sizes.push_back(index(windows[i]));
      steps.push_back(index(strides[i]));
    }
    Value window = rw.create<tensor::ExtractSliceOp>(loc, windowType, image, at, sizes, steps);
    Value sum = rw.create<linalg::GenericOp>(
                      loc, TypeRange{windowType}, ValueRange{slice}, ValueRange{window},
                      ArrayRef<AffineMap>{readColumns, rw.getMultiDimIdentityMap(rank)},
                      SmallVector<Iter>(rank, Iter::parallel),
                      [](OpBuilder &nb, Location nl, ValueRange args) {
                        nb.create<linalg::YieldOp>(nl, add(nb, nl, args[1], args[0]));
                      })
                    .getResult(0);
    image = rw.create<tensor::InsertSliceOp>(loc, sum, image, at, sizes, steps);

    // Next offset, last kernel dimension fastest (the columns' order).
    for (int64_t i = s - 1; i >= 0; --i) {
      if (++k[i] < kernel[i])
        break;
      k[i] = 0;
    }
  }

  if (!crop) {
    rw.replaceOp(op, image);
    return success();
  }
  SmallVector<OpFoldResult> at{index(0), index(0)}, sizes{index(n), index(c)};
  for (int64_t i = 0; i < s; ++i) {
    at.push_back(index(pads[i]));
    sizes.push_back(index(outType.getDimSize(2 + i)));
  }
  SmallVector<OpFoldResult> unit(rank, index(1));
  rw.replaceOpWithNewOp<tensor::ExtractSliceOp>(op, outType, image, at, sizes, unit);
  return success();
}

} // namespace

void populatePatchColumnsLowering(RewritePatternSet &patterns) {
  patterns.add(lowerIm2Col);
  patterns.add(lowerCol2Im);
  patterns.add(decomposeConvFilterGrad);
  patterns.add(decomposeConvInputGrad);
}

} // namespace strata::lowering
