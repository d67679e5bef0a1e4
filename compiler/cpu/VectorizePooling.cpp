//===- VectorizePooling.cpp - tiling max pooling as whole-row vector code -===//
//
// 2-D max pooling whose windows tile the input (kernel == stride, no
// padding or dilation, H = OH*KH and W = OW*KW: LeNet's 2x2 stride 2) and
// its gradient, for the CPU. The generic lowering reads each window with
// strided scalar loads and a branchy scalar max that LLVM does not
// vectorize (rows of 12 or 4 outputs are below its trip-count threshold);
// the gradient first materializes every window's argmax as i64 and then
// routes each input position to it with a division. Here one work item is
// one output row: its KH input rows are read as vectors and combined, and
// vector.shuffle splits them into their KW interleaved lanes. The gradient
// recomputes each window's first maximum (the same ordered `>` chain as
// the generic argmax) in registers and interleaves the routed rows back.
//
// Also max pooling in oneDNN's blocked layout (onednn.pool on nChw<block>c,
// ResNet's 3x3 stride 2 pad 1): one work item per output row (n, channel
// block, oh), each output the max of its window's 8-channel vectors. A
// padded position is read at the nearest index inside the input instead,
// which is in the same window and so cannot change its max. oneDNN's AVX2
// kernel took 0.9-1.3 ms on ResNet-18's 64 x 112x112 input at one thread
// (ONNX Runtime's 0.34 ms).
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/VectorBuilders.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_VECTORIZEPOOLING
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::cpu;
namespace nn = strata::nn;
namespace onednn = strata::onednn;

