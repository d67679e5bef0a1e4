//===- OptCommand.cpp - strata opt ------------------------------------------===//
//
// Graph passes offline, ONNX in and ONNX out (compiler/driver/GraphOptimizer):
// what users otherwise do with onnxoptimizer or onnxsim, with strata's own
// passes, so the result is what strata would compile and any runtime runs.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "compiler/driver/GraphOptimizer.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("opt", "Run graph passes on an ONNX model and write ONNX");
cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::list<std::string> passList("passes", cl::CommaSeparated,
                               cl::desc("Passes to run, in order: NAME or NAME=VALUE, comma "
                                        "separated (see --list-passes)"),
                               cl::value_desc("p1,p2=v,..."), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath("o", cl::desc("Output model (default: <model>.opt.onnx)"),
                                cl::value_desc("file.onnx"), cl::sub(sub), cl::cat(category()));
cl::opt<bool> listPasses("list-passes", cl::desc("Describe each pass and exit"), cl::sub(sub),
                         cl::cat(category()));

int run() {
  if (listPasses) {
    for (const GraphPassInfo &p : graphPasses()) {
      std::string name = p.name;
      if (*p.argument)
        name += std::string("=") + p.argument;
      llvm::outs() << llvm::format("  %-18s ", name.c_str()) << p.description << "\n";
    }
    return 0;
  }
  if (modelPath.empty())
    return reportError("strata opt needs a model (and --passes)");
  if (passList.empty())
    return reportError("--passes is required (strata opt --list-passes lists them)");
  std::string output = outputPath;
  if (output.empty()) {
    llvm::SmallString<256> p(modelPath.getValue());
    llvm::sys::path::replace_extension(p, "opt.onnx");
    output = std::string(p);
  }
  std::vector<std::string> summary;
  std::string error;
  std::vector<std::string> passes(passList.begin(), passList.end());
  if (!optimizeModel(modelPath, passes, output, summary, error))
    return reportError(error);
  for (const std::string &line : summary)
    llvm::errs() << "strata: " << line << "\n";
  llvm::errs() << "strata: wrote " << output << "\n";
  return 0;
}

} // namespace

Command &optCommand() {
  static Command c{"opt", sub,
                   "\nExamples:\n"
                   "  strata opt resnet.onnx --passes fold-batch-norm,fold -o resnet.folded.onnx\n"
                   "  strata opt lenet300.onnx --passes prune=0.9 -o lenet300.sparse.onnx\n"
                   "  strata opt --list-passes\n"
                   "\nThe output keeps the graph's input and output names and types, passes the\n"
                   "ONNX checker (opset 17), and runs under strata and ONNX Runtime.\n",
                   run};
  return c;
}

} // namespace strata::cli
