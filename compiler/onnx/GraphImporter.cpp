//===- GraphImporter.cpp - an ONNX graph as one func.func of nn ops -------===//

#include "compiler/onnx/GraphImporter.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/NodeInference.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/TensorConversion.h"
#include "compiler/onnx/TensorLimits.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"

using namespace mlir;

namespace strata::onnx_import {

GraphImporter::GraphImporter(MLIRContext &ctx, LoadedModel &loaded)
    : ctx(ctx), loaded(loaded), builder(&ctx) {
  ctx.loadDialect<nn::NNDialect, func::FuncDialect>();
  onnx::GraphProto *graph = loaded.model.mutable_graph();
  for (onnx::TensorProto &init : *graph->mutable_initializer())
    initializers[init.name()] = &init;
  for (const auto &vi : graph->input())
    types[vi.name()] = &vi.type();
  for (const auto &vi : graph->value_info())
    types[vi.name()] = &vi.type();
  for (const auto &vi : graph->output())
    types[vi.name()] = &vi.type();
}

std::optional<RankedTensorType> GraphImporter::typeOf(const std::string &name,
                                                      std::string &why) {
  auto it = types.find(name);
  if (it == types.end()) {
    why = "shape inference found no type for it";
    return std::nullopt;
  }
  return tensorType(&ctx, *it->second, why);
}

void GraphImporter::define(const std::string &name, Value value) {
  values[name] = value;
}

Value GraphImporter::lookup(const std::string &name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto init = initializers.find(name);
  if (init == initializers.end())
    return {};
  // Constants go at the top of the function, in first-use order.
  OpBuilder::InsertionGuard guard(builder);
  Block *body = builder.getInsertionBlock();
  builder.setInsertionPointToStart(body);
  while (builder.getInsertionPoint() != body->end() &&
         isa<nn::ConstantOp>(*builder.getInsertionPoint()))
    builder.setInsertionPointAfter(&*builder.getInsertionPoint());
  ElementsAttr attr = tensorToAttr(&ctx, *init->second, loaded.modelDir,
                                   loaded.path + ": initializer '" + name + "'");
  auto constant =
      builder.create<nn::ConstantOp>(NameLoc::get(builder.getStringAttr(name)), attr);
  // Training finds its parameters by this name, and writes them back to it.
  constant->setAttr("onnx.initializer", builder.getStringAttr(name));
  Value v = constant;
  values[name] = v;
  return v;
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  const onnx::GraphProto &graph = loaded.model.graph();
  Location fileLoc = FileLineColLoc::get(&ctx, loaded.path, 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("strata.source", builder.getStringAttr(loaded.path));
  (*module)->setAttr("strata.opset", builder.getI64IntegerAttr(loaded.opset));
  if (!loaded.model.producer_name().empty())
    (*module)->setAttr(
        "strata.producer",
        builder.getStringAttr(loaded.model.producer_name() +
                              (loaded.model.producer_version().empty()
                                   ? ""
                                   : " " + loaded.model.producer_version())));

  checkInferredTypes();

  // Inputs: graph inputs that are not initializers (those are constants).
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  auto boundaryType = [&](const onnx::ValueInfoProto &vi, const char *kind) {
    std::string why;
    auto type = typeOf(vi.name(), why);
    if (!type)
      throw ImportError(loaded.path + ": graph " + kind + " '" + vi.name() +
                        "' cannot be imported: " + why);
    return *type;
  };
  for (const auto &vi : graph.input()) {
    if (initializers.count(vi.name()))
      continue;
    argTypes.push_back(boundaryType(vi, "input"));
    argNames.push_back(vi.name());
  }
  SmallVector<Type> resultTypes;
  for (const auto &vi : graph.output())
    resultTypes.push_back(boundaryType(vi, "output"));

  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      fileLoc, "main", builder.getFunctionType(argTypes, resultTypes));
  Block *body = func.addEntryBlock();
  for (size_t i = 0; i < argNames.size(); ++i) {
    func.setArgAttr(i, "onnx.name", builder.getStringAttr(argNames[i]));
    values[argNames[i]] = body->getArgument(i);
  }
  for (int i = 0; i < graph.output_size(); ++i)
    func.setResultAttr(i, "onnx.name",
                       builder.getStringAttr(graph.output(i).name()));

  builder.setInsertionPointToEnd(body);
  for (int i = 0; i < graph.node_size(); ++i)
    importNode(graph.node(i), i);

  SmallVector<Value> results;
  for (const auto &vi : graph.output()) {
    Value v = lookup(vi.name());
    if (!v)
      throw ImportError(loaded.path + ": graph output '" + vi.name() +
                        "' is not produced by any node");
    // Graph inference may have left dimensions of an output unknown that
    // per-node inference found (NodeInference.h): the imported value's type
    // is then the more precise one, if it agrees with what was declared.
    auto declared = cast<RankedTensorType>(resultTypes[results.size()]);
    auto actual = cast<RankedTensorType>(v.getType());
    bool agrees = declared.getElementType() == actual.getElementType() &&
                  declared.getRank() == actual.getRank();
    for (int64_t d = 0; agrees && d < declared.getRank(); ++d)
      agrees = declared.isDynamicDim(d) || declared.getDimSize(d) == actual.getDimSize(d);
    if (!agrees)
      throw ImportError(loaded.path + ": graph output '" + vi.name() +
                        "' has type mismatch after import");
    resultTypes[results.size()] = actual;
    results.push_back(v);
  }
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setType(builder.getFunctionType(argTypes, resultTypes));
  removeUnusedConstants(*body);

  // Whole-module check; node-level problems were reported already.
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    if (failed(verify(*module)))
      throw ImportError(loaded.path + ": the imported IR does not verify: " +
                        diagnostics);
  }
  return module;
}

