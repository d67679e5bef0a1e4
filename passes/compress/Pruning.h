//===- Pruning.h - what magnitude pruning shares --------------*- C++ -*-===//
//
// The weights a network's pruning applies to and the rules that zero them,
// shared by the pass (strata-prune-weights), the training step (which keeps
// pruned weights at zero) and the command line.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_COMPRESS_PRUNING_H
#define STRATA_PASSES_COMPRESS_PRUNING_H

#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace strata {

/// Set on a pruned weight's nn.constant: its zeros are pruned connections.
inline constexpr llvm::StringLiteral kPrunedAttr = "strata.pruned";
/// The fraction of zeros of a pruned weight (f64).
inline constexpr llvm::StringLiteral kSparsityAttr = "strata.sparsity";

struct PrunableWeight {
  std::string name;           ///< the ONNX initializer's name
  nn::ConstantOp constant;
};

/// The f32 initializers @main multiplies by as a convolution's weight, a
/// Gemm's B (or A) or a MatMul operand, of rank 2 or more, in the order
/// their layers appear (the first is the first layer's).
std::vector<PrunableWeight> prunableWeights(mlir::func::FuncOp main);

/// For each of `weights`, the index of the last of `globs` that matches its
/// name (-1: none). Fails naming a bad glob or one that matches no weight
/// (`what` names the option in the message, e.g. "--layer").
bool matchWeightGlobs(const std::vector<PrunableWeight> &weights,
                      const std::vector<std::string> &globs, llvm::StringRef what,
                      std::vector<int> &matches, std::string &error);

/// Zeros the round(sparsity x n) smallest magnitudes (ties: the earlier
/// position first), counting zeros already there.
void pruneSmallest(std::vector<float> &values, double sparsity);

/// Zeros every value with |v| < threshold.
void pruneBelow(std::vector<float> &values, double threshold);

/// Population standard deviation.
double standardDeviation(const std::vector<float> &values);

/// Fraction of values that are zero.
double zeroFraction(const std::vector<float> &values);

/// Replaces `weight`'s constant by one holding `values`, keeping its name
/// and attributes.
void replaceWeightValues(PrunableWeight &weight, const std::vector<float> &values);

/// Replaces `weight`'s constant by one holding `values` (its pruned
/// values), with the same name and kPrunedAttr / kSparsityAttr.
void replaceWithPruned(PrunableWeight &weight, const std::vector<float> &values);

/// Layers named by glob get their own sparsity (the last matching rule).
struct LayerSparsity {
  std::string glob;
  double sparsity;
};

/// Magnitude-prunes @main's layer weights: those `layers` name to their
/// sparsity, the others but the first layer's to `sparsity` (none if
/// negative). Fails naming a glob that matches no layer weight.
bool pruneBySparsity(mlir::func::FuncOp main, double sparsity,
                     const std::vector<LayerSparsity> &layers, std::string &error);

} // namespace strata

#endif // STRATA_PASSES_COMPRESS_PRUNING_H
