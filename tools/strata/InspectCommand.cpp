//===- InspectCommand.cpp - strata inspect ---------------------------------===//
//
// Summarizes a model without compiling it: what a user checks before
// deploying (inputs, outputs, size) and whether strata supports every op.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "compiler/driver/Compiler.h"
#include "compiler/onnx/OnnxImporter.h"
#include "PackageTable.h"
#include "WeightReport.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("inspect", "Print a model's inputs, outputs, ops and "
                              "parameter count");
cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::opt<bool> memory("memory",
                     cl::desc("Also compile the model in memory and report its "
                              "static memory plan: the arena all intermediate "
                              "tensors share (peak bytes), and what separate "
                              "buffers would take"),
                     cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batch("batch",
                       cl::desc("With --memory: size for symbolic input dimensions (default 1)"),
                       cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<bool> weights("weights",
                      cl::desc("Also report each float initializer's sparsity and spread, "
                               "and a histogram of the layer weights' nonzero values "
                               "(what pruning leaves)"),
                      cl::sub(sub), cl::cat(category()));
cl::opt<std::string> plotPath("plot",
                              cl::desc("With --weights: also draw the histogram and "
                                       "per-layer sparsity as an SVG picture here"),
                              cl::value_desc("file.svg"), cl::sub(sub), cl::cat(category()));
cl::opt<bool> asJson("json", cl::desc("Print one JSON object instead of a table"),
                     cl::sub(sub), cl::cat(category()));

std::string humanBytes(int64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB"};
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format(u ? "%.2f %s" : "%.0f %s", v, units[u]);
  return s;
}

std::string shapeText(const ModelSummary::Tensor &t) {
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); ++i)
    s += (i ? ", " : "") + t.dims[i];
  return s + "]";
}

llvm::json::Array tensorsJson(const std::vector<ModelSummary::Tensor> &ts) {
  llvm::json::Array out;
  for (const auto &t : ts) {
    llvm::json::Array dims;
    for (const auto &d : t.dims)
      dims.push_back(d);
    out.push_back(llvm::json::Object{
        {"name", t.name}, {"dtype", t.dtype}, {"shape", std::move(dims)}});
  }
  return out;
}

void printJson(const ModelSummary &s, const MemoryPlan *plan) {
  llvm::json::Object ops;
  for (const auto &[op, n] : s.opCounts)
    ops[op] = n;
  llvm::json::Array unsupported;
  for (const auto &op : s.unsupportedOps)
    unsupported.push_back(op);
  llvm::json::Object root{{"model", s.path},
                          {"producer", s.producer},
                          {"ir_version", s.irVersion},
                          {"opset", s.opset},
                          {"inputs", tensorsJson(s.inputs)},
                          {"outputs", tensorsJson(s.outputs)},
                          {"nodes", s.nodeCount},
                          {"op_counts", std::move(ops)},
                          {"parameters", s.parameterCount},
                          {"parameter_bytes", s.parameterBytes},
                          {"external_parameter_bytes", s.externalParameterBytes},
                          {"unsupported_ops", std::move(unsupported)}};
  if (plan)
    root["memory"] = llvm::json::Object{{"arena_bytes", plan->arenaBytes},
                                        {"buffers", plan->buffers},
                                        {"unshared_bytes", plan->unsharedBytes},
                                        {"batch", batch > 0 ? (int64_t)batch : 1}};
  llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(root)))
               << "\n";
}

void printTable(const ModelSummary &s, const MemoryPlan *plan) {
  auto &os = llvm::outs();
  os << "model       " << s.path << "\n";
  if (!s.producer.empty())
    os << "producer    " << s.producer << "\n";
  os << "ir version  " << s.irVersion << ", opset " << s.opset << "\n";
  for (const auto &t : s.inputs)
    os << "input       " << t.name << "  " << t.dtype << " " << shapeText(t)
       << "\n";
  for (const auto &t : s.outputs)
    os << "output      " << t.name << "  " << t.dtype << " " << shapeText(t)
       << "\n";
  os << "nodes       " << s.nodeCount << "\n";
  for (const auto &[op, n] : s.opCounts)
    os << llvm::format("  %-20s %6lld\n", op.c_str(), (long long)n);
  os << "parameters  " << s.parameterCount << " ("
     << humanBytes(s.parameterBytes);
  if (s.externalParameterBytes)
    os << ", " << humanBytes(s.externalParameterBytes) << " in external data";
  os << ")\n";
  if (s.unsupportedOps.empty()) {
    os << "supported   yes: strata can import every op\n";
  } else {
    os << "supported   no: unsupported ops:";
    for (const auto &op : s.unsupportedOps)
      os << " " << op;
    os << "\n";
  }
  if (plan)
    os << "memory      " << plan->buffers << " intermediate tensors share a "
       << humanBytes(plan->arenaBytes) << " arena (batch "
       << (batch > 0 ? (int64_t)batch : 1) << "; "
       << humanBytes(plan->unsharedBytes) << " as separate buffers); "
       << "nothing is allocated per inference\n";
}

int run() {
  ModelSummary summary;
  std::string error;
  if (!summarizeOnnxModel(modelPath, summary, error))
    return reportError(error);
  MemoryPlan plan;
  if (memory) {
    CompileOptions options;
    options.batch = batch;
    if (!planModelMemory(modelPath, options, plan, error))
      return reportError(error);
  }
  if (!plotPath.empty() && !weights)
    return reportError("--plot draws what --weights reports: add --weights");
  std::vector<WeightStatistics> stats;
  std::vector<float> layerNonzeros;
  if (weights && !weightStatistics(modelPath, stats, layerNonzeros, error))
    return reportError(error);
  if (weights && !plotPath.empty() &&
      !writeWeightPlot(plotPath, "strata inspect --weights " + modelPath, stats,
                       layerNonzeros, error))
    return reportError(error);
  // A compressed package: its per-layer table after the summary.
  PackageReport package;
  bool isPackage = isPackageFile(modelPath);
  if (isPackage && !readPackageReport(modelPath, package, error))
    return reportError(error);
  if (asJson) {
    printJson(summary, memory ? &plan : nullptr);
  } else {
    printTable(summary, memory ? &plan : nullptr);
    if (isPackage) {
      llvm::outs() << "\n";
      printPackageTable(package, llvm::outs());
    }
    if (weights)
      printWeightReport(stats, layerNonzeros, llvm::outs());
  }
  if (weights && !plotPath.empty())
    llvm::errs() << "strata: wrote " << plotPath << "\n";
  return 0;
}

} // namespace

Command &inspectCommand() {
  static Command c{"inspect", sub,
                   "\nExamples:\n"
                   "  strata inspect model.onnx\n"
                   "  strata inspect model.onnx --json | jq .parameters\n"
                   "  strata inspect model.onnx --memory --batch 8\n"
                   "  strata inspect pruned.onnx --weights --plot weights.svg\n"
                   "  strata inspect lenet300.stz   (a package: also its per-layer table)\n",
                   run};
  return c;
}

} // namespace strata::cli