namespace {

/// Rows longer than this stay on the generic lowering (one vector value
/// per row; LLVM splits it into registers).
constexpr int64_t kMaxRow = 256;

struct Tiling {
  int64_t n, c, oh, ow, kh, kw;
  int64_t width() const { return ow * kw; }
};

/// The pooling's shape if its windows tile the whole input.
std::optional<Tiling> tilingOf(Value input, Type output, ArrayRef<int64_t> k,
                               ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                               ArrayRef<int64_t> dilations) {
  auto in = cast<RankedTensorType>(input.getType());
  auto out = cast<RankedTensorType>(output);
  if (in.getRank() != 4 || !in.hasStaticShape() || !out.hasStaticShape() ||
      !generatedKernelsTake(in.getElementType()) || k.size() != 2 ||
      strides != k || llvm::any_of(pads, [](int64_t p) { return p != 0; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d != 1; }))
    return std::nullopt;
  Tiling t{in.getDimSize(0), in.getDimSize(1), out.getDimSize(2), out.getDimSize(3),
           k[0], k[1]};
  if (in.getDimSize(2) != t.oh * t.kh || in.getDimSize(3) != t.width() ||
      t.width() > kMaxRow || t.kh * t.kw > 16)
    return std::nullopt;
  return t;
}

/// Every `step`-th lane of `v` from `first`: one window column of a row.
Value lanes(OpBuilder &b, Location loc, Value v, int64_t first, int64_t step,
            int64_t count) {
  if (step == 1)
    return v;
  SmallVector<int64_t> mask;
  for (int64_t i = 0; i < count; ++i)
    mask.push_back(first + i * step);
  return b.create<vector::ShuffleOp>(loc, v, v, mask);
}

/// A forall over (N, C, OH) writing into a fresh tensor of `type`; `body`
/// builds one row's ops and returns the tensor slice it wrote (at `offsets`
/// with `sizes` in the result).
using RowBody = function_ref<Value(OpBuilder &, Location, Value n, Value c,
                                   Value oh, Value out, SmallVectorImpl<OpFoldResult> &,
                                   SmallVectorImpl<OpFoldResult> &)>;

Value forEachRow(PatternRewriter &rw, Location loc, const Tiling &t,
                 RankedTensorType type, RowBody body) {
  Value init = rw.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  SmallVector<OpFoldResult> ubs{rw.getIndexAttr(t.n), rw.getIndexAttr(t.c),
                                rw.getIndexAttr(t.oh)};
  auto forall = rw.create<scf::ForallOp>(loc, ubs, ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPoint(forall.getTerminator());
  ValueRange ivs = forall.getInductionVars();
  Value out = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> offsets, sizes;
  Value row = body(rw, loc, ivs[0], ivs[1], ivs[2], out, offsets, sizes);
  rw.setInsertionPointToStart(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> ones(4, rw.getIndexAttr(1));
  rw.create<tensor::ParallelInsertSliceOp>(loc, row, out, offsets, sizes, ones);
  return forall.getResult(0);
}

/// Input row `oh * kh + ky` of (n, c) as a vector of t.width() floats.
Value readRow(OpBuilder &b, Location loc, Value x, const Tiling &t, Value n, Value c,
              Value oh, int64_t ky) {
  Value h = b.create<arith::AddIOp>(
      loc, b.create<arith::MulIOp>(loc, oh, index(b, loc, t.kh)), index(b, loc, ky));
  auto type = VectorType::get({t.width()}, b.getF32Type());
  return b.create<vector::TransferReadOp>(loc, type, x,
                                          ValueRange{n, c, h, index(b, loc, 0)},
                                          ArrayRef<bool>{true});
}

struct VectorizeMaxPool : OpRewritePattern<nn::PoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::PoolOp op, PatternRewriter &rw) const override {
    if (op.getKind() != nn::PoolKind::max)
      return rw.notifyMatchFailure(op, "not max pooling");
    std::optional<Tiling> t = tilingOf(op.getInput(), op.getType(), op.getKernelShape(),
                                       op.getStrides(), op.getPads(), op.getDilations());
    if (!t)
      return rw.notifyMatchFailure(op, "windows do not tile the input");
    Value x = op.getInput();
    Value y = forEachRow(
        rw, op.getLoc(), *t, op.getType(),
        [&](OpBuilder &b, Location loc, Value n, Value c, Value oh, Value out,
            SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
          Value rows = readRow(b, loc, x, *t, n, c, oh, 0);
          for (int64_t ky = 1; ky < t->kh; ++ky)
            rows = b.create<arith::MaximumFOp>(loc, rows, readRow(b, loc, x, *t, n, c, oh, ky));
          Value m = lanes(b, loc, rows, 0, t->kw, t->ow);
          for (int64_t kx = 1; kx < t->kw; ++kx)
            m = b.create<arith::MaximumFOp>(loc, m, lanes(b, loc, rows, kx, t->kw, t->ow));
          offsets.assign({n, c, oh, b.getIndexAttr(0)});
          sizes.assign({b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(1),
                        b.getIndexAttr(t->ow)});
          SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
          Value slice = b.create<tensor::ExtractSliceOp>(
              loc, RankedTensorType::get({t->ow}, b.getF32Type()), out, offsets, sizes, ones);
          return b.create<vector::TransferWriteOp>(loc, m, slice, ValueRange{index(b, loc, 0)},
                                                   ArrayRef<bool>{true})
              .getResult();
        });
    recordKernel(y.getDefiningOp(), "vector max pooling (row vectors and shuffles)",
                 "windows tile the input");
    rw.replaceOp(op, y);
    return success();
  }
};

struct VectorizeMaxPoolGrad : OpRewritePattern<nn::PoolGradOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::PoolGradOp op, PatternRewriter &rw) const override {
    if (op.getKind() != nn::PoolKind::max)
      return rw.notifyMatchFailure(op, "not max pooling");
    std::optional<Tiling> t =
        tilingOf(op.getInput(), op.getOutputGrad().getType(), op.getKernelShape(),
                 op.getStrides(), op.getPads(), op.getDilations());
    // Interleaving the routed lanes back is one shuffle for two lanes.
    if (!t || t->kw > 2)
      return rw.notifyMatchFailure(op, "windows do not tile the input in pairs");
    Value x = op.getInput(), dy = op.getOutputGrad();
    auto type = cast<RankedTensorType>(op.getType());
    Value dx = forEachRow(
        rw, op.getLoc(), *t, type,
        [&](OpBuilder &b, Location loc, Value n, Value c, Value oh, Value out,
            SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
          Type f32 = b.getF32Type(), i32 = b.getI32Type();
          auto laneType = VectorType::get({t->ow}, f32);
          auto indexType = VectorType::get({t->ow}, i32);
          auto splatIndex = [&](int64_t v) -> Value {
            return b.create<arith::ConstantOp>(
                loc, DenseElementsAttr::get(indexType, b.getI32IntegerAttr(v).getValue()));
          };
          // Each window's values in window order, then its first maximum.
          SmallVector<Value> rows, values;
          for (int64_t ky = 0; ky < t->kh; ++ky) {
            rows.push_back(readRow(b, loc, x, *t, n, c, oh, ky));
            for (int64_t kx = 0; kx < t->kw; ++kx)
              values.push_back(lanes(b, loc, rows.back(), kx, t->kw, t->ow));
          }
          Value best = values[0], chosen = splatIndex(0);
          for (size_t i = 1; i < values.size(); ++i) {
            Value better = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT,
                                                   values[i], best);
            best = b.create<arith::SelectOp>(loc, better, values[i], best);
            chosen = b.create<arith::SelectOp>(loc, better, splatIndex(i), chosen);
          }
          Value g = b.create<vector::TransferReadOp>(
              loc, laneType, dy, ValueRange{n, c, oh, index(b, loc, 0)}, ArrayRef<bool>{true});
          Value zero = b.create<arith::ConstantOp>(
              loc, DenseElementsAttr::get(laneType, b.getF32FloatAttr(0.0f).getValue()));
          Value h = b.create<arith::MulIOp>(loc, oh, index(b, loc, t->kh));
          offsets.assign({n, c, h, b.getIndexAttr(0)});
          sizes.assign({b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(t->kh),
                        b.getIndexAttr(t->width())});
          SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
          Value slice = b.create<tensor::ExtractSliceOp>(
              loc, RankedTensorType::get({t->kh, t->width()}, f32), out, offsets, sizes, ones);
          for (int64_t ky = 0; ky < t->kh; ++ky) {
            SmallVector<Value> routed;
            for (int64_t kx = 0; kx < t->kw; ++kx) {
              Value mine = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, chosen,
                                                   splatIndex(ky * t->kw + kx));
              routed.push_back(b.create<arith::SelectOp>(loc, mine, g, zero));
            }
            Value row = routed[0];
            if (t->kw == 2) {
              SmallVector<int64_t> interleave;
              for (int64_t i = 0; i < t->ow; ++i)
                interleave.append({i, t->ow + i});
              row = b.create<vector::ShuffleOp>(loc, routed[0], routed[1], interleave);
            }
            slice = b.create<vector::TransferWriteOp>(
                            loc, row, slice, ValueRange{index(b, loc, ky), index(b, loc, 0)},
                            ArrayRef<bool>{true})
                        .getResult();
          }
          return slice;
        });
    rw.replaceOp(op, dx);
    return success();
  }
};

