//===- LowerNeural.cpp - nn matmul, conv, pooling, norms to linalg --------===//
//
// Contractions and windows are linalg.generic ops whose maps express the
// ONNX semantics directly (batch broadcasting, transposes, groups, strides,
// dilations). They are correct for every rank; making them fast (packing,
// oneDNN calls) is the job of the performance issue, which can pattern-match
// these generics or replace these lowerings per op.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LinalgBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

namespace strata::lowering {
namespace {

using Iter = utils::IteratorType;

AffineExpr dim(MLIRContext *ctx, int64_t i) { return getAffineDimExpr(i, ctx); }

/// `v` widened to the accumulator's type `to` (bf16/f16 into f32, 8-bit
/// into i32, as the contraction rule pairs them), or `v` itself.
Value widenTo(OpBuilder &b, Location loc, Value v, Type to) {
  if (v.getType() == to)
    return v;
  if (isa<FloatType>(to))
    return b.create<arith::ExtFOp>(loc, to, v);
  return b.create<arith::ExtSIOp>(loc, to, v);
}

/// acc + a * b (optionally scaled), the body of every contraction; narrower
/// operands are widened to the accumulator's type first (a bf16 product is
/// exact in f32).
Value multiplyAccumulate(OpBuilder &b, Location loc, Value a, Value x, Value acc,
                         double scale) {
  Value wideA = widenTo(b, loc, a, acc.getType());
  Value wideX = widenTo(b, loc, x, acc.getType());
  Value p = mul(b, loc, wideA, wideX);
  if (scale != 1.0)
    p = mul(b, loc, p, scalarConstant(b, loc, p.getType(), scale));
  return add(b, loc, acc, p);
}

Value contraction(OpBuilder &b, Location loc, RankedTensorType resultType,
                  Value lhs, Value rhs, Value init, ArrayRef<AffineMap> maps,
                  ArrayRef<Iter> iters, double scale) {
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, ValueRange{lhs, rhs}, ValueRange{init},
          maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(
                nl, multiplyAccumulate(nb, nl, args[0], args[1], args[2], scale));
          })
      .getResult(0);
}

LogicalResult lowerMatMul(nn::MatMulOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto resultType = op.getType();
  auto lt = cast<RankedTensorType>(op.getLhs().getType());
  auto rt = cast<RankedTensorType>(op.getRhs().getType());
  if (lt.getRank() == 2 && rt.getRank() == 2) {
    rw.replaceOp(op, rw.create<linalg::MatmulOp>(
                           loc, ValueRange{op.getLhs(), op.getRhs()},
                           ValueRange{filled(rw, loc, resultType, 0.0)})
                         .getResult(0));
    return success();
  }
  // [..., M, K] x [K, N] (a Linear layer on a sequence): the leading
  // dimensions are more rows of one 2-D product, which the tiled matmul
  // runs far faster than the general loop nest below.
  if (lt.getRank() > 2 && rt.getRank() == 2 && lt.hasStaticShape() &&
      resultType.hasStaticShape() && lt.getShape().back() > 0) {
    int64_t k = lt.getShape().back(), rows = lt.getNumElements() / k;
    Value a = reshapeTo(rw, loc, op.getLhs(),
                        RankedTensorType::get({rows, k}, lt.getElementType()));
    auto flatType = RankedTensorType::get({rows, rt.getDimSize(1)},
                                          resultType.getElementType());
    Value mm = rw.create<linalg::MatmulOp>(loc, ValueRange{a, op.getRhs()},
                                           ValueRange{filled(rw, loc, flatType, 0.0)})
                   .getResult(0);
    rw.replaceOp(op, reshapeTo(rw, loc, mm, resultType));
    return success();
  }
  // General case: loops = result dims + k; operands read with broadcasting.
  MLIRContext *ctx = rw.getContext();
  bool aVec = lt.getRank() == 1, bVec = rt.getRank() == 1;
  int64_t r = resultType.getRank(), k = r;
  int64_t batch = r - (aVec ? 0 : 1) - (bVec ? 0 : 1);
  auto batchExprs = [&](RankedTensorType t, int64_t own) {
    SmallVector<AffineExpr> e;
    for (int64_t i = 0; i < own; ++i) {
      int64_t rd = batch - own + i;
      e.push_back(t.getDimSize(i) == 1 && resultType.getDimSize(rd) != 1
                      ? getAffineConstantExpr(0, ctx)
                      : dim(ctx, rd));
    }
    return e;
  };
  SmallVector<AffineExpr> a = batchExprs(lt, aVec ? 0 : lt.getRank() - 2);
  if (!aVec)
    a.push_back(dim(ctx, batch));
  a.push_back(dim(ctx, k));
  SmallVector<AffineExpr> bx = batchExprs(rt, bVec ? 0 : rt.getRank() - 2);
  bx.push_back(dim(ctx, k));
  if (!bVec)
    bx.push_back(dim(ctx, r - 1));
  // The result reads the first r loops (none for vector . vector, whose
  // result is a scalar: getMajorSubMap(0) would be a null map).
  SmallVector<AffineExpr> out;
  for (int64_t i = 0; i < r; ++i)
    out.push_back(dim(ctx, i));
  SmallVector<AffineMap> maps{AffineMap::get(r + 1, 0, a, ctx),
                              AffineMap::get(r + 1, 0, bx, ctx),
                              AffineMap::get(r + 1, 0, out, ctx)};
  SmallVector<Iter> iters(r, Iter::parallel);
  iters.push_back(Iter::reduction);
  rw.replaceOp(op, contraction(rw, loc, resultType, op.getLhs(), op.getRhs(),
                               filled(rw, loc, resultType, 0.0), maps, iters, 1.0));
  return success();
}

