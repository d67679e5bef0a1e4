//===- PruneCommand.cpp - strata prune -------------------------------------===//
//
// Iterative pruning (Han et al., "Learning both Weights and Connections for
// Efficient Neural Networks", 2015): in each of --steps steps the layer
// weights are magnitude-pruned to that step's share of the target sparsity
// (passes/compress/Pruning.h) and the network is retrained for
// --epochs-per-step epochs with the pruned connections held at zero (the
// compiled training step masks their gradients and updates). Each step is a
// `strata train` run (train/TrainingRun.h) on the previous step's result.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "SensitivityPlot.h"
#include "train/TrainingRun.h"

#include "compiler/driver/WeightStatistics.h"

#include "compiler/support/DurableFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("prune", "Prune a model's smallest weights and retrain it, in steps");
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.onnx>"),
                               cl::sub(sub), cl::cat(category()));
cl::opt<std::string> dataDir("data", cl::Required,
                             cl::desc("Training data, as for strata train (a folder of "
                                      "train_x.npy/train_y.npy/test_x.npy/test_y.npy, or "
                                      "'fashion-mnist')"),
                             cl::value_desc("dir"), cl::sub(sub), cl::cat(category()));
cl::opt<double> sparsity("sparsity",
                         cl::desc("Fraction of each pruned layer's weights to remove, in "
                                  "[0, 1); all layers but the first, biases never "
                                  "(required unless --sensitivity)"),
                         cl::sub(sub), cl::cat(category()));
cl::opt<bool> sensitivity("sensitivity",
                          cl::desc("Instead of pruning: prune each layer alone to each "
                                   "sparsity of --sweep, without retraining, and print the "
                                   "test score of each (Han et al.'s sensitivity analysis)"),
                          cl::sub(sub), cl::cat(category()));
