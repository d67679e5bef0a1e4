//===- WinogradConvs.cpp - 3x3 convolutions through Winograd transforms ---===//
//
// A 3x3 stride-1 convolution spends 9 multiplications per output and input
// channel. Winograd's minimal filtering F(m x m, 3 x 3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016) computes an m x m
// output tile from an (m+2) x (m+2) input tile d as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
//
// summed over input channels, so the channel sums become one matrix
// product per tile point: M[p] = V[p] U[p], with V[p] (tiles x C) the
// transformed input and U[p] (C x K) the transformed weights. F(4x4, 3x3)
// needs 36 products where the direct convolution needs 144 (4x fewer),
// F(2x2, 3x3) 16 for 36 (2.25x). For ResNet-18's 56x56 and 28x28 layers the
// products take ~1 ms where oneDNN's AVX2 direct kernels took 3.1-4.4 ms, and
// the transforms and padded copies add roughly half as much again (perf:
// 11% of ResNet-18's run for its ten Winograd layers; bench/RESULTS.md).
//
// The transforms work on blocked (nChw<block>c) activations, one channel
// block per vector (8 or 16 floats, the layout's block):
// - U is computed here, at compile time, from the constant weights.
// - Input: an scf.forall over (n, channel block, tile row); per tile, the
//   (m+2)^2 vectors of the zero-padded input become V with adds and
//   constant multiples (B^T has entries 0, +-1, +-2, +-4, 5).
// - onednn.batch_matmul: M = V U (oneDNN's GEMM; U reordered once).
// - Output: an scf.forall over (n, output channel block, tile row); per
//   tile, A^T M A, then the bias and the convolution's post-ops (residual
//   sum, relu, clip) in registers, written in the same layout.
//
// The tile: F(4x4, 3x3) where the output has at least kMinTiles tiles of
// 4x4, else F(2x2, 3x3) where it has that many of 2x2; a partial last tile
// row or column is computed whole from zero padding and cropped (AlexNet's
// 13x13 layers: 7x7 tiles of 2x2). Fewer tiles make the matrix products
// not worthwhile: layer4 of ResNet-18 (7x7, 16 tiles of 2x2) stays direct,
// its products would stream 16 MB of transformed weights for 16 rows.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/VectorBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"
#include "passes/Passes.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_WINOGRADCONVS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::cpu;
namespace nn = strata::nn;
namespace onednn = strata::onednn;

