//===- ShapeInferenceGuards.cpp - checks before libonnx's shape functions -===//

#include "compiler/onnx/ShapeInferenceGuards.h"
#include "compiler/onnx/ModelLoader.h"

#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"

#include <mutex>
#include <set>

namespace strata::onnx_import {

namespace {

/// The rank of input `i` if its shape is known, else -1.
int rankOf(onnx::InferenceContext &ctx, size_t i) {
  if (i >= ctx.getNumInputs())
    return -1;
  const onnx::TypeProto *t = ctx.getInputType(i);
  if (!t || !t->has_tensor_type() || !t->tensor_type().has_shape())
    return -1;
  return t->tensor_type().shape().dim_size();
}

/// Refuses what convPoolShapeInference would read out of bounds on.
/// `data` and `weight` are the input positions (weight -1: pooling).
void checkWindowOp(onnx::InferenceContext &ctx, size_t data, int weight) {
  int rank = rankOf(ctx, data);
  if (rank < 0)
    return;
  if (rank < 3)
    fail_shape_inference("input ", data, " has rank ", rank,
                         "; it must have at least 3 dimensions (N, C, spatial...)");
  int spatial = rank - 2;
  if (weight >= 0) {
    int wrank = rankOf(ctx, (size_t)weight);
    if (wrank >= 0 && wrank != rank)
      fail_shape_inference("the weight (input ", weight, ") has rank ", wrank,
                           " but the input has rank ", rank, "; they must be equal");
  }
  for (const char *name : {"kernel_shape", "strides", "dilations"}) {
    const onnx::AttributeProto *a = ctx.getAttribute(name);
    if (a && a->ints_size() != spatial)
      fail_shape_inference(name, " has ", a->ints_size(), " entries; the input has ", spatial,
                           " spatial dimensions");
  }
  const onnx::AttributeProto *pads = ctx.getAttribute("pads");
  if (pads && pads->ints_size() != 2 * spatial)
    fail_shape_inference("pads has ", pads->ints_size(), " entries; the input's ", spatial,
                         " spatial dimensions need ", 2 * spatial);
}

struct Guarded {
  const char *op;
  size_t data;
  int weight;
};

constexpr Guarded kGuarded[] = {
    {"Conv", 0, 1},        {"ConvTranspose", 0, 1}, {"ConvInteger", 0, 1},
    {"QLinearConv", 0, 3}, {"MaxPool", 0, -1},      {"AveragePool", 0, -1},
    {"LpPool", 0, -1},     {"MaxUnpool", 0, -1},
};

} // namespace

void installShapeInferenceGuards() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const Guarded &g : kGuarded) {
      std::set<const onnx::OpSchema *> seen;
      for (int version = 1; version <= kMaxOpset; ++version) {
        const onnx::OpSchema *schema = onnx::OpSchemaRegistry::Schema(g.op, version, "");
        if (!schema || !seen.insert(schema).second)
          continue;
        onnx::InferenceFunction original = schema->GetTypeAndShapeInferenceFunction();
        if (!original)
          continue;
        size_t data = g.data;
        int weight = g.weight;
        // The registry hands out const schemas; replacing the function of a
        // registered one is the only way to run a check inside inference.
        const_cast<onnx::OpSchema *>(schema)->TypeAndShapeInferenceFunction(
            [original, data, weight](onnx::InferenceContext &ctx) {
              checkWindowOp(ctx, data, weight);
              original(ctx);
            });
      }
    }
  });
}

} // namespace strata::onnx_import
