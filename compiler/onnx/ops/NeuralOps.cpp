//===- NeuralOps.cpp - import matmul, conv, pooling, batch norm -----------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/ops/ConvAttributes.h"
#include "compiler/onnx/OpTable.h"
#include "dialects/nn/NNOps.h"

using namespace mlir;

namespace strata::onnx_import {
namespace {

void importMatMul(NodeContext &n) {
  Value a = n.input(0), b = n.input(1);
  n.setResult(0, n.builder().create<nn::MatMulOp>(n.loc(), n.resultType(), a, b));
}

void importGemm(NodeContext &n) {
  OpBuilder &b = n.builder();
  Value a = n.input(0), bm = n.input(1);
  Value c = n.hasInput(2) ? n.input(2) : Value();
  float alpha = n.attrFloat("alpha", 1.0f), beta = n.attrFloat("beta", 1.0f);
  bool transA = n.attrInt("transA", 0) != 0, transB = n.attrInt("transB", 0) != 0;
  n.setResult(0, b.create<nn::GemmOp>(n.loc(), n.resultType(), a, bm, c,
                                      b.getF32FloatAttr(alpha),
                                      b.getF32FloatAttr(beta),
                                      b.getBoolAttr(transA),
                                      b.getBoolAttr(transB)));
}

/// Window attributes shared by Conv and the pools, with ONNX's defaults and
/// auto_pad turned into explicit pads.
struct Window {
  std::vector<int64_t> kernel, strides, pads, dilations;
};

Window readWindow(NodeContext &n, RankedTensorType input,
                  std::vector<int64_t> kernel, bool hasDilations) {
  size_t spatial = input.getRank() - 2;
  Window w;
  w.kernel = std::move(kernel);
  if (w.kernel.size() != spatial)
    n.fail("kernel has " + std::to_string(w.kernel.size()) +
           " dimensions but the input has " + std::to_string(spatial) +
           " spatial dimensions");
  w.strides = n.attrInts("strides", std::vector<int64_t>(spatial, 1));
  w.dilations = hasDilations
                    ? n.attrInts("dilations", std::vector<int64_t>(spatial, 1))
                    : std::vector<int64_t>(spatial, 1);
  w.pads = n.attrInts("pads", std::vector<int64_t>(2 * spatial, 0));
  if (w.strides.size() != spatial || w.dilations.size() != spatial ||
      w.pads.size() != 2 * spatial)
    n.fail("strides, dilations or pads have the wrong number of entries for " +
           std::to_string(spatial) + " spatial dimensions");

  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    std::fill(w.pads.begin(), w.pads.end(), 0);
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    n.fail("auto_pad '" + autoPad + "' is not one of NOTSET, VALID, "
           "SAME_UPPER, SAME_LOWER");
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2);
    if (ShapedType::isDynamic(in))
      n.fail("auto_pad " + autoPad + " needs a static spatial size");
    int64_t out = (in + w.strides[i] - 1) / w.strides[i];
    int64_t total = std::max<int64_t>(
        0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 -
               in);
    int64_t small = total / 2, large = total - small;
    w.pads[i] = autoPad == "SAME_UPPER" ? small : large;
    w.pads[i + spatial] = autoPad == "SAME_UPPER" ? large : small;
  }
  return w;
}

} // namespace

Value buildConv(NodeContext &n, Value x, Value weight, Value bias,
                Type resultElement) {
  OpBuilder &b = n.builder();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = cast<RankedTensorType>(weight.getType());
  if (xType.getRank() < 3)
    n.fail("input must have rank >= 3 (N, C, spatial...)");
  std::vector<int64_t> weightKernel(wType.getShape().begin() + 2,
                                    wType.getShape().end());
  std::vector<int64_t> kernel = n.attrInts("kernel_shape", weightKernel);
  for (size_t i = 0; i < kernel.size() && i < weightKernel.size(); ++i)
    if (!ShapedType::isDynamic(weightKernel[i]) && kernel[i] != weightKernel[i])
      n.fail("kernel_shape does not match the weight's spatial dimensions");
  Window w = readWindow(n, xType, kernel, /*hasDilations=*/true);
  int64_t group = n.attrInt("group", 1);
  return b.create<nn::ConvOp>(n.loc(), n.resultType().clone(resultElement), x,
                              weight, bias, b.getDenseI64ArrayAttr(w.strides),
                              b.getDenseI64ArrayAttr(w.pads),
                              b.getDenseI64ArrayAttr(w.dilations),
                              b.getI64IntegerAttr(group));
}

