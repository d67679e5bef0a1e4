//===- ElementwiseOps.cpp - import elementwise math and activations -------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/ops/Composites.h"
#include "dialects/nn/NNOps.h"

#include <limits>

using namespace mlir;

namespace strata::onnx_import {
namespace {

template <typename OpTy>
void importBinary(NodeContext &n) {
  Value lhs = n.input(0), rhs = n.input(1);
  n.setResult(0, n.builder().create<OpTy>(n.loc(), n.resultType(), lhs, rhs));
}

template <typename OpTy>
void importUnary(NodeContext &n) {
  n.setResult(0, n.builder().create<OpTy>(n.loc(), n.resultType(), n.input(0)));
}

/// Pow allows an exponent of another element type (opset 12+); nn.pow does
/// not, so the exponent is cast to the base's type.
void importPow(NodeContext &n) {
  Value base = n.input(0), exponent = n.input(1);
  auto baseType = cast<RankedTensorType>(base.getType());
  auto expType = cast<RankedTensorType>(exponent.getType());
  if (expType.getElementType() != baseType.getElementType())
    exponent = n.builder().create<nn::CastOp>(
        n.loc(), expType.clone(baseType.getElementType()), exponent);
  n.setResult(0, n.builder().create<nn::PowOp>(n.loc(), n.resultType(), base,
                                               exponent));
}

void importLeakyRelu(NodeContext &n) {
  float alpha = n.attrFloat("alpha", 0.01f);
  n.setResult(0, n.builder().create<nn::LeakyReluOp>(
                     n.loc(), n.resultType(), n.input(0),
                     n.builder().getF32FloatAttr(alpha)));
}

void buildClip(NodeContext &n, std::optional<double> lo,
               std::optional<double> hi) {
  OpBuilder &b = n.builder();
  FloatAttr minAttr = lo ? b.getF64FloatAttr(*lo) : FloatAttr();
  FloatAttr maxAttr = hi ? b.getF64FloatAttr(*hi) : FloatAttr();
  n.setResult(0, b.create<nn::ClipOp>(n.loc(), n.resultType(), n.input(0),
                                      minAttr, maxAttr));
}

/// Opset 6-10: bounds are attributes, defaulting to the float range.
void importClipAttrs(NodeContext &n) {
  float lo = n.attrFloat("min", -std::numeric_limits<float>::max());
  float hi = n.attrFloat("max", std::numeric_limits<float>::max());
  buildClip(n, lo, hi);
}

bool isConstantInput(NodeContext &n, int i) {
  return n.hasInput(i) && n.input(i).getDefiningOp<nn::ConstantOp>();
}

/// Opset 11+: bounds are optional inputs; constant ones become attributes,
/// computed ones nn.max / nn.min.
void importClipInputs(NodeContext &n) {
  bool computed = (n.hasInput(1) && !isConstantInput(n, 1)) ||
                  (n.hasInput(2) && !isConstantInput(n, 2));
  if (computed) {
    Value x = n.input(0);
    if (n.hasInput(1))
      x = n.builder().create<nn::MaxOp>(n.loc(), n.resultType(), x, n.input(1));
    if (n.hasInput(2))
      x = n.builder().create<nn::MinOp>(n.loc(), n.resultType(), x, n.input(2));
    n.setResult(0, x);
    return;
  }
  auto bound = [&](int i, const char *what) -> std::optional<double> {
    if (!n.hasInput(i))
      return std::nullopt;
    std::vector<double> v = n.constantDoubles(i, what);
    if (v.size() != 1)
      n.fail(std::string(what) + " must be a scalar");
    return v[0];
  };
  buildClip(n, bound(1, "Clip's min"), bound(2, "Clip's max"));
}

/// Opset 13+: normalize along one axis (default -1).
template <typename OpTy>
void importSoftmax13(NodeContext &n) {
  int64_t rank = n.inputType(0).getRank();
  int64_t axis = n.normalizeAxis(n.attrInt("axis", -1), rank, "axis");
  n.setResult(0, n.builder().create<OpTy>(n.loc(), n.resultType(), n.input(0),
                                          n.builder().getI64IntegerAttr(axis)));
}

/// Opsets before 13 flatten the input to 2-D at `axis` (default 1) and
/// normalize each row; written as reshape -> softmax(axis 1) -> reshape.
template <typename OpTy>
void importSoftmaxLegacy(NodeContext &n) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  int64_t axis = n.normalizeAxis(n.attrInt("axis", 1), rank, "axis");
  if (axis == rank - 1) {
    n.setResult(0, b.create<OpTy>(n.loc(), n.resultType(), x,
                                  b.getI64IntegerAttr(axis)));
    return;
  }
  auto product = [&](int64_t from, int64_t to) {
    int64_t p = 1;
    for (int64_t d = from; d < to; ++d) {
      if (type.isDynamicDim(d))
        return ShapedType::kDynamic;
      p *= type.getDimSize(d);
    }
    return p;
  };
  auto flatType = RankedTensorType::get({product(0, axis), product(axis, rank)},
                                        type.getElementType());
  Value flat = b.create<nn::ReshapeOp>(n.loc(), flatType, x);
  Value norm = b.create<OpTy>(n.loc(), flatType, flat, b.getI64IntegerAttr(1));
  n.setResult(0, b.create<nn::ReshapeOp>(n.loc(), n.resultType(), norm));
}

using namespace composite;

/// Max, Min, Sum, Mean: a left fold of the binary op over all inputs.
template <typename OpTy, bool isMean>
void importVariadic(NodeContext &n) {
  Value acc = n.input(0);
  for (int i = 1; i < n.numInputs(); ++i)
    acc = binary<OpTy>(n, acc, n.input(i));
  if (isMean)
    acc = binary<nn::DivOp>(n, acc, scalar(n, typeOf(acc).getElementType(),
                                           n.numInputs()));
  if (typeOf(acc) != n.resultType())
    acc = n.builder().create<nn::BroadcastToOp>(n.loc(), n.resultType(), acc);
  n.setResult(0, acc);
}

template <nn::ComparePredicate p>
void importCompare(NodeContext &n) {
  Value a = n.input(0), b = n.input(1);
  n.setResult(0, compare(n, p, a, b));
}

void importNot(NodeContext &n) { n.setResult(0, unary<nn::NotOp>(n, n.input(0))); }

void importWhere(NodeContext &n) {
  Value c = n.input(0), x = n.input(1), y = n.input(2);
  n.setResult(0, where(n, c, x, y));
}

void importCastLike(NodeContext &n) {
  n.input(1); // only its type matters, which the result type carries
  n.ignoreAttr("saturate");
  n.setResult(0, n.builder().create<nn::CastOp>(n.loc(), n.resultType(), n.input(0)));
}

Type elementOf(NodeContext &n) { return n.inputType(0).getElementType(); }

/// Selu scales Elu by gamma.
void importElu(NodeContext &n) {
  n.setResult(0, elu(n, n.input(0), n.attrFloat("alpha", 1.0f)));
}

void importSelu(NodeContext &n) {
  double alpha = n.attrFloat("alpha", 1.67326319217681884765625f);
  double gamma = n.attrFloat("gamma", 1.05070102214813232421875f);
  n.setResult(0, binary<nn::MulOp>(n, elu(n, n.input(0), alpha),
                                   scalar(n, elementOf(n), gamma)));
}

/// Celu: max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
void importCelu(NodeContext &n) {
  Value x = n.input(0);
  Type t = elementOf(n);
  double alpha = n.attrFloat("alpha", 1.0f);
  Value zero = scalar(n, t, 0.0);
  Value e = binary<nn::MulOp>(
      n,
      binary<nn::SubOp>(n, unary<nn::ExpOp>(n, binary<nn::DivOp>(n, x, scalar(n, t, alpha))),
                        scalar(n, t, 1.0)),
      scalar(n, t, alpha));
  n.setResult(0, binary<nn::AddOp>(n, binary<nn::MaxOp>(n, x, zero),
                                   binary<nn::MinOp>(n, e, zero)));
}

void importHardSigmoid(NodeContext &n) {
  n.setResult(0, hardSigmoid(n, n.input(0), n.attrFloat("alpha", 0.2f),
                             n.attrFloat("beta", 0.5f)));
}

void importHardSwish(NodeContext &n) {
  Value x = n.input(0);
  n.setResult(0, binary<nn::MulOp>(n, x, hardSigmoid(n, x, 1.0 / 6.0, 0.5)));
}

void importSoftplus(NodeContext &n) {
  Value x = n.input(0);
  n.setResult(0, unary<nn::LogOp>(n, binary<nn::AddOp>(n, unary<nn::ExpOp>(n, x),
                                                       scalar(n, elementOf(n), 1.0))));
}

void importSoftsign(NodeContext &n) {
  Value x = n.input(0);
  n.setResult(0, binary<nn::DivOp>(
                     n, x, binary<nn::AddOp>(n, unary<nn::AbsOp>(n, x),
                                             scalar(n, elementOf(n), 1.0))));
}

void importThresholdedRelu(NodeContext &n) {
  Value x = n.input(0);
  Type t = elementOf(n);
  double alpha = n.attrFloat("alpha", 1.0f);
  n.setResult(0, where(n, compare(n, nn::ComparePredicate::gt, x, scalar(n, t, alpha)),
                       x, scalar(n, t, 0.0)));
}

/// PRelu: x < 0 ? slope * x : x, slope broadcast to x.
void importPRelu(NodeContext &n) {
  Value x = n.input(0), slope = n.input(1);
  Type t = elementOf(n);
  n.setResult(0, where(n, compare(n, nn::ComparePredicate::lt, x, scalar(n, t, 0.0)),
                       binary<nn::MulOp>(n, x, slope), x));
}

void importMod(NodeContext &n) {
  Value a = n.input(0), b = n.input(1);
  bool fmod = n.attrInt("fmod", 0) != 0;
  if (!fmod && isa<FloatType>(typeOf(a).getElementType()))
    n.fail("fmod=0 is not defined for floating-point inputs");
  n.setResult(0, n.builder().create<nn::ModOp>(n.loc(), n.resultType(), a, b,
                                               n.builder().getBoolAttr(fmod)));
}

/// IsNaN: x != x.
void importIsNaN(NodeContext &n) {
  Value x = n.input(0);
  n.setResult(0, unary<nn::NotOp>(n, compare(n, nn::ComparePredicate::eq, x, x)));
}

/// IsInf: x == +inf and/or x == -inf, as the attributes ask.
void importIsInf(NodeContext &n) {
  Value x = n.input(0);
  Type t = elementOf(n);
  bool negative = n.attrInt("detect_negative", 1) != 0;
  bool positive = n.attrInt("detect_positive", 1) != 0;
  double inf = std::numeric_limits<double>::infinity();
  Value pos = compare(n, nn::ComparePredicate::eq, x, scalar(n, t, inf));
  Value neg = compare(n, nn::ComparePredicate::eq, x, scalar(n, t, -inf));
  Value r = positive && negative ? binary<nn::OrOp>(n, pos, neg)
            : positive           ? pos
            : negative           ? neg
                                 : binary<nn::AndOp>(n, pos, neg); // all false
  n.setResult(0, r);
}

} // namespace

