//===- DirectConv.cpp - small convolutions straight from the input rows ---===//
//
// Convolutions with few output channels (LeNet-5's first layer: 1 -> 6
// channels, 5x5) and small weight and input gradients, for the CPU. Through a patch
// matrix, every input value is copied KH*KW times into a [C*k, N*o] matrix
// (LeNet-5: 25 x 36864 floats, 3.7 MB per step) that the matmul then reads
// back to use each value only O times; building and reading it took a
// quarter of LeNet-5's training step. Here the kernels read the input rows
// themselves:
//
// - nn.conv (optionally followed by its only user, nn.relu): one work item
//   per output row (n, oh). Output channels are taken in register tiles;
//   for each tap (c, ky, kx) the input row shifted by kx is loaded once as a
//   vector and multiplied into every channel of the tile with the tap's
//   weight broadcast (vector.fma). Bias and relu are applied in registers.
//
// - nn.conv_filter_grad: dW[o, c, ky, kx] is the dot product of output
//   gradient rows with input rows shifted by (ky, kx). One work item per
//   (batch part, channel pair, c, ky) keeps 2 x KW vector accumulators in
//   registers over all rows of its part, loading each output-gradient vector
//   once and each shifted input vector once per pair; the partial sums of
//   the batch parts are added at the end.
//
// - nn.conv_input_grad: instead of W^T dY into a zeroed column matrix
//   (LeNet-5: 150 x 4096 floats) and col2im, one work item per input row
//   (n, h): per channel pair, KW vector accumulators sum the output-gradient
//   rows h - ky that exist times broadcast weights over (o, ky), and the
//   input row is their sum shifted by kx.
//
// All need stride 1 and dilation 1 (padding is a padded copy of the input,
// which CSE shares between forward and weight gradient, or a crop of the
// input gradient) and are left to the generic lowering otherwise.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/VectorBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_DIRECTCONV
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::cpu;
namespace nn = strata::nn;