namespace {

void importConv(NodeContext &n) {
  Value x = n.input(0), weight = n.input(1);
  Value bias = n.hasInput(2) ? n.input(2) : Value();
  n.setResult(0, buildConv(n, x, weight, bias, n.resultType().getElementType()));
}

template <nn::PoolKind kind>
void importPool(NodeContext &n) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getRank() < 3)
    n.fail("input must have rank >= 3 (N, C, spatial...)");
  n.expectAtMostOutputs(1, "MaxPool's indices output");
  if (!n.hasAttr("kernel_shape"))
    n.fail("attribute 'kernel_shape' is required");
  std::vector<int64_t> kernel = n.attrInts("kernel_shape", {});
  bool isMax = kind == nn::PoolKind::max;
  // Dilations arrived for MaxPool in opset 10 (AveragePool only in 19).
  Window w = readWindow(n, xType, kernel, isMax && n.opset() >= 10);
  bool ceilMode = n.attrInt("ceil_mode", 0) != 0;
  bool countIncludePad = false;
  if (isMax) {
    // Only changes the layout of the (unsupported) indices output.
    n.ignoreAttr("storage_order");
  } else {
    countIncludePad = n.attrInt("count_include_pad", 0) != 0;
  }
  n.setResult(0, b.create<nn::PoolOp>(
                     n.loc(), n.resultType(),
                     nn::PoolKindAttr::get(b.getContext(), kind), x,
                     b.getDenseI64ArrayAttr(w.kernel),
                     b.getDenseI64ArrayAttr(w.strides),
                     b.getDenseI64ArrayAttr(w.pads),
                     b.getDenseI64ArrayAttr(w.dilations),
                     b.getBoolAttr(ceilMode), b.getBoolAttr(countIncludePad)));
}

/// GlobalAveragePool / GlobalMaxPool are reductions over the spatial axes.
template <nn::ReduceKind kind>
void importGlobalPool(NodeContext &n) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  if (rank < 3)
    n.fail("input must have rank >= 3 (N, C, spatial...)");
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  n.setResult(0, b.create<nn::ReduceOp>(
                     n.loc(), n.resultType(),
                     nn::ReduceKindAttr::get(b.getContext(), kind), x,
                     b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true)));
}

void importBatchNorm(NodeContext &n) {
  OpBuilder &b = n.builder();
  float epsilon = n.attrFloat("epsilon", 1e-5f);
  n.ignoreAttr("momentum"); // only updates running statistics in training
  if (n.attrInt("spatial", 1) != 1)
    n.fail("spatial=0 (per-activation statistics) is not supported");
  if (n.attrInt("training_mode", 0) != 0)
    n.fail("training_mode=1 is not supported for inference import; "
           "use strata train");
  n.expectAtMostOutputs(1, "running statistics are outputs only in training");
  // Named locals: argument evaluation order would otherwise decide the
  // order in which constants are materialized.
  Value x = n.input(0), scale = n.input(1), bias = n.input(2);
  Value mean = n.input(3), variance = n.input(4);
  n.setResult(0, b.create<nn::BatchNormOp>(n.loc(), n.resultType(), x, scale,
                                           bias, mean, variance,
                                           b.getF32FloatAttr(epsilon)));
}

} // namespace

void registerNeuralImporters(OpTable &t) {
  t.add("MatMul", 1, importMatMul);
  t.add("Gemm", 7, importGemm);
  t.add("Conv", 1, importConv);
  t.add("MaxPool", 1, importPool<nn::PoolKind::max>);
  t.add("AveragePool", 7, importPool<nn::PoolKind::average>);
  t.add("GlobalAveragePool", 1, importGlobalPool<nn::ReduceKind::mean>);
  t.add("GlobalMaxPool", 1, importGlobalPool<nn::ReduceKind::max>);
  t.add("BatchNormalization", 7, importBatchNorm);
}

} // namespace strata::onnx_import