/// The constant's data transposed (2-D f32), or null if `v` is not such a
/// constant. Weights of Linear layers arrive as Gemm(transB=1); transposing
/// them once at compile time lets the Gemm run as a plain, tiled matmul.
Value transposedConstant(PatternRewriter &rw, Location loc, Value v) {
  auto c = v.getDefiningOp<nn::ConstantOp>();
  auto t = cast<RankedTensorType>(v.getType());
  if (!c || t.getRank() != 2 || !t.getElementType().isF32())
    return {};
  ArrayRef<char> bytes = rawConstantBytes(c.getValue());
  int64_t rows = t.getDimSize(0), cols = t.getDimSize(1);
  if ((int64_t)bytes.size() != rows * cols * 4)
    return {};
  AsmResourceBlob out = HeapAsmResourceBlob::allocate(bytes.size(), 64);
  auto *dst = reinterpret_cast<float *>(out.getMutableData().data());
  auto *src = reinterpret_cast<const float *>(bytes.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t col = 0; col < cols; ++col)
      dst[col * rows + r] = src[r * cols + col];
  auto type = RankedTensorType::get({cols, rows}, t.getElementType());
  return rw.create<arith::ConstantOp>(
      loc, DenseResourceElementsAttr::get(type, "transposed_weight", std::move(out)));
}

/// x^T of a 2-D tensor as a materialized linalg.transpose.
Value transposed(OpBuilder &b, Location loc, Value x) {
  auto t = cast<RankedTensorType>(x.getType());
  auto type = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                    t.getElementType());
  return b.create<linalg::TransposeOp>(loc, x, emptyTensor(b, loc, type),
                                       ArrayRef<int64_t>{1, 0})
      .getResult()[0];
}

/// alpha * op(A) op(B) + beta * C as a linalg.matmul (tiled and vectorized
/// later) on operands transposed first where asked: at compile time for a
/// constant B (Linear layers arrive as Gemm(transB=1)), otherwise by a
/// copy, which costs far less than a contraction the tiler does not see
/// (training passes weights and gradients as values). alpha and beta * C
/// are an elementwise epilogue.
LogicalResult lowerGemm(nn::GemmOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto resultType = op.getType();
  Value a = op.getA(), bm = op.getB();
  if (op.getTransA())
    a = transposed(rw, loc, a);
  if (op.getTransB()) {
    Value bt = transposedConstant(rw, loc, bm);
    bm = bt ? bt : transposed(rw, loc, bm);
  }
  Value mm = rw.create<linalg::MatmulOp>(loc, ValueRange{a, bm},
                                         ValueRange{filled(rw, loc, resultType, 0.0)})
                 .getResult(0);
  double alpha = op.getAlpha().convertToDouble();
  double beta = op.getBeta().convertToDouble();
  SmallVector<Value> operands{mm};
  if (op.getC() && beta != 0.0)
    operands.push_back(op.getC());
  if (alpha == 1.0 && operands.size() == 1) {
    rw.replaceOp(op, mm);
    return success();
  }
  rw.replaceOp(op, mapElementwise(
                       rw, loc, resultType, operands,
                       [&](OpBuilder &b, Location l, ValueRange args) {
                         Type t = args[0].getType();
                         Value y = alpha == 1.0 ? args[0] : mul(b, l, args[0], scalarConstant(b, l, t, alpha));
                         if (args.size() > 1)
                           y = add(b, l, y, beta == 1.0 ? args[1] : mul(b, l, args[1], scalarConstant(b, l, t, beta)));
                         return y;
                       }));
  return success();
}

/// Splits dimension `d` of `x` into (groups, size / groups).
Value splitDim(OpBuilder &b, Location loc, Value x, int64_t d, int64_t groups) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  SmallVector<ReassociationIndices> re;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    if (i == d) {
      re.push_back({(int64_t)shape.size(), (int64_t)shape.size() + 1});
      shape.push_back(groups);
      shape.push_back(t.getDimSize(i) / groups);
    } else {
      re.push_back({(int64_t)shape.size()});
      shape.push_back(t.getDimSize(i));
    }
  }
  return b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get(shape, t.getElementType()), x, re);
}

