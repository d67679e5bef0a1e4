//===- LowerQuantization.cpp - nn.quantize/dequantize to linalg -----------===//
//
// Quantize, dequantize and the signless rewrite's zero extension are
// broadcasting elementwise maps: the scale and zero point arrive already
// shaped to broadcast (per-tensor scalars or per-axis [1, C, 1, 1]).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LinalgBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace strata::lowering {
namespace {

/// The saturation bounds of a signless integer type as floats that convert
/// back exactly: i32's top (2^31 - 1) is not a float, so the largest float
/// below it stands in (saturating to 2147483520 instead of 2147483647).
std::pair<double, double> saturationBounds(IntegerType t) {
  if (t.getWidth() >= 32)
    return {-2147483648.0, 2147483520.0};
  double half = std::ldexp(1.0, (int)t.getWidth() - 1);
  return {-half, half - 1};
}

Value widenTo32(OpBuilder &b, Location loc, Value v) {
  auto t = cast<IntegerType>(v.getType());
  if (t.getWidth() == 32)
    return v;
  return t.getWidth() < 32
             ? b.create<arith::ExtSIOp>(loc, b.getI32Type(), v).getResult()
             : b.create<arith::TruncIOp>(loc, b.getI32Type(), v).getResult();
}

LogicalResult lowerQuantize(nn::QuantizeOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  auto resultType = op.getType();
  auto intType = cast<IntegerType>(resultType.getElementType());
  auto [lo, hi] = saturationBounds(intType);
  Value r = mapElementwise(
      rw, op.getLoc(), resultType, op->getOperands(),
      [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
        Type f = a[0].getType();
        // ONNX divides (x / scale) rather than multiplying by a reciprocal:
        // the two round differently at ties.
        Value q = b.create<math::RoundEvenOp>(loc, b.create<arith::DivFOp>(loc, a[0], a[1]));
        Value zp = b.create<arith::SIToFPOp>(loc, f, widenTo32(b, loc, a[2]));
        Value v = b.create<arith::AddFOp>(loc, q, zp);
        // maxnumf/minnumf take the number when one side is NaN: NaN
        // saturates to the lowest value instead of an undefined conversion.
        v = b.create<arith::MaxNumFOp>(loc, v, scalarConstant(b, loc, f, lo));
        v = b.create<arith::MinNumFOp>(loc, v, scalarConstant(b, loc, f, hi));
        return b.create<arith::FPToSIOp>(loc, intType, v);
      });
  rw.replaceOp(op, r);
  return success();
}

LogicalResult lowerDequantize(nn::DequantizeOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Value r = mapElementwise(
      rw, op.getLoc(), op.getType(), op->getOperands(),
      [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
        Value x = widenTo32(b, loc, a[0]), zp = widenTo32(b, loc, a[2]);
        Value d = b.create<arith::SubIOp>(loc, x, zp);
        Value f = b.create<arith::SIToFPOp>(loc, a[1].getType(), d);
        return b.create<arith::MulFOp>(loc, f, a[1]);
      });
  rw.replaceOp(op, r);
  return success();
}

/// round(p / 2^s) half to even, for i64 `p` (|p| < 2^62) and i64 `s` in
/// [1, 62], without compares: (p + 2^(s-1) - 1 + odd) >> s, where odd is
/// the low bit of the floor p >> s. With p = q 2^s + r (0 <= r < 2^s) the
/// sum carries into q exactly when r > 2^(s-1), or r = 2^(s-1) and q is odd.
Value roundingShiftRight(OpBuilder &b, Location loc, Value p, Value s) {
  Type i64 = b.getI64Type();
  auto c = [&](int64_t v) { return b.create<arith::ConstantIntOp>(loc, v, i64); };
  // Named locals: argument evaluation order would decide the order of the
  // ops, and lit tests read it.
  Value floor = b.create<arith::ShRSIOp>(loc, p, s);
  Value odd = b.create<arith::AndIOp>(loc, floor, c(1));
  Value half = b.create<arith::ShLIOp>(loc, c(1), b.create<arith::SubIOp>(loc, s, c(1)));
  Value bias = b.create<arith::AddIOp>(loc, b.create<arith::SubIOp>(loc, half, c(1)), odd);
  return b.create<arith::ShRSIOp>(loc, b.create<arith::AddIOp>(loc, p, bias), s);
}

LogicalResult lowerRequantize(nn::RequantizeOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Type out = op.getType().getElementType();
  int64_t lo = (int64_t)op.getMin(), hi = (int64_t)op.getMax(); // stored as uint64_t
  Value r = mapElementwise(
      rw, op.getLoc(), op.getType(), op->getOperands(),
      [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
        Type i64 = b.getI64Type();
        auto wide = [&](Value v) { return b.create<arith::ExtSIOp>(loc, i64, v); };
        // Named locals: argument evaluation order would decide the order of
        // the ops, and lit tests read it.
        Value acc = wide(a[0]), multiplier = wide(a[1]);
        Value p = b.create<arith::MulIOp>(loc, acc, multiplier);
        Value q = roundingShiftRight(b, loc, p, wide(a[2]));
        q = b.create<arith::AddIOp>(loc, q, wide(a[3]));
        q = b.create<arith::MaxSIOp>(loc, q, b.create<arith::ConstantIntOp>(loc, lo, i64));
        q = b.create<arith::MinSIOp>(loc, q, b.create<arith::ConstantIntOp>(loc, hi, i64));
        return b.create<arith::TruncIOp>(loc, out, q);
      });
  rw.replaceOp(op, r);
  return success();
}

/// The float definition of a QDQ pair, for training.
LogicalResult lowerFakeQuantize(nn::FakeQuantizeOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Location loc = op.getLoc();
  Type f = op.getType().getElementType();
  SmallVector<double> zero(op.getZeroPoint().begin(), op.getZeroPoint().end());
  Value scale = op.getScale();
  Value zp = rw.create<arith::ConstantOp>(loc, op.channelConstant(zero));
  double qmin = (double)(int64_t)op.getQmin(), qmax = (double)(int64_t)op.getQmax();
  Value r = mapElementwise(
      rw, loc, op.getType(), ValueRange{op.getInput(), scale, zp},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value q = b.create<math::RoundEvenOp>(l, b.create<arith::DivFOp>(l, a[0], a[1]));
        q = b.create<arith::AddFOp>(l, q, a[2]);
        q = b.create<arith::MaxNumFOp>(l, q, scalarConstant(b, l, f, qmin));
        q = b.create<arith::MinNumFOp>(l, q, scalarConstant(b, l, f, qmax));
        return b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, q, a[2]), a[1]);
      });
  rw.replaceOp(op, r);
  return success();
}

LogicalResult lowerExtendUnsigned(nn::ExtendUnsignedOp op, PatternRewriter &rw) {
  REQUIRE_SUPPORTED(op);
  Type to = op.getType().getElementType();
  Value r = mapElementwise(rw, op.getLoc(), op.getType(), op->getOperands(),
                           [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
                             return b.create<arith::ExtUIOp>(loc, to, a[0]);
                           });
  rw.replaceOp(op, r);
  return success();
}

} // namespace

void populateQuantizationLowering(RewritePatternSet &patterns) {
  patterns.add(lowerQuantize);
  patterns.add(lowerDequantize);
  patterns.add(lowerExtendUnsigned);
  patterns.add(lowerRequantize);
  patterns.add(lowerFakeQuantize);
}

} // namespace strata::lowering
