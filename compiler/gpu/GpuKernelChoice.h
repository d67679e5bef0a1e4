//===- GpuKernelChoice.h - which kernel each op gets on the GPU -*- C++ -*-===//
//
// The CUDA backend's kernel selection, in one place: after bufferization,
// each linalg op of @main becomes the shared-memory tiled matmul
// (TileMatmulForGpu.cpp), a warp-per-output reduction (WarpReductions.cpp),
// or the generic mapping of its loops to one thread per element
// (MapLoopsToGpu.cpp). Those passes ask chooseGpuKernel and act on its
// answer; `strata compile --target=cuda --explain` prints it per ONNX node.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_GPU_GPUKERNELCHOICE_H
#define STRATA_COMPILER_GPU_GPUKERNELCHOICE_H

#include "compiler/gpu/GpuPipeline.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace strata::gpu {

enum class GpuKernel { TiledMatmul, WarpReduction, ThreadPerElement };

struct GpuKernelChoice {
  GpuKernel kernel;
  std::string name; ///< "tiled matmul (128 x 128 tiles of C, shared memory)"
  std::string rule; ///< why: "static f32 matrices, 256 x 512 x 1024"
};

/// The kernel a bufferized linalg op gets (`target` only sets the block
/// size the generic mapping's description names).
GpuKernelChoice chooseGpuKernel(mlir::linalg::LinalgOp op, const GpuTarget &target = {});

/// Whether a linalg.generic is a reduction the warp kernel computes: static,
/// at least 32 iterations per output, one associative and commutative
/// combiner on f32 or i32 (WarpReductions.cpp).
bool isWarpReduction(mlir::linalg::GenericOp op);

/// Prints one line per ONNX node of @main (bufferized, before the GPU's
/// kernel passes): the kernel it got and the rule that chose it.
void explainGpuKernels(mlir::ModuleOp module, const GpuTarget &target, llvm::raw_ostream &os);

} // namespace strata::gpu

#endif // STRATA_COMPILER_GPU_GPUKERNELCHOICE_H