/// Grouped N-d convolution as one generic over
/// (n, g, m, o_1..o_s, c, k_1..k_s) on group-split operands.
LogicalResult lowerConv(nn::ConvOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rw.getContext();
  auto outType = op.getType();
  int64_t s = outType.getRank() - 2, g = op.getGroup();
  ArrayRef<int64_t> pads = op.getPads();
  SmallVector<int64_t> low{0, 0}, high{0, 0};
  low.append(pads.begin(), pads.begin() + s);
  high.append(pads.begin() + s, pads.end());
  Value x = splitDim(rw, loc, padWith(rw, loc, op.getInput(), low, high, 0.0), 1, g);
  Value w = splitDim(rw, loc, op.getWeight(), 0, g);
  int64_t m = outType.getDimSize(1) / g;
  SmallVector<int64_t> splitShape{outType.getDimSize(0), g, m};
  for (int64_t i = 0; i < s; ++i)
    splitShape.push_back(outType.getDimSize(i + 2));
  auto splitType = RankedTensorType::get(splitShape, outType.getElementType());

  // Loop order: n, g, m, o..., c, k...
  int64_t nLoops = 3 + s + 1 + s, cLoop = 3 + s;
  Value init;
  if (op.getBias()) {
    Value bias = splitDim(rw, loc, op.getBias(), 0, g); // [g, m]
    SmallVector<AffineMap> maps{
        AffineMap::get(3 + s, 0, {dim(ctx, 1), dim(ctx, 2)}, ctx),
        rw.getMultiDimIdentityMap(3 + s)};
    init = rw.create<linalg::GenericOp>(
                  loc, TypeRange{splitType}, ValueRange{bias},
                  ValueRange{emptyTensor(rw, loc, splitType)}, maps,
                  SmallVector<Iter>(3 + s, Iter::parallel),
                  [](OpBuilder &b, Location l, ValueRange args) {
                    b.create<linalg::YieldOp>(l, args[0]);
                  })
               .getResult(0);
  } else {
    init = filled(rw, loc, splitType, 0.0);
  }
  SmallVector<AffineExpr> xe{dim(ctx, 0), dim(ctx, 1), dim(ctx, cLoop)};
  SmallVector<AffineExpr> we{dim(ctx, 1), dim(ctx, 2), dim(ctx, cLoop)};
  SmallVector<AffineExpr> oe{dim(ctx, 0), dim(ctx, 1), dim(ctx, 2)};
  for (int64_t i = 0; i < s; ++i) {
    AffineExpr o = dim(ctx, 3 + i), k = dim(ctx, cLoop + 1 + i);
    xe.push_back(o * op.getStrides()[i] + k * op.getDilations()[i]);
    we.push_back(k);
    oe.push_back(o);
  }
  SmallVector<AffineMap> maps{AffineMap::get(nLoops, 0, xe, ctx),
                              AffineMap::get(nLoops, 0, we, ctx),
                              AffineMap::get(nLoops, 0, oe, ctx)};
  SmallVector<Iter> iters(3 + s, Iter::parallel);
  iters.append(1 + s, Iter::reduction);
  Value y = contraction(rw, loc, splitType, x, w, init, maps, iters, 1.0);
  SmallVector<ReassociationIndices> re{{0}, {1, 2}};
  for (int64_t i = 0; i < s; ++i)
    re.push_back({3 + i});
  rw.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, outType, y, re);
  return success();
}

/// Window reduction over (n, c, o..., k...) of padded `x`; `window` only
/// gives the k loops their extent.
/// Windows of at most this many positions are read as that many operands of
/// one all-parallel generic (one map per window offset) instead of a
/// reduction loop: the loop kept its accumulator in memory (the output
/// buffer may alias the input for LLVM), which made small windows, the
/// common 2x2 and 3x3 pooling, several times slower.
constexpr int64_t kUnrolledWindow = 16;

/// Whether windows are read as separate operands. Needs every stride above
/// 1: with stride 1, the offset-0 map is the identity on the padded input,
/// and linalg would take the loop ranges from it instead of the output.
bool unrollWindow(int64_t positions, ArrayRef<int64_t> strides) {
  return positions <= kUnrolledWindow &&
         llvm::all_of(strides, [](int64_t st) { return st > 1; });
}

/// One indexing map per window offset k: (lead..., o...) -> (lead..., o *
/// stride + k * dilation...), in row-major order of k.
SmallVector<AffineMap> windowOffsetMaps(MLIRContext *ctx, int64_t rank,
                                        ArrayRef<int64_t> kernel,
                                        ArrayRef<int64_t> strides,
                                        ArrayRef<int64_t> dilations) {
  int64_t s = kernel.size(), lead = rank - s, count = 1;
  for (int64_t k : kernel)
    count *= k;
  SmallVector<AffineMap> maps;
  for (int64_t linear = 0; linear < count; ++linear) {
    SmallVector<int64_t> k(s);
    for (int64_t i = s - 1, rest = linear; i >= 0; --i) {
      k[i] = rest % kernel[i];
      rest /= kernel[i];
    }
    SmallVector<AffineExpr> e;
    for (int64_t i = 0; i < lead; ++i)
      e.push_back(dim(ctx, i));
    for (int64_t i = 0; i < s; ++i)
      e.push_back(dim(ctx, lead + i) * strides[i] + k[i] * dilations[i]);
    maps.push_back(AffineMap::get(rank, 0, e, ctx));
  }
  return maps;
}

/// One all-parallel generic reading `x` once per window offset map and
/// combining the values with `combine`.
Value readWindowOperands(OpBuilder &b, Location loc, Value x, RankedTensorType resultType,
                         ArrayRef<AffineMap> offsets, ScalarFn combine) {
  SmallVector<AffineMap> maps(offsets);
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, SmallVector<Value>(offsets.size(), x),
          ValueRange{emptyTensor(b, loc, resultType)}, maps,
          SmallVector<Iter>(resultType.getRank(), Iter::parallel),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, combine(nb, nl, args.drop_back()));
          })
      .getResult(0);
}

