//===- ShapeInferenceGuards.h - checks before libonnx's shape functions -*- C++ -*-===//
//
// libonnx 1.12's shape inference for the convolution and pooling family
// (convPoolShapeInference) indexes its per-dimension attributes by the
// weight's rank without checking it against the input's: a Conv whose
// input is [4, 8, 8] and weight [4, 1, 3, 3] read past the end of a vector
// and crashed strata (found by the importer's fuzzer). The rank of an
// intermediate value is only known during inference, so the check cannot be
// made beforehand: installShapeInferenceGuards wraps the inference function
// of each such op (every opset version) in one that first refuses mismatched
// ranks and attribute lengths, as later ONNX releases do, and then calls
// libonnx's own.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_SHAPEINFERENCEGUARDS_H
#define STRATA_COMPILER_ONNX_SHAPEINFERENCEGUARDS_H

namespace strata::onnx_import {

/// Idempotent and thread-safe; call before shape inference.
void installShapeInferenceGuards();

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_SHAPEINFERENCEGUARDS_H
