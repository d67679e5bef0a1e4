//===- CompressCommand.cpp - strata compress --------------------------------===//
//
// Deep Compression end to end (Han, Mao and Dally, ICLR 2016): prune and
// retrain in steps (strata prune), share each layer's weights in a k-means
// codebook and fine-tune the centroids (strata share), Huffman-code the
// result into a .stz package (strata pack). Each stage is a command of its
// own; this one chains them, evaluates the package itself at the end, and
// reports the size after each stage.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "PackageTable.h"
#include "train/TemporaryDirectory.h"
#include "train/TrainingRun.h"

#include "compiler/support/DurableFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("compress", "Prune, share and Huffman-code a model into a .stz package "
                               "(Deep Compression)");
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.onnx>"),
                               cl::sub(sub), cl::cat(category()));
cl::opt<std::string> dataDir("data", cl::Required,
                             cl::desc("Training data, as for strata train (a folder of "
                                      "train_x.npy/train_y.npy/test_x.npy/test_y.npy, or "
                                      "'fashion-mnist')"),
                             cl::value_desc("dir"), cl::sub(sub), cl::cat(category()));
cl::opt<double> sparsity("sparsity",
                         cl::desc("Fraction of each layer weight to prune, in [0, 1) "
                                  "(default 0.9; the first layer only if named by --layer)"),
                         cl::init(0.9), cl::sub(sub), cl::cat(category()));
