//===- QuantizedOps.cpp - the strata-quantized-ops pass -------------------===//
//
// QDQ models (ONNX Runtime's quantize_static, PyTorch, QLinearConv and
// QLinearMatMul as imported) describe integer layers as float ops between
// DequantizeLinear and QuantizeLinear. This pass computes them in integers:
//
//   quantize(act?(conv|matmul|gemm(dequantize(xq), dequantize(wq), bias)))
//     -> requantize(conv|matmul(xq', wq) + bias_i32)
//
// with the accumulator exact in i32, the bias quantized with x_scale *
// w_scale (ONNX Runtime's int32 bias already is), the activation's zero
// point folded into the bias (-zx * sum of weights; a convolution's input
// padded with zx so borders stay exact), and the float factor x_scale *
// w_scale / y_scale as a fixed-point multiplier and shift per channel. A
// Relu or Clip between the op and the quantize narrows the saturation
// bounds (quantization is monotone, so clamping after it is exact). And
// quantize(relu|max-pool(dequantize(xq))) with the same scale and zero
// point is the integer op on xq itself.
//
// Patterns that do not fit (asymmetric weights, per-tensor factors beyond
// the fixed-point range, computed scales) stay in float: still correct.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"
#include "passes/compress/QuantizationParams.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace strata {
#define GEN_PASS_DEF_QUANTIZEDOPS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;
using strata::Quantization;
using strata::integerValues;
using strata::quantizationOf;
using strata::scaleValues;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// M = multiplier * 2^-shift, multiplier in [2^30, 2^31), shift in [1, 62].
bool fixedPoint(double m, int32_t &multiplier, int32_t &shift) {
  if (!(m > 0) || !std::isfinite(m))
    return false;
  int e;
  double f = std::frexp(m, &e); // m = f * 2^e, f in [0.5, 1)
  int64_t q = std::llround(std::ldexp(f, 31));
  if (q == (int64_t(1) << 31)) {
    q >>= 1;
    ++e;
  }
  int s = 31 - e;
  if (s < 1 || s > 62)
    return false;
  multiplier = (int32_t)q;
  shift = s;
  return true;
}

int64_t roundHalfEven(double v) { return (int64_t)std::nearbyint(v); }

/// The range of an 8-bit result type.
std::pair<int64_t, int64_t> typeRange(Type t) {
  if (t.isUnsignedInteger(8))
    return {0, 255};
  return {-128, 127};
}

/// The contraction under a quantize: which op, its quantized operands, and
/// its weight laid out [out channel][reduced...].
struct Contraction {
  Operation *op = nullptr;
  nn::DequantizeOp x, w;
  Value bias;              // float bias, or dequantized int32 bias, or null
  int64_t outChannels = 0; // M (conv) or N (matmul, gemm)
  std::vector<int64_t> weightRows; // wq as [outChannels][perChannel]
  int64_t perChannel = 0;
  bool transposedWeight = false; // gemm transB: wq is [N, K] already
};

