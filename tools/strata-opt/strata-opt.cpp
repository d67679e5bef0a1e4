//===- strata-opt.cpp - mlir-opt with strata's dialects and passes --------===//
//
// The driver for lit tests: parses MLIR, runs the named passes, prints MLIR.
// Only the dialects strata's pipelines use are registered (InitAllDialects.h costs
// ~50 s of compile time and is not needed).
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/CpuPipeline.h"
#include "compiler/gpu/GpuPipeline.h"
#include "passes/ModelPipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  strata::gpu::registerGpuDialects(registry); // the CPU's and the GPU's
  mlir::registerTransformsPasses(); // canonicalize, cse, symbol-dce, ...
  mlir::bufferization::registerBufferizationPasses(); // one-shot-bufferize, ...
  strata::registerStrataPasses();
  strata::registerModelPipeline();
  strata::cpu::registerCpuPipelines();
  strata::gpu::registerGpuPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "strata-opt: strata's MLIR optimizer driver (mlir-opt with the nn "
      "dialect and strata's passes)\n\n"
      "Example:\n"
      "  strata compile model.onnx --emit=nn --print-weights -o model.mlir\n"
      "  strata-opt model.mlir --strata-graph-fold -o folded.mlir\n",
      registry));
}