namespace {

/// Fewer output tiles than this make each transformed weight matrix too
/// little used: the products are bound by streaming U.
constexpr int64_t kMinTiles = 32;

using Matrix = std::vector<std::vector<double>>;

/// The matrices of F(m x m, 3 x 3), alpha = m + 2 points per dimension.
struct WinogradTransform {
  int64_t m, alpha;
  Matrix bt; ///< alpha x alpha: V = B^T d B
  Matrix g;  ///< alpha x 3: U = G g G^T
  Matrix at; ///< m x alpha: Y = A^T M A
};

/// Lavin & Gray's matrices (interpolation points 0, +-1 and, for m = 4,
/// +-2, and infinity).
const WinogradTransform &transformFor(int64_t m) {
  static const WinogradTransform f2{
      2, 4,
      {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
      {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}},
      {{1, 1, 1, 0}, {0, 1, -1, -1}}};
  static const WinogradTransform f4{
      4, 6,
      {{4, 0, -5, 0, 1, 0},
       {0, -4, -4, 1, 1, 0},
       {0, 4, -4, -1, 1, 0},
       {0, -2, -1, 2, 1, 0},
       {0, 2, -1, -2, 1, 0},
       {0, 4, 0, -5, 0, 1}},
      {{1.0 / 4, 0, 0},
       {-1.0 / 6, -1.0 / 6, -1.0 / 6},
       {-1.0 / 6, 1.0 / 6, -1.0 / 6},
       {1.0 / 24, 1.0 / 12, 1.0 / 6},
       {1.0 / 24, -1.0 / 12, 1.0 / 6},
       {0, 0, 1}},
      {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}};
  return m == 4 ? f4 : f2;
}

/// The shape of a convolution this pass takes.
struct Geometry {
  int64_t n, cBlocks, h, w; // input (= output) in nChw<block>c
  int64_t block;            // channels per block: floats per vector
  int64_t k;                // output channels
  int64_t m;                // output tile size (4 or 2)
  int64_t tileRows() const { return (h + m - 1) / m; }
  int64_t tileCols() const { return (w + m - 1) / m; }
  int64_t tiles() const { return n * tileRows() * tileCols(); }
  /// The output covered by whole tiles (cropped to h x w at the end).
  int64_t tiledH() const { return tileRows() * m; }
  int64_t tiledW() const { return tileCols() * m; }
};

/// The geometry if `conv` is a 3x3 / stride 1 / pad 1 blocked convolution
/// with constant weights worth the transforms.
std::optional<Geometry> winogradGeometry(onednn::ConvOp conv) {
  auto in = cast<RankedTensorType>(conv.getInput().getType());
  auto out = cast<RankedTensorType>(conv.getOutput().getType());
  auto w = cast<RankedTensorType>(conv.getWeight().getType());
  auto all = [](ArrayRef<int64_t> v, int64_t x) {
    return llvm::all_of(v, [x](int64_t e) { return e == x; });
  };
  if (in.getRank() != 5 || out.getRank() != 5 || in.getDimSize(4) != out.getDimSize(4) ||
      conv.getSrcLayout() != conv.getDstLayout() || conv.getSrcLayout() == "nchw" ||
      conv.getGroup() != 1 || !all(conv.getStrides(), 1) || !all(conv.getDilations(), 1) ||
      !all(conv.getPads(), 1) || !w.hasStaticShape() || w.getDimSize(2) != 3 ||
      w.getDimSize(3) != 3 || !conv.getWeight().getDefiningOp<nn::ConstantOp>() ||
      (conv.getBias() && !conv.getBias().getDefiningOp<nn::ConstantOp>()) ||
      in.getDimSize(0) != out.getDimSize(0) || in.getDimSize(2) != out.getDimSize(2) || in.getDimSize(3) != out.getDimSize(3))
    return std::nullopt;
  Geometry g{in.getDimSize(0), in.getDimSize(1), in.getDimSize(2), in.getDimSize(3),
             in.getDimSize(4), w.getDimSize(0), 0};
  if (w.getDimSize(1) != g.cBlocks * g.block)
    return std::nullopt;
  // F(4x4, 3x3) needs the fewest multiplications per output, even with a
  // partial last tile (13x13: 16x16 computed); F(2x2, 3x3) keeps enough
  // tiles on smaller images.
  for (int64_t m : {4, 2}) {
    g.m = m;
    if (g.tiles() >= kMinTiles)
      return g;
  }
  return std::nullopt;
}

/// U[p][c][k] = (G w[k][c] G^T)[p], p = i * alpha + j.
std::vector<float> transformWeights(const std::vector<float> &w, int64_t k, int64_t c,
                                    const WinogradTransform &t) {
  int64_t a = t.alpha;
  std::vector<float> u(a * a * c * k);
  for (int64_t o = 0; o < k; ++o)
    for (int64_t i = 0; i < c; ++i) {
      const float *g = &w[(o * c + i) * 9];
      double gg[8][3]; // G g, alpha x 3
      for (int64_t r = 0; r < a; ++r)
        for (int64_t s = 0; s < 3; ++s)
          gg[r][s] = t.g[r][0] * g[s] + t.g[r][1] * g[3 + s] + t.g[r][2] * g[6 + s];
      for (int64_t r = 0; r < a; ++r)
        for (int64_t s = 0; s < a; ++s)
          u[((r * a + s) * c + i) * k + o] =
              float(gg[r][0] * t.g[s][0] + gg[r][1] * t.g[s][1] + gg[r][2] * t.g[s][2]);
    }
  return u;
}

/// sum_i coeffs[i] * vs[i], with adds and subtractions for +-1 and FMAs with
/// a splat otherwise; zero coefficients cost nothing.
Value combine(OpBuilder &b, Location loc, ArrayRef<double> coeffs, ArrayRef<Value> vs) {
  auto type = cast<VectorType>(vs[0].getType());
  auto splat = [&](double c) -> Value {
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(type, b.getF32FloatAttr(float(c)).getValue()));
  };
  Value acc;
  for (auto [c, v] : llvm::zip(coeffs, vs)) {
    if (c == 0)
      continue;
    if (!acc)
      acc = c == 1    ? v
            : c == -1 ? b.create<arith::NegFOp>(loc, v).getResult()
                      : b.create<arith::MulFOp>(loc, splat(c), v).getResult();
    else if (c == 1)
      acc = b.create<arith::AddFOp>(loc, acc, v);
    else if (c == -1)
      acc = b.create<arith::SubFOp>(loc, acc, v);
    else
      acc = b.create<vector::FMAOp>(loc, splat(c), v, acc);
  }
  return acc ? acc : zeros(b, loc, type);
}

