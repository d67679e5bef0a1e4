//===- ModelPrecheck.h - what must hold before libonnx reads a model -*- C++ -*-===//
//
// libonnx's checker and shape inference assume a model that is roughly
// sane: its Conv shape inference divides by the strides (a model with
// strides of 0 killed strata with SIGFPE), and its byte counts wrap around
// for shapes such as 2^40 x 2^40. precheckModel looks at the raw protobuf
// first and refuses, with a message naming the file and node, what would
// crash or mislead the code after it: window attributes below 1, negative
// or overflowing shapes, ranks the runtime cannot hold, and external data
// outside the model's folder (ExternalData.h).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_MODELPRECHECK_H
#define STRATA_COMPILER_ONNX_MODELPRECHECK_H

#include "compiler/onnx/ModelLoader.h"

namespace strata::onnx_import {

/// The most dimensions a graph input or output may have (the runtime's
/// STRATA_MAX_RANK).
constexpr int kMaxBoundaryRank = 8;

/// Throws ImportError for the first problem found.
void precheckModel(const LoadedModel &loaded);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_MODELPRECHECK_H