cl::list<std::string> layerRules("layer",
                                 cl::desc("GLOB=S: the layer weights matching GLOB reach "
                                          "sparsity S instead (repeatable)"),
                                 cl::value_desc("glob=S"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> steps("steps", cl::desc("Prune-and-retrain steps (default 3)"), cl::init(3),
                       cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> epochs("epochs", cl::desc("Retraining epochs after each pruning step "
                                           "(default 2)"),
                        cl::init(2), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> bitsText("bits",
                              cl::desc("Bits per shared weight: conv=N,fc=N or one N for both "
                                       "(default conv=8,fc=5)"),
                              cl::init("conv=8,fc=5"), cl::value_desc("conv=8,fc=5"),
                              cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> shareEpochs("share-epochs",
                             cl::desc("Epochs of centroid fine-tuning (default 1)"),
                             cl::init(1), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> optimizerText(
    "optimizer", cl::desc("Retraining after pruning (default sgd(lr=0.05,momentum=0.9))"),
    cl::init("sgd(lr=0.05,momentum=0.9)"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> shareOptimizerText(
    "share-optimizer", cl::desc("Centroid fine-tuning (default adam(lr=1e-4))"),
    cl::init("adam(lr=1e-4)"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> lossName("loss", cl::desc("cross-entropy (default) or mse"),
                              cl::init("cross-entropy"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batchSize("batch", cl::desc("Samples per step (default 64)"), cl::init(64),
                           cl::sub(sub), cl::cat(category()));
cl::opt<uint64_t> seed("seed", cl::desc("Shuffling seed (default 0; each run adds its number)"),
                       cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over (default: all cores)"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> keepDir("keep",
                             cl::desc("Also write the stages' models here (pruned.onnx, "
                                      "shared.onnx)"),
                             cl::value_desc("dir"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath("o", cl::desc("Package (default: <model>.stz)"),
                                cl::value_desc("file.stz"), cl::sub(sub), cl::cat(category()));
cl::opt<ConvKernels> convKernels("conv-kernels", cl::desc(kConvKernelsHelp),
                                 convKernelValues(), cl::init(ConvKernels::Auto),
                                 cl::sub(sub), cl::cat(category()));

bool inRange(double s) { return s >= 0.0 && s < 1.0; }

int run() {
  LayerBits bits;
  std::string error;
  if (!parseLayerBits(bitsText, bits, error))
    return reportError(error);
  if (!inRange(sparsity))
    return reportError("--sparsity " + std::to_string(sparsity.getValue()) +
                       " is outside [0, 1)");
  if (steps < 1 || epochs < 1 || shareEpochs < 1)
    return reportError("--steps, --epochs and --share-epochs must be at least 1");
  std::vector<LayerSparsity> layers;
  if (!parseLayerRules({layerRules.begin(), layerRules.end()}, layers, error))
    return reportError(error);
  std::string output = outputPath;
  if (output.empty()) {
    llvm::SmallString<256> p(llvm::sys::path::stem(modelPath));
    p += ".stz";
    output = std::string(p);
  }
  bool same = false;
  if (!llvm::sys::fs::equivalent(modelPath, output, same) && same)
    return reportError(output + " is the model being compressed; choose another -o");
  if (!keepDir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(keepDir))
      return reportError("cannot create " + keepDir + ": " + ec.message());
  TemporaryDirectory dir("strata-compress");
  if (!dir.ok())
    return reportError("cannot create a temporary folder");
  std::string stages = keepDir.empty() ? dir.path() : keepDir.getValue();

  TrainRun base;
  base.dataDir = dataDir;
  base.lossName = lossName;
  base.batchSize = batchSize;
  base.batchGiven = batchSize.getNumOccurrences() > 0;
  base.convKernels = convKernels;
  base.threads = threads;
  base.quietWrite = true;

  TrainOutcome baseline, outcome;
  TrainRun eval = base;
  eval.modelPath = modelPath;
  eval.evaluateOnly = true;
  llvm::errs() << "strata: evaluating the dense model\n";
  if (int code = trainModel(eval, baseline))
    return code;

  // 1. Pruning, in steps, each retrained (strata prune).
  std::string current = modelPath;
  for (int64_t k = 1; k <= steps; ++k) {
    double share = double(k) / double(steps);
    TrainRun step = base;
    step.modelPath = current;
    step.optimizerText = optimizerText;
    step.epochs = epochs;
    step.seed = seed + uint64_t(k - 1);
    step.outputPath = k == steps ? stages + "/pruned.onnx"
                                 : dir.path() + "/step" + std::to_string(k) + ".onnx";
    step.compress.sparsity = sparsity * share;
    for (const LayerSparsity &l : layers)
      step.compress.layers.push_back({l.glob, l.sparsity * share});
    llvm::errs() << llvm::format("strata: pruning step %lld/%lld: %.3f of the weights, then "
                                 "%lld epoch(s) of retraining\n",
                                 (long long)k, (long long)steps, sparsity * share,
                                 (long long)epochs);
    if (int code = trainModel(step, outcome))
      return code;
    current = step.outputPath;
  }
  double prunedScore = outcome.score;

  // 2. Weight sharing and centroid fine-tuning (strata share).
  TrainRun tune = base;
  tune.modelPath = current;
  tune.optimizerText = shareOptimizerText;
  tune.epochs = shareEpochs;
  tune.seed = seed + uint64_t(steps);
  tune.outputPath = stages + "/shared.onnx";
  tune.compress.share = bits;
  llvm::errs() << llvm::format("strata: sharing weights (conv %d bits, fc %d bits), then "
                               "%lld epoch(s) of centroid fine-tuning\n",
                               bits.conv, bits.fc, (long long)shareEpochs);
  if (int code = trainModel(tune, outcome))
    return code;

  // 3. Huffman coding into the package (strata pack).
  PackageReport report;
  if (!writePackage(tune.outputPath, bits, output, report, error))
    return reportError(error);

  // The package itself, decoded as a deployed program would, on the test set.
  TrainRun check = base;
  check.modelPath = output;
  check.evaluateOnly = true;
  llvm::errs() << "strata: evaluating the package\n";
  if (int code = trainModel(check, outcome))
    return code;
  printPackageTable(report, llvm::outs());
  const char *metric = outcome.classes ? "accuracy" : "mse";
  llvm::errs() << llvm::format("strata: test %s: dense %.4f, pruned %.4f, package %.4f\n", metric,
                               baseline.score, prunedScore, outcome.score);
  if (!keepDir.empty())
    llvm::errs() << "strata: wrote " << stages << "/pruned.onnx and " << stages
                 << "/shared.onnx\n";
  llvm::errs() << "strata: wrote " << output << "\n";
  llvm::outs() << llvm::format("compression=%.1fx test_%s=%.4f baseline_%s=%.4f\n",
                               report.ratio(), metric, outcome.score, metric, baseline.score);
  return 0;
}

} // namespace

Command &compressCommand() {
  static Command c{"compress", sub,
                   "\nExamples:\n"
                   "  strata compress lenet300.onnx --data fashion-mnist --sparsity 0.92 \\\n"
                   "      --layer 'fc1.*=0.92' --bits conv=8,fc=5 -o lenet300.stz\n"
                   "  strata compress net.onnx --data dir --keep stages/ -o net.stz\n"
                   "\nStages, each also a command: strata prune (--sparsity, --layer, --steps,\n"
                   "--epochs), strata share (--bits, --share-epochs), strata pack. The\n"
                   "package is evaluated as decoded at the end. Prints the per-layer table,\n"
                   "the size after each stage, and last (stdout):\n"
                   "  compression=40.3x test_accuracy=0.8893 baseline_accuracy=0.8917\n",
                   run};
  return c;
}

} // namespace strata::cli
