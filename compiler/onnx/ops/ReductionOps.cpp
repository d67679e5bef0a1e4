//===- ReductionOps.cpp - import reductions, arg-reductions, LayerNorm ----===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/ops/Composites.h"
#include "dialects/nn/NNOps.h"

#include <algorithm>

using namespace mlir;

namespace strata::onnx_import {
namespace {

using namespace composite;

void buildReduce(NodeContext &n, nn::ReduceKind kind,
                 std::vector<int64_t> axes) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  bool keepDims = n.attrInt("keepdims", 1) != 0;
  if (axes.empty()) {
    if (n.attrInt("noop_with_empty_axes", 0) != 0) {
      n.setResult(0, x);
      return;
    }
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  for (int64_t &a : axes)
    a = n.normalizeAxis(a, rank, "reduction axis");
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  n.setResult(0, b.create<nn::ReduceOp>(n.loc(), n.resultType(),
                                        nn::ReduceKindAttr::get(b.getContext(), kind),
                                        x, b.getDenseI64ArrayAttr(axes),
                                        b.getBoolAttr(keepDims)));
}

template <nn::ReduceKind kind>
void importReduceAttrs(NodeContext &n) {
  buildReduce(n, kind, n.attrInts("axes", {}));
}

template <nn::ReduceKind kind>
void importReduceInputs(NodeContext &n) {
  buildReduce(n, kind,
              n.hasInput(1) ? n.constantInts(1, "the reduction axes")
                            : std::vector<int64_t>{});
}

/// The composite reductions of ONNX: f(reduce_sum(g(x))).
enum class Composite { L1, L2, LogSum, LogSumExp, SumSquare };

template <Composite kind>
void importCompositeReduce(NodeContext &n) {
  Value x = n.input(0);
  std::vector<int64_t> axes = n.attrInts("axes", {});
  bool keepDims = n.attrInt("keepdims", 1) != 0;
  if (axes.empty())
    for (int64_t d = 0; d < typeOf(x).getRank(); ++d)
      axes.push_back(d);
  if (kind == Composite::L1)
    x = unary<nn::AbsOp>(n, x);
  else if (kind == Composite::L2 || kind == Composite::SumSquare)
    x = binary<nn::MulOp>(n, x, x);
  else if (kind == Composite::LogSumExp)
    x = unary<nn::ExpOp>(n, x);
  Value s = reduce(n, nn::ReduceKind::sum, x, axes, keepDims);
  if (kind == Composite::L2)
    s = unary<nn::SqrtOp>(n, s);
  else if (kind == Composite::LogSum || kind == Composite::LogSumExp)
    s = unary<nn::LogOp>(n, s);
  n.setResult(0, s);
}

template <nn::ArgKind kind>
void importArgReduce(NodeContext &n) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  int64_t axis = n.normalizeAxis(n.attrInt("axis", 0), typeOf(x).getRank(), "axis");
  bool keepDims = n.attrInt("keepdims", 1) != 0;
  bool last = n.attrInt("select_last_index", 0) != 0;
  n.setResult(0, b.create<nn::ArgReduceOp>(
                     n.loc(), n.resultType(), nn::ArgKindAttr::get(b.getContext(), kind),
                     x, b.getI64IntegerAttr(axis), b.getBoolAttr(keepDims),
                     b.getBoolAttr(last)));
}

/// 1.0 where `x` has its first maximum along `axis`, 0.0 elsewhere:
/// ArgMax (keepdims) compared with the positions along the axis.
Value hardmax(NodeContext &n, Value x, int64_t axis) {
  OpBuilder &b = n.builder();
  auto type = typeOf(x);
  SmallVector<int64_t> kept(type.getShape());
  kept[axis] = 1;
  Value index = b.create<nn::ArgReduceOp>(
      n.loc(), RankedTensorType::get(kept, b.getI64Type()),
      nn::ArgKindAttr::get(b.getContext(), nn::ArgKind::argmax), x, b.getI64IntegerAttr(axis),
      b.getBoolAttr(true), b.getBoolAttr(false));
  SmallVector<int64_t> line(type.getRank(), 1);
  line[axis] = type.getDimSize(axis);
  std::vector<int64_t> positions(type.getDimSize(axis));
  for (size_t i = 0; i < positions.size(); ++i)
    positions[i] = (int64_t)i;
  Value iota = b.create<nn::ConstantOp>(
      n.loc(), DenseElementsAttr::get(RankedTensorType::get(line, b.getI64Type()),
                                      ArrayRef<int64_t>(positions)));
  Value hit = compare(n, nn::ComparePredicate::eq, index, iota);
  return b.create<nn::CastOp>(n.loc(), type, hit);
}

/// Hardmax: opset 13+ along `axis` (default -1); before, of the input
/// flattened to 2-D at `axis` (default 1), as Softmax was.
void importHardmax(NodeContext &n) {
  Value x = n.input(0);
  auto type = typeOf(x);
  int64_t rank = type.getRank();
  if (!type.hasStaticShape())
    n.fail("Hardmax needs a static shape (compile with --batch=N)");
  bool legacy = n.opset() < 13;
  int64_t axis = n.normalizeAxis(n.attrInt("axis", legacy ? 1 : -1), rank, "axis");
  if (!legacy) {
    n.setResult(0, hardmax(n, x, axis));
    return;
  }
  int64_t rows = 1, cols = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? rows : cols) *= type.getDimSize(d);
  OpBuilder &b = n.builder();
  Value flat = b.create<nn::ReshapeOp>(
      n.loc(), RankedTensorType::get({rows, cols}, type.getElementType()), x);
  n.setResult(0, b.create<nn::ReshapeOp>(n.loc(), type, hardmax(n, flat, 1)));
}

