//===- TensorLimits.h - sizes a tensor may have -----------------*- C++ -*-===//
//
// A model file states its tensor shapes; nothing stops it from stating
// 2^40 x 2^40 floats, whose byte count wraps around 64 bits, or a negative
// size. Every shape the importer takes (graph inputs and outputs, inferred
// types, initializers) is checked here before it is used.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_TENSORLIMITS_H
#define STRATA_COMPILER_ONNX_TENSORLIMITS_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>

namespace strata::onnx_import {

/// The most bytes one tensor may have: the user address space of x86-64
/// Linux (128 TiB). A larger tensor cannot exist in any process.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 47;

/// The bytes of a tensor of `dims` with `elementBytes` per element, or false
/// with `why` ("has a negative dimension -3", "is too large: ...").
bool tensorBytes(llvm::ArrayRef<int64_t> dims, uint64_t elementBytes,
                 uint64_t &bytes, std::string &why);

/// As tensorBytes, throwing an ImportError "`what` why" instead.
uint64_t checkedTensorBytes(llvm::ArrayRef<int64_t> dims, uint64_t elementBytes,
                            const std::string &what);

/// "[2, 3, 4]"
std::string formatDims(llvm::ArrayRef<int64_t> dims);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_TENSORLIMITS_H