void registerElementwiseImporters(OpTable &t) {
  t.add("Mod", 10, importMod);
  t.add("IsNaN", 9, importIsNaN);
  t.add("IsInf", 10, importIsInf);
  t.add("Max", 8, importVariadic<nn::MaxOp, false>);
  t.add("Min", 8, importVariadic<nn::MinOp, false>);
  t.add("Sum", 8, importVariadic<nn::AddOp, false>);
  t.add("Mean", 8, importVariadic<nn::AddOp, true>);
  t.add("Floor", 6, importUnary<nn::FloorOp>);
  t.add("Ceil", 6, importUnary<nn::CeilOp>);
  t.add("Round", 11, importUnary<nn::RoundOp>);
  t.add("Sign", 9, importUnary<nn::SignOp>);
  t.add("Reciprocal", 6, importUnary<nn::ReciprocalOp>);
  t.add("Erf", 9, importUnary<nn::ErfOp>);
  t.add("Sin", 7, importUnary<nn::SinOp>);
  t.add("Cos", 7, importUnary<nn::CosOp>);
  t.add("Tan", 7, importUnary<nn::TanOp>);
  t.add("Asin", 7, importUnary<nn::AsinOp>);
  t.add("Acos", 7, importUnary<nn::AcosOp>);
  t.add("Atan", 7, importUnary<nn::AtanOp>);
  t.add("Sinh", 9, importUnary<nn::SinhOp>);
  t.add("Cosh", 9, importUnary<nn::CoshOp>);
  t.add("Asinh", 9, importUnary<nn::AsinhOp>);
  t.add("Acosh", 9, importUnary<nn::AcoshOp>);
  t.add("Atanh", 9, importUnary<nn::AtanhOp>);
  t.add("Equal", 7, importCompare<nn::ComparePredicate::eq>);
  t.add("Less", 7, importCompare<nn::ComparePredicate::lt>);
  t.add("LessOrEqual", 12, importCompare<nn::ComparePredicate::le>);
  t.add("Greater", 7, importCompare<nn::ComparePredicate::gt>);
  t.add("GreaterOrEqual", 12, importCompare<nn::ComparePredicate::ge>);
  t.add("And", 7, importBinary<nn::AndOp>);
  t.add("Or", 7, importBinary<nn::OrOp>);
  t.add("Xor", 7, importBinary<nn::XorOp>);
  t.add("Not", 1, importNot);
  t.add("Where", 9, importWhere);
  t.add("CastLike", 15, importCastLike);
  t.add("Elu", 6, importElu);
  t.add("Selu", 6, importSelu);
  t.add("Celu", 12, importCelu);
  t.add("HardSigmoid", 6, importHardSigmoid);
  t.add("HardSwish", 14, importHardSwish);
  t.add("Softplus", 1, importSoftplus);
  t.add("Softsign", 1, importSoftsign);
  t.add("ThresholdedRelu", 10, importThresholdedRelu);
  t.add("PRelu", 7, importPRelu);
  t.add("Add", 7, importBinary<nn::AddOp>);
  t.add("Sub", 7, importBinary<nn::SubOp>);
  t.add("Mul", 7, importBinary<nn::MulOp>);
  t.add("Div", 7, importBinary<nn::DivOp>);
  t.add("Pow", 7, importPow);
  t.add("Sqrt", 6, importUnary<nn::SqrtOp>);
  t.add("Exp", 6, importUnary<nn::ExpOp>);
  t.add("Log", 6, importUnary<nn::LogOp>);
  t.add("Neg", 6, importUnary<nn::NegOp>);
  t.add("Abs", 6, importUnary<nn::AbsOp>);
  t.add("Relu", 6, importUnary<nn::ReluOp>);
  t.add("Sigmoid", 6, importUnary<nn::SigmoidOp>);
  t.add("Tanh", 6, importUnary<nn::TanhOp>);
  t.add("LeakyRelu", 6, importLeakyRelu);
  t.add("Clip", 6, importClipAttrs);
  t.add("Clip", 11, importClipInputs);
  t.add("Softmax", 1, importSoftmaxLegacy<nn::SoftmaxOp>);
  t.add("Softmax", 13, importSoftmax13<nn::SoftmaxOp>);
  t.add("LogSoftmax", 1, importSoftmaxLegacy<nn::LogSoftmaxOp>);
  t.add("LogSoftmax", 13, importSoftmax13<nn::LogSoftmaxOp>);
}

} // namespace strata::onnx_import