std::optional<Contraction> matchContraction(Value y) {
  Contraction c;
  Operation *op = y.getDefiningOp();
  if (!op || !y.hasOneUse())
    return std::nullopt;
  // MatMul then Add of a bias over the last axis (how PyTorch exports
  // Linear on 3-D inputs, and ONNX Runtime quantizes it).
  if (auto add = dyn_cast<nn::AddOp>(op)) {
    for (int side = 0; side < 2; ++side) {
      Value mm = add->getOperand(side), b = add->getOperand(1 - side);
      auto bType = typeOf(b);
      if (mm.getDefiningOp<nn::MatMulOp>() && mm.hasOneUse() && bType.getRank() <= 1 &&
          typeOf(add.getOutput()) == typeOf(mm)) {
        auto inner = matchContraction(mm);
        if (!inner || inner->bias ||
            (bType.getRank() == 1 && bType.getDimSize(0) != inner->outChannels))
          return std::nullopt;
        inner->bias = b;
        return inner;
      }
    }
    return std::nullopt;
  }
  Value x, w;
  if (auto conv = dyn_cast<nn::ConvOp>(op)) {
    x = conv.getInput(), w = conv.getWeight(), c.bias = conv.getBias();
    c.outChannels = typeOf(conv.getOutput()).getDimSize(1);
  } else if (auto mm = dyn_cast<nn::MatMulOp>(op)) {
    x = mm.getLhs(), w = mm.getRhs();
    if (typeOf(w).getRank() != 2 || typeOf(x).getRank() < 2)
      return std::nullopt;
    c.outChannels = typeOf(w).getDimSize(1);
  } else if (auto g = dyn_cast<nn::GemmOp>(op)) {
    if (g.getAlpha().convertToDouble() != 1.0 || g.getBeta().convertToDouble() != 1.0 ||
        g.getTransA())
      return std::nullopt;
    x = g.getA(), w = g.getB(), c.bias = g.getC();
    c.transposedWeight = g.getTransB();
    c.outChannels = typeOf(w).getDimSize(c.transposedWeight ? 0 : 1);
  } else {
    return std::nullopt;
  }
  c.op = op;
  c.x = x.getDefiningOp<nn::DequantizeOp>();
  c.w = w.getDefiningOp<nn::DequantizeOp>();
  if (!c.x || !c.w || !typeOf(c.x.getInput()).getElementType().isInteger(8) ||
      !typeOf(c.w.getInput()).getElementType().isSignlessInteger(8))
    return std::nullopt;
  auto wq = strata::constantValues<int8_t>(c.w.getInput());
  if (!wq)
    return std::nullopt;
  // Lay the weight out as rows of output channels.
  auto wType = typeOf(c.w.getInput());
  int64_t total = wType.getNumElements();
  c.perChannel = total / c.outChannels;
  c.weightRows.resize(total);
  bool rowsFirst = isa<nn::ConvOp>(op) || c.transposedWeight;
  for (int64_t i = 0; i < total; ++i) {
    int64_t row = rowsFirst ? i / c.perChannel : i % c.outChannels;
    int64_t col = rowsFirst ? i % c.perChannel : i / c.outChannels;
    c.weightRows[row * c.perChannel + col] = (*wq)[i];
  }
  return c;
}

/// The float bias per output channel (zeros without one), or nothing if it
/// is neither a constant nor a dequantized constant.
std::optional<std::vector<double>> biasValues(const Contraction &c) {
  std::vector<double> b(c.outChannels, 0.0);
  if (!c.bias)
    return b;
  std::vector<double> values;
  if (auto f = scaleValues(c.bias)) {
    values = *f;
  } else if (auto dq = c.bias.getDefiningOp<nn::DequantizeOp>()) {
    auto q = quantizationOf(dq.getScale(), dq.getZeroPoint());
    auto v = integerValues(dq.getInput());
    // Per tensor, or per channel as ONNX Runtime writes it (x_scale * w_scale).
    if (!q || !v || q->scale.size() != q->zeroPoint.size() ||
        (q->scale.size() != 1 && q->scale.size() != v->size()))
      return std::nullopt;
    for (size_t i = 0; i < v->size(); ++i) {
      size_t k = q->scale.size() == 1 ? 0 : i;
      values.push_back((double)((*v)[i] - q->zeroPoint[k]) * q->scale[k]);
    }
  } else {
    return std::nullopt;
  }
  if (values.size() == 1)
    return std::vector<double>(c.outChannels, values[0]);
  if ((int64_t)values.size() != c.outChannels)
    return std::nullopt;
  return values;
}

/// A small i32 constant of `shape`.
Value i32Constant(PatternRewriter &rw, Location loc, ArrayRef<int64_t> shape,
                  ArrayRef<int32_t> values) {
  auto type = RankedTensorType::get(shape, rw.getI32Type());
  return strata::makeConstant<int32_t>(rw, loc, type, values, "quantized");
}

struct RewriteQuantizedContraction : OpRewritePattern<nn::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::QuantizeOp q, PatternRewriter &rw) const override {
    auto out = quantizationOf(q.getScale(), q.getZeroPoint());
    Type qType = q.getType().getElementType();
    if (!out || !out->perTensor() || qType.getIntOrFloatBitWidth() != 8)
      return failure();
    double sy = out->scale[0];
    int64_t zy = out->zeroPoint[0];
    auto [lo, hi] = typeRange(qType);
    // A Relu or Clip before the quantize narrows its bounds.
    Value y = q.getInput();
    if (auto relu = y.getDefiningOp<nn::ReluOp>()) {
      if (!y.hasOneUse())
        return failure();
      lo = std::max(lo, zy);
      y = relu.getInput();
    } else if (auto clip = y.getDefiningOp<nn::ClipOp>()) {
      if (!y.hasOneUse())
        return failure();
      if (clip.getMin())
        lo = std::max(lo, roundHalfEven(clip.getMin()->convertToDouble() / sy) + zy);
      if (clip.getMax())
        hi = std::min(hi, roundHalfEven(clip.getMax()->convertToDouble() / sy) + zy);
      if (lo > hi)
        return failure();
      y = clip.getInput();
    }
    auto c = matchContraction(y);
    if (!c)
      return failure();
    auto xq = quantizationOf(c->x.getScale(), c->x.getZeroPoint());
    auto wq = quantizationOf(c->w.getScale(), c->w.getZeroPoint());
    auto bias = biasValues(*c);
    if (!xq || !wq || !bias || !xq->perTensor())
      return failure();
    if (llvm::any_of(wq->zeroPoint, [](int64_t z) { return z != 0; }))
      return rw.notifyMatchFailure(q, "asymmetric weights stay in float");
    if (wq->scale.size() != 1 && (int64_t)wq->scale.size() != c->outChannels)
      return failure();
    double sx = xq->scale[0];
    int64_t zx = xq->zeroPoint[0];

