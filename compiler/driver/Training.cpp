//===- Training.cpp - compile a model's training step and evaluation ------===//

#include "compiler/driver/Training.h"
#include "compiler/driver/DiagnosticCollector.h"
#include "compiler/cpu/CpuPipeline.h"
#include "compiler/onnx/OnnxImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "passes/Passes.h"

using namespace mlir;

namespace strata {

bool compileTraining(const std::string &modelPath, int64_t batch,
                     const train::TrainConfig &config, const std::string &dir,
                     const CompileOptions &options, TrainingBuild &build,
                     std::string &error, const CompressBeforeTraining &compress) {
  DialectRegistry registry;
  cpu::registerCpuDialects(registry);
  MLIRContext ctx(registry);
  std::vector<std::string> notes;
  OwningOpRef<ModuleOp> forward = importOnnxModel(ctx, modelPath, batch, notes, error);
  if (!forward)
    return false;
  auto main = forward->lookupSymbol<func::FuncOp>("main");
  if (compress.prunes() && !pruneBySparsity(main, compress.sparsity, compress.layers, error))
    return false;
  if (compress.share && !shareLayerWeights(main, *compress.share, {}, error))
    return false;
  if (compress.fakeQuantize) {
    PassManager pm(&ctx);
    pm.addPass(createFakeQuantize());
    if (failed(pm.run(*forward))) {
      error = modelPath + ": cannot fake-quantize the model for training";
      return false;
    }
  }
  OwningOpRef<ModuleOp> trainModule, evalModule;
  {
    DiagnosticCollector diagnostics(ctx);
    if (!train::buildTrainingModules(*forward, config, trainModule, evalModule,
                                     build.layout, error)) {
      std::string detail = diagnostics.message("");
      if (!detail.empty())
        error += ":\n" + detail;
      return false;
    }
  }
  if (build.layout.params.empty()) {
    error = modelPath + " has no trainable float initializers" +
            (build.layout.frozen.empty() ? "" : " (all are frozen)");
    return false;
  }
  CompileOptions opt = options;
  opt.emit = Stage::Exe;
  opt.batch = batch;
  build.trainLibrary = dir + "/train_step.so";
  build.evalLibrary = dir + "/eval.so";
  if (options.note)
    options.note("compiling the training step (forward, backward, optimizer)");
  if (!compileNNModule(*trainModule, build.trainLibrary, opt, error))
    return false;
  if (options.note)
    options.note("compiling the evaluation function");
  return compileNNModule(*evalModule, build.evalLibrary, opt, error);
}

} // namespace strata
