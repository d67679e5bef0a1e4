//===- TrainCommand.cpp - strata train -------------------------------------===//
//
// The options of `strata train`; the run itself is train/TrainingRun.cpp.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "train/TrainingRun.h"

#include "compiler/driver/Training.h"
#include "compiler/onnx/OnnxImporter.h"
#include "strata/runtime.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csignal>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "Calibration.h"
#include "compiler/onnx/QdqModel.h"

#include "llvm/Support/Path.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("train", "Train an ONNX model with a compiled training step");
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.onnx>"),
                               cl::sub(sub), cl::cat(category()));
cl::opt<std::string> dataDir("data", cl::Required,
                             cl::desc("Folder with MNIST-layout idx files (gzip or not), or "
                                      "train_x.npy/train_y.npy[/test_x.npy/test_y.npy]; "
                                      "'fashion-mnist' is Debian's dataset-fashion-mnist"),
                             cl::value_desc("dir"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> lossName("loss", cl::desc("cross-entropy (softmax cross-entropy on "
                                               "logits, default) or mse"),
                              cl::init("cross-entropy"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> optimizerText(
    "optimizer",
    cl::desc("sgd(lr=,momentum=,nesterov=,weight_decay=) or "
             "adam(lr=,beta1=,beta2=,eps=,weight_decay=)"),
    cl::init("sgd(lr=0.05,momentum=0.9)"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> epochs("epochs", cl::desc("Passes over the training data (default 1)"),
                        cl::init(1), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batchSize("batch", cl::desc("Samples per step (default 64); the model's "
                                             "symbolic batch dimension is set to it"),
                           cl::init(64), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath("o", cl::desc("Trained model (default: <model>.trained.onnx)"),
                                cl::value_desc("file"), cl::sub(sub), cl::cat(category()));
cl::opt<ConvKernels> convKernels("conv-kernels", cl::desc(kConvKernelsHelp),
                                 convKernelValues(), cl::init(ConvKernels::Auto),
                                 cl::sub(sub), cl::cat(category()));
cl::opt<uint64_t> seed("seed", cl::desc("Shuffling seed (default 0)"), cl::init(0),
                       cl::sub(sub), cl::cat(category()));
cl::list<std::string> freeze("freeze", cl::desc("Keep initializers matching this glob "
                                                "fixed (repeatable), e.g. 'conv*'"),
                             cl::value_desc("pattern"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> metricsPath("metrics", cl::desc("Append one CSV row per epoch here"),
                                 cl::value_desc("file.csv"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> checkpointPath(
    "checkpoint",
    cl::desc("Save the run here after every epoch (and every --checkpoint-every steps); "
             "Ctrl-C also saves here (default: <output>.ckpt). Written whole or not at all"),
    cl::value_desc("file"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> checkpointEvery(
    "checkpoint-every",
    cl::desc("Also save a checkpoint every N steps (default 0: at epoch ends only)"),
    cl::value_desc("N"), cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> resumePath("resume", cl::desc("Continue a run from its checkpoint"),
                                cl::value_desc("file"), cl::sub(sub), cl::cat(category()));
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over (default: all cores)"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<bool> qat("qat",
                  cl::desc("Quantization-aware training: calibrate the activations' ranges on "
                           "the training data, train with activations and weights "
                           "fake-quantized (straight-through gradients, scales learned from "
                           "the calibrated ones as LSQ learns them), and write a QDQ int8 "
                           "model (default: <model>.int8.onnx); --resume continues such a run"),
                  cl::sub(sub), cl::cat(category()));
// For tests of Ctrl-C: raise SIGINT after this many steps.
cl::opt<int64_t> interruptAfter("interrupt-after-steps", cl::Hidden, cl::init(0),
                                cl::sub(sub), cl::cat(category()));

int run() {
  TrainRun r;
  r.modelPath = modelPath;
  r.dataDir = dataDir;
  r.lossName = lossName;
  r.lossGiven = lossName.getNumOccurrences() > 0;
  r.optimizerText = optimizerText;
  r.optimizerGiven = optimizerText.getNumOccurrences() > 0;
  r.epochs = epochs;
  r.batchSize = batchSize;
  r.batchGiven = batchSize.getNumOccurrences() > 0;
  r.outputPath = outputPath;
  r.convKernels = convKernels;
  r.seed = seed;
  r.seedGiven = seed.getNumOccurrences() > 0;
  r.freeze.assign(freeze.begin(), freeze.end());
  r.metricsPath = metricsPath;
  r.checkpointPath = checkpointPath;
  r.checkpointEvery = checkpointEvery;
  r.periodicCheckpoints =
      checkpointPath.getNumOccurrences() > 0 || checkpointEvery.getNumOccurrences() > 0;
  r.resumePath = resumePath;
  r.threads = threads;
  r.interruptAfter = interruptAfter;
  // --qat: train the model with QDQ pairs in it (fake-quantized), then
  // make its weights int8.
  std::optional<Calibration> calibration;
  std::string qatOutput;
  if (qat) {
    std::string error;
    QdqPlan plan;
    calibration.emplace();
    if (!planQuantization(modelPath, plan, error) ||
        !calibrateModel(modelPath, plan, dataDir,
                        256, CalibrationMethod::MinMax, 99.99, threads, *calibration, error))
      return reportError(error);
    std::string qatModel = calibration->work.path() + "/qat.onnx";
    // Per output channel where the opset has it (13), else per tensor.
    if (!writeQdqModel(modelPath, plan, calibration->ranges, /*perChannel=*/true, qatModel, error,
                       /*trainable=*/true)) {
      std::string perChannelError = error;
      if (!writeQdqModel(modelPath, plan, calibration->ranges, false, qatModel, error, true))
        return reportError(perChannelError);
    }
    if (outputPath.empty()) {
      llvm::SmallString<256> p(modelPath.getValue());
      llvm::sys::path::replace_extension(p, ".int8.onnx");
      qatOutput = std::string(p);
    } else {
      qatOutput = outputPath;
    }
    llvm::errs() << "strata: quantization-aware training: " << plan.layers.size()
                 << " layers, " << plan.activations.size() << " activations calibrated on "
                 << calibration->count << " samples; scales learned from there (LSQ)\n";
    r.modelPath = qatModel;
    r.sourceModel = modelPath;
    r.outputPath = calibration->work.path() + "/trained.onnx";
    r.checkpointPath = checkpointPath.empty() ? qatOutput + ".ckpt" : checkpointPath.getValue();
    r.compress.fakeQuantize = true;
    r.quietWrite = true;
  }
  TrainOutcome outcome;
  if (int code = trainModel(r, outcome))
    return code;
  if (qat) {
    std::string error;
    if (!freezeQuantizedWeights(r.outputPath, qatOutput, error))
      return reportError(error);
    llvm::errs() << "strata: wrote " << qatOutput << " (QDQ: int8 weights, uint8 activations)\n";
  }
  if (outcome.tested)
    llvm::outs() << llvm::format(outcome.classes ? "test_accuracy=%.4f" : "test_mse=%.5f",
                                 outcome.score)
                 << " ";
  llvm::outs() << llvm::format("epoch_s=%.2f samples_per_s=%.0f\n", outcome.epochSeconds,
                               outcome.samplesPerSecond);
  return 0;
}

} // namespace

Command &trainCommand() {
  static Command c{"train", sub,
                   "\nExamples:\n"
                   "  strata train lenet.onnx --data fashion-mnist --epochs 3 -o lenet-trained.onnx\n"
                   "  strata train mlp.onnx --data dir --optimizer 'adam(lr=1e-3)' --batch 128\n"
                   "  strata train net.onnx --data dir --freeze 'conv*' --metrics curve.csv\n"
                   "  strata train net.onnx --data dir --resume net.trained.onnx.ckpt\n"
                   "  strata train lenet.onnx --data fashion-mnist --qat -o lenet.int8.onnx\n"
                   "\nThe last line printed (stdout) is the last epoch's summary:\n"
                   "  test_accuracy=0.8412 epoch_s=3.10 samples_per_s=19354\n",
                   run};
  return c;
}

} // namespace strata::cli