    // Per output channel: the bias in accumulator units with the input's
    // zero point folded in, and the fixed-point factor.
    std::vector<int32_t> biasInt, multiplier, shift;
    for (int64_t ch = 0; ch < c->outChannels; ++ch) {
      double sw = wq->scale[wq->scale.size() == 1 ? 0 : ch];
      int64_t sum = 0;
      for (int64_t k = 0; k < c->perChannel; ++k)
        sum += c->weightRows[ch * c->perChannel + k];
      int64_t b = roundHalfEven((*bias)[ch] / (sx * sw)) - zx * sum;
      int32_t m, s;
      if (b < INT32_MIN || b > INT32_MAX || !fixedPoint(sx * sw / sy, m, s))
        return rw.notifyMatchFailure(q, "factor or bias outside the fixed-point range");
      biasInt.push_back((int32_t)b);
      multiplier.push_back(m);
      shift.push_back(s);
    }

    Location loc = c->op->getLoc();
    Value xInt = c->x.getInput();
    Type i32 = rw.getI32Type();
    auto outType = typeOf(y).clone(i32);
    int64_t rank = outType.getRank();
    Value acc;
    SmallVector<int64_t> channelShape;
    if (auto conv = dyn_cast<nn::ConvOp>(c->op)) {
      SmallVector<int64_t> pads(conv.getPads());
      if (zx != 0 && llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
        // Pad with the zero point (the float zero) so the folded
        // compensation -zx * sum(w) holds at the borders too.
        int64_t spatial = (int64_t)pads.size() / 2, r = spatial + 2;
        SmallVector<int64_t> all(2 * r, 0), shape(typeOf(xInt).getShape());
        for (int64_t d = 0; d < spatial; ++d) {
          all[2 + d] = pads[d];
          all[r + 2 + d] = pads[spatial + d];
          shape[2 + d] += pads[d] + pads[spatial + d];
        }
        xInt = rw.create<nn::PadOp>(
            loc, typeOf(xInt).clone(shape), nn::PadModeAttr::get(rw.getContext(), nn::PadMode::constant),
            xInt, rw.getDenseI64ArrayAttr(all), rw.getF64FloatAttr((double)zx));
        pads.assign(pads.size(), 0);
      }
      Value b = i32Constant(rw, loc, {c->outChannels}, biasInt);
      acc = rw.create<nn::ConvOp>(loc, outType, xInt, c->w.getInput(), b, conv.getStridesAttr(),
                                  rw.getDenseI64ArrayAttr(pads), conv.getDilationsAttr(),
                                  conv.getGroupAttr());
      channelShape.assign(rank, 1);
      channelShape[1] = c->outChannels;
    } else {
      Value w = c->w.getInput();
      if (c->transposedWeight) {
        auto wt = typeOf(w);
        w = rw.create<nn::TransposeOp>(loc, RankedTensorType::get({wt.getDimSize(1), wt.getDimSize(0)},
                                                                  wt.getElementType()),
                                       w, rw.getDenseI64ArrayAttr({1, 0}));
      }
      acc = rw.create<nn::MatMulOp>(loc, outType, xInt, w);
      acc = rw.create<nn::AddOp>(loc, outType, acc,
                                 i32Constant(rw, loc, {c->outChannels}, biasInt));
      channelShape = {c->outChannels};
    }
    bool perTensorFactor = llvm::all_equal(multiplier) && llvm::all_equal(shift);
    SmallVector<int64_t> factorShape = perTensorFactor ? SmallVector<int64_t>{} : channelShape;
    ArrayRef<int32_t> m(multiplier), s(shift);
    if (perTensorFactor)
      m = m.take_front(), s = s.take_front();
    Value requant = rw.create<nn::RequantizeOp>(
        q.getLoc(), q.getType(), acc, i32Constant(rw, loc, factorShape, m),
        i32Constant(rw, loc, factorShape, s), i32Constant(rw, loc, {}, {(int32_t)zy}),
        rw.getI64IntegerAttr(lo), rw.getI64IntegerAttr(hi));
    rw.replaceOp(q, requant);
    return success();
  }
};

