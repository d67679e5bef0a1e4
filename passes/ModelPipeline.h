//===- ModelPipeline.h - the target-independent model stage -----*- C++ -*-===//
//
// The first of strata's two stages: nn -> nn passes that change the network
// and not how it is computed (constant folding, index checks, batch norm
// folding; pruning and quantization to come). Every backend runs it before
// its own kernel selection; `strata compile --emit=graph` prints its result
// and `strata-opt --strata-model-pipeline` runs it on nn IR.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_MODELPIPELINE_H
#define STRATA_PASSES_MODELPIPELINE_H

#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace strata {

/// What the model stage does, built once per compilation.
struct ModelPipelineOptions {
  /// Fold inference batch normalization with constant statistics into the
  /// convolution before it (strata-fold-batch-norm).
  bool foldBatchNorm = true;
  /// The contractions' operand type (strata-mixed-precision): "fp32" (no
  /// change), "bf16" or "fp16"; `keepFp32` globs of ONNX node names stay f32.
  std::string precision = "fp32";
  std::vector<std::string> keepFp32;
};

/// Adds the model stage's passes to `pm` (a module pass manager).
void buildModelPipeline(mlir::OpPassManager &pm,
                        const ModelPipelineOptions &options = {});

/// Makes the stage available to strata-opt as --strata-model-pipeline.
void registerModelPipeline();

} // namespace strata

#endif // STRATA_PASSES_MODELPIPELINE_H
