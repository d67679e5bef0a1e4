//===- LowerElementwise.cpp - nn elementwise ops to linalg.generic --------===//
//
// One pattern covers every elementwise op: it emits a broadcasting
// linalg.generic whose body is the op's scalar computation, so the
// elementwise-fusion pass can merge whole chains into one loop nest.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/LinalgBuilders.h"
#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace strata::lowering {
namespace {

Value compare(OpBuilder &b, Location loc, nn::ComparePredicate p, Value x,
              Value y) {
  if (isa<FloatType>(x.getType())) {
    arith::CmpFPredicate f;
    switch (p) {
    case nn::ComparePredicate::eq: f = arith::CmpFPredicate::OEQ; break;
    case nn::ComparePredicate::lt: f = arith::CmpFPredicate::OLT; break;
    case nn::ComparePredicate::le: f = arith::CmpFPredicate::OLE; break;
    case nn::ComparePredicate::gt: f = arith::CmpFPredicate::OGT; break;
    case nn::ComparePredicate::ge: f = arith::CmpFPredicate::OGE; break;
    }
    return b.create<arith::CmpFOp>(loc, f, x, y);
  }
  arith::CmpIPredicate i;
  switch (p) {
  case nn::ComparePredicate::eq: i = arith::CmpIPredicate::eq; break;
  case nn::ComparePredicate::lt: i = arith::CmpIPredicate::slt; break;
  case nn::ComparePredicate::le: i = arith::CmpIPredicate::sle; break;
  case nn::ComparePredicate::gt: i = arith::CmpIPredicate::sgt; break;
  case nn::ComparePredicate::ge: i = arith::CmpIPredicate::sge; break;
  }
  return b.create<arith::CmpIOp>(loc, i, x, y);
}

Value greaterThan(OpBuilder &b, Location loc, Value x, Value y) {
  return compare(b, loc, nn::ComparePredicate::gt, x, y);
}

/// The scalar body of an elementwise nn op, or null if `op` is not one.
Value scalarBody(Operation *op, OpBuilder &b, Location loc, ValueRange a,
                 Type t) {
  auto c = [&](double v) { return scalarConstant(b, loc, t, v); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](nn::AddOp) { return add(b, loc, a[0], a[1]); })
      .Case([&](nn::SubOp) { return sub(b, loc, a[0], a[1]); })
      .Case([&](nn::MulOp) { return mul(b, loc, a[0], a[1]); })
      .Case([&](nn::DivOp) { return div(b, loc, a[0], a[1]); })
      .Case([&](nn::PowOp) -> Value {
        if (!isa<FloatType>(t))
          return b.create<math::IPowIOp>(loc, a[0], a[1]);
        return b.create<math::PowFOp>(loc, a[0], a[1]);
      })
      .Case([&](nn::ModOp mod) -> Value {
        if (isa<FloatType>(t))
          return b.create<arith::RemFOp>(loc, a[0], a[1]);
        Value r = b.create<arith::RemSIOp>(loc, a[0], a[1]);
        if (mod.getFmod())
          return r;
        // Python semantics: a nonzero remainder takes the divisor's sign.
        Value zero = c(0.0);
        Value rNeg = compare(b, loc, nn::ComparePredicate::lt, r, zero);
        Value bNeg = compare(b, loc, nn::ComparePredicate::lt, a[1], zero);
        Value nonzero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, r, zero);
        Value differ = b.create<arith::XOrIOp>(loc, rNeg, bNeg);
        Value fix = b.create<arith::AndIOp>(loc, nonzero, differ);
        return b.create<arith::SelectOp>(loc, fix, add(b, loc, r, a[1]), r);
      })
      .Case([&](nn::SqrtOp) { return b.create<math::SqrtOp>(loc, a[0]); })
      .Case([&](nn::ExpOp) { return b.create<math::ExpOp>(loc, a[0]); })
      .Case([&](nn::LogOp) { return b.create<math::LogOp>(loc, a[0]); })
      .Case([&](nn::TanhOp) { return b.create<math::TanhOp>(loc, a[0]); })
      .Case([&](nn::NegOp) { return sub(b, loc, c(0.0), a[0]); })
      .Case([&](nn::AbsOp) -> Value {
        if (isa<FloatType>(t))
          return b.create<math::AbsFOp>(loc, a[0]);
        return b.create<math::AbsIOp>(loc, a[0]);
      })
      .Case([&](nn::ReluOp) { return max(b, loc, a[0], c(0.0)); })
      .Case([&](nn::SigmoidOp) -> Value {
        Value e = b.create<math::ExpOp>(loc, sub(b, loc, c(0.0), a[0]));
        return div(b, loc, c(1.0), add(b, loc, c(1.0), e));
      })
      .Case([&](nn::LeakyReluOp lr) -> Value {
        Value scaled = mul(b, loc, a[0], c(lr.getAlpha().convertToDouble()));
        Value positive = b.create<arith::CmpFOp>(
            loc, arith::CmpFPredicate::OGT, a[0], c(0.0));
        return b.create<arith::SelectOp>(loc, positive, a[0], scaled);
      })
      .Case([&](nn::ClipOp clip) -> Value {
        Value v = a[0];
        if (clip.getMin())
          v = max(b, loc, v, c(clip.getMin()->convertToDouble()));
        if (clip.getMax())
          v = min(b, loc, v, c(clip.getMax()->convertToDouble()));
        return v;
      })
      .Case([&](nn::CastOp) -> Value { return convert(b, loc, a[0], t); })
      .Case([&](nn::MaxOp) { return max(b, loc, a[0], a[1]); })
      .Case([&](nn::MinOp) { return min(b, loc, a[0], a[1]); })
      .Case([&](nn::FloorOp) { return b.create<math::FloorOp>(loc, a[0]); })
      .Case([&](nn::CeilOp) { return b.create<math::CeilOp>(loc, a[0]); })
      .Case([&](nn::RoundOp) { return b.create<math::RoundEvenOp>(loc, a[0]); })
      .Case([&](nn::ErfOp) { return b.create<math::ErfOp>(loc, a[0]); })
      .Case([&](nn::SinOp) { return b.create<math::SinOp>(loc, a[0]); })
      .Case([&](nn::CosOp) { return b.create<math::CosOp>(loc, a[0]); })
      .Case([&](nn::TanOp) { return b.create<math::TanOp>(loc, a[0]); })
      .Case([&](nn::AsinOp) { return b.create<math::AsinOp>(loc, a[0]); })
      .Case([&](nn::AcosOp) { return b.create<math::AcosOp>(loc, a[0]); })
      .Case([&](nn::AtanOp) { return b.create<math::AtanOp>(loc, a[0]); })
      .Case([&](nn::SinhOp) { return b.create<math::SinhOp>(loc, a[0]); })
      .Case([&](nn::CoshOp) { return b.create<math::CoshOp>(loc, a[0]); })
      .Case([&](nn::AsinhOp) { return b.create<math::AsinhOp>(loc, a[0]); })
      .Case([&](nn::AcoshOp) { return b.create<math::AcoshOp>(loc, a[0]); })
      .Case([&](nn::AtanhOp) { return b.create<math::AtanhOp>(loc, a[0]); })
      .Case([&](nn::ReciprocalOp) { return div(b, loc, c(1.0), a[0]); })
      .Case([&](nn::SignOp) -> Value {
        Value pos = b.create<arith::SelectOp>(loc, greaterThan(b, loc, a[0], c(0.0)), c(1.0), c(0.0));
        return b.create<arith::SelectOp>(loc, greaterThan(b, loc, c(0.0), a[0]), c(-1.0), pos);
      })
      .Case([&](nn::CompareOp cmp) -> Value {
        return compare(b, loc, cmp.getPredicate(), a[0], a[1]);
      })
      .Case([&](nn::AndOp) { return b.create<arith::AndIOp>(loc, a[0], a[1]); })
      .Case([&](nn::OrOp) { return b.create<arith::OrIOp>(loc, a[0], a[1]); })
      .Case([&](nn::XorOp) { return b.create<arith::XOrIOp>(loc, a[0], a[1]); })
      .Case([&](nn::NotOp) { return b.create<arith::XOrIOp>(loc, a[0], c(1.0)); })
      .Case([&](nn::WhereOp) { return b.create<arith::SelectOp>(loc, a[0], a[1], a[2]); })
      .Default([](Operation *) { return Value(); });
}

