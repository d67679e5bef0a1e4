//===- ShareCommand.cpp - strata share -------------------------------------===//
//
// Deep Compression's second stage (Han, Mao and Dally, ICLR 2016): the
// layer weights share a k-means codebook each (passes/compress/
// WeightSharing.h; pruned zeros stay zero), then the centroids are
// fine-tuned by training: the compiled step trains the codebooks, each
// centroid by the summed gradients of the weights that use it
// (passes/train/SharedParameters.h). The output holds at most 2^bits
// distinct nonzero values per layer weight, which `strata pack` codes.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "train/TrainingRun.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("share", "Share each layer's weights in a k-means codebook and fine-tune "
                            "the centroids");
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.onnx>"),
                               cl::sub(sub), cl::cat(category()));
cl::opt<std::string> dataDir("data", cl::Required,
                             cl::desc("Training data, as for strata train (a folder of "
                                      "train_x.npy/train_y.npy/test_x.npy/test_y.npy, or "
                                      "'fashion-mnist')"),
                             cl::value_desc("dir"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> bitsText("bits",
                              cl::desc("Bits per shared weight: conv=N,fc=N or one N for both "
                                       "(default conv=8,fc=5, the paper's)"),
                              cl::init("conv=8,fc=5"), cl::value_desc("conv=8,fc=5"),
                              cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> epochs("epochs", cl::desc("Epochs of centroid fine-tuning (default 1)"),
                        cl::init(1), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath("o", cl::desc("Output model (default: <model>.shared.onnx)"),
                                cl::value_desc("file"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> lossName("loss", cl::desc("cross-entropy (default) or mse"),
                              cl::init("cross-entropy"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> optimizerText(
    "optimizer", cl::desc("Updates the centroids, whose gradients sum over their weights: "
                           "Adam, which scales steps by their size, suits them (default "
                           "adam(lr=1e-4))"),
    cl::init("adam(lr=1e-4)"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batchSize("batch", cl::desc("Samples per step (default 64)"), cl::init(64),
                           cl::sub(sub), cl::cat(category()));
cl::opt<uint64_t> seed("seed", cl::desc("Shuffling seed (default 0)"), cl::init(0),
                       cl::sub(sub), cl::cat(category()));
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over (default: all cores)"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> metricsPath("metrics",
                                 cl::desc("Append one CSV row per fine-tuning epoch here"),
                                 cl::value_desc("file.csv"), cl::sub(sub), cl::cat(category()));
cl::opt<ConvKernels> convKernels("conv-kernels", cl::desc(kConvKernelsHelp),
                                 convKernelValues(), cl::init(ConvKernels::Auto),
                                 cl::sub(sub), cl::cat(category()));

int run() {
  LayerBits bits;
  std::string error;
  if (!parseLayerBits(bitsText, bits, error))
    return reportError(error);
  if (epochs < 1)
    return reportError("--epochs must be at least 1 (to share without fine-tuning: strata opt "
                       "MODEL --passes share=" + std::to_string(bits.conv) + ":" +
                       std::to_string(bits.fc) + ")");
  std::string output = outputPath;
  if (output.empty()) {
    llvm::SmallString<256> p(llvm::sys::path::stem(modelPath));
    p += ".shared.onnx";
    output = std::string(p);
  }
  TrainRun base;
  base.dataDir = dataDir;
  base.lossName = lossName;
  base.optimizerText = optimizerText;
  base.batchSize = batchSize;
  base.batchGiven = batchSize.getNumOccurrences() > 0;
  base.convKernels = convKernels;
  base.threads = threads;
  base.modelPath = modelPath;

  // The model as given, then shared before any fine-tuning: what the
  // centroids' training recovers is measured against both.
  TrainOutcome before, clustered, after;
  TrainRun eval = base;
  eval.evaluateOnly = true;
  llvm::errs() << "strata: evaluating the model as given\n";
  if (int code = trainModel(eval, before))
    return code;
  eval.compress.share = bits;
  llvm::errs() << llvm::format("strata: evaluating it shared (conv %d bits, fc %d bits)\n",
                               bits.conv, bits.fc);
  if (int code = trainModel(eval, clustered))
    return code;
  TrainRun tune = base;
  tune.compress.share = bits;
  tune.epochs = epochs;
  tune.seed = seed;
  tune.outputPath = output;
  tune.metricsPath = metricsPath;
  llvm::errs() << "strata: fine-tuning the centroids for " << epochs.getValue() << " epoch(s)\n";
  if (int code = trainModel(tune, after))
    return code;
  const char *metric = after.classes ? "test_accuracy" : "test_mse";
  llvm::outs() << llvm::format("bits=conv:%d,fc:%d %s=%.4f shared_untuned_%s=%.4f input_%s=%.4f\n",
                               bits.conv, bits.fc, metric, after.score, metric, clustered.score,
                               metric, before.score);
  return 0;
}

} // namespace

Command &shareCommand() {
  static Command c{"share", sub,
                   "\nExamples:\n"
                   "  strata share lenet300.pruned.onnx --data fashion-mnist -o lenet300.shared.onnx\n"
                   "  strata share net.onnx --data dir --bits conv=6,fc=4 --epochs 3\n"
                   "\nPruned zeros stay zero and outside the codebooks. The centroids are the\n"
                   "only parameters fine-tuned (biases and other initializers train as usual).\n"
                   "The last line printed (stdout):\n"
                   "  bits=conv:8,fc:5 test_accuracy=0.8840 shared_untuned_test_accuracy=0.8790 "
                   "input_test_accuracy=0.8850\n",
                   run};
  return c;
}

} // namespace strata::cli