namespace {

/// Accumulator registers a tile may use (of 16, leaving room for loads).
constexpr int64_t kAccumulators = 12;
/// Output rows longer than this stay on the generic lowering (the forward
/// kernel keeps whole rows in registers).
constexpr int64_t kMaxRow = 32;
/// Direct convolutions up to this many output channels; beyond, each patch
/// value is reused often enough for the patch matrix to pay off.
constexpr int64_t kMaxForwardChannels = 8;
/// Direct weight gradients up to this many output channels (the generic
/// one is a matmul only this wide, bound by reading its patch matrix).
constexpr int64_t kMaxFilterGradChannels = 16;
/// Work items the weight gradient aims for, by splitting the batch.
constexpr int64_t kMinFilterGradItems = 32;

/// A stride-1, dilation-1 2-D convolution on a padded input.
struct Geometry {
  int64_t n, c, h, w; // padded input
  int64_t o, kh, kw;  // weights
  int64_t oh, ow;     // output
};

std::optional<Geometry> geometryOf(RankedTensorType in, ArrayRef<int64_t> weightShape,
                                   ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                                   ArrayRef<int64_t> dilations) {
  if (in.getRank() != 4 || !in.hasStaticShape() || !generatedKernelsTake(in.getElementType()) ||
      weightShape.size() != 4 || ShapedType::isDynamicShape(weightShape) ||
      llvm::any_of(strides, [](int64_t s) { return s != 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d != 1; }) ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return std::nullopt;
  Geometry g{in.getDimSize(0), in.getDimSize(1),
             in.getDimSize(2) + pads[0] + pads[2], in.getDimSize(3) + pads[1] + pads[3],
             weightShape[0], weightShape[2], weightShape[3], 0, 0};
  if (weightShape[1] != g.c)
    return std::nullopt;
  g.oh = g.h - g.kh + 1;
  g.ow = g.w - g.kw + 1;
  if (g.oh < 1 || g.ow < 1)
    return std::nullopt;
  return g;
}

std::optional<Geometry> geometryOf(Value input, ArrayRef<int64_t> weightShape,
                                   ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                                   ArrayRef<int64_t> dilations) {
  auto in = cast<RankedTensorType>(input.getType());
  return geometryOf(in, weightShape, strides, pads, dilations);
}

/// The input with the convolution's zero padding.
Value padded(PatternRewriter &rw, Location loc, Value x, ArrayRef<int64_t> pads) {
  return strata::lowering::padWith(rw, loc, x, {0, 0, pads[0], pads[1]},
                                   {0, 0, pads[2], pads[3]}, 0.0);
}

/// The rows (n, :, h, :) of an NCHW result, as a [channels, width] slice;
/// sets the item's `offsets` and `sizes` to write it back.
Value channelRows(OpBuilder &b, Location loc, Value out, Value n, Value h, int64_t channels,
                  int64_t width, SmallVectorImpl<OpFoldResult> &offsets,
                  SmallVectorImpl<OpFoldResult> &sizes) {
  offsets.assign({n, b.getIndexAttr(0), h, b.getIndexAttr(0)});
  sizes.assign({b.getIndexAttr(1), b.getIndexAttr(channels), b.getIndexAttr(1),
                b.getIndexAttr(width)});
  return sliceOf(b, loc, out, offsets, sizes, {channels, width});
}

bool directForward(nn::ConvOp conv) {
  std::optional<Geometry> g =
      geometryOf(conv.getInput(), cast<RankedTensorType>(conv.getWeight().getType()).getShape(),
                 conv.getStrides(), conv.getPads(), conv.getDilations());
  return conv.getGroup() == 1 && g && g->o <= kMaxForwardChannels && g->ow <= kMaxRow;
}

/// y = conv(x, w) + b, then max(y, 0) if `relu`, one output row per item.
Value buildForward(PatternRewriter &rw, nn::ConvOp conv, bool relu,
                   RankedTensorType resultType, int64_t lanes) {
  Location loc = conv.getLoc();
  Value w = conv.getWeight(), bias = conv.getBias();
  Geometry g = *geometryOf(conv.getInput(), cast<RankedTensorType>(w.getType()).getShape(),
                           conv.getStrides(), conv.getPads(), conv.getDilations());
  Value x = padded(rw, loc, conv.getInput(), conv.getPads());
  // Channel tiles of equal size whose accumulators (rows of `registers`
  // vectors each) fit in kAccumulators registers.
  lanes = rowLanes(g.ow, lanes);
  int64_t registers = (g.ow + lanes - 1) / lanes;
  int64_t maxTile = std::max<int64_t>(1, kAccumulators / registers);
  int64_t tiles = (g.o + maxTile - 1) / maxTile;
  int64_t tile = (g.o + tiles - 1) / tiles;
  auto rowType = VectorType::get({g.ow}, rw.getF32Type());

  return forEachItem(
      rw, loc, {g.n, g.oh}, resultType,
      [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
          SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
        Value n = ivs[0], oh = ivs[1], zero = zeros(b, loc, rowType);
        Value rows = channelRows(b, loc, out, n, oh, g.o, g.ow, offsets, sizes);
        for (int64_t first = 0; first < g.o; first += tile) {
          int64_t count = std::min(tile, g.o - first);
          SmallVector<Value> inits;
          for (int64_t j = 0; j < count; ++j)
            inits.push_back(bias ? b.create<vector::BroadcastOp>(
                                        loc, rowType,
                                        b.create<tensor::ExtractOp>(
                                            loc, bias, ValueRange{index(b, loc, first + j)}))
                                       .getResult()
                                 : zero);
          auto channels = b.create<scf::ForOp>(
              loc, index(b, loc, 0), index(b, loc, g.c), index(b, loc, 1), inits,
              [&](OpBuilder &b, Location loc, Value c, ValueRange accs) {
                SmallVector<Value> next(accs);
                for (int64_t ky = 0; ky < g.kh; ++ky)
                  for (int64_t kx = 0; kx < g.kw; ++kx) {
                    Value row = b.create<vector::TransferReadOp>(
                        loc, rowType, x,
                        ValueRange{n, c, addIndex(b, loc, oh, ky), index(b, loc, kx)},
                        ArrayRef<bool>{true});
                    for (int64_t j = 0; j < count; ++j) {
                      Value weight = b.create<tensor::ExtractOp>(
                          loc, w,
                          ValueRange{index(b, loc, first + j), c, index(b, loc, ky),
                                     index(b, loc, kx)});
                      Value splat = b.create<vector::BroadcastOp>(loc, rowType, weight);
                      next[j] = b.create<vector::FMAOp>(loc, row, splat, next[j]);
                    }
                  }
                b.create<scf::YieldOp>(loc, next);
              });
          for (int64_t j = 0; j < count; ++j) {
            Value acc = channels.getResult(j);
            if (relu)
              acc = b.create<arith::MaximumFOp>(loc, acc, zero);
            rows = b.create<vector::TransferWriteOp>(
                        loc, acc, rows, ValueRange{index(b, loc, first + j), index(b, loc, 0)},
                        ArrayRef<bool>{true})
                       .getResult();
          }
        }
        return rows;
      });
}

void recordDirect(Operation *kernel, nn::ConvOp conv) {
  auto out = cast<RankedTensorType>(conv.getType());
  recordKernel(kernel, "direct convolution (vector FMAs from the input rows)",
               llvm::formatv("stride 1, {0} output channels (at most {1}), rows of {2} "
                             "(at most {3})",
                             out.getDimSize(1), kMaxForwardChannels, out.getDimSize(3), kMaxRow));
}

/// A convolution with few output channels, not followed by a relu (the
/// relu pattern takes those, to apply it in registers).
struct DirectConvForward : OpRewritePattern<nn::ConvOp> {
  DirectConvForward(MLIRContext *ctx, int64_t lanes) : OpRewritePattern(ctx), lanes(lanes) {}
  int64_t lanes; ///< f32 lanes of the target's vector registers

  LogicalResult matchAndRewrite(nn::ConvOp op, PatternRewriter &rw) const override {
    if (!directForward(op))
      return rw.notifyMatchFailure(op, "not a small stride-1 convolution");
    if (op->hasOneUse() && isa<nn::ReluOp>(*op->user_begin()))
      return rw.notifyMatchFailure(op, "left for the relu pattern");
    Value y = buildForward(rw, op, /*relu=*/false, op.getType(), lanes);
    recordDirect(y.getDefiningOp(), op);
    rw.replaceOp(op, y);
    return success();
  }
};

struct DirectConvRelu : OpRewritePattern<nn::ReluOp> {
  DirectConvRelu(MLIRContext *ctx, int64_t lanes) : OpRewritePattern(ctx), lanes(lanes) {}
  int64_t lanes; ///< f32 lanes of the target's vector registers

  LogicalResult matchAndRewrite(nn::ReluOp op, PatternRewriter &rw) const override {
    auto conv = op.getOperand().getDefiningOp<nn::ConvOp>();
    if (!conv || !conv->hasOneUse() || !directForward(conv))
      return rw.notifyMatchFailure(op, "not the relu of a small stride-1 convolution");
    rw.setInsertionPoint(conv);
    Value y = buildForward(rw, conv, /*relu=*/true, cast<RankedTensorType>(op.getType()), lanes);
    y.getDefiningOp()->setLoc(rw.getFusedLoc({conv.getLoc(), op.getLoc()}));
    recordDirect(y.getDefiningOp(), conv);
    rw.replaceOp(op, y);
    rw.eraseOp(conv);
    return success();
  }
};

/// dW = sum over batch and positions of dY rows times shifted input rows.
struct DirectFilterGrad : OpRewritePattern<nn::ConvFilterGradOp> {
  DirectFilterGrad(MLIRContext *ctx, int64_t lanes) : OpRewritePattern(ctx), lanes(lanes) {}
  int64_t lanes; ///< f32 lanes of the target's vector registers

  LogicalResult matchAndRewrite(nn::ConvFilterGradOp op, PatternRewriter &rw) const override {
    RankedTensorType dwType = op.getType();
    std::optional<Geometry> found = geometryOf(op.getInput(), dwType.getShape(),
                                               op.getStrides(), op.getPads(), op.getDilations());
    if (!found || found->o > kMaxFilterGradChannels || found->kw + 1 > 15)
      return rw.notifyMatchFailure(op, "not a small stride-1 weight gradient");
    Geometry g = *found;
    Location loc = op.getLoc();
    Value x = padded(rw, loc, op.getInput(), op.getPads()), dy = op.getOutputGrad();
    // Channels per item: the largest divisor of O whose tile x KW
    // accumulators, its dY vectors and one input vector fit in 16 registers.
    int64_t tile = 1;
    for (int64_t t = 2; t <= g.o; ++t)
      if (g.o % t == 0 && t * (g.kw + 1) + 1 <= 16)
        tile = t;
    int64_t perBatch = (g.o / tile) * g.c * g.kh;
    int64_t parts = 1;
    while (perBatch * parts < kMinFilterGradItems && g.n % (parts * 2) == 0)
      parts *= 2;
    int64_t imagesPerPart = g.n / parts;
    int64_t lanes = rowLanes(g.ow, this->lanes);
    auto laneType = VectorType::get({lanes}, rw.getF32Type());
    auto tapsType = VectorType::get({g.kw}, rw.getF32Type());
    auto partialType =
        RankedTensorType::get({parts, g.o, g.c, g.kh, g.kw}, rw.getF32Type());

    Value partial = forEachItem(
        rw, loc, {parts, g.o / tile, g.c, g.kh}, partialType,
        [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
            SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
          Value part = ivs[0], c = ivs[2], ky = ivs[3];
          Value first = b.create<arith::MulIOp>(loc, ivs[1], index(b, loc, tile));
          Value zero = zeros(b, loc, laneType);
          // One step: lanes output positions from `ow` of row (n, oh).
          auto step = [&](OpBuilder &b, Location loc, Value n, Value oh, Value ow,
                          bool inBounds, ValueRange accs) {
            SmallVector<Value> next(accs), grads;
            for (int64_t j = 0; j < tile; ++j)
              grads.push_back(b.create<vector::TransferReadOp>(
                  loc, laneType, dy, ValueRange{n, addIndex(b, loc, first, j), oh, ow},
                  ArrayRef<bool>{inBounds}));
            Value h = b.create<arith::AddIOp>(loc, oh, ky);
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              Value in = b.create<vector::TransferReadOp>(
                  loc, laneType, x, ValueRange{n, c, h, addIndex(b, loc, ow, kx)},
                  ArrayRef<bool>{inBounds});
              for (int64_t j = 0; j < tile; ++j)
                next[j * g.kw + kx] =
                    b.create<vector::FMAOp>(loc, grads[j], in, next[j * g.kw + kx]);
            }
            return next;
          };
          Value firstImage = b.create<arith::MulIOp>(loc, part, index(b, loc, imagesPerPart));
          Value lastImage = addIndex(b, loc, firstImage, imagesPerPart);
          SmallVector<Value> inits(tile * g.kw, zero);
          int64_t full = g.ow / lanes * lanes;
          auto images = b.create<scf::ForOp>(
              loc, firstImage, lastImage, index(b, loc, 1), inits,
              [&](OpBuilder &b, Location loc, Value n, ValueRange accs) {
                auto rows = b.create<scf::ForOp>(
                    loc, index(b, loc, 0), index(b, loc, g.oh), index(b, loc, 1), accs,
                    [&](OpBuilder &b, Location loc, Value oh, ValueRange accs) {
                      SmallVector<Value> sums(accs);
                      if (full > 0) {
                        auto chunks = b.create<scf::ForOp>(
                            loc, index(b, loc, 0), index(b, loc, full), index(b, loc, lanes),
                            sums, [&](OpBuilder &b, Location loc, Value ow, ValueRange accs) {
                              b.create<scf::YieldOp>(loc, step(b, loc, n, oh, ow, true, accs));
                            });
                        sums.assign(chunks.getResults().begin(), chunks.getResults().end());
                      }
                      // The row's tail reads masked (zero) lanes past its end.
                      if (full < g.ow)
                        sums = step(b, loc, n, oh, index(b, loc, full), false, sums);
                      b.create<scf::YieldOp>(loc, sums);
                    });
                b.create<scf::YieldOp>(loc, rows.getResults());
              });
          offsets.assign({part, first, c, ky, b.getIndexAttr(0)});
          sizes.assign({b.getIndexAttr(1), b.getIndexAttr(tile), b.getIndexAttr(1),
                        b.getIndexAttr(1), b.getIndexAttr(g.kw)});
          Value taps = sliceOf(b, loc, out, offsets, sizes, {tile, g.kw});
          for (int64_t j = 0; j < tile; ++j) {
            Value row = zeros(b, loc, tapsType);
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              Value sum = b.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD,
                                                        images.getResult(j * g.kw + kx));
              row = b.create<vector::InsertOp>(loc, sum, row, kx);
            }
            taps = b.create<vector::TransferWriteOp>(
                       loc, row, taps, ValueRange{index(b, loc, j), index(b, loc, 0)},
                       ArrayRef<bool>{true})
                       .getResult();
          }
          return taps;
        });

