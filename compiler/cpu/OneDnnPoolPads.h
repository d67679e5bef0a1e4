//===- OneDnnPoolPads.h - ONNX pooling pads as oneDNN takes them -*- C++ -*-===//
//
// oneDNN computes a pooling's output size by flooring; ONNX's ceil_mode
// rounds up. Both oneDNN pooling rewrites (blocked f32, channels-last int8)
// widen the end pads until the floor rule gives ONNX's size; max pooling
// never reads the padding, so the result is the same.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_CPU_ONEDNNPOOLPADS_H
#define STRATA_COMPILER_CPU_ONEDNNPOOLPADS_H

#include "dialects/nn/NNOps.h"

namespace strata::cpu {

/// The begin and end pads of a 2-D max pooling for oneDNN.
inline llvm::SmallVector<int64_t> oneDnnPoolPads(nn::PoolOp pool) {
  auto in = mlir::cast<mlir::RankedTensorType>(pool.getInput().getType());
  auto out = mlir::cast<mlir::RankedTensorType>(pool.getOutput().getType());
  llvm::SmallVector<int64_t> pads(pool.getPads());
  for (int d = 0; d < 2; ++d) {
    int64_t need = (out.getDimSize(2 + d) - 1) * pool.getStrides()[d] +
                   pool.getKernelShape()[d] - in.getDimSize(2 + d) - pads[d];
    pads[2 + d] = std::max(pads[2 + d], need);
  }
  return pads;
}

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_ONEDNNPOOLPADS_H
