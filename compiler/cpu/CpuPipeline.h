//===- CpuPipeline.h - from nn to the LLVM dialect for the CPU --*- C++ -*-===//

#ifndef STRATA_COMPILER_CPU_CPUPIPELINE_H
#define STRATA_COMPILER_CPU_CPUPIPELINE_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace strata::cpu {

/// Every dialect, bufferization model and LLVM translation the CPU path uses.
void registerCpuDialects(mlir::DialectRegistry &registry);

/// nn -> linalg on tensors, with elementwise fusion (the --emit=linalg stage).
/// With `oneDnnConvs`, 2-D convolutions oneDNN runs well go to it in the
/// nChw8c layout (strata-onednn-convs) instead of the generated path. With
/// `cpu` (not for CUDA), small convolutions and weight gradients read the
/// input rows directly (strata-direct-conv), max pooling that tiles its
/// input becomes row vector code (strata-vectorize-pooling) and sums over
/// long rows accumulate in registers (strata-vectorize-reductions), and
/// gather indices out of range are reported at run time. With
/// `winograd` too, 3x3 convolutions that oneDNN got and that tile well
/// become Winograd transforms around a batched matmul (strata-winograd-convs).
void buildNNToLinalgPipeline(mlir::OpPassManager &pm, bool oneDnnConvs = false,
                             bool cpu = true, bool winograd = false);

/// Cache and register tiling plus vectorization for a target whose vector
/// registers are `vectorBits` wide.
void buildTilingPipeline(mlir::OpPassManager &pm, int64_t vectorBits);

/// Bufferization shared by the CPU and GPU paths: @main's results become
/// caller-owned out-parameters (identity layouts), copies are linalg.copy,
/// and every intermediate buffer is an alloc/dealloc pair in the entry block
/// (what strata-plan-memory places).
void buildBufferizationPipeline(mlir::OpPassManager &pm);

/// linalg on tensors -> LLVM dialect: bufferize (results become caller-owned
/// out-parameters), loops, and the LLVM conversions with the bare-pointer
/// calling convention, so @main takes one pointer per input and output.
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm);

/// The conversions of host code to the LLVM dialect shared with the GPU
/// path: arith, memref, func (bare pointers, so @main takes one pointer per
/// buffer), cf and index.
void addHostToLLVMConversions(mlir::OpPassManager &pm);

/// Makes the two stages available to strata-opt as
/// --strata-nn-to-linalg-pipeline and --strata-linalg-to-llvm-pipeline.
void registerCpuPipelines();

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_CPUPIPELINE_H