void GraphImporter::checkInferredSize(const onnx::TypeProto &type,
                                      const onnx::NodeProto &node, int index,
                                      const std::string &name) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return;
  std::vector<int64_t> known;
  for (const auto &d : type.tensor_type().shape().dim())
    if (d.has_dim_value())
      known.push_back(d.dim_value());
  uint64_t bytes;
  std::string why;
  if (!tensorBytes(known, 1, bytes, why))
    throw ImportError(describeNode(loaded.path, node, index, loaded.opset) +
                      ": output '" + name + "' " + why +
                      " (as shape inference computed it from the node's "
                      "inputs and attributes)");
}

void GraphImporter::checkInferredTypes() {
  // Shape inference computes sizes from attributes and constants without
  // judging them: a Tile by -1 or a kernel larger than its input comes out
  // as a negative size. Refuse it here, naming the node that made it,
  // before the graph outputs (whose types come from the same place) do.
  const onnx::GraphProto &graph = loaded.model.graph();
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    for (const std::string &name : node.output()) {
      auto it = types.find(name);
      if (name.empty() || it == types.end())
        continue;
      checkInferredSize(*it->second, node, i, name);
    }
  }
}

void GraphImporter::importNode(const onnx::NodeProto &node, int index) {
  std::string label = node.name().empty() ? node.op_type() + "_" +
                                                std::to_string(index)
                                          : node.name();
  OpBuilder::InsertionGuard guard(builder);
  Block &body = *builder.getInsertionBlock();
  Operation *before = body.empty() ? nullptr : &body.back();
  NodeContext nodeCtx(*this, node, index, loaded.opset, builder);
  reinferIncompleteOutputs(node, index);

  bool training = node.domain() == kTrainingDomain;
  if (!node.domain().empty() && node.domain() != "ai.onnx" && !training)
    nodeCtx.fail("ops of domain '" + node.domain() +
                 "' are not supported (only ai.onnx and " + kTrainingDomain + ")");
  // Training operators are registered under their qualified name.
  OpImporter importer =
      training ? OpTable::get().lookup(std::string(kTrainingDomain) + "." + node.op_type(),
                                       loaded.trainingOpset)
               : OpTable::get().lookup(node.op_type(), loaded.opset);
  if (!importer)
    nodeCtx.fail("op '" + node.op_type() + "' is not supported by strata "
                 "(see docs/onnx-support.md for the list)");
  importer(nodeCtx);
  nodeCtx.checkAllAttributesUsed();

  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty() &&
        (i >= (int)nodeCtx.results().size() || !nodeCtx.results()[i]))
      nodeCtx.fail("output #" + std::to_string(i) + " ('" + node.output(i) +
                   "') is not supported");
  verifyNewOps(nodeCtx, body, before);
  llvm::DenseMap<Value, Value> folded = foldNewOps(body, before);
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    Value v = nodeCtx.results()[i];
    define(node.output(i), folded.lookup(v) ? folded.lookup(v) : v);
  }
}