/// quantize(f(dequantize(xq, s, z)), s, z) for f = relu, max pooling or a
/// reshape/transpose is f on the integers (each commutes with the monotone
/// quantization).
struct RewriteQuantizedActivation : OpRewritePattern<nn::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::QuantizeOp q, PatternRewriter &rw) const override {
    Operation *f = q.getInput().getDefiningOp();
    if (!f || !isa<nn::ReluOp, nn::PoolOp, nn::ReshapeOp, nn::TransposeOp>(f) ||
        !q.getInput().hasOneUse())
      return failure();
    if (auto pool = dyn_cast<nn::PoolOp>(f); pool && pool.getKind() != nn::PoolKind::max)
      return failure();
    auto dq = f->getOperand(0).getDefiningOp<nn::DequantizeOp>();
    if (!dq || typeOf(dq.getInput()).getElementType() != q.getType().getElementType())
      return failure();
    auto in = quantizationOf(dq.getScale(), dq.getZeroPoint());
    auto out = quantizationOf(q.getScale(), q.getZeroPoint());
    if (!in || !out || !in->perTensor() || !out->perTensor() ||
        (float)in->scale[0] != (float)out->scale[0] || in->zeroPoint[0] != out->zeroPoint[0])
      return failure();
    Value xq = dq.getInput();
    Value r;
    if (isa<nn::ReluOp>(f)) {
      r = rw.create<nn::MaxOp>(f->getLoc(), q.getType(), xq,
                               rw.create<nn::ConstantOp>(
                                   f->getLoc(), DenseElementsAttr::get(
                                                    RankedTensorType::get({}, q.getType().getElementType()),
                                                    rw.getIntegerAttr(q.getType().getElementType(),
                                                                      out->zeroPoint[0]))));
    } else {
      IRMapping map;
      map.map(f->getOperand(0), xq);
      Operation *copy = rw.clone(*f, map);
      copy->getResult(0).setType(q.getType());
      r = copy->getResult(0);
    }
    rw.replaceOp(q, r);
    return success();
  }
};

/// The dequantize under `v` with constant per-tensor scale and zero point.
std::optional<std::pair<nn::DequantizeOp, Quantization>> perTensorDequantize(Value v) {
  auto dq = v.getDefiningOp<nn::DequantizeOp>();
  if (!dq || !typeOf(dq.getInput()).getElementType().isInteger(8))
    return std::nullopt;
  auto q = quantizationOf(dq.getScale(), dq.getZeroPoint());
  if (!q || !q->perTensor())
    return std::nullopt;
  return std::make_pair(dq, *q);
}

/// `x` (8-bit) minus its zero point, in i32.
Value centered(PatternRewriter &rw, Location loc, Value x, int64_t zp) {
  auto type = typeOf(x).clone(rw.getI32Type());
  Value wide = rw.create<nn::CastOp>(loc, type, x);
  if (zp == 0)
    return wide;
  return rw.create<nn::SubOp>(loc, type, wide, i32Constant(rw, loc, {}, {(int32_t)zp}));
}

/// The output quantization of `q` with a Relu or Clip before it folded into
/// the bounds; returns the value under them.
struct OutputQuantization {
  double scale;
  int64_t zeroPoint, lo, hi;
  Value input;
};

std::optional<OutputQuantization> outputOf(nn::QuantizeOp q) {
  auto out = quantizationOf(q.getScale(), q.getZeroPoint());
  Type qType = q.getType().getElementType();
  if (!out || !out->perTensor() || qType.getIntOrFloatBitWidth() != 8)
    return std::nullopt;
  OutputQuantization o{out->scale[0], out->zeroPoint[0], 0, 0, q.getInput()};
  std::tie(o.lo, o.hi) = typeRange(qType);
  if (auto relu = o.input.getDefiningOp<nn::ReluOp>(); relu && o.input.hasOneUse()) {
    o.lo = std::max(o.lo, o.zeroPoint);
    o.input = relu.getInput();
  }
  if (!o.input.hasOneUse())
    return std::nullopt;
  return o;
}

