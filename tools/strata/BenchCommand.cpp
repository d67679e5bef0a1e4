//===- BenchCommand.cpp - strata bench -------------------------------------===//
//
// Times a compiled model on given or generated inputs. Each iteration runs
// the whole model once; the first run is a warm-up and is not counted.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModuleCache.h"

#include "strata/runtime.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("bench", "Measure a model's latency (min/median/max)");
cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::opt<int> iters("iters", cl::desc("Timed iterations (default 100)"),
                   cl::init(100), cl::sub(sub), cl::cat(category()));
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over "
                                         "(default 0: all cores)"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batch("batch", cl::desc("Size given to symbolic input dimensions (default 1)"),
                       cl::init(0), cl::sub(sub), cl::cat(category()));
TargetFlags targetFlags(sub);
cl::opt<bool> asJson("json", cl::desc("Print one JSON object"), cl::sub(sub),
                     cl::cat(category()));

/// Deterministic inputs: uniform [0, 1) floats, small integers.
void fillInput(strata_tensor &t, std::mt19937 &rng) {
  int64_t n = strata_tensor_num_elements(&t);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
    case STRATA_FLOAT: ((float *)t.data)[i] = u(rng); break;
    case STRATA_DOUBLE: ((double *)t.data)[i] = u(rng); break;
    case STRATA_INT64: ((int64_t *)t.data)[i] = (int64_t)(u(rng) * 4); break;
    case STRATA_INT32: ((int32_t *)t.data)[i] = (int32_t)(u(rng) * 4); break;
    default: break; // zeros
    }
  }
}

int run() {
  if (threads < 0)
    return reportError("--threads must be 1 or more (0: all cores)");
  if (iters < 1)
    return reportError("--iters must be at least 1");
  CompileOptions options;
  options.batch = batch;
  std::string error;
  if (!targetFlags.apply(options, error))
    return reportError(error);
  std::string so = cachedModule(modelPath, options, true, error);
  if (so.empty())
    return reportError(error);
  // Freed however the benchmark ends (an error returns early).
  struct Loaded {
    strata_module *m = nullptr;
    std::vector<strata_tensor> in;
    ~Loaded() {
      for (auto &t : in)
        strata_tensor_free(&t);
      strata_module_free(m);
    }
  } loaded;
  if (strata_module_load(so.c_str(), &loaded.m))
    return reportError(strata_last_error());
  strata_module *m = loaded.m;
  strata_module_set_threads(m, threads);
  int used = strata_module_threads(m);
  int nin = strata_module_num_inputs(m), nout = strata_module_num_outputs(m);
  loaded.in.assign(nin, strata_tensor{});
  std::vector<strata_tensor> &in = loaded.in, out(nout);
  std::mt19937 rng(0);
  for (int i = 0; i < nin; ++i) {
    const strata_tensor_info *info = strata_module_input(m, i);
    if (strata_tensor_alloc(info->dtype, info->rank, info->dims, &in[i]))
      return reportError(strata_last_error());
    fillInput(in[i], rng);
  }
  std::vector<double> ms;
  for (int it = 0; it <= iters; ++it) {
    auto start = std::chrono::steady_clock::now();
    if (strata_module_run(m, in.data(), out.data()))
      return reportError(strata_last_error());
    auto end = std::chrono::steady_clock::now();
    for (auto &t : out)
      strata_tensor_free(&t);
    if (it > 0) // the first run warms caches and pages in weights
      ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(ms.begin(), ms.end());
  double median = ms.size() % 2 ? ms[ms.size() / 2]
                                : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  if (asJson) {
    llvm::outs() << llvm::formatv(
        "{0}\n", llvm::json::Value(llvm::json::Object{
                     {"model", modelPath.getValue()}, {"min_ms", ms.front()},
                     {"median_ms", median}, {"max_ms", ms.back()},
                     {"iters", iters.getValue()}, {"threads", used}}));
  } else {
    llvm::outs() << llvm::format("%s: %d iterations, %d thread%s\n",
                                 modelPath.c_str(), (int)iters, used,
                                 used == 1 ? "" : "s")
                 << llvm::format("  min %.3f ms   median %.3f ms   max %.3f ms\n",
                                 ms.front(), median, ms.back());
  }
  return 0;
}

} // namespace

Command &benchCommand() {
  static Command c{"bench", sub,
                   "\nExamples:\n"
                   "  strata bench model.onnx --iters 200\n"
                   "  strata bench model.onnx --batch 64 --json\n"
                   "  strata bench model.onnx --threads 1\n",
                   run};
  return c;
}

} // namespace strata::cli
