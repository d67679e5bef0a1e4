//===- OnnxImporter.cpp - ONNX model file to nn IR ------------------------===//

#include "compiler/onnx/OnnxImporter.h"
#include "compiler/onnx/GraphImporter.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/TensorConversion.h"

#include <set>

namespace strata {

using namespace onnx_import;

mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext &ctx, const std::string &path,
                std::string &error) {
  std::vector<std::string> notes;
  return importOnnxModel(ctx, path, 0, notes, error);
}

mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext &ctx, const std::string &path,
                int64_t symbolicDim, std::vector<std::string> &notes,
                std::string &error) {
  try {
    LoadedModel loaded = loadModel(path, symbolicDim, &notes);
    return GraphImporter(ctx, loaded).run();
  } catch (const std::exception &e) {
    // ImportError, and anything libonnx or protobuf throw unexpectedly.
    error = e.what();
    return nullptr;
  }
}

mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModelFromBytes(mlir::MLIRContext &ctx, const void *bytes, size_t size,
                         const std::string &name, const std::string &modelDir,
                         std::string &error) {
  try {
    LoadedModel loaded = parseModelBytes(bytes, size, name, modelDir);
    checkAndInferShapes(loaded);
    return GraphImporter(ctx, loaded).run();
  } catch (const std::exception &e) {
    error = e.what();
    return nullptr;
  }
}

namespace {
ModelSummary::Tensor describe(const onnx::ValueInfoProto &vi) {
  ModelSummary::Tensor t;
  t.name = vi.name();
  const auto &tt = vi.type().tensor_type();
  t.dtype = dataTypeName(tt.elem_type());
  if (!tt.has_shape()) {
    t.dims.push_back("unknown rank");
    return t;
  }
  for (const auto &d : tt.shape().dim())
    t.dims.push_back(d.has_dim_value()   ? std::to_string(d.dim_value())
                     : d.has_dim_param() ? d.dim_param()
                                         : "?");
  return t;
}

int64_t elementBytes(int32_t type) {
  switch (type) {
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64: return 8;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32: return 4;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16: return 2;
  default: return 1;
  }
}
} // namespace

bool summarizeOnnxModel(const std::string &path, ModelSummary &s,
                        std::string &error) {
  try {
    LoadedModel loaded = loadModel(path);
    const onnx::ModelProto &m = loaded.model;
    const onnx::GraphProto &g = m.graph();
    s.path = path;
    s.producer = m.producer_name() + (m.producer_version().empty()
                                          ? ""
                                          : " " + m.producer_version());
    s.graphName = g.name();
    s.irVersion = m.ir_version();
    s.opset = loaded.opset;
    std::set<std::string> initNames;
    for (const auto &init : g.initializer()) {
      initNames.insert(init.name());
      int64_t n = 1;
      for (int64_t d : init.dims())
        n *= d;
      s.parameterCount += n;
      s.parameterBytes += n * elementBytes(init.data_type());
      if (init.data_location() == onnx::TensorProto::EXTERNAL)
        s.externalParameterBytes += n * elementBytes(init.data_type());
    }
    for (const auto &vi : g.input())
      if (!initNames.count(vi.name()))
        s.inputs.push_back(describe(vi));
    for (const auto &vi : g.output())
      s.outputs.push_back(describe(vi));
    const OpTable &table = OpTable::get();
    std::set<std::string> unsupported;
    for (const auto &node : g.node()) {
      ++s.opCounts[node.op_type()];
      ++s.nodeCount;
      bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
      if (!defaultDomain || !table.lookup(node.op_type(), loaded.opset))
        unsupported.insert(domainName(node.domain()) + "." + node.op_type());
    }
    s.unsupportedOps.assign(unsupported.begin(), unsupported.end());
    return true;
  } catch (const std::exception &e) {
    error = e.what();
    return false;
  }
}

std::vector<std::string> supportedOnnxOps() {
  return OpTable::get().supportedOps();
}

} // namespace strata
