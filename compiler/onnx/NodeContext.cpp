//===- NodeContext.cpp - what an op importer sees of one ONNX node --------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/GraphImporter.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/TensorConversion.h"
#include "dialects/nn/NNOps.h"

using namespace mlir;

namespace strata::onnx_import {

namespace {
/// `loc("node_name"("OpType"))`: passes find the ONNX node by the outer
/// name (oneDNN errors, GPU kernel names), and diagnostics of later stages
/// name the node and its op type (DiagnosticCollector).
Location nodeLocation(OpBuilder &b, const onnx::NodeProto &node, int index) {
  std::string name = node.name().empty()
                         ? node.op_type() + "_" + std::to_string(index)
                         : node.name();
  return NameLoc::get(b.getStringAttr(name),
                      NameLoc::get(b.getStringAttr(node.op_type())));
}
} // namespace

NodeContext::NodeContext(GraphImporter &graph, const onnx::NodeProto &node,
                         int index, int64_t opset, OpBuilder &builder)
    : graph(graph), node(node), index(index), opsetVersion(opset), b(builder),
      location(nodeLocation(builder, node, index)) {}

std::string NodeContext::describe() const {
  return describeNode(graph.model().path, node, index, opsetVersion);
}

void NodeContext::fail(const std::string &message) const {
  throw ImportError(describe() + ": " + message);
}

const std::string &NodeContext::modelDir() const {
  return graph.model().modelDir;
}

bool NodeContext::hasInput(int i) const {
  return i < node.input_size() && !node.input(i).empty();
}

Value NodeContext::input(int i) {
  if (!hasInput(i))
    fail("input #" + std::to_string(i) + " is required but missing");
  Value v = graph.lookup(node.input(i));
  if (!v)
    fail("input '" + node.input(i) + "' is not defined before this node");
  return v;
}

Value NodeContext::valueNamed(const std::string &name) {
  Value v = graph.lookup(name);
  if (!v)
    fail("value '" + name + "' is not defined before this node");
  return v;
}

RankedTensorType NodeContext::inputType(int i) {
  return cast<RankedTensorType>(input(i).getType());
}

namespace {
ElementsAttr constantOf(Value v) {
  if (auto c = v.getDefiningOp<nn::ConstantOp>())
    return c.getValue();
  return {};
}
} // namespace

ElementsAttr NodeContext::requireConstant(int i, const char *purpose) {
  ElementsAttr attr = constantOf(input(i));
  if (!attr)
    fail(std::string(purpose) + " (input '" + node.input(i) +
         "') must be a constant; computed values are not supported");
  return attr;
}

// Reading values can fail for element types without a reader; report that
// against this node rather than with the bare reader's message.
std::vector<int64_t> NodeContext::constantInts(int i, const char *purpose) {
  ElementsAttr attr = requireConstant(i, purpose);
  try {
    return readInts(attr);
  } catch (const ImportError &e) {
    fail(std::string(purpose) + ": " + e.what());
  }
}

std::vector<double> NodeContext::constantDoubles(int i, const char *purpose) {
  ElementsAttr attr = requireConstant(i, purpose);
  try {
    return readDoubles(attr);
  } catch (const ImportError &e) {
    fail(std::string(purpose) + ": " + e.what());
  }
}

std::optional<std::vector<double>> NodeContext::constantDoublesIfKnown(int i) {
  if (!constantOf(input(i)))
    return std::nullopt;
  return constantDoubles(i, "value");
}

RankedTensorType NodeContext::resultType(int i) {
  if (i >= node.output_size() || node.output(i).empty())
    fail("output #" + std::to_string(i) + " is missing");
  std::string why;
  auto type = graph.typeOf(node.output(i), why);
  if (!type)
    fail("output '" + node.output(i) + "' cannot be typed: " + why);
  return *type;
}

void NodeContext::setResult(int i, Value v) {
  if ((int)resultValues.size() <= i)
    resultValues.resize(i + 1);
  resultValues[i] = v;
}

void NodeContext::expectAtMostOutputs(int n, const char *why) {
  for (int i = n; i < node.output_size(); ++i)
    if (!node.output(i).empty())
      fail("output #" + std::to_string(i) + " ('" + node.output(i) +
           "') is not supported: " + why);
}

const onnx::AttributeProto *
NodeContext::findAttr(const std::string &name,
                      onnx::AttributeProto::AttributeType type) {
  usedAttrs.insert(name);
  for (const auto &a : node.attribute()) {
    if (a.name() != name)
      continue;
    if (a.type() != type)
      fail("attribute '" + name + "' has type " +
           onnx::AttributeProto::AttributeType_Name(a.type()) + ", expected " +
           onnx::AttributeProto::AttributeType_Name(type));
    return &a;
  }
  return nullptr;
}

bool NodeContext::hasAttr(const std::string &name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return true;
  return false;
}

int64_t NodeContext::attrInt(const std::string &name, int64_t dflt) {
  const auto *a = findAttr(name, onnx::AttributeProto::INT);
  return a ? a->i() : dflt;
}

float NodeContext::attrFloat(const std::string &name, float dflt) {
  const auto *a = findAttr(name, onnx::AttributeProto::FLOAT);
  return a ? a->f() : dflt;
}

std::string NodeContext::attrString(const std::string &name,
                                    const std::string &dflt) {
  const auto *a = findAttr(name, onnx::AttributeProto::STRING);
  return a ? a->s() : dflt;
}

std::vector<int64_t> NodeContext::attrInts(const std::string &name,
                                           const std::vector<int64_t> &dflt) {
  const auto *a = findAttr(name, onnx::AttributeProto::INTS);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : dflt;
}

std::vector<std::string> NodeContext::attrStrings(const std::string &name) {
  const auto *a = findAttr(name, onnx::AttributeProto::STRINGS);
  return a ? std::vector<std::string>(a->strings().begin(), a->strings().end())
           : std::vector<std::string>();
}

std::vector<float> NodeContext::attrFloats(const std::string &name) {
  const auto *a = findAttr(name, onnx::AttributeProto::FLOATS);
  return a ? std::vector<float>(a->floats().begin(), a->floats().end())
           : std::vector<float>{};
}

ElementsAttr NodeContext::attrTensorValue(const std::string &name) {
  const auto *a = findAttr(name, onnx::AttributeProto::TENSOR);
  if (!a)
    return {};
  // The node belongs to the model the importer owns; moving its bytes out
  // of the protobuf is safe.
  auto *tensor = const_cast<onnx::TensorProto *>(&a->t());
  return tensorToAttr(b.getContext(), *tensor, modelDir(),
                      describe() + ": attribute '" + name + "'");
}

void NodeContext::ignoreAttr(const std::string &name) { usedAttrs.insert(name); }

int64_t NodeContext::normalizeAxis(int64_t axis, int64_t rank,
                                   const char *what) {
  if (axis < -rank || axis >= rank)
    fail(std::string(what) + " " + std::to_string(axis) +
         " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

void NodeContext::checkAllAttributesUsed() const {
  for (const auto &a : node.attribute())
    if (!usedAttrs.count(a.name()))
      fail("attribute '" + a.name() + "' is not supported");
}

} // namespace strata::onnx_import
