//===- QuantizationParams.h - constant scales and zero points ---*- C++ -*-===//
//
// The passes that rewrite quantized graphs (strata-quantized-ops for
// inference, strata-fake-quantize for training) read the scale and zero
// point operands of nn.quantize / nn.dequantize when they are constants.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_COMPRESS_QUANTIZATIONPARAMS_H
#define STRATA_PASSES_COMPRESS_QUANTIZATIONPARAMS_H

#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace strata {

/// `v` under any reshapes: a reshape keeps a constant's values in order, and
/// the folder leaves reshapes of large (dense_resource) constants, such as
/// 512 per-channel scales.
mlir::Value throughReshapes(mlir::Value v);

/// The values of an integer constant of any width, as int64.
std::optional<std::vector<int64_t>> integerValues(mlir::Value v);

/// The values of a float constant, as double.
std::optional<std::vector<double>> scaleValues(mlir::Value v);

/// Constant scale and zero point values (one each per tensor, or one per
/// channel).
struct Quantization {
  std::vector<double> scale;
  std::vector<int64_t> zeroPoint;
  bool perTensor() const { return scale.size() == 1 && zeroPoint.size() == 1; }
};

std::optional<Quantization> quantizationOf(mlir::Value scale, mlir::Value zeroPoint);

} // namespace strata

#endif // STRATA_PASSES_COMPRESS_QUANTIZATIONPARAMS_H
