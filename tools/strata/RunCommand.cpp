//===- RunCommand.cpp - strata run -----------------------------------------===//
//
// Compiles (or reuses a cached build), loads the module through the runtime
// and runs it with the same I/O convention as compiled executables.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModuleCache.h"

#include "strata/runtime.h"

#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("run", "Compile (cached) and run an ONNX model on input files");
cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::list<std::string> positionalInputs(cl::Positional, cl::desc("[input files...]"),
                                       cl::sub(sub), cl::cat(category()));
cl::list<std::string> inputs("input", cl::desc("An input: NAME=FILE or FILE "
                                               "(.npy or .pb), repeatable"),
                             cl::value_desc("NAME=FILE"), cl::sub(sub),
                             cl::cat(category()));
cl::opt<std::string> outputDir("output-dir", cl::desc("Write one <output name>.npy (or .pb) per output here"),
                               cl::value_desc("dir"), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputFormat("output-format", cl::desc("npy (default) or pb"),
                                  cl::init("npy"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batch("batch", cl::desc("Size given to symbolic input dimensions (default 1)"),
                       cl::init(0), cl::sub(sub), cl::cat(category()));
TargetFlags targetFlags(sub);
cl::opt<int> threads("threads", cl::desc("Threads each operator is split over "
                                         "(default: all cores); same results for any count"),
                     cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<bool> noCache("no-cache", cl::desc("Always recompile"), cl::sub(sub),
                      cl::cat(category()));

int run() {
  CompileOptions options;
  options.batch = batch;
  std::string error;
  if (!targetFlags.apply(options, error))
    return reportError(error);
  std::string so = cachedModule(modelPath, options, !noCache, error);
  if (so.empty())
    return reportError(error);
  strata_module *m = nullptr;
  if (strata_module_load(so.c_str(), &m))
    return reportError(strata_last_error());
  if (threads < 0)
    return reportError("--threads must be 1 or more (0: all cores)");
  strata_module_set_threads(m, threads);
  std::vector<std::string> args;
  for (const auto &i : inputs)
    args.push_back("--input=" + i);
  for (const auto &i : positionalInputs)
    args.push_back("--input=" + i);
  if (!outputDir.empty()) {
    args.push_back("--output-dir");
    args.push_back(outputDir);
  }
  args.push_back("--output-format");
  args.push_back(outputFormat);
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  int rc = strata_run_main(m, "strata", (int)argv.size(), argv.data());
  strata_module_free(m);
  return rc;
}

} // namespace

Command &runCommand() {
  static Command c{"run", sub,
                   "\nExamples:\n"
                   "  strata run model.onnx --input input=x.npy --output-dir out\n"
                   "  strata run model.onnx x.pb --output-format=pb --output-dir out\n",
                   run};
  return c;
}

} // namespace strata::cli
