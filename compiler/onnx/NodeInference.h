//===- NodeInference.h - one node's ONNX type inference, re-run at import -*- C++ -*-===//
//
// Graph-level shape inference (libonnx, with data propagation) only knows the
// values of tensors that libonnx 1.12 propagates: Shape, Gather, Concat,
// Slice, (Un)squeeze, Cast and + - * on them. Exporters compute shapes with
// more than that (Div for channels // groups, Equal/Where for -1 entries,
// ConstantOfShape, ...), so the Reshape, Expand or Slice at the end of such a
// chain stays untyped there, and so does everything after it. The importer
// folds those chains into constants as it goes; for a node whose outputs
// graph inference left incomplete, it then asks libonnx again for that node
// alone, with the types strata imported its inputs with and the values of
// inputs that folded. The schema's own inference function does the work:
// nothing here knows any op's shape rule.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_NODEINFERENCE_H
#define STRATA_COMPILER_ONNX_NODEINFERENCE_H

#include "mlir/IR/Value.h"
#include "onnx/onnx_pb.h"

#include <optional>
#include <string>
#include <vector>

namespace strata::onnx_import {

/// The output types libonnx infers for `node` (opset `opset` of its domain)
/// given its imported `inputs` (null for absent optional inputs). An entry
/// is nullopt where inference gave no type; `error` holds the inference
/// function's complaint, if it threw.
std::vector<std::optional<onnx::TypeProto>>
inferNodeTypes(const onnx::NodeProto &node, int64_t opset,
               const std::vector<mlir::Value> &inputs, std::string &error);

/// Whether `type` is a tensor type with a known element type and every
/// dimension known.
bool isFullyKnown(const onnx::TypeProto &type);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_NODEINFERENCE_H