Value poolWindows(OpBuilder &b, Location loc, Value x, RankedTensorType outType,
                  ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations, double init, bool isMax) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> offsets =
      windowOffsetMaps(ctx, outType.getRank(), kernel, strides, dilations);
  if (unrollWindow(offsets.size(), strides))
    return readWindowOperands(b, loc, x, outType, offsets,
                              [&](OpBuilder &nb, Location nl, ValueRange args) {
                                Value v = args[0];
                                for (Value a : args.drop_front())
                                  v = isMax ? max(nb, nl, v, a) : add(nb, nl, v, a);
                                return v;
                              });
  int64_t lead = outType.getRank() - kernel.size(), s = kernel.size();
  int64_t nLoops = outType.getRank() + s;
  Type et = outType.getElementType();
  Value window = b.create<tensor::EmptyOp>(loc, kernel, et);
  SmallVector<AffineExpr> xe, ke, oe;
  for (int64_t i = 0; i < lead; ++i) {
    xe.push_back(dim(ctx, i));
    oe.push_back(dim(ctx, i));
  }
  for (int64_t i = 0; i < s; ++i) {
    AffineExpr o = dim(ctx, lead + i), k = dim(ctx, lead + s + i);
    xe.push_back(o * strides[i] + k * dilations[i]);
    ke.push_back(k);
    oe.push_back(o);
  }
  SmallVector<AffineMap> maps{AffineMap::get(nLoops, 0, xe, ctx),
                              AffineMap::get(nLoops, 0, ke, ctx),
                              AffineMap::get(nLoops, 0, oe, ctx)};
  SmallVector<Iter> iters(outType.getRank(), Iter::parallel);
  iters.append(s, Iter::reduction);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{outType}, ValueRange{x, window},
          ValueRange{filled(b, loc, outType, init)}, maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value v = isMax ? max(nb, nl, args[2], args[0])
                            : add(nb, nl, args[2], args[0]);
            nb.create<linalg::YieldOp>(nl, v);
          })
      .getResult(0);
}

/// Padding of a pooling input: the op's pads, plus the extra end padding
/// ceil_mode needs for the last window (never counted by averages).
struct PoolPadding {
  SmallVector<int64_t> low{0, 0}, high{0, 0}, extra{0, 0};
  SmallVector<int64_t> highAll() const {
    SmallVector<int64_t> h(high);
    for (size_t i = 0; i < h.size(); ++i)
      h[i] += extra[i];
    return h;
  }
};

PoolPadding poolPadding(RankedTensorType inType, RankedTensorType outType,
                        ArrayRef<int64_t> k, ArrayRef<int64_t> st,
                        ArrayRef<int64_t> dl, ArrayRef<int64_t> pads) {
  PoolPadding p;
  int64_t s = inType.getRank() - 2;
  for (int64_t i = 0; i < s; ++i) {
    int64_t need = (outType.getDimSize(i + 2) - 1) * st[i] + (k[i] - 1) * dl[i] + 1;
    int64_t have = inType.getDimSize(i + 2) + pads[i] + pads[i + s];
    p.low.push_back(pads[i]);
    p.high.push_back(pads[i + s]);
    p.extra.push_back(std::max<int64_t>(0, need - have));
  }
  return p;
}

/// How many positions each average-pooling window divides by (spatial
/// output shape).
Value poolCounts(OpBuilder &b, Location loc, RankedTensorType inType,
                 RankedTensorType outType, const PoolPadding &p,
                 ArrayRef<int64_t> k, ArrayRef<int64_t> st, ArrayRef<int64_t> dl,
                 bool countIncludePad) {
  int64_t s = inType.getRank() - 2;
  Type et = outType.getElementType();
  SmallVector<int64_t> spatialIn(inType.getShape().drop_front(2));
  SmallVector<int64_t> spatialOut(outType.getShape().drop_front(2));
  Value mask = filled(b, loc, RankedTensorType::get(spatialIn, et), 1.0);
  mask = padWith(b, loc, mask, ArrayRef(p.low).drop_front(2),
                 ArrayRef(p.high).drop_front(2), countIncludePad ? 1.0 : 0.0);
  mask = padWith(b, loc, mask, SmallVector<int64_t>(s, 0),
                 ArrayRef(p.extra).drop_front(2), 0.0);
  return poolWindows(b, loc, mask, RankedTensorType::get(spatialOut, et), k, st,
                     dl, 0.0, /*isMax=*/false);
}

LogicalResult lowerPool(nn::PoolOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto outType = op.getType();
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  Type et = outType.getElementType();
  bool isMax = op.getKind() == nn::PoolKind::max;
  ArrayRef<int64_t> k = op.getKernelShape(), st = op.getStrides(),
                    dl = op.getDilations();
  PoolPadding p = poolPadding(inType, outType, k, st, dl, op.getPads());
  double padValue = isMax ? lowestValue(et) : 0.0;
  Value x = padWith(rw, loc, op.getInput(), p.low, p.highAll(), padValue);
  Value sum = poolWindows(rw, loc, x, outType, k, st, dl,
                          isMax ? lowestValue(et) : 0.0, isMax);
  if (isMax) {
    rw.replaceOp(op, sum);
    return success();
  }
  // Average: divide by how many positions each window really covers.
  Value counts = poolCounts(rw, loc, inType, outType, p, k, st, dl,
                            op.getCountIncludePad());
  rw.replaceOp(op, mapElementwise(rw, loc, outType, ValueRange{sum, counts},
                                  [](OpBuilder &b, Location l, ValueRange a) {
                                    return div(b, l, a[0], a[1]);
                                  }));
  return success();
}

