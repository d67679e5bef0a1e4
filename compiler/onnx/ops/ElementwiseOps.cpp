//===- ElementwiseOps.cpp - import elementwise math and activations -------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
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

/// Opset 11+: bounds are optional (constant) inputs.
void importClipInputs(NodeContext &n) {
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

} // namespace

void registerElementwiseImporters(OpTable &t) {
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