/// Replaces `q` by the requantization of the i32 `acc` into its output
/// quantization `out`: multipliers and shifts of `factorShape` ({} per
/// tensor), the zero point, the bounds (with a Relu or Clip folded in).
void requantizeInto(PatternRewriter &rw, nn::QuantizeOp q, Value acc,
                    ArrayRef<int64_t> factorShape, ArrayRef<int32_t> multipliers,
                    ArrayRef<int32_t> shifts, const OutputQuantization &out) {
  Location loc = acc.getLoc();
  Value multiplier = i32Constant(rw, loc, factorShape, multipliers);
  Value shift = i32Constant(rw, loc, factorShape, shifts);
  Value zeroPoint = i32Constant(rw, loc, {}, {(int32_t)out.zeroPoint});
  rw.replaceOpWithNewOp<nn::RequantizeOp>(q, q.getType(), acc, multiplier, shift, zeroPoint,
                                          rw.getI64IntegerAttr(out.lo),
                                          rw.getI64IntegerAttr(out.hi));
}

/// quantize(act?(dequantize(a) + dequantize(b))) in integers, one rounding:
/// round(((a - za) * ka + (b - zb) * kb) / 2^s) + zy with ka, kb the ratios
/// sa / sy and sb / sy to s bits (ka, kb <= 2^22, so the i32 sum of two
/// 8-bit differences cannot overflow). The result is ONNX's float
/// definition except where the ratios' rounding to 2^-s moves a value
/// across a half step.
struct RewriteQuantizedAdd : OpRewritePattern<nn::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::QuantizeOp q, PatternRewriter &rw) const override {
    auto out = outputOf(q);
    if (!out)
      return failure();
    auto add = out->input.getDefiningOp<nn::AddOp>();
    if (!add)
      return failure();
    auto a = perTensorDequantize(add.getLhs()), b = perTensorDequantize(add.getRhs());
    if (!a || !b)
      return failure();
    double ra = a->second.scale[0] / out->scale, rb = b->second.scale[0] / out->scale;
    double largest = std::max(ra, rb);
    if (!(largest > 0) || largest >= (1 << 21))
      return failure();
    int s = 0;
    while (s < 31 && std::nearbyint(largest * std::ldexp(1.0, s + 1)) <= (1 << 22))
      ++s;
    if (s < 1)
      return failure();
    auto ka = (int32_t)std::nearbyint(ra * std::ldexp(1.0, s));
    auto kb = (int32_t)std::nearbyint(rb * std::ldexp(1.0, s));
    Location loc = add.getLoc();
    auto type = typeOf(add.getOutput()).clone(rw.getI32Type());
    Value ta = rw.create<nn::MulOp>(loc, typeOf(a->first.getInput()).clone(rw.getI32Type()),
                                    centered(rw, loc, a->first.getInput(), a->second.zeroPoint[0]),
                                    i32Constant(rw, loc, {}, {ka}));
    Value tb = rw.create<nn::MulOp>(loc, typeOf(b->first.getInput()).clone(rw.getI32Type()),
                                    centered(rw, loc, b->first.getInput(), b->second.zeroPoint[0]),
                                    i32Constant(rw, loc, {}, {kb}));
    Value sum = rw.create<nn::AddOp>(loc, type, ta, tb);
    // Dividing by 2^s with rounding: multiplier 2^30, shift 30 + s.
    requantizeInto(rw, q, sum, {}, {1 << 30}, {30 + s}, *out);
    return success();
  }
};

/// quantize(mean over axes (dequantize(x))) (GlobalAveragePool) in
/// integers: the i32 sum of x - zx, requantized by sx / (count * sy).
struct RewriteQuantizedMean : OpRewritePattern<nn::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::QuantizeOp q, PatternRewriter &rw) const override {
    auto out = outputOf(q);
    if (!out)
      return failure();
    auto mean = out->input.getDefiningOp<nn::ReduceOp>();
    if (!mean || mean.getKind() != nn::ReduceKind::mean)
      return failure();
    auto x = perTensorDequantize(mean.getInput());
    if (!x)
      return failure();
    int64_t count = 1;
    for (int64_t axis : mean.getAxes())
      count *= typeOf(mean.getInput()).getDimSize(axis);
    int32_t m, s;
    if (count > (1 << 23) ||
        !fixedPoint(x->second.scale[0] / ((double)count * out->scale), m, s))
      return failure();
    Location loc = mean.getLoc();
    Value centeredX = centered(rw, loc, x->first.getInput(), x->second.zeroPoint[0]);
    Value sum = rw.create<nn::ReduceOp>(
        loc, mean.getType().clone(rw.getI32Type()),
        nn::ReduceKindAttr::get(rw.getContext(), nn::ReduceKind::sum), centeredX,
        mean.getAxesAttr(), mean.getKeepdimsAttr());
    requantizeInto(rw, q, sum, {}, {m}, {s}, *out);
    return success();
  }
};