/// X' = L X R^T for `rows` x `cols` vectors X (row-major), where L is
/// `left` and R is `right`: both 1-D transforms of a tile.
SmallVector<Value> transform2d(OpBuilder &b, Location loc, ArrayRef<Value> x, int64_t cols,
                               const Matrix &left, const Matrix &right) {
  int64_t rows = x.size() / cols;
  SmallVector<Value> lx; // left.size() x cols
  for (const std::vector<double> &l : left)
    for (int64_t s = 0; s < cols; ++s) {
      SmallVector<Value> column;
      for (int64_t r = 0; r < rows; ++r)
        column.push_back(x[r * cols + s]);
      lx.push_back(combine(b, loc, l, column));
    }
  SmallVector<Value> out; // left.size() x right.size()
  for (size_t i = 0; i < left.size(); ++i)
    for (const std::vector<double> &r : right)
      out.push_back(combine(b, loc, r, ArrayRef<Value>(lx).slice(i * cols, cols)));
  return out;
}

/// One channel block of `tensor` at `indices` as a vector.
Value readBlock(OpBuilder &b, Location loc, Value tensor, ValueRange indices,
                int64_t block) {
  auto type = VectorType::get({block}, b.getF32Type());
  return b.create<vector::TransferReadOp>(loc, type, tensor, indices, ArrayRef<bool>{true});
}

Value writeBlock(OpBuilder &b, Location loc, Value v, Value tensor, ValueRange indices) {
  return b.create<vector::TransferWriteOp>(loc, v, tensor, indices, ArrayRef<bool>{true})
      .getResult();
}

Value mul(OpBuilder &b, Location loc, Value v, int64_t c) {
  return b.create<arith::MulIOp>(loc, v, index(b, loc, c));
}

/// The first tile of tile row `th` of image `n`.
Value firstTile(OpBuilder &b, Location loc, const Geometry &g, Value n, Value th) {
  return b.create<arith::AddIOp>(loc, mul(b, loc, n, g.tileRows() * g.tileCols()),
                                 mul(b, loc, th, g.tileCols()));
}

