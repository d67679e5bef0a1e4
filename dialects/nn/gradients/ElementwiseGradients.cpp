//===- ElementwiseGradients.cpp - gradient rules of elementwise nn ops ----===//
//
// Vector-Jacobian products of the broadcasting binary ops, the unary math
// and activation ops, softmax and casts. A broadcast operand's gradient is
// summed back to the operand's shape. Integer operands get no gradient.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"

#include <cmath>

using namespace mlir;

namespace strata::nn {
namespace {

bool isFloat(Value v) { return isa<FloatType>(NNBuilder::elementOf(v)); }

/// Appends the gradients of a binary op's operands, each summed back to
/// its own shape; null where the operand is not floating point.
void appendBinary(NNBuilder &b, Operation *op, Value da, Value db,
                  SmallVectorImpl<Value> &grads) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  grads.push_back(da && isFloat(lhs) ? b.sumToShape(da, NNBuilder::typeOf(lhs).getShape())
                                     : Value());
  grads.push_back(db && isFloat(rhs) ? b.sumToShape(db, NNBuilder::typeOf(rhs).getShape())
                                     : Value());
}

/// Shared shape of the unary rules: dx = dy * f'(x, y).
template <typename OpTy, typename Fn>
LogicalResult unaryRule(OpTy op, OpBuilder &builder, ValueRange resultGrads,
                        SmallVectorImpl<Value> &grads, Fn derivative) {
  if (!isFloat(op.getInput())) {
    grads.push_back(Value());
    return success();
  }
  NNBuilder b(builder, op.getLoc());
  grads.push_back(derivative(b, op.getInput(), op.getOutput(), resultGrads[0]));
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  appendBinary(b, *this, dys[0], dys[0], grads);
  return success();
}

LogicalResult SubOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  appendBinary(b, *this, dys[0], isFloat(getRhs()) ? b.neg(dys[0]) : Value(), grads);
  return success();
}

LogicalResult MulOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  if (!isFloat(getLhs()))
    return appendBinary(b, *this, Value(), Value(), grads), success();
  appendBinary(b, *this, b.mul(dys[0], getRhs()), b.mul(dys[0], getLhs()), grads);
  return success();
}

LogicalResult DivOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  if (!isFloat(getLhs()))
    return appendBinary(b, *this, Value(), Value(), grads), success();
  // d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b.
  Value da = b.div(dys[0], getRhs());
  appendBinary(b, *this, da, b.neg(b.mul(da, getOutput())), grads);
  return success();
}

LogicalResult PowOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  if (!isFloat(getLhs()))
    return appendBinary(b, *this, Value(), Value(), grads), success();
  // d(a^e)/da = e * a^(e-1), d(a^e)/de = a^e * log(a).
  Value e = b.cast(getRhs(), NNBuilder::elementOf(getLhs()));
  Value one = b.scalar(NNBuilder::elementOf(e), 1.0);
  Value da = b.mul(dys[0], b.mul(e, b.pow(getLhs(), b.sub(e, one))));
  Value de = isFloat(getRhs())
                 ? b.mul(dys[0], b.mul(getOutput(), b.unary<LogOp>(getLhs())))
                 : Value();
  appendBinary(b, *this, da, de, grads);
  return success();
}

/// max/min: the gradient goes to the operand that was chosen (the left one
/// on ties).
template <typename OpTy>
static LogicalResult extremumRule(OpTy op, OpBuilder &builder, ValueRange dys,
                                  SmallVectorImpl<Value> &grads,
                                  ComparePredicate leftWins) {
  NNBuilder b(builder, op.getLoc());
  if (!isFloat(op.getLhs()))
    return appendBinary(b, op, Value(), Value(), grads), success();
  Value left = b.compare(leftWins, op.getLhs(), op.getRhs());
  Value dy = b.broadcastTo(dys[0], NNBuilder::typeOf(op.getOutput()).getShape());
  appendBinary(b, op, b.select(left, dy), b.where(left, b.scalar(NNBuilder::elementOf(dy), 0.0), dy),
               grads);
  return success();
}

LogicalResult MaxOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  return extremumRule(*this, builder, dys, grads, ComparePredicate::ge);
}

LogicalResult MinOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  return extremumRule(*this, builder, dys, grads, ComparePredicate::le);
}