/// The blocked max pooling's shape, if every window holds at least one
/// input position (then clamping padded positions is exact).
struct BlockedPool {
  int64_t n, cBlocks, h, w, oh, ow, kh, kw, sh, sw, pt, pl;
  int64_t block; ///< channels per block: floats per vector
};

std::optional<BlockedPool> blockedPoolOf(onednn::PoolOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  auto out = cast<RankedTensorType>(op.getOutput().getType());
  ArrayRef<int64_t> k = op.getKernelShape(), s = op.getStrides(), p = op.getPads();
  if (op.getLayout() == "nchw" || !in.hasStaticShape() || !out.hasStaticShape() ||
      in.getRank() != 5)
    return std::nullopt;
  BlockedPool b{in.getDimSize(0), in.getDimSize(1), in.getDimSize(2), in.getDimSize(3),
                out.getDimSize(2), out.getDimSize(3), k[0], k[1], s[0], s[1], p[0], p[1],
                in.getDimSize(4)};
  if (b.pt >= b.kh || b.pl >= b.kw || (b.oh - 1) * b.sh - b.pt > b.h - 1 ||
      (b.ow - 1) * b.sw - b.pl > b.w - 1 || b.kh * b.kw > 25)
    return std::nullopt;
  return b;
}

/// min(max(v, 0), limit - 1).
Value clampIndex(OpBuilder &b, Location loc, Value v, int64_t limit) {
  return b.create<arith::MinSIOp>(loc, b.create<arith::MaxSIOp>(loc, v, index(b, loc, 0)),
                                  index(b, loc, limit - 1));
}

