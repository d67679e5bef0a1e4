//===- ModelPrecheck.cpp - what must hold before libonnx reads a model ----===//

#include "compiler/onnx/ModelPrecheck.h"
#include "compiler/onnx/ExternalData.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/TensorLimits.h"

#include "runtime/include/strata/runtime.h"

#include <set>
#include <unistd.h>

namespace strata::onnx_import {

static_assert(kMaxBoundaryRank == STRATA_MAX_RANK,
              "graph inputs and outputs must fit the runtime's tensors");

namespace {

class Prechecker {
public:
  explicit Prechecker(const LoadedModel &loaded) : loaded(loaded) {}

  void run() {
    const onnx::GraphProto &g = loaded.model.graph();
    std::set<std::string> initializers;
    for (const auto &t : g.initializer()) {
      checkTensor(t, loaded.path + ": initializer '" + t.name() + "'");
      initializers.insert(t.name());
    }
    for (const auto &vi : g.input()) {
      // An input whose type says nothing cannot be fed: say so plainly
      // rather than as the checker's "Field 'shape' of 'type' is required".
      bool typed = vi.type().has_tensor_type() && vi.type().tensor_type().has_shape();
      if (!typed && vi.type().has_tensor_type() && !initializers.count(vi.name()))
        throw ImportError(loaded.path + ": graph input '" + vi.name() +
                          "' has no shape (not even a rank); give it one when "
                          "exporting");
      checkValueInfo(vi, "graph input", /*boundary=*/true);
    }
    for (const auto &vi : g.output())
      checkValueInfo(vi, "graph output", /*boundary=*/true);
    for (const auto &vi : g.value_info())
      checkValueInfo(vi, "value", /*boundary=*/false);
    checkNodes(g, "");
  }

private:
  void checkValueInfo(const onnx::ValueInfoProto &vi, const char *kind,
                      bool boundary) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape())
      return;
    const auto &tt = vi.type().tensor_type();
    std::string what = loaded.path + ": " + kind + " '" + vi.name() + "'";
    if (boundary && tt.shape().dim_size() > kMaxBoundaryRank)
      throw ImportError(what + " has rank " +
                        std::to_string(tt.shape().dim_size()) +
                        "; strata's runtime holds tensors of at most " +
                        std::to_string(kMaxBoundaryRank) + " dimensions");
    std::vector<int64_t> known;
    for (const auto &d : tt.shape().dim())
      if (d.has_dim_value())
        known.push_back(d.dim_value());
    uint64_t width = externalElementBytes(tt.elem_type());
    checkedTensorBytes(known, width ? width : 1, what);
  }

  void checkTensor(const onnx::TensorProto &t, const std::string &what) {
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    uint64_t width = externalElementBytes(t.data_type());
    uint64_t bytes = checkedTensorBytes(dims, width ? width : 1, what);
    if (t.data_location() == onnx::TensorProto::EXTERNAL && width)
      close(resolveExternalData(t, loaded.modelDir, bytes, what).fd);
    // libonnx's shape inference reads constant shape inputs' raw_data
    // without checking its size (ParseData copies it whole into a vector
    // sized by whole elements: a heap overflow; fuzz-onnx-import).
    else if (t.has_raw_data() && width && t.raw_data().size() != bytes)
      throw ImportError(what + ": raw_data has " + std::to_string(t.raw_data().size()) +
                        " bytes, expected " + std::to_string(bytes) + " for " +
                        formatDims(dims));
  }

  std::string describe(const onnx::NodeProto &node, int index,
                       const std::string &scope) {
    return describeNode(loaded.path, node, index, loaded.opset) + scope;
  }

  /// Window sizes are divisors in shape inference: each must be >= 1.
  void checkNodes(const onnx::GraphProto &g, const std::string &scope) {
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto &node = g.node(i);
      for (const auto &attr : node.attribute()) {
        const std::string &name = attr.name();
        bool window = name == "strides" || name == "dilations" ||
                      name == "kernel_shape";
        if (window && attr.type() == onnx::AttributeProto::INTS)
          for (int64_t v : attr.ints())
            if (v < 1)
              throw ImportError(describe(node, i, scope) + ": " + name +
                                " must be positive, got " +
                                formatDims(std::vector<int64_t>(attr.ints().begin(),
                                                                attr.ints().end())));
        if (name == "group" && attr.type() == onnx::AttributeProto::INT &&
            attr.i() < 1)
          throw ImportError(describe(node, i, scope) + ": group must be >= 1, got " +
                            std::to_string(attr.i()));
        std::string where = describe(node, i, scope) + ": attribute '" + name + "'";
        if (attr.has_t())
          checkTensor(attr.t(), where);
        for (const auto &t : attr.tensors())
          checkTensor(t, where);
        std::string inner = " in a subgraph of node " + std::to_string(i);
        if (attr.has_g())
          checkNodes(attr.g(), inner);
        for (const auto &sub : attr.graphs())
          checkNodes(sub, inner);
      }
    }
  }

  const LoadedModel &loaded;
};

} // namespace

void precheckModel(const LoadedModel &loaded) { Prechecker(loaded).run(); }

} // namespace strata::onnx_import
