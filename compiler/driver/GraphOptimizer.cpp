//===- GraphOptimizer.cpp - strata opt: graph passes, ONNX to ONNX --------===//

#include "compiler/driver/GraphOptimizer.h"
#include "compiler/cpu/CpuPipeline.h"
#include "compiler/driver/DiagnosticCollector.h"
#include "compiler/onnx/OnnxImporter.h"
#include "passes/Passes.h"
#include "passes/compress/WeightSharing.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

using namespace mlir;

namespace strata {

const std::vector<GraphPassInfo> &graphPasses() {
  static const std::vector<GraphPassInfo> passes = {
      {"fold", "",
       "constant and shape folding, algebraic identities (x + 0, x * 1, reshape of reshape, "
       "identity transposes and casts), then dead-code removal (strata-graph-fold)"},
      {"fold-batch-norm", "",
       "inference BatchNormalization with constant statistics folded into the Conv before "
       "it: the convolution's weights and bias absorb the scale and shift "
       "(strata-fold-batch-norm)"},
      {"prune", "S",
       "magnitude pruning without retraining: the S fraction (in [0, 1)) of smallest "
       "weights of every Conv/Gemm/MatMul weight but the first layer's becomes zero "
       "(strata-prune-weights; strata prune retrains)"},
      {"share", "B|C:F",
       "weight sharing without fine-tuning: the nonzero values of every Conv/Gemm/MatMul "
       "weight become the centroids of a k-means codebook of 2^B entries, or 2^C for "
       "convolutions and 2^F for the others (strata-share-weights; strata share "
       "fine-tunes the centroids)"},
  };
  return passes;
}

namespace {

/// One parsed --passes entry.
struct PassStep {
  const GraphPassInfo *info;
  std::string value;
};

bool parsePasses(const std::vector<std::string> &specs, std::vector<PassStep> &steps,
                 std::string &error) {
  for (const std::string &spec : specs) {
    llvm::StringRef name = llvm::StringRef(spec).trim(), value;
    if (size_t eq = name.find('='); eq != llvm::StringRef::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const GraphPassInfo *info = nullptr;
    for (const GraphPassInfo &p : graphPasses())
      if (name == p.name)
        info = &p;
    if (!info) {
      error = "unknown pass '" + name.str() + "' (strata opt --list-passes lists them:";
      for (const GraphPassInfo &p : graphPasses())
        error += std::string(" ") + p.name;
      error += ")";
      return false;
    }
    bool takes = *info->argument != '\0';
    if (takes && value.empty()) {
      error = "pass '" + name.str() + "' needs a value: " + name.str() + "=" + info->argument;
      return false;
    }
    if (!takes && !value.empty()) {
      error = "pass '" + name.str() + "' takes no value";
      return false;
    }
    if (name == "prune") {
      double s = -1.0;
      if (value.getAsDouble(s) || s < 0.0 || s >= 1.0) {
        error = "prune=" + value.str() + ": the sparsity must be a number in [0, 1)";
        return false;
      }
    }
    if (name == "share") {
      LayerBits bits;
      std::string text = value.str();
      std::replace(text.begin(), text.end(), ':', ',');
      if (text.find(',') != std::string::npos)
        text = "conv=" + text.substr(0, text.find(',')) + ",fc=" + text.substr(text.find(',') + 1);
      if (!parseLayerBits(text, bits, error)) {
        error = "share=" + value.str() + ": expected bits B or C:F, each in 1..16";
        return false;
      }
    }
    steps.push_back({info, value.str()});
  }
  if (steps.empty()) {
    error = "--passes lists no pass";
    return false;
  }
  return true;
}

void addPass(OpPassManager &pm, const PassStep &step) {
  llvm::StringRef name = step.info->name;
  if (name == "fold") {
    pm.addPass(createGraphFold());
  } else if (name == "fold-batch-norm") {
    pm.addPass(createFoldBatchNorm());
    pm.addPass(createGraphFold()); // drop the folded statistics
  } else if (name == "prune") {
    PruneWeightsOptions options;
    llvm::StringRef(step.value).getAsDouble(options.sparsity);
    pm.addPass(createPruneWeights(options));
  } else if (name == "share") {
    ShareWeightsOptions options;
    llvm::StringRef conv, fc;
    std::tie(conv, fc) = llvm::StringRef(step.value).split(':');
    conv.getAsInteger(10, options.convBits);
    (fc.empty() ? conv : fc).getAsInteger(10, options.fcBits);
    pm.addPass(createShareWeights(options));
  }
}

} // namespace

bool optimizeModel(const std::string &modelPath, const std::vector<std::string> &passes,
                   const std::string &outputPath, std::vector<std::string> &summary,
                   std::string &error) {
  std::vector<PassStep> steps;
  if (!parsePasses(passes, steps, error))
    return false;
  DialectRegistry registry;
  cpu::registerCpuDialects(registry);
  MLIRContext ctx(registry);
  OwningOpRef<ModuleOp> module = importOnnxModel(ctx, modelPath, error);
  if (!module)
    return false;
  for (const PassStep &step : steps) {
    PassManager pm(&ctx);
    addPass(pm, step);
    DiagnosticCollector diagnostics(ctx, modelPath);
    size_t before = 0;
    module->walk([&](Operation *) { ++before; });
    if (failed(pm.run(*module))) {
      error = diagnostics.message(modelPath + ": pass '" + step.info->name + "' failed");
      return false;
    }
    size_t after = 0;
    module->walk([&](Operation *) { ++after; });
    summary.push_back(std::string(step.info->name) +
                      (step.value.empty() ? "" : "=" + step.value) + ": " +
                      std::to_string(before) + " -> " + std::to_string(after) + " ops");
  }
  return exportOnnxModel(*module, modelPath, outputPath, error);
}

} // namespace strata
