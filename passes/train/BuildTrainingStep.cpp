//===- BuildTrainingStep.cpp - the training-step builder as a pass --------===//
//
// Exposes passes/train/TrainingStep.cpp to strata-opt and lit tests: @main is
// replaced by the training step built from it.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/train/TrainingStep.h"

namespace strata {
#define GEN_PASS_DEF_BUILDTRAININGSTEP
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

struct BuildTrainingStepPass
    : strata::impl::BuildTrainingStepBase<BuildTrainingStepPass> {
  using BuildTrainingStepBase::BuildTrainingStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    strata::train::TrainConfig config;
    if (loss == "cross-entropy")
      config.loss = strata::train::LossKind::CrossEntropy;
    else if (loss == "mse")
      config.loss = strata::train::LossKind::MeanSquaredError;
    else {
      module.emitError() << "unknown loss '" << loss << "' (cross-entropy or mse)";
      return signalPassFailure();
    }
    std::string error;
    if (!strata::train::parseOptimizer(optimizer, config.optimizer, error)) {
      module.emitError() << error;
      return signalPassFailure();
    }
    config.freeze.assign(freeze.begin(), freeze.end());
    config.gradientsOnly = gradientsOnly;
    OwningOpRef<ModuleOp> train, eval;
    strata::train::TrainingLayout layout;
    if (!strata::train::buildTrainingModules(module, config, train, eval, layout,
                                             error)) {
      module.emitError() << error;
      return signalPassFailure();
    }
    auto oldMain = module.lookupSymbol<func::FuncOp>("main");
    auto newMain = train->lookupSymbol<func::FuncOp>("main");
    newMain->moveBefore(oldMain);
    oldMain.erase();
  }
};

} // namespace
