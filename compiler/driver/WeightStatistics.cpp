//===- WeightStatistics.cpp - per-layer weight sparsity and spread --------===//

#include "compiler/driver/WeightStatistics.h"
#include "compiler/cpu/CpuPipeline.h"
#include "compiler/onnx/OnnxImporter.h"
#include "passes/compress/Pruning.h"
#include "passes/graph/ConstantValues.h"

#include "mlir/IR/MLIRContext.h"

#include <cmath>

using namespace mlir;

namespace strata {

bool weightStatistics(const std::string &modelPath, std::vector<WeightStatistics> &stats,
                      std::vector<float> &layerNonzeros, std::string &error) {
  DialectRegistry registry;
  cpu::registerCpuDialects(registry);
  MLIRContext ctx(registry);
  std::vector<std::string> notes;
  OwningOpRef<ModuleOp> module = importOnnxModel(ctx, modelPath, 1, notes, error);
  if (!module)
    return false;
  auto main = module->lookupSymbol<func::FuncOp>("main");
  std::vector<PrunableWeight> layers = prunableWeights(main);
  for (auto c : main.getOps<nn::ConstantOp>()) {
    auto name = c->getAttrOfType<StringAttr>("onnx.initializer");
    std::optional<std::vector<float>> values = f32Values(c);
    if (!name || !values)
      continue;
    WeightStatistics s;
    s.name = name.str();
    auto type = cast<RankedTensorType>(c.getType());
    s.shape.assign(type.getShape().begin(), type.getShape().end());
    s.count = int64_t(values->size());
    s.stdDev = standardDeviation(*values);
    s.layerWeight = llvm::any_of(layers, [&](const PrunableWeight &w) { return w.constant == c; });
    for (float v : *values) {
      s.maxAbs = std::max(s.maxAbs, double(std::fabs(v)));
      if (v != 0.0f) {
        ++s.nonzero;
        if (s.layerWeight)
          layerNonzeros.push_back(v);
      }
    }
    stats.push_back(std::move(s));
  }
  if (stats.empty()) {
    error = modelPath + " has no float initializers to report";
    return false;
  }
  return true;
}

} // namespace strata