    // Sum the batch parts.
    Value zero = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(0.0f));
    Value init = rw.create<tensor::EmptyOp>(loc, dwType.getShape(), dwType.getElementType());
    Value filled = rw.create<linalg::FillOp>(loc, ValueRange{zero}, ValueRange{init}).getResult(0);
    auto sum = rw.create<linalg::ReduceOp>(
        loc, ValueRange{partial}, ValueRange{filled}, ArrayRef<int64_t>{0},
        [](OpBuilder &b, Location loc, ValueRange args) {
          b.create<linalg::YieldOp>(loc, b.create<arith::AddFOp>(loc, args[0], args[1]).getResult());
        });
    rw.replaceOp(op, sum.getResult(0));
    return success();
  }
};

/// dX from dY rows: per input row (n, h) and channel tile, KW accumulators
/// per channel sum dY row h - ky times the broadcast weight W[o, c, ky, kx]
/// over (o, ky); the dX row is the sum of accumulator kx shifted by kx.
struct DirectInputGrad : OpRewritePattern<nn::ConvInputGradOp> {
  DirectInputGrad(MLIRContext *ctx, int64_t lanes) : OpRewritePattern(ctx), lanes(lanes) {}
  int64_t lanes; ///< f32 lanes of the target's vector registers

  LogicalResult matchAndRewrite(nn::ConvInputGradOp op, PatternRewriter &rw) const override {
    RankedTensorType dxType = op.getType();
    Value dy = op.getOutputGrad(), w = op.getWeight();
    std::optional<Geometry> found =
        geometryOf(dxType, cast<RankedTensorType>(w.getType()).getShape(), op.getStrides(),
                   op.getPads(), op.getDilations());
    if (!found)
      return rw.notifyMatchFailure(op, "not a stride-1 convolution's input gradient");
    Geometry g = *found;
    int64_t lanes = rowLanes(g.ow, this->lanes);
    int64_t registers = (g.ow + lanes - 1) / lanes;
    // Channels per tile: the largest divisor of C whose KW accumulators
    // each fit in kAccumulators registers.
    int64_t tile = 0;
    for (int64_t t = 1; t <= g.c; ++t)
      if (g.c % t == 0 && t * g.kw * registers <= kAccumulators)
        tile = t;
    if (tile == 0 || g.w > kMaxRow || g.c > kMaxFilterGradChannels)
      return rw.notifyMatchFailure(op, "rows or kernel too wide for register accumulators");
    Location loc = op.getLoc();
    auto rowType = VectorType::get({g.ow}, rw.getF32Type());
    auto wideType = VectorType::get({g.w}, rw.getF32Type());
    auto paddedType = RankedTensorType::get({g.n, g.c, g.h, g.w}, rw.getF32Type());

    Value dxp = forEachItem(
        rw, loc, {g.n, g.h}, paddedType,
        [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
            SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
          Value n = ivs[0], h = ivs[1], zero = zeros(b, loc, rowType);
          Value rows = channelRows(b, loc, out, n, h, g.c, g.w, offsets, sizes);
          // The kernel rows whose output row h - ky exists.
          Value firstKy = b.create<arith::MaxSIOp>(
              loc, index(b, loc, 0), b.create<arith::SubIOp>(loc, h, index(b, loc, g.oh - 1)));
          Value endKy = b.create<arith::MinSIOp>(loc, index(b, loc, g.kh), addIndex(b, loc, h, 1));
          for (int64_t first = 0; first < g.c; first += tile) {
            SmallVector<Value> inits(tile * g.kw, zero);
            auto channels = b.create<scf::ForOp>(
                loc, index(b, loc, 0), index(b, loc, g.o), index(b, loc, 1), inits,
                [&](OpBuilder &b, Location loc, Value o, ValueRange accs) {
                  auto taps = b.create<scf::ForOp>(
                      loc, firstKy, endKy, index(b, loc, 1), accs,
                      [&](OpBuilder &b, Location loc, Value ky, ValueRange accs) {
                        SmallVector<Value> next(accs);
                        Value row = b.create<vector::TransferReadOp>(
                            loc, rowType, dy,
                            ValueRange{n, o, b.create<arith::SubIOp>(loc, h, ky),
                                       index(b, loc, 0)},
                            ArrayRef<bool>{true});
                        for (int64_t j = 0; j < tile; ++j)
                          for (int64_t kx = 0; kx < g.kw; ++kx) {
                            Value weight = b.create<tensor::ExtractOp>(
                                loc, w,
                                ValueRange{o, index(b, loc, first + j), ky, index(b, loc, kx)});
                            Value splat = b.create<vector::BroadcastOp>(loc, rowType, weight);
                            next[j * g.kw + kx] =
                                b.create<vector::FMAOp>(loc, row, splat, next[j * g.kw + kx]);
                          }
                        b.create<scf::YieldOp>(loc, next);
                      });
                  b.create<scf::YieldOp>(loc, taps.getResults());
                });
            Value wideZero = zeros(b, loc, wideType);
            for (int64_t j = 0; j < tile; ++j) {
              Value sum = wideZero;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                Value shifted = b.create<vector::InsertStridedSliceOp>(
                    loc, channels.getResult(j * g.kw + kx), wideZero, ArrayRef<int64_t>{kx},
                    ArrayRef<int64_t>{1});
                sum = b.create<arith::AddFOp>(loc, sum, shifted);
              }
              rows = b.create<vector::TransferWriteOp>(
                         loc, sum, rows, ValueRange{index(b, loc, first + j), index(b, loc, 0)},
                         ArrayRef<bool>{true})
                         .getResult();
            }
          }
          return rows;
        });
    // The padding's gradient is dropped.
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
      SmallVector<OpFoldResult> at{rw.getIndexAttr(0), rw.getIndexAttr(0),
                                   rw.getIndexAttr(pads[0]), rw.getIndexAttr(pads[1])};
      SmallVector<OpFoldResult> sizes, ones(4, rw.getIndexAttr(1));
      for (int64_t d : dxType.getShape())
        sizes.push_back(rw.getIndexAttr(d));
      dxp = rw.create<tensor::ExtractSliceOp>(loc, dxType, dxp, at, sizes, ones);
    }
    rw.replaceOp(op, dxp);
    return success();
  }
};

struct DirectConvPass : strata::impl::DirectConvBase<DirectConvPass> {
  using DirectConvBase::DirectConvBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DirectConvForward, DirectConvRelu, DirectFilterGrad, DirectInputGrad>(
        &getContext(), vectorBits / 32);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