LogicalResult WhereOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                      SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  grads.push_back(Value()); // the condition
  if (!isFloat(getX())) {
    grads.append(2, Value());
    return success();
  }
  Value dy = dys[0];
  Value zero = b.scalar(NNBuilder::elementOf(dy), 0.0);
  grads.push_back(b.sumToShape(b.where(getCondition(), dy, zero),
                               NNBuilder::typeOf(getX()).getShape()));
  grads.push_back(b.sumToShape(b.where(getCondition(), zero, dy),
                               NNBuilder::typeOf(getY()).getShape()));
  return success();
}

//===----------------------------------------------------------------------===//
// Unary math and activations
//===----------------------------------------------------------------------===//

#define UNARY_RULE(OP, BODY)                                                   \
  LogicalResult OP::buildGradients(OpBuilder &builder, ValueRange dys,         \
                                   SmallVectorImpl<Value> &grads) {            \
    return unaryRule(*this, builder, dys, grads,                               \
                     [&](NNBuilder &b, Value x, Value y, Value dy) -> Value {  \
                       (void)x;                                                \
                       (void)y;                                                \
                       Type et = NNBuilder::elementOf(x);                      \
                       (void)et;                                               \
                       BODY                                                    \
                     });                                                       \
  }

// 1 - t*t, used by tanh and the inverse trigonometric rules.
static Value oneMinusSquare(NNBuilder &b, Value t) {
  return b.sub(b.scalar(NNBuilder::elementOf(t), 1.0), b.mul(t, t));
}

UNARY_RULE(SqrtOp, { return b.div(dy, b.mulScalar(y, 2.0)); })
UNARY_RULE(ExpOp, { return b.mul(dy, y); })
UNARY_RULE(LogOp, { return b.div(dy, x); })
UNARY_RULE(NegOp, { return b.neg(dy); })
UNARY_RULE(AbsOp, { return b.mul(dy, b.unary<SignOp>(x)); })
// The mask reads the output (y > 0 exactly where x > 0, NaN in neither), so
// the input need not live until the backward pass and a convolution or
// matmul before the relu can apply it as a post-op.
UNARY_RULE(ReluOp, {
  return b.select(b.compare(ComparePredicate::gt, y, b.scalar(et, 0.0)), dy);
})
UNARY_RULE(SigmoidOp, {
  return b.mul(dy, b.mul(y, b.sub(b.scalar(et, 1.0), y)));
})
UNARY_RULE(TanhOp, { return b.mul(dy, oneMinusSquare(b, y)); })
UNARY_RULE(ReciprocalOp, { return b.neg(b.mul(dy, b.mul(y, y))); })
UNARY_RULE(ErfOp, {
  // 2/sqrt(pi) * exp(-x^2)
  Value e = b.exp(b.neg(b.mul(x, x)));
  return b.mul(dy, b.mulScalar(e, 2.0 / std::sqrt(M_PI)));
})
UNARY_RULE(SinOp, { return b.mul(dy, b.unary<CosOp>(x)); })
UNARY_RULE(CosOp, { return b.neg(b.mul(dy, b.unary<SinOp>(x))); })
UNARY_RULE(TanOp, { return b.mul(dy, b.add(b.scalar(et, 1.0), b.mul(y, y))); })
UNARY_RULE(AsinOp, { return b.div(dy, b.sqrt(oneMinusSquare(b, x))); })
UNARY_RULE(AcosOp, { return b.neg(b.div(dy, b.sqrt(oneMinusSquare(b, x)))); })
UNARY_RULE(AtanOp, { return b.div(dy, b.add(b.scalar(et, 1.0), b.mul(x, x))); })
UNARY_RULE(SinhOp, { return b.mul(dy, b.unary<CoshOp>(x)); })
UNARY_RULE(CoshOp, { return b.mul(dy, b.unary<SinhOp>(x)); })
UNARY_RULE(AsinhOp, { return b.div(dy, b.sqrt(b.add(b.mul(x, x), b.scalar(et, 1.0)))); })
UNARY_RULE(AcoshOp, { return b.div(dy, b.sqrt(b.sub(b.mul(x, x), b.scalar(et, 1.0)))); })
UNARY_RULE(AtanhOp, { return b.div(dy, oneMinusSquare(b, x)); })
// Piecewise constant: the gradient is zero almost everywhere.
UNARY_RULE(FloorOp, { return Value(); })
UNARY_RULE(CeilOp, { return Value(); })
UNARY_RULE(RoundOp, { return Value(); })
UNARY_RULE(SignOp, { return Value(); })

