//===- CpuPipeline.cpp - from nn to the LLVM dialect for the CPU ----------===//

#include "compiler/cpu/CpuPipeline.h"
#include "compiler/cpu/OneDnnBufferization.h"
#include "dialects/nn/NNDialect.h"
#include "dialects/onednn/OneDnnDialect.h"
#include "passes/ModelPipeline.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace strata::cpu {

void registerCpuDialects(DialectRegistry &registry) {
  registry.insert<nn::NNDialect, onednn::OneDnnDialect, func::FuncDialect,
                  arith::ArithDialect,
                  math::MathDialect, linalg::LinalgDialect,
                  tensor::TensorDialect, memref::MemRefDialect,
                  bufferization::BufferizationDialect, scf::SCFDialect,
                  cf::ControlFlowDialect, affine::AffineDialect,
                  index::IndexDialect, vector::VectorDialect,
                  LLVM::LLVMDialect>();
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  registerOneDnnBufferization(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void buildKernelSelectionPipeline(OpPassManager &pm, const CpuBackendOptions &options) {
  // First: a sparse convolution must not be taken by oneDNN or Winograd.
  if (options.sparse != SparseKernels::Off) {
    SparseWeightsOptions sparse;
    sparse.force = options.sparse == SparseKernels::On;
    sparse.vectorBits = options.target.vectorBits;
    pm.addPass(createSparseWeights(sparse));
  }
  if (options.convKernels != ConvKernels::Generated) {
    pm.addPass(createOneDnnInt8());
    OneDnnConvsOptions onednn;
    onednn.channelBlock = options.target.channelBlock;
    onednn.bf16Kernels = options.target.avx512bf16 || options.target.amx;
    pm.addPass(createOneDnnConvs(onednn));
  }
  pm.addPass(createWidenHalfContractions());
  if (options.convKernels == ConvKernels::Auto)
    pm.addPass(createWinogradConvs());
  pm.addPass(createOneDnnMatmuls());
  DirectConvOptions direct;
  direct.vectorBits = options.target.vectorBits;
  pm.addPass(createDirectConv(direct));
  pm.addPass(createVectorizePooling());
  VectorizeReductionsOptions reductions;
  reductions.vectorBits = options.target.vectorBits;
  pm.addPass(createVectorizeReductions(reductions));
}

void buildNNToLinalgPipeline(OpPassManager &pm, const CpuBackendOptions &options) {
  buildKernelSelectionPipeline(pm, options);
  addLinalgLowering(pm, /*runTimeChecks=*/true);
}

void addLinalgLowering(OpPassManager &pm, bool runTimeChecks) {
  LowerNNToLinalgOptions lowering;
  lowering.runTimeChecks = runTimeChecks;
  pm.addPass(createSignlessIntegers());
  pm.addPass(createLowerNNToLinalg(lowering));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createFuseElementwise());
  pm.addPass(createCSEPass());
}

void buildTilingPipeline(OpPassManager &pm, const CpuTarget &target) {
  TileAndVectorizeMatmulOptions options;
  options.vectorBits = target.vectorBits;
  pm.addNestedPass<func::FuncOp>(createTileAndVectorizeMatmul(options));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {
/// Copies as linalg.copy, which becomes plain loops. The default,
/// memref.copy, calls MLIR's runner library for strided copies, which a
/// self-contained module cannot link.
LogicalResult copyWithLinalg(OpBuilder &b, Location loc, Value from, Value to) {
  b.create<linalg::CopyOp>(loc, from, to);
  return success();
}
} // namespace

void buildBufferizationPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createCopyReturnedViews());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizationOptions options;
  options.memCpyFn = copyWithLinalg;
  options.bufferizeFunctionBoundaries = true;
  options.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  pm.addPass(bufferization::createOneShotBufferizePass(options));
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.memCpyFn = copyWithLinalg;
  // Compute straight into the caller's buffer instead of alloc + copy.
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm.nest<func::FuncOp>(),
                                                 dealloc);
}

void buildLinalgToLLVMPipeline(OpPassManager &pm, const CpuTarget &target) {
  buildBufferizationPipeline(pm);
  // Tiled matmuls' scf.forall and every other linalg op's parallel
  // dimensions become scf.parallel; the outermost of each goes to the
  // thread pool.
  pm.addPass(createForallToParallelLoopPass());
  pm.addNestedPass<func::FuncOp>(createLowerVectors());
  pm.addPass(createCanonicalizerPass());
  // After LowerVectors: hoisting a matmul's accumulator out of its k loop
  // needs C and A/B to be visibly distinct allocations, which views of one
  // arena are not.
  pm.addPass(createPlanMemory());
  pm.addPass(createMaterializeRunContext());
  LowerOneDnnCallsOptions onednn;
  onednn.maxIsa = target.oneDnnIsa();
  pm.addPass(createLowerOneDnnCalls(onednn));
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createOutlineParallelLoops());
  // Fully unrolled: the default lowers a 2-D transfer (a register tile's
  // accumulator) through a memref.alloca placed in the nearest allocation
  // scope, which inside an scf.parallel is its body, so once lowered to
  // loops the stack grew every iteration (and overflowed on large tiles).
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll();
  pm.addPass(createConvertVectorToSCFPass(transfers));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  // bf16 <-> f32 as integer ops: LLVM would otherwise call __truncsfbf2,
  // which older libgcc (GCC 12) lacks.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createApproximateTanh());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  addHostToLLVMConversions(pm);
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createMaterializeParallelLaunches());
}

void addHostToLLVMConversions(OpPassManager &pm) {
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
}

/// What strata-opt's pipelines compile for: a 256-bit AVX2 target (haswell),
/// whatever machine the tests run on.
CpuTarget testTarget() {
  CpuTarget target;
  std::string error;
  if (!describeCpu("haswell", target, error))
    llvm::report_fatal_error(llvm::Twine("strata-opt: ") + error);
  return target;
}

void registerCpuPipelines() {
  PassPipelineRegistration<>(
      "strata-nn-to-linalg-pipeline",
      "the model stage, then the CPU's kernel selection and lowering to fused "
      "linalg on tensors for an AVX2 target (strata compile --emit=linalg)",
      [](OpPassManager &pm) {
        buildModelPipeline(pm);
        CpuBackendOptions options;
        options.target = testTarget();
        buildNNToLinalgPipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "strata-tiling-pipeline",
      "tile and vectorize linalg for a 256-bit vector target",
      [](OpPassManager &pm) { buildTilingPipeline(pm, testTarget()); });
  PassPipelineRegistration<>(
      "strata-linalg-to-llvm-pipeline",
      "linalg on tensors to the LLVM dialect for an AVX2 target "
      "(strata compile --emit=llvm)",
      [](OpPassManager &pm) { buildLinalgToLLVMPipeline(pm, testTarget()); });
}

} // namespace strata::cpu
