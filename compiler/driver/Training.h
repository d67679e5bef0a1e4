//===- Training.h - compile a model's training step and evaluation -*- C++ -*-===//

#ifndef STRATA_COMPILER_DRIVER_TRAINING_H
#define STRATA_COMPILER_DRIVER_TRAINING_H

#include "compiler/driver/Compiler.h"
#include "passes/compress/Pruning.h"
#include "passes/compress/WeightSharing.h"
#include "passes/train/TrainingStep.h"

namespace strata {

/// Compression before the training step is built: pruning (strata prune;
/// the layer weights are magnitude-pruned, passes/compress/Pruning.h, and
/// the step keeps their zeros), then weight sharing (strata share; the
/// layer weights share k-means codebooks, WeightSharing.h, and the step
/// fine-tunes the centroids).
struct CompressBeforeTraining {
  double sparsity = -1.0; ///< all layers but the first; negative: none
  std::vector<LayerSparsity> layers;
  std::optional<LayerBits> share; ///< bits per shared weight, if sharing
  /// Quantization-aware training (strata train --qat): the model's QDQ
  /// pairs become nn.fake_quantize (strata-fake-quantize), which the step
  /// differentiates straight through.
  bool fakeQuantize = false;
  bool prunes() const { return sparsity > 0.0 || !layers.empty(); }
};

struct TrainingBuild {
  std::string trainLibrary; ///< train step: see passes/train/TrainingStep.h
  std::string evalLibrary;  ///< forward pass reading the parameters
  train::TrainingLayout layout;
};

/// Imports `modelPath` with its symbolic batch set to `batch`, builds the
/// training step and the evaluation function, and compiles both into
/// shared libraries in `dir`. `options.note` receives progress notes.
bool compileTraining(const std::string &modelPath, int64_t batch,
                     const train::TrainConfig &config, const std::string &dir,
                     const CompileOptions &options, TrainingBuild &build,
                     std::string &error, const CompressBeforeTraining &compress = {});

} // namespace strata

#endif // STRATA_COMPILER_DRIVER_TRAINING_H