/// For each max-pooling window, the position of its first maximum as a
/// linear index into the window (i64, the output's shape).
Value poolArgmax(OpBuilder &b, Location loc, Value x, RankedTensorType outType,
                 ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                 ArrayRef<int64_t> dilations) {
  MLIRContext *ctx = b.getContext();
  int64_t lead = 2, s = kernel.size(), nLoops = outType.getRank() + s;
  Type et = outType.getElementType();
  auto idxType = RankedTensorType::get(outType.getShape(), b.getI64Type());
  SmallVector<AffineMap> offsets =
      windowOffsetMaps(ctx, outType.getRank(), kernel, strides, dilations);
  if (unrollWindow(offsets.size(), strides))
    // First maximum over the window's operands, by a chain of selects.
    return readWindowOperands(
        b, loc, x, idxType, offsets, [&](OpBuilder &nb, Location l, ValueRange args) {
          Value best = args[0];
          Value index = nb.create<arith::ConstantIntOp>(l, 0, 64);
          for (size_t i = 1; i < args.size(); ++i) {
            Value better = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, args[i], best);
            best = nb.create<arith::SelectOp>(l, better, args[i], best);
            index = nb.create<arith::SelectOp>(
                l, better, nb.create<arith::ConstantIntOp>(l, (int64_t)i, 64), index);
          }
          return index;
        });
  Value window = b.create<tensor::EmptyOp>(loc, kernel, et);
  SmallVector<AffineExpr> xe{dim(ctx, 0), dim(ctx, 1)}, ke, oe{dim(ctx, 0), dim(ctx, 1)};
  for (int64_t i = 0; i < s; ++i) {
    AffineExpr o = dim(ctx, lead + i), kk = dim(ctx, lead + s + i);
    xe.push_back(o * strides[i] + kk * dilations[i]);
    ke.push_back(kk);
    oe.push_back(o);
  }
  AffineMap om = AffineMap::get(nLoops, 0, oe, ctx);
  SmallVector<Iter> iters(outType.getRank(), Iter::parallel);
  iters.append(s, Iter::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{outType, idxType}, ValueRange{x, window},
      ValueRange{filled(b, loc, outType, lowestValue(et)), filled(b, loc, idxType, 0.0)},
      SmallVector<AffineMap>{AffineMap::get(nLoops, 0, xe, ctx),
                             AffineMap::get(nLoops, 0, ke, ctx), om, om},
      iters, [&](OpBuilder &nb, Location l, ValueRange a) {
        Value linear = nb.create<arith::ConstantIndexOp>(l, 0);
        for (int64_t i = 0; i < s; ++i) {
          Value scaled = nb.create<arith::MulIOp>(
              l, linear, nb.create<arith::ConstantIndexOp>(l, kernel[i]));
          linear = nb.create<arith::AddIOp>(
              l, scaled, nb.create<linalg::IndexOp>(l, lead + s + i));
        }
        Value li = nb.create<arith::IndexCastOp>(l, nb.getI64Type(), linear);
        Value better = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0], a[2]);
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(l, better, a[0], a[2]),
                          nb.create<arith::SelectOp>(l, better, li, a[3])});
      });
  return generic.getResult(1);
}

/// Reads one window's contribution: given the loop indices n, c, the window
/// offsets k... and the window positions o... (valid ones), returns the
/// value to add, or null to skip.
using WindowRead = llvm::function_ref<Value(OpBuilder &, Location, Value n, Value c,
                                            ValueRange k, ValueRange o, Value linearK)>;