/// V: alpha^2 matrices of tiles x input channels.
Value transformInput(PatternRewriter &rw, Location loc, Value input, const Geometry &g,
                     const WinogradTransform &t) {
  // The convolution's padding of 1, and zeros under partial last tiles.
  Value x = strata::lowering::padWith(rw, loc, input, {0, 0, 1, 1, 0},
                                      {0, 0, 1 + g.tiledH() - g.h, 1 + g.tiledW() - g.w, 0},
                                      0.0);
  int64_t a = t.alpha, tc = g.tileCols();
  auto type = RankedTensorType::get({a * a, g.tiles(), g.cBlocks * g.block}, rw.getF32Type());
  return forEachItem(
      rw, loc, {g.n, g.cBlocks, g.tileRows()}, type,
      [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
          SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
        Value n = ivs[0], cb = ivs[1], th = ivs[2];
        Value tile0 = firstTile(b, loc, g, n, th), row0 = mul(b, loc, th, g.m);
        offsets.assign({b.getIndexAttr(0), tile0, mul(b, loc, cb, g.block)});
        sizes.assign({b.getIndexAttr(a * a), b.getIndexAttr(tc), b.getIndexAttr(g.block)});
        Value slice = sliceOf(b, loc, out, offsets, sizes, {a * a, tc, g.block});
        auto tiles = b.create<scf::ForOp>(
            loc, index(b, loc, 0), index(b, loc, tc), index(b, loc, 1), ValueRange{slice},
            [&](OpBuilder &b, Location loc, Value tw, ValueRange acc) {
              Value col0 = mul(b, loc, tw, g.m), zero = index(b, loc, 0);
              SmallVector<Value> d;
              for (int64_t r = 0; r < a; ++r)
                for (int64_t s = 0; s < a; ++s)
                  d.push_back(readBlock(b, loc, x,
                                        {n, cb, addIndex(b, loc, row0, r),
                                         addIndex(b, loc, col0, s), zero},
                                        g.block));
              SmallVector<Value> v = transform2d(b, loc, d, a, t.bt, t.bt);
              Value result = acc[0];
              for (int64_t p = 0; p < a * a; ++p)
                result = writeBlock(b, loc, v[p], result, {index(b, loc, p), tw, zero});
              b.create<scf::YieldOp>(loc, result);
            });
        return tiles.getResult(0);
      });
}

/// The convolution's output from M, with its bias and post-ops.
Value transformOutput(PatternRewriter &rw, onednn::ConvOp conv, Value m,
                      const Geometry &g, const WinogradTransform &t) {
  Location loc = conv.getLoc();
  int64_t a = t.alpha, tc = g.tileCols();
  Value bias = conv.getBias(), sum = conv.getSum();
  SmallVector<StringRef> posts(conv.getPostOps().getAsValueRange<StringAttr>());
  // Partial last tiles are computed whole into a larger result, cropped
  // at the end (the residual is padded to match).
  int64_t extraH = g.tiledH() - g.h, extraW = g.tiledW() - g.w;
  auto cropped = cast<RankedTensorType>(conv.getType());
  auto type = RankedTensorType::get({g.n, g.k / g.block, g.tiledH(), g.tiledW(), g.block},
                                    rw.getF32Type());
  if (sum)
    sum = strata::lowering::padWith(rw, loc, sum, {0, 0, 0, 0, 0},
                                    {0, 0, extraH, extraW, 0}, 0.0);
  auto vecType = VectorType::get({g.block}, rw.getF32Type());
  Value y = forEachItem(
      rw, loc, {g.n, g.k / g.block, g.tileRows()}, type,
      [&](OpBuilder &b, Location loc, ValueRange ivs, Value out,
          SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
        Value n = ivs[0], kb = ivs[1], th = ivs[2];
        Value tile0 = firstTile(b, loc, g, n, th), row0 = mul(b, loc, th, g.m);
        Value k0 = mul(b, loc, kb, g.block), zero = index(b, loc, 0);
        offsets.assign({n, kb, row0, b.getIndexAttr(0), b.getIndexAttr(0)});
        sizes.assign({b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(g.m),
                      b.getIndexAttr(g.tiledW()), b.getIndexAttr(g.block)});
        Value slice = sliceOf(b, loc, out, offsets, sizes, {g.m, g.tiledW(), g.block});
        Value biasVec = bias ? readBlock(b, loc, bias, {k0}, g.block) : Value();
        Value zeroVec = zeros(b, loc, vecType);
        auto tiles = b.create<scf::ForOp>(
            loc, index(b, loc, 0), index(b, loc, tc), index(b, loc, 1), ValueRange{slice},
            [&](OpBuilder &b, Location loc, Value tw, ValueRange acc) {
              Value tile = b.create<arith::AddIOp>(loc, tile0, tw);
              Value col0 = mul(b, loc, tw, g.m);
              SmallVector<Value> mm;
              for (int64_t p = 0; p < a * a; ++p)
                mm.push_back(readBlock(b, loc, m, {index(b, loc, p), tile, k0}, g.block));
              SmallVector<Value> y = transform2d(b, loc, mm, a, t.at, t.at);
              Value result = acc[0];
              for (int64_t r = 0; r < g.m; ++r)
                for (int64_t s = 0; s < g.m; ++s) {
                  Value v = y[r * g.m + s];
                  if (biasVec)
                    v = b.create<arith::AddFOp>(loc, v, biasVec);
                  Value col = addIndex(b, loc, col0, s);
                  for (StringRef post : posts) {
                    if (post == "sum")
                      v = b.create<arith::AddFOp>(
                          loc, v,
                          readBlock(b, loc, sum, {n, kb, addIndex(b, loc, row0, r), col, zero},
                                    g.block));
                    else if (post == "relu")
                      v = b.create<arith::MaximumFOp>(loc, v, zeroVec);
                    else
                      v = b.create<arith::MinimumFOp>(
                          loc,
                          b.create<arith::MaximumFOp>(
                              loc, v,
                              b.create<vector::BroadcastOp>(
                                  loc, vecType,
                                  b.create<arith::ConstantOp>(loc, conv.getClipMinAttr()))),
                          b.create<vector::BroadcastOp>(
                              loc, vecType,
                              b.create<arith::ConstantOp>(loc, conv.getClipMaxAttr())));
                  }
                  result = writeBlock(b, loc, v, result, {index(b, loc, r), col, zero});
                }
              b.create<scf::YieldOp>(loc, result);
            });
        return tiles.getResult(0);
      });
  if (!extraH && !extraW)
    return y;
  SmallVector<OpFoldResult> zeros(5, rw.getIndexAttr(0)), ones(5, rw.getIndexAttr(1)), sizes;
  for (int64_t d : cropped.getShape())
    sizes.push_back(rw.getIndexAttr(d));
  return rw.create<tensor::ExtractSliceOp>(loc, cropped, y, zeros, sizes, ones);
}

