//===- NodeLocation.h - the ONNX node behind an op's location ---*- C++ -*-===//
//
// The importer gives every op the location `loc("node_name"("OpType"))`: a
// NameLoc named after the ONNX node whose child NameLoc names the ONNX op
// type (compiler/onnx/NodeContext.cpp). Passes and diagnostics read it back
// here, also through the fused and call-site locations rewrites make.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECTS_NN_NODELOCATION_H
#define STRATA_DIALECTS_NN_NODELOCATION_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace strata::nn {

/// An ONNX node a location names.
struct OnnxNode {
  std::string name;
  std::string opType; ///< "" when the location does not record it
};

/// Every ONNX node `loc` names, in order, each once: one for an imported
/// op, several for a fused location (a rewrite that merged nodes lists the
/// node it computes first).
inline void collectOnnxNodes(mlir::Location loc, llvm::SmallVectorImpl<OnnxNode> &nodes) {
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(loc)) {
    auto type = mlir::dyn_cast<mlir::NameLoc>(name.getChildLoc());
    OnnxNode node{name.getName().str(), type ? type.getName().str() : ""};
    if (llvm::none_of(nodes, [&](const OnnxNode &n) { return n.name == node.name; }))
      nodes.push_back(std::move(node));
  } else if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc)) {
    for (mlir::Location l : fused.getLocations())
      collectOnnxNodes(l, nodes);
  } else if (auto call = mlir::dyn_cast<mlir::CallSiteLoc>(loc)) {
    collectOnnxNodes(call.getCallee(), nodes);
  }
}

/// The ONNX node's name (the first NameLoc), or "".
inline std::string nodeNameOf(mlir::Location loc) {
  llvm::SmallVector<OnnxNode, 2> nodes;
  collectOnnxNodes(loc, nodes);
  return nodes.empty() ? "" : nodes.front().name;
}

/// The ONNX op type the importer recorded with the node's name (the first
/// recorded), or "".
inline std::string onnxOpTypeOf(mlir::Location loc) {
  llvm::SmallVector<OnnxNode, 2> nodes;
  collectOnnxNodes(loc, nodes);
  for (const OnnxNode &node : nodes)
    if (!node.opType.empty())
      return node.opType;
  return "";
}

/// "node 'conv1' (op Conv)", "node 'conv1'", or "" without a node.
inline std::string describeNodeAt(mlir::Location loc) {
  std::string node = nodeNameOf(loc);
  if (node.empty())
    return "";
  std::string type = onnxOpTypeOf(loc);
  return "node '" + node + "'" + (type.empty() ? "" : " (op " + type + ")");
}

} // namespace strata::nn

#endif // STRATA_DIALECTS_NN_NODELOCATION_H