/// v * scale + offset for an index v.
Value affineIndex(OpBuilder &b, Location loc, Value v, int64_t scale, int64_t offset) {
  Value scaled = b.create<arith::MulIOp>(loc, v, index(b, loc, scale));
  return b.create<arith::AddIOp>(loc, scaled, index(b, loc, offset));
}

struct VectorizeBlockedMaxPool : OpRewritePattern<onednn::PoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onednn::PoolOp op, PatternRewriter &rw) const override {
    std::optional<BlockedPool> p = blockedPoolOf(op);
    if (!p)
      return rw.notifyMatchFailure(op, "not a blocked pooling whose windows all hold input");
    Value x = op.getInput();
    auto vecType = VectorType::get({p->block}, rw.getF32Type());
    Value y = forEachItem(
        rw, op.getLoc(), {p->n, p->cBlocks, p->oh}, cast<RankedTensorType>(op.getType()),
        [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
            SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
          Value n = ivs[0], cb = ivs[1], oh = ivs[2], zero = index(b, loc, 0);
          offsets.assign({n, cb, oh, b.getIndexAttr(0), b.getIndexAttr(0)});
          sizes.assign({b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(1),
                        b.getIndexAttr(p->ow), b.getIndexAttr(p->block)});
          Value row = sliceOf(b, loc, out, offsets, sizes, {p->ow, p->block});
          SmallVector<Value> rows;
          for (int64_t ky = 0; ky < p->kh; ++ky)
            rows.push_back(clampIndex(b, loc, affineIndex(b, loc, oh, p->sh, ky - p->pt), p->h));
          auto columns = b.create<scf::ForOp>(
              loc, zero, index(b, loc, p->ow), index(b, loc, 1), ValueRange{row},
              [&](OpBuilder &b, Location loc, Value ow, ValueRange acc) {
                Value m;
                for (int64_t kx = 0; kx < p->kw; ++kx) {
                  Value col = clampIndex(b, loc, affineIndex(b, loc, ow, p->sw, kx - p->pl), p->w);
                  for (Value r : rows) {
                    Value v = b.create<vector::TransferReadOp>(
                        loc, vecType, x, ValueRange{n, cb, r, col, zero}, ArrayRef<bool>{true});
                    m = m ? b.create<arith::MaximumFOp>(loc, m, v).getResult() : v;
                  }
                }
                Value next = b.create<vector::TransferWriteOp>(
                                  loc, m, acc[0], ValueRange{ow, zero}, ArrayRef<bool>{true})
                                 .getResult();
                b.create<scf::YieldOp>(loc, next);
              });
          return columns.getResult(0);
        });
    recordKernel(y.getDefiningOp(), "vector max pooling of channel blocks",
                 "blocked, every window holds an input position");
    rw.replaceOp(op, y);
    return success();
  }
};

struct VectorizePoolingPass
    : strata::impl::VectorizePoolingBase<VectorizePoolingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<VectorizeMaxPool, VectorizeMaxPoolGrad, VectorizeBlockedMaxPool>(
        &getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
