//===- NodeContext.h - what an op importer sees of one ONNX node -*- C++ -*-===//
//
// Op importers (ops/*.cpp) read inputs, attributes (with ONNX's defaults) and
// inferred result types through this class, and report problems with fail(),
// which names the file, node index, node name, op type and domain. Every
// attribute an importer does not read is reported as unsupported, so a new
// ONNX attribute is never silently ignored.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_NODECONTEXT_H
#define STRATA_COMPILER_ONNX_NODECONTEXT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "onnx/onnx_pb.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace strata::onnx_import {

class GraphImporter;

class NodeContext {
public:
  NodeContext(GraphImporter &graph, const onnx::NodeProto &node, int index,
              int64_t opset, mlir::OpBuilder &builder);

  mlir::OpBuilder &builder() { return b; }
  mlir::Location loc() const { return location; }
  int64_t opset() const { return opsetVersion; }
  const onnx::NodeProto &proto() const { return node; }
  /// Folder of the model file (external data is resolved against it).
  const std::string &modelDir() const;

  // --- inputs ---------------------------------------------------------------
  /// True if input `i` is given (ONNX marks skipped optional inputs by "").
  bool hasInput(int i) const;
  int numInputs() const { return node.input_size(); }
  /// The value of input `i`; fails if it is missing.
  mlir::Value input(int i);
  mlir::RankedTensorType inputType(int i);
  /// Any value of the graph defined so far, by name (Gradient's y).
  mlir::Value valueNamed(const std::string &name);
  /// The values of constant input `i` (initializer or Constant node); fails
  /// with `purpose` in the message if it is not a constant.
  std::vector<int64_t> constantInts(int i, const char *purpose);
  std::vector<double> constantDoubles(int i, const char *purpose);
  /// The values of input `i` if it is a constant, nothing if it is computed.
  std::optional<std::vector<double>> constantDoublesIfKnown(int i);

  // --- results --------------------------------------------------------------
  /// The inferred type of output `i`; fails if shape inference left it open.
  mlir::RankedTensorType resultType(int i = 0);
  void setResult(int i, mlir::Value v);
  /// Fails unless only the first `n` outputs are requested.
  void expectAtMostOutputs(int n, const char *why);

  // --- attributes (reading marks them as understood) ------------------------
  bool hasAttr(const std::string &name) const;
  int64_t attrInt(const std::string &name, int64_t dflt);
  float attrFloat(const std::string &name, float dflt);
  std::string attrString(const std::string &name, const std::string &dflt);
  std::vector<int64_t> attrInts(const std::string &name,
                                const std::vector<int64_t> &dflt);
  std::vector<float> attrFloats(const std::string &name);
  std::vector<std::string> attrStrings(const std::string &name);
  /// The value of a tensor attribute (Constant's `value`), null if absent;
  /// conversion errors name this node and the attribute.
  mlir::ElementsAttr attrTensorValue(const std::string &name);
  /// Accepts an attribute that has no effect on inference (e.g. a seed).
  void ignoreAttr(const std::string &name);

  /// An axis in [-rank, rank) made non-negative; fails otherwise.
  int64_t normalizeAxis(int64_t axis, int64_t rank, const char *what);

  /// "model.onnx: node 3 'conv1' (op Conv, domain ai.onnx, opset 13)"
  std::string describe() const;
  /// Throws an ImportError naming this node.
  [[noreturn]] void fail(const std::string &message) const;

  /// Called by the graph importer after the op importer returns.
  void checkAllAttributesUsed() const;
  const std::vector<mlir::Value> &results() const { return resultValues; }

private:
  mlir::ElementsAttr requireConstant(int i, const char *purpose);
  const onnx::AttributeProto *findAttr(const std::string &name,
                                       onnx::AttributeProto::AttributeType type);

  GraphImporter &graph;
  const onnx::NodeProto &node;
  int index;
  int64_t opsetVersion;
  mlir::OpBuilder &b;
  mlir::Location location;
  std::set<std::string> usedAttrs;
  std::vector<mlir::Value> resultValues;
};

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_NODECONTEXT_H