/// quantize(average pool (dequantize(x))) (AveragePool) in integers: the
/// i32 window sums of x - zx, as a depthwise convolution with ones (padding
/// adds zeros, which is the zero point centered), each requantized by
/// sx / (count * sy). Without count_include_pad a window at the border
/// counts only its positions inside the input, so the multiplier and shift
/// are per output position. ceil_mode and dilated windows stay float.
struct RewriteQuantizedAveragePool : OpRewritePattern<nn::QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nn::QuantizeOp q, PatternRewriter &rw) const override {
    auto out = outputOf(q);
    if (!out)
      return failure();
    auto pool = out->input.getDefiningOp<nn::PoolOp>();
    if (!pool || pool.getKind() != nn::PoolKind::average || pool.getCeilMode() ||
        llvm::any_of(pool.getDilations(), [](int64_t d) { return d != 1; }))
      return failure();
    auto x = perTensorDequantize(pool.getInput());
    auto inType = typeOf(pool.getInput()), outType = typeOf(pool.getOutput());
    if (!x || !inType.hasStaticShape() || !outType.hasStaticShape() || inType.getRank() < 3)
      return failure();
    ArrayRef<int64_t> kernel = pool.getKernelShape(), strides = pool.getStrides(),
                      pads = pool.getPads();
    size_t spatial = kernel.size();
    // Output positions in row-major order over the spatial axes.
    SmallVector<int64_t> outSpatial(outType.getShape().drop_front(2));
    int64_t positions = 1;
    for (int64_t d : outSpatial)
      positions *= d;
    SmallVector<int32_t> multipliers, shifts;
    for (int64_t p = 0; p < positions; ++p) {
      int64_t count = 1, rest = p;
      for (size_t i = spatial; i-- > 0;) {
        int64_t o = rest % outSpatial[i];
        rest /= outSpatial[i];
        int64_t begin = o * strides[i] - pads[i], end = begin + kernel[i];
        int64_t size = inType.getDimSize(2 + i);
        count *= pool.getCountIncludePad() ? kernel[i]
                                           : std::min(end, size) - std::max(begin, int64_t(0));
      }
      int32_t m, s;
      if (count < 1 || !fixedPoint(x->second.scale[0] / ((double)count * out->scale), m, s))
        return failure();
      multipliers.push_back(m);
      shifts.push_back(s);
    }
    bool uniform = llvm::all_equal(multipliers) && llvm::all_equal(shifts);
    SmallVector<int64_t> factorShape;
    if (!uniform) {
      factorShape.assign({1, 1});
      factorShape.append(outSpatial.begin(), outSpatial.end());
    } else {
      multipliers.resize(1);
      shifts.resize(1);
    }
    Location loc = pool.getLoc();
    int64_t channels = inType.getDimSize(1);
    SmallVector<int64_t> onesShape{channels, 1};
    onesShape.append(kernel.begin(), kernel.end());
    int64_t onesCount = channels;
    for (int64_t k : kernel)
      onesCount *= k;
    Value ones = i32Constant(rw, loc, onesShape, SmallVector<int32_t>(onesCount, 1));
    Value centeredX = centered(rw, loc, x->first.getInput(), x->second.zeroPoint[0]);
    nn::NNBuilder b(rw, loc);
    SmallVector<int64_t> dilations(spatial, 1);
    Value sums = b.conv(centeredX, ones, strides, pads, dilations, channels);
    requantizeInto(rw, q, sums, factorShape, multipliers, shifts, *out);
    return success();
  }
};

struct QuantizedOpsPass : strata::impl::QuantizedOpsBase<QuantizedOpsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RewriteQuantizedContraction, RewriteQuantizedActivation, RewriteQuantizedAdd,
                 RewriteQuantizedMean, RewriteQuantizedAveragePool>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
