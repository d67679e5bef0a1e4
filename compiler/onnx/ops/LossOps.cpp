//===- LossOps.cpp - import NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
//
// ONNX's training losses (opset 12/13) as compositions of nn ops, so that
// they compile for inference and differentiate through the ops' own
// gradient rules. Per element: loss = -input[n, target, d...] * w[target],
// zero where target == ignore_index; "mean" divides the sum by the sum of
// the weights that were not ignored (ONNX's weighted mean).
//
//===----------------------------------------------------------------------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/ops/Composites.h"
#include "dialects/nn/NNOps.h"

using namespace mlir;

namespace strata::onnx_import {
namespace {

using namespace composite;

Value reshapeTo(NodeContext &n, Value x, ArrayRef<int64_t> shape) {
  auto t = typeOf(x);
  if (t.getShape() == shape)
    return x;
  return n.builder().create<nn::ReshapeOp>(
      n.loc(), RankedTensorType::get(shape, t.getElementType()), x);
}

Value castTo(NodeContext &n, Value x, Type element) {
  auto t = typeOf(x);
  if (t.getElementType() == element)
    return x;
  return n.builder().create<nn::CastOp>(
      n.loc(), RankedTensorType::get(t.getShape(), element), x);
}

/// The reduced loss of log-probabilities `logp` [N, C, d...] against class
/// ids `target` [N, d...], with optional class weights [C].
Value nllLoss(NodeContext &n, Value logp, Value target, Value weight) {
  auto lt = typeOf(logp), tt = typeOf(target);
  if (lt.getRank() < 2 || tt.getRank() != lt.getRank() - 1)
    n.fail("input must be [N, C, d...] and target [N, d...]");
  Type et = lt.getElementType();
  std::string reduction = n.attrString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    n.fail("reduction '" + reduction + "' is not one of none, sum, mean");
  bool hasIgnore = n.hasAttr("ignore_index");
  int64_t ignore = n.attrInt("ignore_index", 0);

  Value kept, safe = target;
  if (hasIgnore) {
    Value ii = scalar(n, tt.getElementType(), (double)ignore);
    kept = unary<nn::NotOp>(n, compare(n, nn::ComparePredicate::eq, target, ii));
    safe = where(n, kept, target, scalar(n, tt.getElementType(), 0.0));
  }
  // Picked log-probabilities: gather_elements along the class axis.
  SmallVector<int64_t> withClass(tt.getShape());
  withClass.insert(withClass.begin() + 1, 1);
  Value index = reshapeTo(n, safe, withClass);
  auto pickedType = RankedTensorType::get(withClass, et);
  Value picked = n.builder().create<nn::GatherElementsOp>(
      n.loc(), pickedType, logp, index, n.builder().getI64IntegerAttr(1));
  Value loss = unary<nn::NegOp>(n, reshapeTo(n, picked, tt.getShape()));

  // Per-element weights: w[target] (or 1), zero where ignored.
  Value w;
  if (weight) {
    auto wt = RankedTensorType::get(tt.getShape(), et);
    w = n.builder().create<nn::GatherOp>(n.loc(), wt, weight, safe,
                                         n.builder().getI64IntegerAttr(0));
  }
  if (kept) {
    Value keptF = castTo(n, kept, et);
    w = w ? binary<nn::MulOp>(n, w, keptF) : keptF;
  }
  if (w)
    loss = binary<nn::MulOp>(n, loss, w);
  if (reduction == "none")
    return loss;
  std::vector<int64_t> all;
  for (int64_t i = 0; i < tt.getRank(); ++i)
    all.push_back(i);
  Value sum = reduce(n, nn::ReduceKind::sum, loss, all, false);
  if (reduction == "sum")
    return sum;
  if (!w)
    return reduce(n, nn::ReduceKind::mean, loss, all, false);
  return binary<nn::DivOp>(n, sum, reduce(n, nn::ReduceKind::sum, w, all, false));
}

void importNegativeLogLikelihoodLoss(NodeContext &n) {
  Value weight = n.hasInput(2) ? n.input(2) : Value();
  n.setResult(0, nllLoss(n, n.input(0), n.input(1), weight));
}

void importSoftmaxCrossEntropyLoss(NodeContext &n) {
  Value scores = n.input(0);
  auto st = typeOf(scores);
  if (st.getRank() < 2)
    n.fail("scores must be [N, C, d...]");
  Value logp = n.builder().create<nn::LogSoftmaxOp>(n.loc(), st, scores,
                                                    n.builder().getI64IntegerAttr(1));
  Value weight = n.hasInput(2) ? n.input(2) : Value();
  n.setResult(0, nllLoss(n, logp, n.input(1), weight));
  n.setResult(1, logp); // the optional log_prob output
}

} // namespace

void registerLossImporters(OpTable &t) {
  t.add("NegativeLogLikelihoodLoss", 12, importNegativeLogLikelihoodLoss);
  t.add("SoftmaxCrossEntropyLoss", 12, importSoftmaxCrossEntropyLoss);
}

} // namespace strata::onnx_import
