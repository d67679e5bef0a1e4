//===- SharedParameters.h - training a shared weight through its codebook -*- C++ -*-===//
//
// Deep Compression's trained quantization: a weight shared by
// strata-share-weights is codebook[index], with index fixed and pruned
// zeros outside the codebook. The training step trains the codebook, not
// the weight: the gradient of a centroid is the sum of the gradients of the
// weights that use it, and the optimizer (with its state) updates the
// centroids only.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_TRAIN_SHAREDPARAMETERS_H
#define STRATA_PASSES_TRAIN_SHAREDPARAMETERS_H

#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace strata::train {

/// The parameter a shared weight `name` trains: its codebook.
std::string codebookName(llvm::StringRef weight);

struct SharedParameter {
  std::string weight;            ///< the ONNX initializer
  std::vector<int64_t> shape;    ///< the weight's
  std::vector<int32_t> index;    ///< per weight value: its centroid, -1 if pruned
  std::vector<float> centroids;  ///< the codebook's initial values
};

/// The shared weights among @main's constants (those with a codebook whose
/// values are all centroids or zero). Fails naming a weight whose values
/// are not.
bool findSharedParameters(mlir::func::FuncOp main, std::vector<SharedParameter> &out,
                          std::string &error);

/// Replaces each shared weight's constant by a codebook constant (an
/// initializer named codebookName(weight)) and the weight expanded from it,
/// reshape(gather(concat(codebook, [0]), index)), pruned zeros reading the
/// appended 0. Returns the expanded weights, in `shared`'s order.
llvm::SmallVector<mlir::Value> expandSharedWeights(mlir::func::FuncOp main,
                                                   llvm::ArrayRef<SharedParameter> shared);

/// d loss / d codebook from d loss / d weight: gC[k] = sum of gW[i] over the
/// i with index[i] == k.
mlir::Value centroidGradient(nn::NNBuilder &b, mlir::Value weightGradient,
                             const SharedParameter &shared);

/// The weight's values from its codebook's.
std::vector<float> expandWeight(const SharedParameter &shared, const std::vector<float> &codebook);

} // namespace strata::train

#endif // STRATA_PASSES_TRAIN_SHAREDPARAMETERS_H