struct ElementwiseToLinalg : RewritePattern {
  ElementwiseToLinalg(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!isa<nn::AddOp, nn::SubOp, nn::MulOp, nn::DivOp, nn::PowOp,
             nn::MaxOp, nn::MinOp, nn::SqrtOp, nn::ExpOp, nn::LogOp,
             nn::TanhOp, nn::NegOp, nn::AbsOp, nn::ReluOp, nn::SigmoidOp,
             nn::LeakyReluOp, nn::ClipOp, nn::CastOp, nn::FloorOp, nn::CeilOp,
             nn::RoundOp, nn::ErfOp, nn::SinOp, nn::CosOp, nn::TanOp,
             nn::AsinOp, nn::AcosOp, nn::AtanOp, nn::SinhOp, nn::CoshOp,
             nn::AsinhOp, nn::AcoshOp, nn::AtanhOp, nn::ReciprocalOp,
             nn::SignOp, nn::CompareOp, nn::AndOp, nn::OrOp, nn::XorOp,
             nn::NotOp, nn::WhereOp, nn::ModOp>(op))
      return failure();
    if (!unsupportedReason(op).empty())
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    // The scalar type the body computes in: the operands' for comparisons.
    Type t = isa<nn::CompareOp>(op)
                 ? cast<RankedTensorType>(op->getOperand(0).getType()).getElementType()
                 : resultType.getElementType();
    bool floatOnly = !isa<nn::AddOp, nn::SubOp, nn::MulOp, nn::DivOp,
                          nn::MaxOp, nn::MinOp, nn::NegOp, nn::AbsOp,
                          nn::ReluOp, nn::ClipOp, nn::CastOp, nn::SignOp,
                          nn::CompareOp, nn::AndOp, nn::OrOp, nn::XorOp,
                          nn::NotOp, nn::WhereOp, nn::ModOp, nn::PowOp>(op);
    if (floatOnly && !isa<FloatType>(t))
      return rw.notifyMatchFailure(op, "integer form is not lowered");
    Value r = mapElementwise(rw, op->getLoc(), resultType, op->getOperands(),
                             [&](OpBuilder &b, Location loc, ValueRange args) {
                               return scalarBody(op, b, loc, args, t);
                             });
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateElementwiseLowering(RewritePatternSet &patterns) {
  patterns.add<ElementwiseToLinalg>(patterns.getContext());
}

} // namespace strata::lowering
