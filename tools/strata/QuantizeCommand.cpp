//===- QuantizeCommand.cpp - strata quantize ------------------------------===//
//
// Post-training int8 quantization: the float model, compiled by strata with
// the tensors to quantize as extra outputs, runs over calibration samples;
// their ranges (min/max, or percentiles of the values) give each tensor a
// uint8 scale and zero point; weights become int8 per tensor or per output
// channel, biases int32. The result is a standard QDQ ONNX model
// (compiler/onnx/QdqModel.h) that strata compiles into integer code and
// ONNX Runtime runs as well. --report compares each quantized layer's
// output with the float model's on the calibration samples.
//
//===----------------------------------------------------------------------===//

#include "Calibration.h"
#include "Commands.h"
#include "compiler/onnx/QdqModel.h"
#include "train/Dataset.h"
#include "train/TemporaryDirectory.h"

#include "strata/runtime.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("quantize", "Quantize a float model to int8 (QDQ ONNX) from calibration data");
cl::opt<std::string> modelPath(cl::Positional, cl::Required, cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::opt<std::string> output("o", cl::Required, cl::desc("QDQ model to write"),
                            cl::value_desc("model.int8.onnx"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> calibrate(
    "calibrate", cl::Required,
    cl::desc("Calibration samples: a folder of .npy files (each one or more samples of the "
             "model's input, samples first), one .npy file, or training data as strata train "
             "--data takes it ('fashion-mnist', an idx folder, train_x.npy)"),
    cl::value_desc("data"), cl::sub(sub), cl::cat(category()));
enum class Method { MinMax, Percentile, Entropy };
cl::opt<Method> method("method", cl::desc("How a tensor's range is chosen (default minmax)"),
                       cl::values(clEnumValN(Method::MinMax, "minmax", "the smallest and largest value seen"),
                                  clEnumValN(Method::Percentile, "percentile",
                                             "the --percentile and 100 - --percentile percentiles "
                                             "of the values seen (outliers clipped)"),
                                  clEnumValN(Method::Entropy, "entropy",
                                             "the clipping threshold whose quantized histogram "
                                             "is closest to the values' (least KL divergence, "
                                             "as TensorRT calibrates)")),
                       cl::init(Method::MinMax), cl::sub(sub), cl::cat(category()));
cl::opt<double> percentile("percentile", cl::desc("Upper percentile for --method percentile (default 99.99)"),
                           cl::init(99.99), cl::sub(sub), cl::cat(category()));
cl::opt<bool> perChannel("per-channel",
                         cl::desc("Weights quantized per output channel (needs opset 13) rather "
                                  "than per tensor"),
                         cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> samples("samples", cl::desc("Calibration samples used (default 256)"), cl::init(256),
                         cl::sub(sub), cl::cat(category()));
cl::opt<bool> report("report", cl::desc("Print each layer's error, int8 against float (SQNR)"),
                     cl::sub(sub), cl::cat(category()));
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over (default: all cores)"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));

bool compileAndLoad(const std::string &model, const std::string &so, int threadCount,
                    Loaded &loaded, std::string &error) {
  CompileOptions options;
  options.batch = 1;
  if (!compileModel(model, so, options, error))
    return false;
  if (strata_module_load(so.c_str(), &loaded.m)) {
    error = strata_last_error();
    return false;
  }
  strata_module_set_threads(loaded.m, threadCount);
  return true;
}

/// Calibration samples as rows of `features` floats.
bool loadSamples(const std::string &data, int64_t features, const std::string &shapeText,
                 std::vector<float> &rows, std::string &error) {
  std::vector<std::string> files;
  bool isDir = llvm::sys::fs::is_directory(data);
  if (!isDir && llvm::StringRef(data).ends_with(".npy")) {
    files.push_back(data);
  } else if (isDir) {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(data, ec), end; it != end && !ec; it.increment(ec))
      if (llvm::StringRef(it->path()).ends_with(".npy") &&
          !llvm::StringRef(llvm::sys::path::filename(it->path())).starts_with("train_") &&
          !llvm::StringRef(llvm::sys::path::filename(it->path())).starts_with("test_"))
        files.push_back(it->path());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) {
    // Training data, as strata train reads it.
    Dataset d;
    if (!loadSplit(data == "fashion-mnist" ? kFashionMnistDir : data, /*train=*/true, d, error))
      return false;
    if (d.features != features) {
      error = data + ": samples of " + std::to_string(d.features) + " values, but the model's input " +
              shapeText + " takes " + std::to_string(features);
      return false;
    }
    rows = std::move(d.x);
    return true;
  }
  for (const std::string &f : files) {
    strata_tensor t{};
    if (strata_tensor_read_file(f.c_str(), &t)) {
      error = strata_last_error();
      return false;
    }
    std::unique_ptr<strata_tensor, void (*)(strata_tensor *)> guard(&t, strata_tensor_free);
    int64_t n = strata_tensor_num_elements(&t);
    if (t.dtype != STRATA_FLOAT || n % features != 0) {
      error = f + ": " + std::string(strata_dtype_name(t.dtype)) + " with " + std::to_string(n) +
              " values; the model's input " + shapeText + " takes FLOAT samples of " +
              std::to_string(features);
      return false;
    }
    const float *p = (const float *)t.data;
    rows.insert(rows.end(), p, p + n);
  }
  return true;
}

/// The values seen of one tensor: min/max always, and a bounded sample of
/// them for percentiles.
struct Observer {
  float lo = INFINITY, hi = -INFINITY;
  std::vector<float> kept;
  int64_t seen = 0;
  void add(const float *v, int64_t n, bool keep, std::mt19937_64 &rng) {
    constexpr int64_t kKeep = 1 << 20;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
      if (!keep)
        continue;
      if ((int64_t)kept.size() < kKeep) // reservoir sampling
        kept.push_back(v[i]);
      else if (int64_t j = std::uniform_int_distribution<int64_t>(0, seen)(rng); j < kKeep)
        kept[j] = v[i];
      ++seen;
    }
  }
  /// `upper`: the upper percentile for Method::Percentile.
  TensorRange range(Method m, double upper) {
    if (m == Method::MinMax || kept.empty())
      return {lo, hi};
    if (m == Method::Entropy)
      return entropyRange();
    std::sort(kept.begin(), kept.end());
    auto at = [&](double p) { return kept[std::min<size_t>(kept.size() - 1, (size_t)(p / 100 * kept.size()))]; };
    return {at(100 - upper), at(upper)};
  }

  /// TensorRT's calibration: a 2048-bin histogram of |x|; for each
  /// candidate threshold (bin i), the histogram clipped there (outliers in
  /// the last bin) against its quantization to `levels` bins expanded back;
  /// the threshold of least KL divergence. One-sided tensors (after a Relu)
  /// use uint8's 256 levels, others 128 per side; exact zeros are left out.
  TensorRange entropyRange() const {
    constexpr int kBins = 2048;
    double amax = std::max(std::fabs(lo), std::fabs(hi));
    if (!(amax > 0))
      return {lo, hi};
    int levels = lo >= 0 ? 256 : 128;
    std::vector<double> hist(kBins, 0.0);
    // Exact zeros (Relu's, images' background) are represented exactly
    // whatever the threshold; counted, they pull it towards zero.
    for (float v : kept)
      if (v != 0)
        hist[std::min(kBins - 1, (int)(std::fabs(v) / amax * kBins))] += 1;
    int best = kBins;
    double bestKl = INFINITY;
    std::vector<double> p, q;
    for (int i = levels; i <= kBins; ++i) {
      p.assign(hist.begin(), hist.begin() + i);
      for (int k = i; k < kBins; ++k)
        p[i - 1] += hist[k];
      // Quantize p[0:i] into `levels` chunks, spreading each chunk's mass
      // over its nonzero bins.
      q.assign(i, 0.0);
      double step = (double)i / levels;
      for (int c = 0; c < levels; ++c) {
        int start = (int)(c * step), end = c == levels - 1 ? i : (int)((c + 1) * step);
        double mass = 0;
        int nonzero = 0;
        for (int k = start; k < end; ++k) {
          mass += hist[k];
          nonzero += hist[k] > 0;
        }
        for (int k = start; k < end; ++k)
          q[k] = hist[k] > 0 ? mass / nonzero : 0;
      }
      double ps = 0, qs = 0;
      for (int k = 0; k < i; ++k)
        ps += p[k], qs += q[k];
      if (ps <= 0 || qs <= 0)
        continue;
      double kl = 0;
      for (int k = 0; k < i; ++k)
        if (p[k] > 0)
          kl += q[k] > 0 ? p[k] / ps * std::log((p[k] / ps) / (q[k] / qs)) : p[k] / ps * 30;
      if (kl < bestKl) {
        bestKl = kl;
        best = i;
      }
    }
    float t = (float)((best + 0.5) * amax / kBins);
    return {std::max(lo, -t), std::min(hi, t)};
  }
};

std::string shapeOf(const strata_tensor_info *info) {
  std::string s = "[";
  for (int d = 0; d < info->rank; ++d)
    s += (d ? ", " : "") + std::to_string(info->dims[d]);
  return s + "]";
}

/// Runs `m` on `count` rows; calls `visit(sample, outputs)` after each.
template <typename Visit>
bool runSamples(strata_module *m, const std::vector<float> &rows, int64_t features, int64_t count,
                const char *what, Visit visit, std::string &error) {
  const strata_tensor_info *info = strata_module_input(m, 0);
  strata_tensor in{};
  if (strata_tensor_alloc(STRATA_FLOAT, info->rank, info->dims, &in)) {
    error = strata_last_error();
    return false;
  }
  std::unique_ptr<strata_tensor, void (*)(strata_tensor *)> guard(&in, strata_tensor_free);
  int nout = strata_module_num_outputs(m);
  bool tty = llvm::sys::Process::StandardErrIsDisplayed();
  for (int64_t s = 0; s < count; ++s) {
    std::copy(rows.begin() + s * features, rows.begin() + (s + 1) * features, (float *)in.data);
    std::vector<strata_tensor> out(nout);
    if (strata_module_run(m, &in, out.data())) {
      error = strata_last_error();
      return false;
    }
    visit(s, out);
    for (auto &t : out)
      strata_tensor_free(&t);
    if (tty && (s + 1) % 16 == 0)
      llvm::errs() << "\r" << what << ": " << s + 1 << "/" << count << " samples";
  }
  if (tty)
    llvm::errs() << "\r" << what << ": " << count << "/" << count << " samples\n";
  return true;
}

} // namespace

bool calibrateModel(const std::string &model, const QdqPlan &plan, const std::string &data,
                    int64_t sampleCount, CalibrationMethod how, double upperPercentile,
                    int threadCount, Calibration &c, std::string &error) {
  // The float model with every tensor to quantize as an output.
  std::string observed = c.work.path() + "/observed.onnx";
  if (!c.work.ok()) {
    error = "cannot create a temporary folder";
    return false;
  }
  if (!writeObservedModel(model, plan.activations, observed, error) ||
      !compileAndLoad(observed, c.work.path() + "/observed.so", threadCount, c.floatModel, error))
    return false;
  strata_module *m = c.floatModel.m;
  if (strata_module_num_inputs(m) != 1 || strata_module_input(m, 0)->dtype != STRATA_FLOAT) {
    error = model + ": calibration takes models with one FLOAT input";
    return false;
  }
  const strata_tensor_info *info = strata_module_input(m, 0);
  c.features = 1;
  for (int d = 0; d < info->rank; ++d)
    c.features *= info->dims[d];
  if (!loadSamples(data, c.features, shapeOf(info), c.rows, error))
    return false;
  c.count = std::min<int64_t>(sampleCount, c.rows.size() / c.features);
  if (c.count == 0) {
    error = data + ": no samples";
    return false;
  }
  // Which output holds which tensor.
  for (int i = 0; i < strata_module_num_outputs(m); ++i)
    c.outputOf[strata_module_output(m, i)->name] = i;
  std::vector<Observer> observers(plan.activations.size());
  std::mt19937_64 rng(0);
  Method method = (Method)how;
  bool keep = method != Method::MinMax;
  bool ok = runSamples(m, c.rows, c.features, c.count, "calibrating",
                       [&](int64_t, std::vector<strata_tensor> &out) {
                         for (size_t a = 0; a < plan.activations.size(); ++a) {
                           auto it = c.outputOf.find(plan.activations[a]);
                           if (it == c.outputOf.end())
                             continue;
                           const strata_tensor &t = out[it->second];
                           observers[a].add((const float *)t.data, strata_tensor_num_elements(&t), keep, rng);
                         }
                       },
                       error);
  if (!ok)
    return false;
  for (size_t a = 0; a < plan.activations.size(); ++a) {
    if (!c.outputOf.count(plan.activations[a]) && plan.activations[a] != info->name) {
      error = "tensor '" + plan.activations[a] + "' was not observed";
      return false;
    }
    c.ranges[plan.activations[a]] = observers[a].range(method, upperPercentile);
  }
  // The graph input is seen as the samples themselves.
  if (!c.outputOf.count(info->name)) {
    Observer in;
    in.add(c.rows.data(), c.count * c.features, keep, rng);
    c.ranges[info->name] = in.range(method, upperPercentile);
  }
  return true;
}

namespace {

int runQuantize() {
  std::string error;
  if (samples < 1)
    return reportError("--samples must be 1 or more");
  if (method == Method::Percentile && !(percentile > 50 && percentile <= 100))
    return reportError("--percentile must be in (50, 100]");
  QdqPlan plan;
  if (!planQuantization(modelPath, plan, error))
    return reportError(error);
  Calibration c;
  if (!calibrateModel(modelPath, plan, calibrate, samples, (CalibrationMethod)method.getValue(),
                      percentile, threads, c, error))
    return reportError(error);
  TemporaryDirectory &work = c.work;
  strata_module *m = c.floatModel.m;
  std::vector<float> &rows = c.rows;
  int64_t features = c.features, count = c.count;
  std::map<std::string, int> &outputOf = c.outputOf;
  std::map<std::string, TensorRange> &ranges = c.ranges;
  if (!writeQdqModel(modelPath, plan, ranges, perChannel, output, error))
    return reportError(error);
  llvm::errs() << "strata: wrote " << output << ": " << plan.layers.size() << " layers int8 ("
               << (perChannel ? "weights per channel" : "weights per tensor") << "), "
               << plan.activations.size() << " activations uint8 from " << count << " samples ("
               << (method == Method::MinMax       ? "min/max"
                   : method == Method::Percentile ? "percentiles"
                                                  : "entropy") << ")\n";
  if (!report)
    return 0;

  // Each layer's output, int8 against float: the QDQ model with the
  // dequantized layer outputs as extra outputs.
  std::vector<std::string> dequantized;
  for (const auto &l : plan.layers)
    dequantized.push_back(plan.dequantizedName(l.output));
  std::string observedInt8 = work.path() + "/observed_int8.onnx";
  Loaded int8Model;
  if (!writeObservedModel(output, dequantized, observedInt8, error) ||
      !compileAndLoad(observedInt8, work.path() + "/observed_int8.so", threads, int8Model, error))
    return reportError(error);
  std::map<std::string, int> int8OutputOf;
  for (int i = 0; i < strata_module_num_outputs(int8Model.m); ++i)
    int8OutputOf[strata_module_output(int8Model.m, i)->name] = i;
  int64_t reportSamples = std::min<int64_t>(count, 32);
  size_t nl = plan.layers.size();
  std::vector<double> signal(nl + 1), noise(nl + 1);
  int64_t agree = 0;
  std::vector<std::vector<float>> reference(reportSamples * (nl + 1));
  bool ok = runSamples(m, rows, features, reportSamples, "float reference",
                  [&](int64_t s, std::vector<strata_tensor> &out) {
                    for (size_t l = 0; l <= nl; ++l) {
                      const strata_tensor &t = out[l < nl ? outputOf[plan.layers[l].output] : 0];
                      const float *p = (const float *)t.data;
                      reference[s * (nl + 1) + l].assign(p, p + strata_tensor_num_elements(&t));
                    }
                  },
                  error) &&
       runSamples(int8Model.m, rows, features, reportSamples, "int8",
                  [&](int64_t s, std::vector<strata_tensor> &out) {
                    for (size_t l = 0; l <= nl; ++l) {
                      const strata_tensor &t =
                          out[l < nl ? int8OutputOf[dequantized[l]] : 0];
                      const float *p = (const float *)t.data;
                      const std::vector<float> &r = reference[s * (nl + 1) + l];
                      for (size_t i = 0; i < r.size(); ++i) {
                        signal[l] += (double)r[i] * r[i];
                        noise[l] += (double)(p[i] - r[i]) * (p[i] - r[i]);
                      }
                      if (l == nl && r.size() > 1)
                        agree += std::max_element(p, p + r.size()) - p ==
                                 std::max_element(r.begin(), r.end()) - r.begin();
                    }
                  },
                  error);
  if (!ok)
    return reportError(error);
  auto sqnr = [&](size_t l) {
    return noise[l] > 0 ? 10 * std::log10(signal[l] / noise[l]) : INFINITY;
  };
  llvm::outs() << "layer                            op        SQNR dB   rel. error\n";
  for (size_t l = 0; l <= nl; ++l) {
    std::string name = l < nl ? plan.layers[l].node : "(model output)";
    std::string op = l < nl ? plan.layers[l].opType : "";
    llvm::outs() << llvm::format("%-32s %-8s %8.1f   %.2e\n", name.substr(0, 32).c_str(), op.c_str(),
                                 sqnr(l), signal[l] > 0 ? std::sqrt(noise[l] / signal[l]) : 0.0);
  }
  llvm::outs() << "top-1 agreement with the float model: " << agree << " of " << reportSamples
               << " samples\n";
  return 0;
}

} // namespace

Command &quantizeCommand() {
  static Command c{"quantize", sub,
                   "\nExamples:\n"
                   "  strata quantize lenet.onnx --calibrate fashion-mnist -o lenet.int8.onnx\n"
                   "  strata quantize resnet18.onnx --calibrate images/ --per-channel --samples 100 "
                   "--report -o resnet18.int8.onnx\n"
                   "  strata compile lenet.int8.onnx -o lenet_int8   (integer kernels; "
                   "docs/quantization.md)\n",
                   runQuantize};
  return c;
}

} // namespace strata::cli