/// LayerNormalization (opset 17): normalize over axes [axis, rank).
void importLayerNorm(NodeContext &n) {
  Value x = n.input(0), scale = n.input(1);
  Value bias = n.hasInput(2) ? n.input(2) : Value();
  int64_t rank = typeOf(x).getRank();
  int64_t axis = n.normalizeAxis(n.attrInt("axis", -1), rank, "axis");
  float eps = n.attrFloat("epsilon", 1e-5f);
  if (n.attrInt("stash_type", 1) != 1)
    n.fail("stash_type other than 1 (float) is not supported");
  std::vector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d)
    axes.push_back(d);
  Type et = typeOf(x).getElementType();
  Value mean = reduce(n, nn::ReduceKind::mean, x, axes, true);
  Value d = binary<nn::SubOp>(n, x, mean);
  Value var = reduce(n, nn::ReduceKind::mean, binary<nn::MulOp>(n, d, d), axes, true);
  Value invStd = unary<nn::ReciprocalOp>(
      n, unary<nn::SqrtOp>(n, binary<nn::AddOp>(n, var, scalar(n, et, eps))));
  Value y = binary<nn::MulOp>(n, binary<nn::MulOp>(n, d, invStd), scale);
  if (bias)
    y = binary<nn::AddOp>(n, y, bias);
  n.setResult(0, y);
  n.setResult(1, mean);
  n.setResult(2, invStd);
}

} // namespace

void registerReductionImporters(OpTable &t) {
  t.add("ReduceSum", 1, importReduceAttrs<nn::ReduceKind::sum>);
  t.add("ReduceSum", 13, importReduceInputs<nn::ReduceKind::sum>);
  t.add("ReduceMean", 1, importReduceAttrs<nn::ReduceKind::mean>);
  t.add("ReduceMax", 1, importReduceAttrs<nn::ReduceKind::max>);
  t.add("ReduceMin", 1, importReduceAttrs<nn::ReduceKind::min>);
  t.add("ReduceProd", 1, importReduceAttrs<nn::ReduceKind::prod>);
  t.add("ReduceL1", 1, importCompositeReduce<Composite::L1>);
  t.add("ReduceL2", 1, importCompositeReduce<Composite::L2>);
  t.add("ReduceLogSum", 1, importCompositeReduce<Composite::LogSum>);
  t.add("ReduceLogSumExp", 1, importCompositeReduce<Composite::LogSumExp>);
  t.add("ReduceSumSquare", 1, importCompositeReduce<Composite::SumSquare>);
  t.add("Hardmax", 1, importHardmax);
  t.add("ArgMax", 1, importArgReduce<nn::ArgKind::argmax>);
  t.add("ArgMin", 1, importArgReduce<nn::ArgKind::argmin>);
  t.add("LayerNormalization", 17, importLayerNorm);
}

} // namespace strata::onnx_import