cl::list<double> sweep("sweep", cl::CommaSeparated,
                       cl::desc("--sensitivity: the sparsities, in [0, 1) (default "
                                "0.1,0.2,...,0.9)"),
                       cl::value_desc("s1,s2,..."), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> plotPath("plot",
                              cl::desc("--sensitivity: also draw the curves, score against "
                                       "sparsity per layer, as SVG here"),
                              cl::value_desc("file.svg"), cl::sub(sub), cl::cat(category()));
cl::list<std::string> layerRules("layer",
                                 cl::desc("GLOB=S: the layer weights matching GLOB reach "
                                          "sparsity S instead (repeatable; the first layer "
                                          "too, if named)"),
                                 cl::value_desc("glob=S"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> steps("steps", cl::desc("Prune-and-retrain steps to reach the sparsity "
                                         "(default 3; step k prunes to k/steps of it)"),
                       cl::init(3), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> epochsPerStep("epochs-per-step",
                               cl::desc("Retraining epochs after each pruning (default 1)"),
                               cl::init(1), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath("o", cl::desc("Pruned model (default: <model>.pruned.onnx)"),
                                cl::value_desc("file"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> lossName("loss", cl::desc("cross-entropy (default) or mse"),
                              cl::init("cross-entropy"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> optimizerText(
    "optimizer", cl::desc("As for strata train (default sgd(lr=0.05,momentum=0.9))"),
    cl::init("sgd(lr=0.05,momentum=0.9)"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batchSize("batch", cl::desc("Samples per step (default 64)"), cl::init(64),
                           cl::sub(sub), cl::cat(category()));
cl::opt<uint64_t> seed("seed", cl::desc("Shuffling seed (default 0; step k uses seed + k)"),
                       cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over (default: all cores)"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> metricsPath("metrics",
                                 cl::desc("Append one CSV row per retraining epoch here"),
                                 cl::value_desc("file.csv"), cl::sub(sub), cl::cat(category()));
cl::opt<bool> resume("resume",
                     cl::desc("Continue the run interrupted (Ctrl-C) with these options; its "
                              "state is in <output>.prune/"),
                     cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> interruptAfter("interrupt-after-steps", cl::Hidden, cl::init(0),
                                cl::desc("Tests: raise SIGINT after this many training steps "
                                         "of the first pruning step run"),
                                cl::sub(sub), cl::cat(category()));
cl::opt<ConvKernels> convKernels("conv-kernels", cl::desc(kConvKernelsHelp),
                                 convKernelValues(), cl::init(ConvKernels::Auto),
                                 cl::sub(sub), cl::cat(category()));

bool inRange(double s) { return s >= 0.0 && s < 1.0; }

/// Sparsity over the layer weights, and nonzero / total over all float
/// initializers, of the model at `path`.
bool measure(const std::string &path, double &layerSparsity, int64_t &nonzero, int64_t &total,
             std::string &error) {
  std::vector<WeightStatistics> stats;
  std::vector<float> unused;
  if (!weightStatistics(path, stats, unused, error))
    return false;
  int64_t layerTotal = 0, layerNonzero = 0;
  nonzero = total = 0;
  for (const WeightStatistics &s : stats) {
    total += s.count;
    nonzero += s.nonzero;
    if (s.layerWeight) {
      layerTotal += s.count;
      layerNonzero += s.nonzero;
    }
  }
  layerSparsity = layerTotal ? double(layerTotal - layerNonzero) / double(layerTotal) : 0.0;
  return true;
}

/// What identifies a pruning run, as the lines of its state file: a resumed
/// run must have been started with the same.
std::string runIdentity() {
  llvm::SmallString<256> model(modelPath.getValue());
  llvm::sys::fs::make_absolute(model);
  std::string id;
  llvm::raw_string_ostream os(id);
  os << "model=" << model << "\n"
     << llvm::format("sparsity=%.6f\n", sparsity.getValue()) << "steps=" << steps.getValue()
     << "\nepochs-per-step=" << epochsPerStep.getValue() << "\n";
  for (const std::string &rule : layerRules)
    os << "layer=" << rule << "\n";
  return id;
}

/// The interrupted run's next step (1-based) from `dir`/state, after
/// checking it was this run; 0 with `error` set otherwise.
int64_t resumedStep(const std::string &dir, std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(dir + "/state");
  if (!buffer) {
    error = "--resume: no interrupted run in " + dir + " (" + buffer.getError().message() + ")";
    return 0;
  }
  llvm::StringRef text = (*buffer)->getBuffer();
  std::string id = runIdentity();
  int64_t step = 0;
  if (!text.consume_front(id) || !text.consume_front("step=") ||
      text.trim().getAsInteger(10, step) || step < 1 || step > steps) {
    error = "--resume: " + dir + " holds a run started with other options or another model:\n" +
            (*buffer)->getBuffer().str() + "give the same model, --sparsity, --layer, --steps "
            "and --epochs-per-step";
    return 0;
  }
  return step;
}

/// `name` as a glob that matches only itself.
std::string literalGlob(const std::string &name) {
  std::string glob;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' || c == '\\')
      glob += '\\';
    glob += c;
  }
  return glob;
}

/// --sensitivity: each layer weight pruned alone to each sparsity of the
/// sweep and the model evaluated as it is (no retraining); a table on
/// stdout, one row per layer, and the picture with --plot.
int runSensitivity(const TrainRun &base, const TrainOutcome &dense) {
  std::vector<double> sparsities(sweep.begin(), sweep.end());
  if (sparsities.empty())
    for (int k = 1; k <= 9; ++k)
      sparsities.push_back(k / 10.0);
  std::vector<WeightStatistics> stats;
  std::vector<float> unused;
  std::string error;
  if (!weightStatistics(modelPath, stats, unused, error))
    return reportError(error);
  std::vector<SensitivityCurve> curves;
  for (const WeightStatistics &w : stats)
    if (w.layerWeight)
      curves.push_back({w.name, {}});
  if (curves.empty())
    return reportError(modelPath + " has no layer weights (convolution, Gemm or MatMul) "
                       "to prune");
  for (SensitivityCurve &curve : curves)
    for (double s : sparsities) {
      llvm::errs() << llvm::format("strata: %s at sparsity %.2f\n", curve.layer.c_str(), s);
      TrainRun run = base;
      run.modelPath = modelPath;
      run.evaluateOnly = true;
      run.compress.layers.push_back({literalGlob(curve.layer), s});
      TrainOutcome outcome;
      if (int code = trainModel(run, outcome))
        return code;
      curve.scores.push_back(outcome.score);
    }
  const char *metric = dense.classes ? "test_accuracy" : "test_mse";
  size_t nameWidth = 5;
  for (const SensitivityCurve &c : curves)
    nameWidth = std::max(nameWidth, c.layer.size());
  llvm::outs() << metric << " with one layer pruned (dense: "
               << llvm::format("%.4f", dense.score) << ")\n"
               << llvm::left_justify("layer", nameWidth);
  for (double s : sparsities)
    llvm::outs() << llvm::format("  %6.2f", s);
  llvm::outs() << "\n";
  for (const SensitivityCurve &c : curves) {
    llvm::outs() << llvm::left_justify(c.layer, nameWidth);
    for (double score : c.scores)
      llvm::outs() << llvm::format("  %6.4f", score);
    llvm::outs() << "\n";
  }
  if (!plotPath.empty()) {
    // The curves start at the dense model (sparsity 0).
    std::vector<double> xs = {0.0};
    xs.insert(xs.end(), sparsities.begin(), sparsities.end());
    std::vector<SensitivityCurve> withDense = curves;
    for (SensitivityCurve &c : withDense)
      c.scores.insert(c.scores.begin(), dense.score);
    if (!writeSensitivityPlot(plotPath,
                              "Sensitivity of " + llvm::sys::path::filename(modelPath).str() +
                                  " to pruning each layer",
                              metric, xs, withDense, error))
      return reportError(error);
    llvm::errs() << "strata: wrote " << plotPath << "\n";
  }
  return 0;
}

int run() {
  if (sensitivity) {
    if (sparsity.getNumOccurrences() || !layerRules.empty() || outputPath.getNumOccurrences())
      return reportError("--sensitivity measures each layer alone and writes no model: drop "
                         "--sparsity, --layer and -o");
    for (double s : sweep)
      if (!inRange(s))
        return reportError("--sweep " + std::to_string(s) + " is outside [0, 1)");
  } else if (!sparsity.getNumOccurrences()) {
    return reportError("--sparsity is required (or --sensitivity)");
  } else if (!sweep.empty() || !plotPath.empty()) {
    return reportError("--sweep and --plot go with --sensitivity");
  }
  if (!inRange(sparsity))
    return reportError("--sparsity " + std::to_string(sparsity.getValue()) +
                       " is outside [0, 1)");
  if (steps < 1 || epochsPerStep < 1)
    return reportError("--steps and --epochs-per-step must be at least 1");
  std::string error;
  std::vector<LayerSparsity> layers;
  if (!parseLayerRules({layerRules.begin(), layerRules.end()}, layers, error))
    return reportError(error);
  std::string output = outputPath;
  if (output.empty()) {
    llvm::SmallString<256> p(llvm::sys::path::stem(modelPath));
    p += ".pruned.onnx";
    output = std::string(p);
  }
  // Step models and an interrupted step's checkpoint live beside the
  // output, so that Ctrl-C loses nothing; removed when the run completes.
  const std::string stateDir = output + ".prune";
  int64_t firstStep = 1;
  if (resume) {
    if (sensitivity)
      return reportError("--resume continues a pruning run; --sensitivity has none");
    if (!(firstStep = resumedStep(stateDir, error)))
      return reportError(error);
  } else if (llvm::sys::fs::exists(stateDir)) {
    return reportError(stateDir + " holds an interrupted run: continue it with --resume (and "
                       "the same options), or remove the folder");
  }
  TrainRun base;
  base.dataDir = dataDir;
  base.lossName = lossName;
  base.optimizerText = optimizerText;
  base.batchSize = batchSize;
  base.batchGiven = batchSize.getNumOccurrences() > 0;
  base.convKernels = convKernels;
  base.threads = threads;
  base.metricsPath = metricsPath;
  base.quietWrite = true;

  // The dense model on the same test set: what pruning is measured against.
  TrainRun dense = base;
  dense.modelPath = modelPath;
  dense.evaluateOnly = true;
  TrainOutcome denseOutcome;
  llvm::errs() << "strata: evaluating the dense model\n";
  if (int code = trainModel(dense, denseOutcome))
    return code;
  if (sensitivity)
    return runSensitivity(base, denseOutcome);
  if (std::error_code ec = llvm::sys::fs::create_directories(stateDir))
    return reportError("cannot create " + stateDir + ": " + ec.message());

  auto stepModel = [&](int64_t k) { return stateDir + "/step" + std::to_string(k) + ".onnx"; };
  std::string current = firstStep == 1 ? modelPath.getValue() : stepModel(firstStep - 1);
  TrainOutcome outcome;
  double reached = 0.0;
  int64_t nonzero = 0, total = 0;
  for (int64_t k = firstStep; k <= steps; ++k) {
    double share = double(k) / double(steps);
    TrainRun step = base;
    step.modelPath = current;
    step.epochs = epochsPerStep;
    step.seed = seed + uint64_t(k - 1);
    step.outputPath = k == steps ? output : stepModel(k);
    step.checkpointPath = stateDir + "/step" + std::to_string(k) + ".ckpt";
    if (resume && k == firstStep && llvm::sys::fs::exists(step.checkpointPath))
      step.resumePath = step.checkpointPath;
    if (k == firstStep)
      step.interruptAfter = interruptAfter;
    step.resumeHint = "strata prune " + modelPath + " --data " + dataDir + " -o " + output +
                      " --resume, with the other options as before";
    step.compress.sparsity = sparsity * share;
    for (const LayerSparsity &l : layers)
      step.compress.layers.push_back({l.glob, l.sparsity * share});
    llvm::errs() << llvm::format("strata: step %lld/%lld: pruning to %.3f of the weights, then "
                                 "%lld epoch(s) of retraining\n",
                                 (long long)k, (long long)steps, sparsity * share,
                                 (long long)epochsPerStep);
    if (int code = trainModel(step, outcome)) {
      if (code == 130) {
        // Interrupted: the step's checkpoint (if training had begun) is
        // saved; record where to continue.
        if (!writeFileDurably(stateDir + "/state",
                              runIdentity() + "step=" + std::to_string(k) + "\n", error))
          return reportError(error);
        llvm::errs() << "strata: the run's state is in " << stateDir << "\n";
      } else if (!resume) {
        // A failed fresh run leaves nothing behind (a resumed one keeps its
        // interrupted state).
        llvm::sys::fs::remove_directories(stateDir);
      }
      return code;
    }
    if (!measure(step.outputPath, reached, nonzero, total, error)) {
      if (!resume)
        llvm::sys::fs::remove_directories(stateDir);
      return reportError(error);
    }
    llvm::errs() << llvm::format("step %lld/%lld  sparsity %.3f", (long long)k, (long long)steps,
                                 reached);
    if (outcome.tested)
      llvm::errs() << llvm::format(outcome.classes ? "  test_accuracy %.4f" : "  test_mse %.5f",
                                   outcome.score);
    llvm::errs() << "\n";
    current = step.outputPath;
  }
  llvm::sys::fs::remove_directories(stateDir);
  llvm::errs() << "strata: wrote " << output << "\n";
  const char *metric = outcome.classes ? "test_accuracy" : "test_mse";
  llvm::outs() << llvm::format("sparsity=%.3f %s=%.4f dense_%s=%.4f params_nonzero=%lld "
                               "params_total=%lld\n",
                               reached, metric, outcome.score, metric, denseOutcome.score,
                               (long long)nonzero, (long long)total);
  return 0;
}

} // namespace

Command &pruneCommand() {
  static Command c{"prune", sub,
                   "\nExamples:\n"
                   "  strata prune lenet300.onnx --data fashion-mnist --sparsity 0.92 --steps 3\n"
                   "  strata prune net.onnx --data dir --sparsity 0.8 --layer 'fc3.*=0.5' -o small.onnx\n"
                   "  strata prune lenet300.onnx --data fashion-mnist --sensitivity --plot s.svg\n"
                   "\nEach step prunes the layer weights to its share of --sparsity (the first\n"
                   "layer and biases stay dense unless named) and retrains with the pruned\n"
                   "weights held at zero. The last line printed (stdout):\n"
                   "  sparsity=0.920 test_accuracy=0.8512 dense_test_accuracy=0.8534 "
                   "params_nonzero=21606 params_total=266610\n",
                   run};
  return c;
}

} // namespace strata::cli
