//===- GraphImporter.h - an ONNX graph as one func.func of nn ops -*- C++ -*-===//

#ifndef STRATA_COMPILER_ONNX_GRAPHIMPORTER_H
#define STRATA_COMPILER_ONNX_GRAPHIMPORTER_H

#include "compiler/onnx/ModelLoader.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/DenseMap.h"

#include <map>
#include <string>

namespace strata::onnx_import {

/// Imports a checked, shape-inferred model. Single use: construct, run().
class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext &ctx, LoadedModel &loaded);

  /// Builds `module { func.func @main(...) }`. Throws ImportError.
  mlir::OwningOpRef<mlir::ModuleOp> run();

  /// The value named `name`: a graph input, a node result, or an initializer
  /// (materialized as nn.constant on first use). Null if unknown.
  mlir::Value lookup(const std::string &name);
  /// The inferred type of a value; nullopt with `why` if unknown.
  std::optional<mlir::RankedTensorType> typeOf(const std::string &name,
                                               std::string &why);
  void define(const std::string &name, mlir::Value value);
  const LoadedModel &model() const { return loaded; }
  mlir::MLIRContext &context() { return ctx; }

private:
  /// Refuses inferred node output types with negative or huge sizes.
  void checkInferredTypes();
  /// Refuses one inferred output type (`name`, of `node`) with a negative
  /// or huge size, naming the node.
  void checkInferredSize(const onnx::TypeProto &type, const onnx::NodeProto &node,
                         int index, const std::string &name);
  void importNode(const onnx::NodeProto &node, int index);
  /// Verifies the ops one node produced, so that a verifier complaint is
  /// reported against that node.
  void verifyNewOps(class NodeContext &node, mlir::Block &body,
                    mlir::Operation *before);
  void removeUnusedConstants(mlir::Block &body);
  /// Re-runs type inference for `node` alone when graph inference left one
  /// of its outputs untyped or partly typed (NodeInference.h).
  void reinferIncompleteOutputs(const onnx::NodeProto &node, int index);
  /// Folds the ops one node produced whose operands are all constants (the
  /// shape arithmetic exporters emit) into nn.constant ops; returns what
  /// each folded result became.
  llvm::DenseMap<mlir::Value, mlir::Value> foldNewOps(mlir::Block &body,
                                                      mlir::Operation *before);

  mlir::MLIRContext &ctx;
  LoadedModel &loaded;
  mlir::OpBuilder builder;
  std::map<std::string, mlir::Value> values;
  std::map<std::string, onnx::TensorProto *> initializers;
  std::map<std::string, const onnx::TypeProto *> types;
  /// Types from reinferIncompleteOutputs, which `types` points into.
  std::map<std::string, onnx::TypeProto> reinferred;
};

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_GRAPHIMPORTER_H