/// out[n, c, h...] = sum over the windows (o, k) with o * stride + k *
/// dilation = h + pad of read(n, c, k, o): the adjoint of reading windows,
/// written as a gather so that every output element is computed once (no
/// scatter). `outShape` is the window input's (N x C x spatial);
/// `windows` the output positions per spatial dimension.
Value gatherWindows(OpBuilder &b, Location loc, RankedTensorType outType,
                    ArrayRef<int64_t> windows, ArrayRef<int64_t> kernel,
                    ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                    ArrayRef<int64_t> padLow, WindowRead read) {
  MLIRContext *ctx = b.getContext();
  int64_t s = kernel.size(), rank = outType.getRank(), nLoops = rank + s;
  Value window = b.create<tensor::EmptyOp>(loc, kernel, outType.getElementType());
  SmallVector<AffineExpr> ke;
  for (int64_t i = 0; i < s; ++i)
    ke.push_back(dim(ctx, rank + i));
  SmallVector<Iter> iters(rank, Iter::parallel);
  iters.append(s, Iter::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{outType}, ValueRange{window},
      ValueRange{filled(b, loc, outType, 0.0)},
      SmallVector<AffineMap>{AffineMap::get(nLoops, 0, ke, ctx),
                             AffineMap::getMultiDimIdentityMap(nLoops, ctx)
                                 .getMajorSubMap(rank)},
      iters, [&](OpBuilder &nb, Location l, ValueRange a) {
        auto cidx = [&](int64_t v) { return nb.create<arith::ConstantIndexOp>(l, v); };
        Value zero = cidx(0);
        Value valid = nb.create<arith::ConstantIntOp>(l, 1, 1);
        SmallVector<Value> ks, os;
        Value linear = zero;
        for (int64_t i = 0; i < s; ++i) {
          Value h = nb.create<linalg::IndexOp>(l, 2 + i);
          Value kk = nb.create<linalg::IndexOp>(l, rank + i);
          // t = h + pad - k * dilation must be o * stride with 0 <= o < O.
          Value t = nb.create<arith::SubIOp>(
              l, nb.create<arith::AddIOp>(l, h, cidx(padLow[i])),
              nb.create<arith::MulIOp>(l, kk, cidx(dilations[i])));
          Value st = cidx(strides[i]);
          Value o = nb.create<arith::DivSIOp>(l, t, st);
          Value ok = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, t, zero);
          if (strides[i] != 1)
            ok = nb.create<arith::AndIOp>(
                l, ok, nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                nb.create<arith::RemSIOp>(l, t, st), zero));
          ok = nb.create<arith::AndIOp>(
              l, ok, nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, o,
                                              cidx(windows[i])));
          valid = nb.create<arith::AndIOp>(l, valid, ok);
          os.push_back(nb.create<arith::SelectOp>(l, ok, o, zero));
          ks.push_back(kk);
          linear = nb.create<arith::AddIOp>(
              l, nb.create<arith::MulIOp>(l, linear, cidx(kernel[i])), kk);
        }
        Value n = nb.create<linalg::IndexOp>(l, 0), c = nb.create<linalg::IndexOp>(l, 1);
        Value v = read(nb, l, n, c, ks, os, linear);
        Value zeroF = scalarConstant(nb, l, v.getType(), 0.0);
        Value contribution = nb.create<arith::SelectOp>(l, valid, v, zeroF);
        nb.create<linalg::YieldOp>(l, add(nb, l, a[1], contribution));
      });
  return generic.getResult(0);
}

/// Max/average pooling's gradient: each window's gradient goes back to the
/// positions it read (only to its first maximum, given `argmax`).
Value scatterWindows(OpBuilder &b, Location loc, RankedTensorType inType,
                     Value grad, Value argmax, ArrayRef<int64_t> kernel,
                     ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
                     ArrayRef<int64_t> padLow) {
  auto gradType = cast<RankedTensorType>(grad.getType());
  return gatherWindows(
      b, loc, inType, gradType.getShape().drop_front(2), kernel, strides, dilations,
      padLow,
      [&](OpBuilder &nb, Location l, Value n, Value c, ValueRange, ValueRange o,
          Value linearK) -> Value {
        SmallVector<Value> at{n, c};
        at.append(o.begin(), o.end());
        Value g = nb.create<tensor::ExtractOp>(l, grad, at);
        if (!argmax)
          return g;
        Value chosen = nb.create<tensor::ExtractOp>(l, argmax, at);
        Value li = nb.create<arith::IndexCastOp>(l, nb.getI64Type(), linearK);
        Value match = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, chosen, li);
        return nb.create<arith::SelectOp>(l, match, g,
                                          scalarConstant(nb, l, g.getType(), 0.0));
      });
}

/// Windows that tile the input (kernel == stride, no dilation or padding):
/// every input position lies in at most one window.
bool tilesInput(ArrayRef<int64_t> k, ArrayRef<int64_t> st, ArrayRef<int64_t> dl,
                ArrayRef<int64_t> pads) {
  for (size_t i = 0; i < k.size(); ++i)
    if (k[i] != st[i] || dl[i] != 1 || pads[i] != 0 || pads[i + k.size()] != 0)
      return false;
  return true;
}

/// Max pooling's gradient when windows tile the input: one pass over the
/// input positions, each taking its window's gradient if it is the window's
/// first maximum (no reduction over window offsets).
Value routeToArgmax(OpBuilder &b, Location loc, RankedTensorType inType, Value grad,
                    Value argmax, ArrayRef<int64_t> kernel) {
  int64_t rank = inType.getRank(), s = kernel.size();
  auto gradType = cast<RankedTensorType>(grad.getType());
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{inType}, ValueRange{}, ValueRange{emptyTensor(b, loc, inType)},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)},
      SmallVector<Iter>(rank, Iter::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        auto cidx = [&](int64_t v) { return nb.create<arith::ConstantIndexOp>(l, v); };
        SmallVector<Value> at{nb.create<linalg::IndexOp>(l, 0),
                              nb.create<linalg::IndexOp>(l, 1)};
        Value linear = cidx(0);
        Value valid = nb.create<arith::ConstantIntOp>(l, 1, 1);
        for (int64_t i = 0; i < s; ++i) {
          Value h = nb.create<linalg::IndexOp>(l, 2 + i);
          Value o = nb.create<arith::DivUIOp>(l, h, cidx(kernel[i]));
          Value kk = nb.create<arith::RemUIOp>(l, h, cidx(kernel[i]));
          // Positions past the last whole window (floor mode) get nothing.
          Value inside = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, o,
                                                  cidx(gradType.getDimSize(2 + i)));
          valid = nb.create<arith::AndIOp>(l, valid, inside);
          at.push_back(nb.create<arith::SelectOp>(l, inside, o, cidx(0)));
          linear = nb.create<arith::AddIOp>(
              l, nb.create<arith::MulIOp>(l, linear, cidx(kernel[i])), kk);
        }
        Value g = nb.create<tensor::ExtractOp>(l, grad, at);
        Value chosen = nb.create<tensor::ExtractOp>(l, argmax, at);
        Value li = nb.create<arith::IndexCastOp>(l, nb.getI64Type(), linear);
        valid = nb.create<arith::AndIOp>(
            l, valid, nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, chosen, li));
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(
                   l, valid, g, scalarConstant(nb, l, g.getType(), 0.0))});
      });
  return generic.getResult(0);
}