void GraphImporter::reinferIncompleteOutputs(const onnx::NodeProto &node,
                                             int index) {
  bool incomplete = false;
  for (const std::string &name : node.output()) {
    auto it = types.find(name);
    incomplete |= !name.empty() && (it == types.end() || !isFullyKnown(*it->second));
  }
  if (!incomplete)
    return;
  std::vector<Value> inputs;
  for (const std::string &name : node.input()) {
    Value v = name.empty() ? Value() : lookup(name);
    if (!name.empty() && !v)
      return; // the importer reports the missing input
    inputs.push_back(v);
  }
  bool training = node.domain() == kTrainingDomain;
  std::string error;
  auto inferred = inferNodeTypes(node, training ? loaded.trainingOpset : loaded.opset,
                                 inputs, error);
  for (int i = 0; i < node.output_size(); ++i) {
    const std::string &name = node.output(i);
    if (name.empty() || !inferred[i])
      continue;
    auto it = types.find(name);
    bool better = isFullyKnown(*inferred[i]) ||
                  (it == types.end() && inferred[i]->tensor_type().has_shape());
    if (!better)
      continue;
    checkInferredSize(*inferred[i], node, index, name);
    reinferred[name] = std::move(*inferred[i]);
    types[name] = &reinferred[name];
  }
}

namespace {
/// Float initializers are what `strata train` may train (it finds them by
/// their onnx.initializer name): folding an op on one would leave a
/// nameless constant that training silently keeps fixed.
bool isFloatInitializer(Value v) {
  auto c = v.getDefiningOp<nn::ConstantOp>();
  return c && c->hasAttr("onnx.initializer") &&
         isa<FloatType>(cast<RankedTensorType>(v.getType()).getElementType());
}
} // namespace

llvm::DenseMap<Value, Value> GraphImporter::foldNewOps(Block &body,
                                                       Operation *before) {
  llvm::DenseMap<Value, Value> replaced;
  SmallVector<Operation *> newOps;
  for (auto it = before ? std::next(before->getIterator()) : body.begin();
       it != body.end(); ++it)
    newOps.push_back(&*it);
  for (Operation *op : newOps) {
    if (isa<nn::ConstantOp>(op) || op->getNumOperands() == 0)
      continue;
    SmallVector<Attribute> operands;
    for (Value v : op->getOperands()) {
      Attribute a;
      if (!matchPattern(v, m_Constant(&a)) || isFloatInitializer(v))
        break;
      operands.push_back(a);
    }
    SmallVector<OpFoldResult> results;
    if (operands.size() != op->getNumOperands() ||
        failed(op->fold(operands, results)) || results.empty())
      continue;
    builder.setInsertionPoint(op);
    SmallVector<Value> replacements;
    for (auto [result, folded] : llvm::zip(op->getResults(), results)) {
      Value v = dyn_cast<Value>(folded);
      auto attr = dyn_cast_or_null<ElementsAttr>(dyn_cast<Attribute>(folded));
      if (!v && attr && attr.getType() == result.getType())
        v = builder.create<nn::ConstantOp>(op->getLoc(), attr);
      if (!v)
        break;
      replacements.push_back(v);
    }
    if (replacements.size() != op->getNumResults())
      continue;
    for (auto [result, v] : llvm::zip(op->getResults(), replacements)) {
      result.replaceAllUsesWith(v);
      replaced[result] = v;
    }
    op->erase();
  }
  return replaced;
}

void GraphImporter::verifyNewOps(NodeContext &node, Block &body,
                                 Operation *before) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    diagnostics += d.str();
    return success();
  });
  auto it = before ? std::next(before->getIterator()) : body.begin();
  for (; it != body.end(); ++it)
    if (failed(verify(&*it)))
      node.fail("the imported op is invalid: " + diagnostics);
}

void GraphImporter::removeUnusedConstants(Block &body) {
  // Constant nodes and initializers read only for their values (Reshape's
  // shape, Slice's starts, ...) leave unused nn.constant ops behind.
  for (Operation &op : llvm::make_early_inc_range(body))
    if (isa<nn::ConstantOp>(op) && op.use_empty())
      op.erase();
}

} // namespace strata::onnx_import
