//===- TrainingRun.cpp - one run of the compiled training loop -----------===//
//
// Compiles the model's training step and evaluation function into two
// shared libraries, then runs epochs: shuffle, one compiled step per batch
// (parameters and optimizer state live in two buffer sets that swap after
// every step), evaluation on the test split, progress on stderr. Writes the
// trained network as ONNX: the same graph with new initializers.
//
//===----------------------------------------------------------------------===//

#include "train/TrainingRun.h"
#include "Commands.h"
#include "train/Checkpoint.h"
#include "train/Dataset.h"
#include "train/TemporaryDirectory.h"

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

namespace strata::cli {
namespace {

volatile std::sig_atomic_t interrupted = 0;
void onInterrupt(int) { interrupted = 1; }

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// A tensor allocated from a module's signature entry.
bool allocate(const strata_tensor_info *info, strata_tensor &t, std::string &error) {
  if (strata_tensor_alloc(info->dtype, info->rank, info->dims, &t)) {
    error = strata_last_error();
    return false;
  }
  return true;
}

struct Modules {
  strata_module *train = nullptr, *eval = nullptr;
  ~Modules() {
    if (train)
      strata_module_free(train);
    if (eval)
      strata_module_free(eval);
  }
};

struct Tensors {
  std::vector<strata_tensor> v;
  ~Tensors() {
    for (auto &t : v)
      strata_tensor_free(&t);
  }
};

/// Evaluates on `data` in batches (the last one padded with zeros and
/// ignored past its end). Returns accuracy for class ids, else mean squared error.
double evaluate(strata_module *eval, const std::vector<strata_tensor> &params,
                const Dataset &data, int64_t batch, std::string &error, bool &ok) {
  ok = false;
  int np = (int)params.size();
  Tensors in, out;
  in.v = params; // shallow: freed by the caller
  strata_tensor x;
  if (!allocate(strata_module_input(eval, np), x, error))
    return 0;
  in.v.push_back(x);
  out.v.resize(1);
  if (!allocate(strata_module_output(eval, 0), out.v[0], error)) {
    strata_tensor_free(&in.v.back());
    in.v.clear();
    return 0;
  }
  const strata_tensor_info *o = strata_module_output(eval, 0);
  int64_t perSample = 1;
  for (int d = 1; d < o->rank; ++d)
    perSample *= o->dims[d];
  double score = 0;
  float *xs = (float *)in.v.back().data;
  for (int64_t start = 0; start < data.count; start += batch) {
    int64_t n = std::min(batch, data.count - start);
    std::fill(xs, xs + batch * data.features, 0.0f);
    std::copy(data.x.begin() + start * data.features,
              data.x.begin() + (start + n) * data.features, xs);
    if (strata_module_run_into(eval, in.v.data(), out.v.data())) {
      error = strata_last_error();
      break;
    }
    const float *y = (const float *)out.v[0].data;
    for (int64_t i = 0; i < n; ++i) {
      const float *row = y + i * perSample;
      if (!data.labels.empty()) {
        int64_t best = std::max_element(row, row + perSample) - row;
        score += best == data.labels[start + i];
      } else {
        const float *t = data.targets.data() + (start + i) * perSample;
        for (int64_t j = 0; j < perSample; ++j)
          score += (row[j] - t[j]) * (row[j] - t[j]) / perSample;
      }
    }
  }
  strata_tensor_free(&in.v.back());
  in.v.clear(); // parameters belong to the caller
  ok = error.empty();
  return data.count ? score / data.count : 0;
}

void progress(int64_t epoch, int64_t epochs, int64_t step, int64_t steps, double loss,
              double rate) {
  constexpr int width = 30;
  int filled = steps ? (int)(width * step / steps) : width;
  std::string bar(filled, '=');
  if (filled < width)
    bar += '>' + std::string(width - filled - 1, ' ');
  llvm::errs() << llvm::format("\repoch %lld/%lld [%s] %3d%%  loss %.4f  %.0f samples/s",
                               (long long)epoch + 1, (long long)epochs,
                               bar.c_str(), (int)(100 * step / std::max<int64_t>(steps, 1)),
                               loss, rate);
}

/// An option the resumed run must share with its checkpoint: taken from the
/// checkpoint when not given, refused when given differently.
template <typename T>
bool agree(bool given, const T &option, const T &saved, const char *flag, T &value,
           const std::string &resume, std::string &error) {
  if (given && option != saved) {
    std::ostringstream os;
    os << resume << " was saved by a run with " << flag << " " << saved << ", this run has "
       << flag << " " << option << "; resume with the same " << flag;
    error = os.str();
    return false;
  }
  value = saved;
  return true;
}

} // namespace

int trainModel(const TrainRun &r, TrainOutcome &outcome) {
  std::string error;
  if (r.batchSize < 1 || (r.epochs < 1 && !r.evaluateOnly))
    return reportError("--batch and --epochs must be at least 1");
  if (r.threads < 0)
    return reportError("--threads must be 1 or more (0: all cores)");
  if (r.checkpointEvery < 0)
    return reportError("--checkpoint-every must be 0 (epoch ends only) or more steps");
  // Read a checkpoint first: its options (batch, loss, optimizer, seed)
  // decide how this run is compiled, and a bad file should not wait for it.
  std::optional<Checkpoint> resumed;
  std::string lossText = r.lossName, optText = r.optimizerText;
  uint64_t runSeed = r.seed;
  if (!r.resumePath.empty()) {
    resumed.emplace();
    if (!loadCheckpoint(r.resumePath, *resumed, error))
      return reportError(error);
    if (!agree(r.lossGiven, r.lossName, resumed->loss, "--loss", lossText, r.resumePath, error) ||
        !agree(r.optimizerGiven, r.optimizerText, resumed->optimizer, "--optimizer", optText, r.resumePath, error) ||
        !agree(r.seedGiven, r.seed, resumed->seed, "--seed", runSeed, r.resumePath, error))
      return reportError(error);
    if (resumed->epoch >= r.epochs)
      return reportError(r.resumePath + " is at the end of epoch " +
                         std::to_string(resumed->epoch) + "; nothing is left to train with --epochs " +
                         std::to_string(r.epochs) + " (give more --epochs to train on)");
  }
  train::TrainConfig config;
  if (lossText == "cross-entropy" || lossText == "ce")
    config.loss = train::LossKind::CrossEntropy;
  else if (lossText == "mse")
    config.loss = train::LossKind::MeanSquaredError;
  else
    return reportError("unknown --loss '" + lossText + "' (cross-entropy or mse)");
  if (!train::parseOptimizer(optText, config.optimizer, error))
    return reportError("--optimizer: " + error);
  config.freeze = r.freeze;
  std::string output = r.outputPath;
  if (output.empty()) {
    llvm::SmallString<256> p(llvm::sys::path::stem(r.modelPath));
    p += ".trained.onnx";
    output = std::string(p);
  }
  std::string checkpoint = r.checkpointPath.empty() ? output + ".ckpt" : r.checkpointPath;
  // Periodic checkpoints when asked for (Ctrl-C always saves).
  bool periodic = r.periodicCheckpoints;

  // Data first: a wrong path should not wait for compilation.
  Dataset trainData, testData;
  if (!loadSplit(r.dataDir, /*train=*/true, trainData, error) ||
      !loadSplit(r.dataDir, /*train=*/false, testData, error, /*optional=*/true))
    return reportError(error);
  bool classes = config.loss == train::LossKind::CrossEntropy;
  if (classes && trainData.labels.empty())
    return reportError("cross-entropy needs integer class ids as labels; use --loss=mse for float targets");
  if (!classes && trainData.targets.empty())
    return reportError("--loss=mse needs FLOAT targets (train_y.npy)");

  // A model whose batch dimension is fixed trains at that batch: the
  // compiled step's buffers have its size (a default --batch of 64 on a
  // batch-32 model wrote past them).
  int64_t batch = r.batchSize;
  if (resumed && !agree(r.batchGiven, r.batchSize, resumed->batchSize, "--batch", batch, r.resumePath, error))
    return reportError(error);
  if (resumed && resumed->samples != trainData.count)
    return reportError(r.resumePath + " was saved by a run on " + std::to_string(resumed->samples) +
                       " training samples; --data " + r.dataDir + " has " +
                       std::to_string(trainData.count));
  {
    ModelSummary summary;
    if (!summarizeOnnxModel(r.modelPath, summary, error))
      return reportError(error);
    if (!summary.inputs.empty() && !summary.inputs[0].dims.empty()) {
      const std::string &first = summary.inputs[0].dims[0];
      bool fixed = !first.empty() && std::all_of(first.begin(), first.end(), ::isdigit);
      int64_t modelBatch = fixed ? std::stoll(first) : 0;
      if (fixed && modelBatch != batch) {
        if (r.batchGiven || resumed)
          return reportError(r.modelPath + ": the model's batch dimension is fixed at " +
                             first + " (input '" + summary.inputs[0].name +
                             "'), but --batch is " + std::to_string(batch) +
                             "; use --batch " + first +
                             " or export the model with a symbolic batch dimension");
        llvm::errs() << "strata: note: training at the model's fixed batch of " << first
                     << " (input '" << summary.inputs[0].name << "')\n";
        batch = modelBatch;
      }
    }
  }

  TemporaryDirectory dir("strata-train");
  if (!dir.ok())
    return reportError("cannot create a temporary folder");

  // Ctrl-C from here on: during compilation it stops before training starts;
  // during training it saves a checkpoint after the current step.
  std::signal(SIGINT, onInterrupt);
  CompileOptions options;
  options.convKernels = r.convKernels;
  options.note = [](const std::string &n) { llvm::errs() << "strata: " << n << "\n"; };
  TrainingBuild build;
  auto compileStart = std::chrono::steady_clock::now();
  if (!compileTraining(r.modelPath, batch, config, dir.path(), options, build, error,
                       r.compress))
    return reportError(error);
  if (interrupted) {
    llvm::errs() << "strata: interrupted before training started; nothing saved\n";
    return 130;
  }
  const train::TrainingLayout &layout = build.layout;
  llvm::errs() << llvm::format("strata: compiled in %.1f s; %zu parameter tensors",
                               seconds(compileStart), layout.params.size());
  int64_t paramCount = 0;
  for (const auto &p : layout.params)
    paramCount += (int64_t)p.initial.size();
  llvm::errs() << " (" << paramCount << " values)";
  if (!layout.frozen.empty())
    llvm::errs() << ", " << layout.frozen.size() << " frozen";
  llvm::errs() << "\n";

  Modules modules;
  if (strata_module_load(build.trainLibrary.c_str(), &modules.train) ||
      strata_module_load(build.evalLibrary.c_str(), &modules.eval))
    return reportError(strata_last_error());
  strata_module_set_threads(modules.train, r.threads);
  strata_module_set_threads(modules.eval, r.threads);

  int np = (int)layout.params.size(), ns = (int)layout.state.size();
  int nIn = strata_module_num_inputs(modules.train);
  if (nIn != np + ns + 3)
    return reportError(r.modelPath + ": strata train supports models with one input; this one has " +
                       std::to_string(nIn - np - ns - 2));
  const strata_tensor_info *xInfo = strata_module_input(modules.train, np + ns);
  if (xInfo->rank < 1 || xInfo->dims[0] != batch)
    return reportError(r.modelPath + ": the compiled training step takes batches of " +
                       std::to_string(xInfo->rank ? xInfo->dims[0] : 1) + ", not " +
                       std::to_string(batch) + " (is the batch the first dimension of input '" +
                       xInfo->name + "'?)");
  int64_t features = 1;
  for (int d = 1; d < xInfo->rank; ++d)
    features *= xInfo->dims[d];
  if (features != trainData.features)
    return reportError("the model's input '" + std::string(xInfo->name) + "' takes " +
                       std::to_string(features) + " values per sample, the data has " +
                       std::to_string(trainData.features));
  const strata_tensor_info *predInfo = strata_module_output(modules.eval, 0);
  if (classes)
    for (int64_t l : trainData.labels)
      if (l < 0 || l >= predInfo->dims[1])
        return reportError("label " + std::to_string(l) + " is outside the model's " +
                           std::to_string(predInfo->dims[1]) + " classes");

  // Two sets of parameter/state buffers; inputs read one, outputs write the other.
  Tensors current, next, batchIn, lossOut;
  for (int i = 0; i < np + ns; ++i) {
    current.v.emplace_back();
    next.v.emplace_back();
    if (!allocate(strata_module_input(modules.train, i), current.v.back(), error) ||
        !allocate(strata_module_input(modules.train, i), next.v.back(), error))
      return reportError(error);
    const auto &init = i < np ? layout.params[i].initial : layout.state[i - np].initial;
    std::copy(init.begin(), init.end(), (float *)current.v[i].data);
  }
  for (int i = 0; i < 3; ++i) {
    batchIn.v.emplace_back();
    if (!allocate(strata_module_input(modules.train, np + ns + i), batchIn.v.back(), error))
      return reportError(error);
  }
  lossOut.v.emplace_back();
  if (!allocate(strata_module_output(modules.train, 0), lossOut.v.back(), error))
    return reportError(error);

  int64_t steps = (trainData.count + batch - 1) / batch;
  int64_t startEpoch = 0, startStep = 0;
  if (resumed) {
    std::map<std::string, const std::vector<float> *> byName;
    for (const auto &t : resumed->tensors)
      byName[t.name] = &t.values;
    for (int i = 0; i < np + ns; ++i) {
      const std::string &name = i < np ? layout.params[i].name : layout.state[i - np].name;
      auto it = byName.find(name);
      if (it == byName.end() ||
          (int64_t)it->second->size() != strata_tensor_num_elements(&current.v[i]))
        return reportError(r.resumePath + " does not match this model and optimizer (tensor '" +
                           name + "' missing or of another size)");
      std::copy(it->second->begin(), it->second->end(), (float *)current.v[i].data);
    }
    if (resumed->step >= steps)
      return reportError(r.resumePath + " continues at step " + std::to_string(resumed->step) +
                         " of an epoch of " + std::to_string(steps) + " steps");
    startEpoch = resumed->epoch;
    startStep = resumed->step;
    llvm::errs() << "strata: resuming " << resumed->model << " at epoch " << startEpoch + 1
                 << ", step " << startStep << "\n";
    resumed.reset(); // its tensors are in the buffers now
  }

  if (r.evaluateOnly) {
    if (!testData.count)
      return reportError("--data " + r.dataDir + " has no test split (test_x.npy) to evaluate on");
    std::vector<strata_tensor> params(current.v.begin(), current.v.begin() + np);
    bool ok = true;
    outcome.score = evaluate(modules.eval, params, testData, batch, error, ok);
    if (!ok)
      return reportError(error);
    outcome.tested = true;
    outcome.classes = classes;
    return 0;
  }

  std::ofstream metrics;
  if (!r.metricsPath.empty()) {
    bool fresh = !llvm::sys::fs::exists(r.metricsPath);
    metrics.open(r.metricsPath, std::ios::app);
    if (!metrics)
      return reportError("cannot write " + r.metricsPath);
    if (fresh)
      metrics << "epoch,train_loss," << (classes ? "test_accuracy" : "test_mse")
              << ",epoch_s,samples_per_s\n";
  }

  bool tty = llvm::sys::Process::StandardErrIsDisplayed();
  float *xs = (float *)batchIn.v[0].data;
  float *mask = (float *)batchIn.v[2].data;
  double lastScore = 0, lastEpochSeconds = 0, lastRate = 0;
  int64_t stepsRun = 0;
  /// Saves where the run stands: `step` is the next step of `epoch`.
  auto saveState = [&](int64_t epoch, int64_t step) {
    if (step == steps)
      ++epoch, step = 0;
    Checkpoint c;
    c.model = r.sourceModel.empty() ? r.modelPath : r.sourceModel;
    c.epoch = epoch;
    c.step = step;
    c.batchSize = batch;
    c.samples = trainData.count;
    c.seed = runSeed;
    c.loss = lossText;
    c.optimizer = optText;
    for (int i = 0; i < np + ns; ++i) {
      const float *d = (const float *)current.v[i].data;
      c.tensors.push_back({i < np ? layout.params[i].name : layout.state[i - np].name,
                           std::vector<float>(d, d + strata_tensor_num_elements(&current.v[i]))});
    }
    return saveCheckpoint(checkpoint, c, error);
  };
  auto saveAndStop = [&](int64_t epoch, int64_t step) {
    if (tty)
      llvm::errs() << "\n";
    if (!saveState(epoch, step))
      return reportError(error);
    llvm::errs() << "strata: interrupted; checkpoint saved to " << checkpoint << "\n";
    if (!r.resumeHint.empty())
      llvm::errs() << "  continue with: " << r.resumeHint << "\n";
    else
      llvm::errs() << "  continue with: strata train "
                   << (r.sourceModel.empty() ? r.modelPath : r.sourceModel) << " --data " << r.dataDir
                   << " --resume " << checkpoint << " (and the same options)\n";
    return 130;
  };

  for (int64_t epoch = startEpoch; epoch < r.epochs; ++epoch) {
    std::vector<int64_t> order = epochOrder(trainData.count, runSeed, epoch);
    auto start = std::chrono::steady_clock::now();
    auto lastDraw = start;
    double lossSum = 0;
    int64_t seen = 0;
    for (int64_t step = epoch == startEpoch ? startStep : 0; step < steps; ++step) {
      if (interrupted)
        return saveAndStop(epoch, step);
      int64_t first = step * batch, n = std::min<int64_t>(batch, trainData.count - first);
      for (int64_t i = 0; i < batch; ++i) {
        bool real = i < n;
        mask[i] = real ? 1.0f : 0.0f;
        float *dst = xs + i * features;
        if (!real) {
          std::fill(dst, dst + features, 0.0f);
          continue;
        }
        int64_t s = order[first + i];
        std::copy(trainData.x.begin() + s * features, trainData.x.begin() + (s + 1) * features, dst);
        if (classes) {
          ((int64_t *)batchIn.v[1].data)[i] = trainData.labels[s];
        } else {
          int64_t ts = trainData.targetSize;
          std::copy(trainData.targets.begin() + s * ts, trainData.targets.begin() + (s + 1) * ts,
                    (float *)batchIn.v[1].data + i * ts);
        }
      }
      if (!classes && n < batch) {
        int64_t ts = trainData.targetSize;
        std::fill((float *)batchIn.v[1].data + n * ts, (float *)batchIn.v[1].data + batch * ts, 0.0f);
      }
      std::vector<strata_tensor> ins(current.v);
      ins.insert(ins.end(), batchIn.v.begin(), batchIn.v.end());
      std::vector<strata_tensor> outs(lossOut.v);
      outs.insert(outs.end(), next.v.begin(), next.v.end());
      if (strata_module_run_into(modules.train, ins.data(), outs.data()))
        return reportError(strata_last_error());
      std::swap(current.v, next.v);
      if (++stepsRun == r.interruptAfter)
        std::raise(SIGINT);
      if (periodic && r.checkpointEvery > 0 && stepsRun % r.checkpointEvery == 0 &&
          step + 1 < steps && !saveState(epoch, step + 1))
        return reportError(error);
      double loss = *(const float *)lossOut.v[0].data;
      if (!std::isfinite(loss)) {
        if (tty)
          llvm::errs() << "\n";
        return reportError("the loss became " + std::to_string(loss) + " at epoch " +
                           std::to_string(epoch + 1) + ", batch " + std::to_string(step) +
                           "; try a smaller learning rate");
      }
      lossSum += loss * n;
      seen += n;
      if (tty && (seconds(lastDraw) > 0.1 || step + 1 == steps)) {
        lastDraw = std::chrono::steady_clock::now();
        progress(epoch, r.epochs, step + 1, steps, lossSum / seen, seen / seconds(start));
      }
    }
    lastEpochSeconds = seconds(start);
    lastRate = seen / std::max(lastEpochSeconds, 1e-9);
    if (tty)
      llvm::errs() << "\n";
    bool ok = true;
    if (testData.count) {
      std::vector<strata_tensor> params(current.v.begin(), current.v.begin() + np);
      lastScore = evaluate(modules.eval, params, testData, batch, error, ok);
      if (!ok)
        return reportError(error);
    }
    llvm::errs() << llvm::format("epoch %lld/%lld  loss %.4f", (long long)epoch + 1,
                                 (long long)r.epochs, seen ? lossSum / seen : 0.0);
    if (testData.count)
      llvm::errs() << llvm::format(classes ? "  test_accuracy %.4f" : "  test_mse %.5f", lastScore);
    llvm::errs() << llvm::format("  %.2f s  %.0f samples/s\n", lastEpochSeconds, lastRate);
    if (periodic && !saveState(epoch, steps))
      return reportError(error);
    if (metrics.is_open())
      metrics << epoch + 1 << "," << (seen ? lossSum / seen : 0.0) << ","
              << (testData.count ? std::to_string(lastScore) : "") << "," << lastEpochSeconds
              << "," << lastRate << std::endl;
  }

  std::map<std::string, std::vector<float>> trained;
  for (int i = 0; i < np; ++i) {
    const float *d = (const float *)current.v[i].data;
    trained[layout.params[i].name].assign(d, d + strata_tensor_num_elements(&current.v[i]));
  }
  // A shared weight is written expanded from its trained codebook.
  for (const train::SharedParameter &s : layout.shared) {
    auto codebook = trained.find(train::codebookName(s.weight));
    trained[s.weight] = train::expandWeight(s, codebook->second);
    trained.erase(codebook);
  }
  if (!writeModelWithInitializers(r.modelPath, output, trained, error))
    return reportError(error);
  if (!r.quietWrite)
    llvm::errs() << "strata: wrote " << output << "\n";
  outcome.tested = testData.count > 0;
  outcome.classes = classes;
  outcome.score = lastScore;
  outcome.epochSeconds = lastEpochSeconds;
  outcome.samplesPerSecond = lastRate;
  return 0;
}

bool parseLayerRules(const std::vector<std::string> &rules, std::vector<LayerSparsity> &layers,
                     std::string &error) {
  layers.clear();
  for (const std::string &rule : rules) {
    size_t eq = rule.rfind('=');
    double s = -1.0;
    if (eq == std::string::npos || eq == 0 ||
        llvm::StringRef(rule).substr(eq + 1).getAsDouble(s) || !(s >= 0.0 && s < 1.0)) {
      error = "--layer " + rule + ": expected GLOB=S with S in [0, 1), e.g. 'fc1.*=0.9'";
      return false;
    }
    layers.push_back({rule.substr(0, eq), s});
  }
  return true;
}

} // namespace strata::cli