struct WinogradConv : OpRewritePattern<onednn::ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onednn::ConvOp conv, PatternRewriter &rw) const override {
    std::optional<Geometry> g = winogradGeometry(conv);
    if (!g)
      return rw.notifyMatchFailure(conv, "not a blocked 3x3 stride-1 convolution with "
                                         "constant weights and enough tiles");
    std::optional<std::vector<float>> w = strata::f32Values(conv.getWeight());
    if (!w)
      return rw.notifyMatchFailure(conv, "the weights are not f32 constants");
    const WinogradTransform &t = transformFor(g->m);
    Location loc = conv.getLoc();
    int64_t c = g->cBlocks * g->block, points = t.alpha * t.alpha;
    Value u = strata::f32Constant(rw, loc, RankedTensorType::get({points, c, g->k}, rw.getF32Type()),
                                  transformWeights(*w, g->k, c, t), "winograd_weight");
    Value v = transformInput(rw, loc, conv.getInput(), *g, t);
    Value m = rw.create<onednn::BatchMatmulOp>(
        loc, RankedTensorType::get({points, g->tiles(), g->k}, rw.getF32Type()), v, u,
        rw.getBoolAttr(true));
    recordKernel(m.getDefiningOp(),
                 llvm::formatv("Winograd F({0}x{0}, 3x3): vector transforms around a oneDNN "
                               "batched matmul",
                               g->m),
                 llvm::formatv("3x3 stride 1 pad 1, constant weights, {0} tiles", g->tiles()));
    rw.replaceOp(conv, transformOutput(rw, conv, m, *g, t));
    return success();
  }
};

struct WinogradConvsPass : strata::impl::WinogradConvsBase<WinogradConvsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<WinogradConv>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
