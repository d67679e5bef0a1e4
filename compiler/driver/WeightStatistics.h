//===- WeightStatistics.h - per-layer weight sparsity and spread -*- C++ -*-===//
//
// What `strata inspect --weights` reports: for each float initializer, its
// size, how many entries are zero and their spread; for the layers' weights
// (what pruning prunes, passes/compress/Pruning.h) also the nonzero values,
// whose histogram shows the bimodal distribution prune-and-retrain leaves.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_DRIVER_WEIGHTSTATISTICS_H
#define STRATA_COMPILER_DRIVER_WEIGHTSTATISTICS_H

#include <cstdint>
#include <string>
#include <vector>

namespace strata {

struct WeightStatistics {
  std::string name;
  std::vector<int64_t> shape;
  int64_t count = 0, nonzero = 0;
  double stdDev = 0.0, maxAbs = 0.0;
  bool layerWeight = false; ///< a conv/Gemm/MatMul weight (prunable)
};

/// Reads `modelPath`'s f32 initializers (as strata imports them, external
/// data included) in graph order. `layerNonzeros` receives every nonzero
/// value of the layer weights.
bool weightStatistics(const std::string &modelPath, std::vector<WeightStatistics> &stats,
                      std::vector<float> &layerNonzeros, std::string &error);

} // namespace strata

#endif // STRATA_COMPILER_DRIVER_WEIGHTSTATISTICS_H
