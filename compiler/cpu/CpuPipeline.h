//===- CpuPipeline.h - from nn to the LLVM dialect for the CPU --*- C++ -*-===//

#ifndef STRATA_COMPILER_CPU_CPUPIPELINE_H
#define STRATA_COMPILER_CPU_CPUPIPELINE_H

#include "compiler/cpu/CpuTarget.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace strata::cpu {

/// Every dialect, bufferization model and LLVM translation the CPU path uses.
void registerCpuDialects(mlir::DialectRegistry &registry);

/// Who computes 2-D convolutions on the CPU (--conv-kernels).
enum class ConvKernels {
  Auto,      ///< oneDNN where the cost rule picks it (strata-onednn-convs),
             ///< Winograd for 3x3 ones that tile well (strata-winograd-convs)
  Direct,    ///< as Auto, without Winograd: oneDNN's direct convolutions
  Generated  ///< always strata's generated im2col + matmul code
};

/// Whether layers with mostly-zero constant weights compute only the
/// nonzeros (--sparse).
enum class SparseKernels {
  Auto, ///< where measured faster (strata-sparse-weights' rule)
  On,   ///< every eligible constant weight, however dense
  Off   ///< always the dense kernels
};

/// The CPU backend's configuration, built once per compilation from the
/// compile options (or strata-opt's defaults: a 256-bit AVX2 target).
struct CpuBackendOptions {
  CpuTarget target;
  ConvKernels convKernels = ConvKernels::Auto;
  SparseKernels sparse = SparseKernels::Auto;
};

/// The CPU backend's kernel selection and lowering, run on the model stage's
/// output (the --emit=linalg stage): 2-D convolutions oneDNN runs well go to
/// it in the blocked layout (strata-onednn-convs), 3x3 ones that tile well
/// become Winograd transforms (strata-winograd-convs, with
/// ConvKernels::Auto), small convolutions and weight gradients read the
/// input rows directly (strata-direct-conv), max pooling that tiles its input
/// becomes row vector code (strata-vectorize-pooling), sums over long rows
/// accumulate in registers (strata-vectorize-reductions); the rest lowers to
/// linalg with run-time index checks, and elementwise ops fuse.
void buildNNToLinalgPipeline(mlir::OpPassManager &pm,
                             const CpuBackendOptions &options);

/// The selection half of buildNNToLinalgPipeline: the passes above, each
/// recording what it chose (KernelChoice.h; strata compile --explain prints
/// it), without the generic lowering.
void buildKernelSelectionPipeline(mlir::OpPassManager &pm,
                                  const CpuBackendOptions &options);

/// nn -> linalg on tensors for any backend: the generic lowering
/// (strata-lower-nn-to-linalg, gather indices checked at run time with
/// `runTimeChecks`), then elementwise fusion.
void addLinalgLowering(mlir::OpPassManager &pm, bool runTimeChecks);

/// Cache and register tiling plus vectorization for the target's vector
/// registers.
void buildTilingPipeline(mlir::OpPassManager &pm, const CpuTarget &target);

/// Bufferization shared by the CPU and GPU paths: @main's results become
/// caller-owned out-parameters (identity layouts), copies are linalg.copy,
/// and every intermediate buffer is an alloc/dealloc pair in the entry block
/// (what strata-plan-memory places).
void buildBufferizationPipeline(mlir::OpPassManager &pm);

/// linalg on tensors -> LLVM dialect: bufferize (results become caller-owned
/// out-parameters), loops, and the LLVM conversions with the bare-pointer
/// calling convention, so @main takes one pointer per input and output.
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm, const CpuTarget &target);

/// The conversions of host code to the LLVM dialect shared with the GPU
/// path: arith, memref, func (bare pointers, so @main takes one pointer per
/// buffer), cf and index.
void addHostToLLVMConversions(mlir::OpPassManager &pm);

/// Makes the CPU's stages available to strata-opt as
/// --strata-nn-to-linalg-pipeline, --strata-tiling-pipeline and
/// --strata-linalg-to-llvm-pipeline.
void registerCpuPipelines();

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_CPUPIPELINE_H
