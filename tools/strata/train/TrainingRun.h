//===- TrainingRun.h - one run of the compiled training loop ---*- C++ -*-===//
//
// What `strata train` does, as a function `strata prune` calls once per
// pruning step: compile the training step and evaluation (after pruning, if
// asked), run the epochs with checkpoints and Ctrl-C handling, evaluate,
// and write the trained network as ONNX.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_TRAIN_TRAININGRUN_H
#define STRATA_TOOLS_STRATA_TRAIN_TRAININGRUN_H

#include "compiler/driver/Training.h"

#include <cstdint>
#include <string>
#include <vector>

namespace strata::cli {

struct TrainRun {
  std::string modelPath, dataDir;
  /// The user's model where modelPath is one strata derived from it (the
  /// QDQ model of --qat): checkpoints and messages name it.
  std::string sourceModel;
  std::string lossName = "cross-entropy";
  std::string optimizerText = "sgd(lr=0.05,momentum=0.9)";
  int64_t epochs = 1, batchSize = 64;
  std::string outputPath; ///< empty: <model>.trained.onnx
  ConvKernels convKernels = ConvKernels::Auto;
  uint64_t seed = 0;
  std::vector<std::string> freeze;
  std::string metricsPath, checkpointPath, resumePath;
  int64_t checkpointEvery = 0;
  bool periodicCheckpoints = false; ///< --checkpoint or --checkpoint-every given
  int threads = 0;
  int64_t interruptAfter = 0; ///< tests: raise SIGINT after this many steps
  /// Which options were given (a resumed run takes the others from its
  /// checkpoint, and refuses given ones that differ).
  bool lossGiven = false, optimizerGiven = false, seedGiven = false, batchGiven = false;
  CompressBeforeTraining compress; ///< strata prune, strata share
  bool quietWrite = false;   ///< no "wrote" line (strata prune's steps)
  /// After Ctrl-C, how to continue (default: the strata train command).
  std::string resumeHint;
  /// Compile and evaluate the model on the test split as it is: no
  /// training, nothing written (strata prune's dense baseline).
  bool evaluateOnly = false;
};

struct TrainOutcome {
  bool tested = false;  ///< a test split was evaluated
  bool classes = true;  ///< score is accuracy (else mean squared error)
  double score = 0.0, epochSeconds = 0.0, samplesPerSecond = 0.0;
};

/// Parses --layer GLOB=S rules (S in [0, 1)), as strata prune and strata
/// compress take them.
bool parseLayerRules(const std::vector<std::string> &rules, std::vector<LayerSparsity> &layers,
                     std::string &error);

/// Runs `run`; returns the process exit code (errors already reported; 130
/// after Ctrl-C with a checkpoint saved).
int trainModel(const TrainRun &run, TrainOutcome &outcome);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_TRAIN_TRAININGRUN_H
