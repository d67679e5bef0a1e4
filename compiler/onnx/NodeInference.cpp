//===- NodeInference.cpp - one node's ONNX type inference, re-run at import -===//

#include "compiler/onnx/NodeInference.h"
#include "compiler/onnx/TensorConversion.h"
#include "dialects/nn/NNOps.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <unordered_map>

using namespace mlir;

namespace strata::onnx_import {

namespace {
onnx::TypeProto typeProtoOf(RankedTensorType type) {
  onnx::TypeProto proto;
  auto *tensor = proto.mutable_tensor_type();
  tensor->set_elem_type(onnxDataType(type.getElementType()));
  auto *shape = tensor->mutable_shape();
  for (int64_t d : type.getShape()) {
    auto *dim = shape->add_dim();
    if (!ShapedType::isDynamic(d))
      dim->set_dim_value(d);
  }
  return proto;
}
} // namespace

bool isFullyKnown(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape() ||
      type.tensor_type().elem_type() == 0)
    return false;
  for (const auto &d : type.tensor_type().shape().dim())
    if (!d.has_dim_value())
      return false;
  return true;
}

std::vector<std::optional<onnx::TypeProto>>
inferNodeTypes(const onnx::NodeProto &node, int64_t opset,
               const std::vector<Value> &inputs, std::string &error) {
  std::vector<std::optional<onnx::TypeProto>> result(node.output_size());
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), (int)opset, node.domain());
  if (!schema || !schema->has_type_and_shape_inference_function())
    return result;

  // Owned storage for what the inference context points into.
  std::vector<onnx::TypeProto> types(inputs.size());
  std::vector<onnx::TensorProto> data(inputs.size());
  std::unordered_map<std::string, onnx::TypeProto *> typesByName;
  std::unordered_map<std::string, const onnx::TensorProto *> dataByName;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Value v = inputs[i];
    if (!v)
      continue;
    const std::string &name = node.input((int)i);
    types[i] = typeProtoOf(cast<RankedTensorType>(v.getType()));
    typesByName[name] = &types[i];
    auto constant = v.getDefiningOp<nn::ConstantOp>();
    auto dense = constant ? dyn_cast<DenseElementsAttr>(constant.getValue())
                          : DenseElementsAttr();
    if (!dense)
      continue;
    if (std::optional<onnx::TensorProto> t = denseToTensor(dense)) {
      data[i] = std::move(*t);
      data[i].set_name(name);
      dataByName[name] = &data[i];
    }
  }

  onnx::NodeProto copy = node; // the context wants a mutable node
  std::unordered_map<std::string, const onnx::SparseTensorProto *> noSparse;
  onnx::shape_inference::InferenceContextImpl ctx(copy, typesByName, dataByName,
                                                  noSparse);
  try {
    schema->GetTypeAndShapeInferenceFunction()(ctx);
  } catch (const std::exception &e) {
    error = e.what();
    return result;
  }
  for (int i = 0; i < node.output_size(); ++i) {
    const onnx::TypeProto *t = ctx.getOutputType(i);
    if (t && t->has_tensor_type())
      result[i] = *t;
  }
  return result;
}

} // namespace strata::onnx_import
