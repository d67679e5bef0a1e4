//===- TrainingOps.cpp - import ai.onnx.preview.training operators --------===//
//
// ONNX's optimizer operators are elementwise formulas over each tensor of a
// group (X..., G..., state...) sharing a learning rate R and step count T;
// they become nn ops directly. Gradient(xs, y) runs strata's reverse-mode
// autodiff over the graph imported so far.
//
//===----------------------------------------------------------------------===//

#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "dialects/nn/NNBuilder.h"
#include "passes/train/Autodiff.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace strata::onnx_import {
namespace {

/// The group size n of an optimizer node with inputs R, T, then `groups`
/// runs of n tensors (X..., G..., state...).
int64_t groupSize(NodeContext &n, int groups) {
  int64_t rest = n.numInputs() - 2;
  if (rest <= 0 || rest % groups != 0)
    n.fail("expects R, T and " + std::to_string(groups) +
           " equally long lists of tensors");
  return rest / groups;
}

/// T > 0 as an i1 scalar, and T as a float scalar of `et`.
std::pair<Value, Value> stepCount(NodeContext &n, nn::NNBuilder &b, Type et) {
  Value t = n.input(1);
  Value positive = b.compare(nn::ComparePredicate::gt, t,
                             b.scalar(nn::NNBuilder::elementOf(t), 0.0));
  return {positive, b.cast(t, et)};
}

void importAdagrad(NodeContext &n) {
  nn::NNBuilder b(n.builder(), n.loc());
  int64_t k = groupSize(n, 3);
  double decay = n.attrFloat("decay_factor", 0.0f), eps = n.attrFloat("epsilon", 0.0f);
  double norm = n.attrFloat("norm_coefficient", 0.0f);
  Value r = n.input(0);
  Type et = nn::NNBuilder::elementOf(r);
  Value t = b.cast(n.input(1), et);
  // r / (1 + t * decay)
  Value rate = b.div(r, b.add(b.scalar(et, 1.0), b.mulScalar(t, decay)));
  for (int64_t i = 0; i < k; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + k + i), h = n.input(2 + 2 * k + i);
    Value gr = b.add(b.mulScalar(x, norm), g);
    Value h2 = b.add(h, b.mul(gr, gr));
    Value denom = b.add(b.sqrt(h2), b.scalar(et, eps));
    n.setResult(i, b.sub(x, b.div(b.mul(rate, gr), denom)));
    n.setResult(k + i, h2);
  }
}

void importMomentum(NodeContext &n) {
  nn::NNBuilder b(n.builder(), n.loc());
  int64_t k = groupSize(n, 3);
  double alpha = n.attrFloat("alpha", 0.0f), beta = n.attrFloat("beta", 0.0f);
  double norm = n.attrFloat("norm_coefficient", 0.0f);
  std::string mode = n.attrString("mode", "standard");
  if (mode != "standard" && mode != "nesterov")
    n.fail("mode '" + mode + "' is not standard or nesterov");
  Value r = n.input(0);
  Type et = nn::NNBuilder::elementOf(r);
  auto [positive, t] = stepCount(n, b, et);
  (void)t;
  // The gradient's coefficient is 1 at the first step.
  Value betaNow = b.where(positive, b.scalar(et, beta), b.scalar(et, 1.0));
  for (int64_t i = 0; i < k; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + k + i), v = n.input(2 + 2 * k + i);
    Value gr = b.add(b.mulScalar(x, norm), g);
    Value v2 = b.add(b.mulScalar(v, alpha), b.mul(betaNow, gr));
    Value step = mode == "standard" ? v2 : b.add(gr, b.mulScalar(v2, alpha));
    n.setResult(i, b.sub(x, b.mul(r, step)));
    n.setResult(k + i, v2);
  }
}

void importAdam(NodeContext &n) {
  nn::NNBuilder b(n.builder(), n.loc());
  int64_t k = groupSize(n, 4);
  double alpha = n.attrFloat("alpha", 0.9f), beta = n.attrFloat("beta", 0.999f);
  double eps = n.attrFloat("epsilon", 1e-6f), norm = n.attrFloat("norm_coefficient", 0.0f);
  double post = n.attrFloat("norm_coefficient_post", 0.0f);
  Value r = n.input(0);
  Type et = nn::NNBuilder::elementOf(r);
  auto [positive, t] = stepCount(n, b, et);
  Value one = b.scalar(et, 1.0);
  // Bias correction r * sqrt(1 - beta^t) / (1 - alpha^t), from the first step on.
  Value corrected = b.div(b.mul(r, b.sqrt(b.sub(one, b.pow(b.scalar(et, beta), t)))),
                          b.sub(one, b.pow(b.scalar(et, alpha), t)));
  Value rate = b.where(positive, corrected, r);
  for (int64_t i = 0; i < k; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + k + i);
    Value v = n.input(2 + 2 * k + i), h = n.input(2 + 3 * k + i);
    Value gr = b.add(b.mulScalar(x, norm), g);
    Value v2 = b.add(b.mulScalar(v, alpha), b.mulScalar(gr, 1.0 - alpha));
    Value h2 = b.add(b.mulScalar(h, beta), b.mulScalar(b.mul(gr, gr), 1.0 - beta));
    Value denom = b.add(b.sqrt(h2), b.scalar(et, eps));
    Value x2 = b.sub(x, b.mul(rate, b.div(v2, denom)));
    n.setResult(i, post == 0.0 ? x2 : b.mulScalar(x2, 1.0 - post));
    n.setResult(k + i, v2);
    n.setResult(2 * k + i, h2);
  }
}

/// Gradient(xs..., y): d(sum of y)/d(x) for each x, by strata's autodiff.
void importGradient(NodeContext &n) {
  std::vector<std::string> xs = n.attrStrings("xs");
  std::string y = n.attrString("y", "");
  n.attrStrings("zs"); // values held constant: any value not in xs already is
  if (xs.empty() || y.empty())
    n.fail("needs the xs and y attributes");
  SmallVector<Value> wrt;
  for (const std::string &x : xs)
    wrt.push_back(n.valueNamed(x));
  std::string diagnostics;
  ScopedDiagnosticHandler handler(n.builder().getContext(), [&](Diagnostic &d) {
    diagnostics += d.str();
    return success();
  });
  auto grads = train::buildGradients(n.builder(), n.valueNamed(y), wrt);
  if (failed(grads))
    n.fail("cannot differentiate '" + y + "': " + diagnostics);
  for (size_t i = 0; i < grads->size(); ++i)
    n.setResult((int)i, (*grads)[i]);
}

} // namespace

void registerTrainingImporters(OpTable &t) {
  std::string d = std::string(kTrainingDomain) + ".";
  t.add(d + "Adagrad", 1, importAdagrad);
  t.add(d + "Momentum", 1, importMomentum);
  t.add(d + "Adam", 1, importAdam);
  t.add(d + "Gradient", 1, importGradient);
}

} // namespace strata::onnx_import
