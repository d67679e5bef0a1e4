//===- ModelPipeline.cpp - the target-independent model stage -------------===//

#include "passes/ModelPipeline.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace strata {

void buildModelPipeline(OpPassManager &pm, const ModelPipelineOptions &options) {
  // Constants and identities first: what folds away needs no index check,
  // and batch norms fold into convolutions whose weights are constants.
  pm.addPass(createGraphFold());
  pm.addPass(createCheckConstantIndices());
  // QDQ patterns compute in integers (after folding made their scales,
  // zero points and weights constants).
  pm.addPass(createQuantizedOps());
  if (options.foldBatchNorm)
    pm.addPass(createFoldBatchNorm());
  // After folding, so batch norms fold into f32 weights before they round.
  if (options.precision != "fp32") {
    MixedPrecisionOptions precision;
    precision.precision = options.precision;
    precision.keepFp32 = options.keepFp32;
    pm.addPass(createMixedPrecision(precision));
  }
}

void registerModelPipeline() {
  PassPipelineRegistration<>(
      "strata-model-pipeline",
      "the target-independent nn -> nn passes (strata compile --emit=graph)",
      [](OpPassManager &pm) { buildModelPipeline(pm); });
}

} // namespace strata
