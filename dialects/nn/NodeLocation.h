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

#include <string>

namespace strata::nn {

/// The ONNX node's name (the first NameLoc), or "".
inline std::string nodeNameOf(mlir::Location loc) {
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(loc))
    return name.getName().str();
  if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location l : fused.getLocations())
      if (std::string n = nodeNameOf(l); !n.empty())
        return n;
  if (auto call = mlir::dyn_cast<mlir::CallSiteLoc>(loc))
    return nodeNameOf(call.getCallee());
  return "";
}

/// The ONNX op type the importer recorded with the node's name, or "".
inline std::string onnxOpTypeOf(mlir::Location loc) {
  if (auto name = mlir::dyn_cast<mlir::NameLoc>(loc)) {
    auto op = mlir::dyn_cast<mlir::NameLoc>(name.getChildLoc());
    return op ? op.getName().str() : "";
  }
  if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location l : fused.getLocations())
      if (std::string t = onnxOpTypeOf(l); !t.empty())
        return t;
  if (auto call = mlir::dyn_cast<mlir::CallSiteLoc>(loc))
    return onnxOpTypeOf(call.getCallee());
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
