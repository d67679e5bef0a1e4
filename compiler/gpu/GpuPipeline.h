//===- GpuPipeline.h - from linalg to kernels in PTX and a host function -*- C++ -*-===//
//
// The CUDA path (strata compile --target=cuda): after the shared nn ->
// linalg stage, @main is bufferized like the CPU's, every loop nest becomes
// a gpu.launch, the kernels go through NVVM to PTX (LLVM's NVPTX back end;
// no CUDA Toolkit needed), and the host side of @main becomes calls into the
// runtime's CUDA backend (runtime/src/cuda.c), which loads libcuda.so.1 at
// run time.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_GPU_GPUPIPELINE_H
#define STRATA_COMPILER_GPU_GPUPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace strata::gpu {

struct GpuTarget {
  std::string arch = "sm_80"; ///< --gpu-arch: sm_70, sm_80, sm_90, ...
  int64_t blockSize = 256;    ///< threads per block of elementwise kernels
};

/// "sm_NN" with NN a number LLVM's NVPTX back end knows; else an error
/// message naming the accepted forms.
bool checkArch(const std::string &arch, std::string &error);

/// The GPU, NVVM and translation registrations on top of the CPU's.
void registerGpuDialects(mlir::DialectRegistry &registry);

/// The GPU's lowering to linalg, run on the model stage's output (the
/// --emit=linalg stage): every op takes the generic lowering (gather
/// indices unchecked: the kernels have no error path yet), then elementwise
/// ops fuse. The GPU's kernel choice comes after bufferization, in one
/// place (GpuKernelChoice.h), at the start of buildGpuKernelPipeline.
void buildNNToLinalgPipeline(mlir::OpPassManager &pm);

/// Before weights are moved out of @main: splat and boolean constants
/// become device computations (strata-gpu-materialize-constants).
void buildGpuConstantsPipeline(mlir::OpPassManager &pm);

/// linalg on tensors (weights already @main's arguments) -> LLVM dialect
/// host code with the kernels as PTX in gpu.binary ops. @main then takes
/// one device pointer per input, weight and output, plus the arena when
/// the module attribute strata.gpu_arena_bytes is set.
void buildGpuLoweringPipeline(mlir::OpPassManager &pm, const GpuTarget &target);

/// Its two halves: bufferization and memory planning (the IR the GPU's
/// kernel choice reads, --explain), then the kernels from it onwards.
void buildGpuBufferizationPipeline(mlir::OpPassManager &pm);
void buildGpuKernelPipeline(mlir::OpPassManager &pm, const GpuTarget &target);

/// The PTX of the lowered module's kernels (what --emit=ptx writes); a
/// model without kernels gets a valid empty module for `arch`.
std::string collectPtx(mlir::ModuleOp module, const std::string &arch);

/// strata-expand-gpu-math: sinh, cosh, asinh, acosh, atanh, asin and acos
/// in terms of ops convert-gpu-to-nvvm lowers.
std::unique_ptr<mlir::Pass> createExpandGpuMath();

/// strata-tile-matmul-for-gpu: f32 linalg.matmul on buffers as a
/// shared-memory tiled, register-blocked gpu.launch.
std::unique_ptr<mlir::Pass> createTileMatmulForGpu();

/// strata-gpu-warp-reductions: linalg.generic reductions of at least 32
/// iterations per output as one warp per output, combined by shuffles.
std::unique_ptr<mlir::Pass> createWarpReductions();

/// An error message if `ptx` calls libdevice functions left undefined
/// (compiled without the CUDA Toolkit's libdevice); else empty.
std::string missingLibdevice(const std::string &ptx);

/// strata-opt: --strata-gpu-pipeline (linalg on tensors to LLVM + PTX,
/// for sm_80).
void registerGpuPipelines();

} // namespace strata::gpu

#endif // STRATA_COMPILER_GPU_GPUPIPELINE_H