LogicalResult lowerPoolGrad(nn::PoolGradOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto inType = cast<RankedTensorType>(op.getInput().getType());
  auto outType = cast<RankedTensorType>(op.getOutputGrad().getType());
  Type et = inType.getElementType();
  ArrayRef<int64_t> k = op.getKernelShape(), st = op.getStrides(),
                    dl = op.getDilations();
  PoolPadding p = poolPadding(inType, outType, k, st, dl, op.getPads());
  ArrayRef<int64_t> padLow = ArrayRef(p.low).drop_front(2);
  if (op.getKind() == nn::PoolKind::max) {
    Value x = padWith(rw, loc, op.getInput(), p.low, p.highAll(), lowestValue(et));
    Value argmax = poolArgmax(rw, loc, x, outType, k, st, dl);
    if (tilesInput(k, st, dl, op.getPads())) {
      rw.replaceOp(op, routeToArgmax(rw, loc, inType, op.getOutputGrad(), argmax, k));
      return success();
    }
    rw.replaceOp(op, scatterWindows(rw, loc, inType, op.getOutputGrad(), argmax,
                                    k, st, dl, padLow));
    return success();
  }
  Value counts = poolCounts(rw, loc, inType, outType, p, k, st, dl,
                            op.getCountIncludePad());
  Value scaled = mapElementwise(rw, loc, outType, ValueRange{op.getOutputGrad(), counts},
                                [](OpBuilder &b, Location l, ValueRange a) {
                                  return div(b, l, a[0], a[1]);
                                });
  rw.replaceOp(op, scatterWindows(rw, loc, inType, scaled, Value(), k, st, dl, padLow));
  return success();
}

LogicalResult lowerBatchNorm(nn::BatchNormOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rw.getContext();
  auto type = op.getType();
  int64_t rank = type.getRank();
  AffineMap channel = AffineMap::get(rank, 0, {dim(ctx, 1)}, ctx);
  AffineMap id = rw.getMultiDimIdentityMap(rank);
  double eps = op.getEpsilon().convertToDouble();
  auto generic = rw.create<linalg::GenericOp>(
      loc, TypeRange{type},
      ValueRange{op.getInput(), op.getScale(), op.getBias(), op.getMean(),
                 op.getVariance()},
      ValueRange{emptyTensor(rw, loc, type)},
      SmallVector<AffineMap>{id, channel, channel, channel, channel, id},
      SmallVector<Iter>(rank, Iter::parallel),
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value e = scalarConstant(b, l, a[0].getType(), eps);
        Value inv = b.create<math::RsqrtOp>(l, add(b, l, a[4], e));
        Value y = add(b, l, mul(b, l, mul(b, l, sub(b, l, a[0], a[3]), inv), a[1]),
                      a[2]);
        b.create<linalg::YieldOp>(l, y);
      });
  rw.replaceOp(op, generic.getResult(0));
  return success();
}

Value reduceKind(OpBuilder &b, Location loc, nn::ReduceKind kind, Value x,
                 ArrayRef<int64_t> axes, bool keepDims) {
  Type et = cast<RankedTensorType>(x.getType()).getElementType();
  switch (kind) {
  case nn::ReduceKind::max:
    return reduceAxes(b, loc, x, axes, keepDims, lowestValue(et),
                      [](OpBuilder &nb, Location l, ValueRange a) { return max(nb, l, a[0], a[1]); });
  case nn::ReduceKind::min:
    return reduceAxes(b, loc, x, axes, keepDims, highestValue(et),
                      [](OpBuilder &nb, Location l, ValueRange a) { return min(nb, l, a[0], a[1]); });
  case nn::ReduceKind::prod:
    return reduceAxes(b, loc, x, axes, keepDims, 1.0,
                      [](OpBuilder &nb, Location l, ValueRange a) { return mul(nb, l, a[0], a[1]); });
  case nn::ReduceKind::sum:
  case nn::ReduceKind::mean:
    break;
  }
  Value sum = reduceAxes(b, loc, x, axes, keepDims, 0.0,
                         [](OpBuilder &nb, Location l, ValueRange a) { return add(nb, l, a[0], a[1]); });
  if (kind == nn::ReduceKind::sum)
    return sum;
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t count = 1;
  for (int64_t a : axes)
    count *= xt.getDimSize(a);
  return mapElementwise(b, loc, cast<RankedTensorType>(sum.getType()), ValueRange{sum},
                        [&](OpBuilder &nb, Location l, ValueRange a) {
                          return div(nb, l, a[0], scalarConstant(nb, l, et, (double)count));
                        });
}

LogicalResult lowerReduce(nn::ReduceOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  rw.replaceOp(op, reduceKind(rw, op.getLoc(), op.getKind(), op.getInput(),
                              op.getAxes(), op.getKeepdims()));
  return success();
}

