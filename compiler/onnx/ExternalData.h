//===- ExternalData.h - find a tensor's external data, safely ---*- C++ -*-===//
//
// ONNX lets a tensor keep its bytes in a file beside the model
// (data_location = EXTERNAL, external_data = {location, offset, length}).
// The location comes from the model file, which may come from anyone: a
// location that leaves the model's folder (an absolute path, "..", a symbolic
// link pointing elsewhere) would let a model read any file the user can
// (CVE-2024-27318, CVE-2024-27319 in ONNX itself). Every read of external
// data goes through resolveExternalData, which refuses those, and anything
// that is not a regular file, before a byte is read.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_EXTERNALDATA_H
#define STRATA_COMPILER_ONNX_EXTERNALDATA_H

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <string>

namespace strata::onnx_import {

/// An open external data file and where the tensor's bytes are in it.
struct ExternalData {
  int fd = -1;          ///< open for reading; the caller owns and closes it
  std::string path;     ///< the resolved path, for messages
  uint64_t offset = 0;  ///< first byte of the tensor
  uint64_t bytes = 0;   ///< the tensor's size (the shape's, checked)
};

/// Checks `tensor`'s external data entries against the model's folder and
/// the `expectedBytes` of its shape and opens the file. Throws ImportError
/// naming `what` (e.g. "model.onnx: initializer 'w'").
ExternalData resolveExternalData(const onnx::TensorProto &tensor,
                                 const std::string &modelDir,
                                 uint64_t expectedBytes,
                                 const std::string &what);

/// Bytes per element of an ONNX data type that can be stored externally,
/// 0 for the others (strings).
uint64_t externalElementBytes(int32_t dataType);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_EXTERNALDATA_H