#undef UNARY_RULE

LogicalResult LeakyReluOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                          SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  Type et = NNBuilder::elementOf(getInput());
  Value positive = b.compare(ComparePredicate::gt, getInput(), b.scalar(et, 0.0));
  grads.push_back(b.where(positive, dys[0],
                          b.mulScalar(dys[0], getAlpha().convertToDouble())));
  return success();
}

LogicalResult ClipOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                     SmallVectorImpl<Value> &grads) {
  if (!isFloat(getInput())) {
    grads.push_back(Value());
    return success();
  }
  // PyTorch's clamp: the gradient passes where min <= x <= max.
  NNBuilder b(builder, getLoc());
  Type et = NNBuilder::elementOf(getInput());
  Value dy = dys[0];
  if (getMin())
    dy = b.select(b.compare(ComparePredicate::ge, getInput(),
                            b.scalar(et, getMin()->convertToDouble())),
                  dy);
  if (getMax())
    dy = b.select(b.compare(ComparePredicate::le, getInput(),
                            b.scalar(et, getMax()->convertToDouble())),
                  dy);
  grads.push_back(dy);
  return success();
}

LogicalResult FakeQuantizeOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                             SmallVectorImpl<Value> &grads) {
  // With v = x / s, r = round(v) and q = r + z:
  //   dx = dy where qmin <= q <= qmax (straight-through), else 0;
  //   ds = g * dy * (r - v inside, qmin - z below, qmax - z above),
  // summed to the scale's shape (LSQ; PyTorch's learnable fake quantize).
  NNBuilder b(builder, getLoc());
  auto constant = [&](ArrayRef<double> v) -> Value {
    return builder.create<ConstantOp>(getLoc(), channelConstant(v));
  };
  SmallVector<double> zero, below, above;
  for (int64_t z : getZeroPoint()) {
    zero.push_back((double)z);
    below.push_back((double)((int64_t)getQmin() - z));
    above.push_back((double)((int64_t)getQmax() - z));
  }
  Type et = getType().getElementType();
  Value v = b.div(getInput(), getScale());
  Value r = b.unary<RoundOp>(v);
  Value q = b.add(r, constant(zero));
  Value low = b.compare(ComparePredicate::lt, q, b.scalar(et, (double)(int64_t)getQmin()));
  Value high = b.compare(ComparePredicate::gt, q, b.scalar(et, (double)(int64_t)getQmax()));
  Value dy = dys[0];
  // Named locals: argument evaluation order would decide the order of the
  // ops, and lit tests read it.
  Value zeros = b.scalar(et, 0.0);
  Value dxAbove = b.where(high, zeros, dy);
  grads.push_back(b.where(low, zeros, dxAbove));
  Value inside = b.sub(r, v);
  Value aboveRatio = constant(above);
  Value ratioAbove = b.where(high, aboveRatio, inside);
  Value belowRatio = constant(below);
  Value ratio = b.where(low, belowRatio, ratioAbove);
  Value ds = b.mulScalar(b.mul(dy, ratio), gradientScale());
  grads.push_back(b.sumToShape(ds, NNBuilder::typeOf(getScale()).getShape()));
  return success();
}

LogicalResult SoftmaxOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                        SmallVectorImpl<Value> &grads) {
  // dx = y * (dy - sum(dy * y))
  NNBuilder b(builder, getLoc());
  Value y = getOutput(), dy = dys[0];
  Value s = b.reduce(ReduceKind::sum, b.mul(dy, y), {(int64_t)getAxis()}, true);
  grads.push_back(b.mul(y, b.sub(dy, s)));
  return success();
}

LogicalResult LogSoftmaxOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                           SmallVectorImpl<Value> &grads) {
  // dx = dy - softmax(x) * sum(dy), softmax(x) = exp(y)
  NNBuilder b(builder, getLoc());
  Value dy = dys[0];
  Value s = b.reduce(ReduceKind::sum, dy, {(int64_t)getAxis()}, true);
  grads.push_back(b.sub(dy, b.mul(b.exp(getOutput()), s)));
  return success();
}

LogicalResult CastOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                     SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  bool floats = isFloat(getInput()) && isFloat(getOutput());
  grads.push_back(floats ? b.cast(dys[0], NNBuilder::elementOf(getInput())) : Value());
  return success();
}

} // namespace strata::nn