/// softmax = e / sum(e), log_softmax = (x - m) - log(sum(e)), e = exp(x - m).
template <typename OpTy, bool isLog>
LogicalResult lowerSoftmax(OpTy op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  auto type = op.getType();
  int64_t axis = op.getAxis();
  Value x = op.getInput();
  Value m = reduceKind(rw, loc, nn::ReduceKind::max, x, {axis}, true);
  Value e = mapElementwise(rw, loc, type, ValueRange{x, m},
                           [](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return b.create<math::ExpOp>(l, sub(b, l, a[0], a[1]));
                           });
  Value s = reduceKind(rw, loc, nn::ReduceKind::sum, e, {axis}, true);
  Value y;
  if (isLog)
    y = mapElementwise(rw, loc, type, ValueRange{x, m, s},
                       [](OpBuilder &b, Location l, ValueRange a) -> Value {
                         return sub(b, l, sub(b, l, a[0], a[1]),
                                    b.create<math::LogOp>(l, a[2]));
                       });
  else
    y = mapElementwise(rw, loc, type, ValueRange{e, s},
                       [](OpBuilder &b, Location l, ValueRange a) {
                         return div(b, l, a[0], a[1]);
                       });
  rw.replaceOp(op, y);
  return success();
}

/// ArgMax/ArgMin: one generic with two accumulators (best value, its index).
LogicalResult lowerArgReduce(nn::ArgReduceOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rw.getContext();
  Value x = op.getInput();
  auto xt = cast<RankedTensorType>(x.getType());
  Type et = xt.getElementType();
  int64_t rank = xt.getRank(), axis = op.getAxis();
  bool isMax = op.getKind() == nn::ArgKind::argmax;
  bool last = op.getSelectLastIndex();
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> outExprs;
  SmallVector<Iter> iters;
  for (int64_t d = 0; d < rank; ++d) {
    iters.push_back(d == axis ? Iter::reduction : Iter::parallel);
    if (d != axis) {
      kept.push_back(xt.getDimSize(d));
      outExprs.push_back(dim(ctx, d));
    }
  }
  auto valType = RankedTensorType::get(kept, et);
  auto idxType = RankedTensorType::get(kept, rw.getI64Type());
  Value bestInit = filled(rw, loc, valType, isMax ? lowestValue(et) : highestValue(et));
  Value idxInit = filled(rw, loc, idxType, 0.0);
  AffineMap out = AffineMap::get(rank, 0, outExprs, ctx);
  auto generic = rw.create<linalg::GenericOp>(
      loc, TypeRange{valType, idxType}, ValueRange{x},
      ValueRange{bestInit, idxInit},
      SmallVector<AffineMap>{rw.getMultiDimIdentityMap(rank), out, out}, iters,
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value v = a[0], best = a[1], bestIdx = a[2];
        Value i = b.create<arith::IndexCastOp>(l, b.getI64Type(),
                                               b.create<linalg::IndexOp>(l, axis));
        // Strictly better, or equal when the last index should win.
        nn::ComparePredicate p = isMax ? (last ? nn::ComparePredicate::ge : nn::ComparePredicate::gt)
                                       : (last ? nn::ComparePredicate::le : nn::ComparePredicate::lt);
        Value take;
        if (isa<FloatType>(et)) {
          arith::CmpFPredicate f = p == nn::ComparePredicate::gt ? arith::CmpFPredicate::OGT
                                 : p == nn::ComparePredicate::ge ? arith::CmpFPredicate::OGE
                                 : p == nn::ComparePredicate::lt ? arith::CmpFPredicate::OLT
                                                                 : arith::CmpFPredicate::OLE;
          take = b.create<arith::CmpFOp>(l, f, v, best);
        } else {
          arith::CmpIPredicate c = p == nn::ComparePredicate::gt ? arith::CmpIPredicate::sgt
                                 : p == nn::ComparePredicate::ge ? arith::CmpIPredicate::sge
                                 : p == nn::ComparePredicate::lt ? arith::CmpIPredicate::slt
                                                                 : arith::CmpIPredicate::sle;
          take = b.create<arith::CmpIOp>(l, c, v, best);
        }
        // The first element always initializes (covers all-equal -inf rows).
        Value first = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, i,
                                              b.create<arith::ConstantIntOp>(l, 0, 64));
        take = b.create<arith::OrIOp>(l, take, first);
        b.create<linalg::YieldOp>(
            l, ValueRange{b.create<arith::SelectOp>(l, take, v, best),
                          b.create<arith::SelectOp>(l, take, i, bestIdx)});
      });
  Value idx = generic.getResult(1);
  rw.replaceOp(op, reshapeTo(rw, loc, idx, op.getType()));
  return success();
}

} // namespace

void populateNeuralLowering(RewritePatternSet &patterns) {
  patterns.add(lowerArgReduce);
  patterns.add(lowerMatMul);
  patterns.add(lowerGemm);
  patterns.add(lowerConv);
  patterns.add(lowerPool);
  patterns.add(lowerPoolGrad);
  patterns.add(lowerBatchNorm);
  patterns.add(lowerReduce);
  patterns.add(lowerSoftmax<nn::SoftmaxOp, false>);
  patterns.add(lowerSoftmax<nn::LogSoftmaxOp, true>);
}

} // namespace strata::lowering
