//===- Pruning.cpp - what magnitude pruning shares ------------------------===//

#include "passes/compress/Pruning.h"
#include "passes/graph/ConstantValues.h"

#include "llvm/Support/GlobPattern.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;

namespace strata {

std::vector<PrunableWeight> prunableWeights(func::FuncOp main) {
  std::vector<PrunableWeight> out;
  auto consider = [&](Value v) {
    auto c = v.getDefiningOp<nn::ConstantOp>();
    if (!c)
      return;
    auto name = c->getAttrOfType<StringAttr>("onnx.initializer");
    auto type = cast<RankedTensorType>(c.getType());
    if (!name || type.getRank() < 2 || !type.getElementType().isF32())
      return;
    for (const PrunableWeight &w : out)
      if (w.constant == c)
        return;
    out.push_back({name.str(), c});
  };
  main.walk([&](Operation *op) {
    if (auto conv = dyn_cast<nn::ConvOp>(op)) {
      consider(conv.getWeight());
    } else if (auto gemm = dyn_cast<nn::GemmOp>(op)) {
      consider(gemm.getB());
      consider(gemm.getA());
    } else if (auto matmul = dyn_cast<nn::MatMulOp>(op)) {
      consider(matmul.getRhs());
      consider(matmul.getLhs());
    }
  });
  return out;
}

void pruneSmallest(std::vector<float> &values, double sparsity) {
  size_t k = std::min(values.size(), size_t(std::llround(sparsity * double(values.size()))));
  if (k == 0)
    return;
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  auto smaller = [&](size_t a, size_t b) {
    float x = std::fabs(values[a]), y = std::fabs(values[b]);
    return x < y || (x == y && a < b);
  };
  std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), smaller);
  for (size_t i = 0; i < k; ++i)
    values[order[i]] = 0.0f;
}

void pruneBelow(std::vector<float> &values, double threshold) {
  for (float &v : values)
    if (std::fabs(v) < threshold)
      v = 0.0f;
}

double standardDeviation(const std::vector<float> &values) {
  if (values.empty())
    return 0.0;
  double mean = 0.0;
  for (float v : values)
    mean += v;
  mean /= double(values.size());
  double sum = 0.0;
  for (float v : values)
    sum += (v - mean) * (v - mean);
  return std::sqrt(sum / double(values.size()));
}

double zeroFraction(const std::vector<float> &values) {
  if (values.empty())
    return 0.0;
  return double(std::count(values.begin(), values.end(), 0.0f)) / double(values.size());
}

void replaceWeightValues(PrunableWeight &weight, const std::vector<float> &values) {
  nn::ConstantOp old = weight.constant;
  OpBuilder b(old);
  Value fresh = makeConstant<float>(b, old.getLoc(), cast<RankedTensorType>(old.getType()),
                                    values, weight.name);
  Operation *op = fresh.getDefiningOp();
  for (NamedAttribute a : old->getAttrs()) // onnx.initializer, strata.pruned, ...
    if (a.getName() != "value")
      op->setAttr(a.getName(), a.getValue());
  old.getResult().replaceAllUsesWith(fresh);
  old->erase();
  weight.constant = cast<nn::ConstantOp>(op);
}

void replaceWithPruned(PrunableWeight &weight, const std::vector<float> &values) {
  replaceWeightValues(weight, values);
  Builder b(weight.constant.getContext());
  weight.constant->setAttr(kPrunedAttr, b.getUnitAttr());
  weight.constant->setAttr(kSparsityAttr, b.getF64FloatAttr(zeroFraction(values)));
}

bool matchWeightGlobs(const std::vector<PrunableWeight> &weights,
                      const std::vector<std::string> &globs, llvm::StringRef what,
                      std::vector<int> &matches, std::string &error) {
  matches.assign(weights.size(), -1);
  for (auto [i, text] : llvm::enumerate(globs)) {
    auto g = llvm::GlobPattern::create(text);
    if (!g) {
      error = "bad " + what.str() + " glob '" + text + "': " + llvm::toString(g.takeError());
      return false;
    }
    bool used = false;
    for (auto [j, w] : llvm::enumerate(weights))
      if (g->match(w.name)) {
        matches[j] = static_cast<int>(i);
        used = true;
      }
    if (!used) {
      std::string names;
      for (const PrunableWeight &w : weights)
        names += (names.empty() ? "" : ", ") + w.name;
      error = what.str() + " " + text + " matches no layer weight (" +
              (names.empty() ? "the model has none" : names) + ")";
      return false;
    }
  }
  return true;
}

bool pruneBySparsity(func::FuncOp main, double sparsity, const std::vector<LayerSparsity> &layers,
                     std::string &error) {
  std::vector<PrunableWeight> weights = prunableWeights(main);
  std::vector<std::string> globs;
  for (const LayerSparsity &l : layers)
    globs.push_back(l.glob);
  std::vector<int> matches;
  if (!matchWeightGlobs(weights, globs, "--layer", matches, error))
    return false;
  for (auto [index, w] : llvm::enumerate(weights)) {
    double s = matches[index] >= 0 ? layers[matches[index]].sparsity
                                   : (index == 0 ? -1.0 : sparsity);
    if (s <= 0.0)
      continue;
    std::optional<std::vector<float>> values = f32Values(w.constant);
    if (!values)
      continue; // prunableWeights returns f32 constants only
    pruneSmallest(*values, s);
    replaceWithPruned(w, *values);
  }
  return true;
}

} // namespace strata
