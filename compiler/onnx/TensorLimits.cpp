//===- TensorLimits.cpp - sizes a tensor may have -------------------------===//

#include "compiler/onnx/TensorLimits.h"
#include "compiler/onnx/ImportError.h"

namespace strata::onnx_import {

std::string formatDims(llvm::ArrayRef<int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

bool tensorBytes(llvm::ArrayRef<int64_t> dims, uint64_t elementBytes,
                 uint64_t &bytes, std::string &why) {
  uint64_t total = elementBytes;
  bool overflow = false;
  for (int64_t d : dims) {
    if (d < 0) {
      why = "has a negative dimension (" + std::to_string(d) + ") in " +
            formatDims(dims);
      return false;
    }
    overflow |= __builtin_mul_overflow(total, (uint64_t)d, &total);
  }
  // A zero dimension makes an empty tensor even if the others overflowed.
  for (int64_t d : dims)
    if (d == 0)
      overflow = false, total = 0;
  if (overflow || total > kMaxTensorBytes) {
    why = "of shape " + formatDims(dims) + " is too large: " +
          (overflow ? std::string("its size does not fit in 64 bits")
                    : std::to_string(total) + " bytes") +
          ", more than the 128 TiB a process can address";
    return false;
  }
  bytes = total;
  return true;
}

uint64_t checkedTensorBytes(llvm::ArrayRef<int64_t> dims, uint64_t elementBytes,
                            const std::string &what) {
  uint64_t bytes = 0;
  std::string why;
  if (!tensorBytes(dims, elementBytes, bytes, why))
    throw ImportError(what + " " + why);
  return bytes;
}

} // namespace strata::onnx_import
