//===- TrainingStep.h - a compiled training step from a forward graph -*- C++ -*-===//
//
// From the forward function of an imported model, a loss and an optimizer,
// builds two functions that strata compiles like any model:
//
//   train: @main(params..., statistics..., state..., inputs..., labels, mask)
//            -> (loss, params'..., statistics'..., state'...)
//   eval:  @main(params..., inputs...) -> outputs...
//
// Parameters are the model's floating-point initializers the loss depends
// on (less frozen ones); batch norms train with batch statistics and update
// their running statistics. The runtime keeps two
// sets of parameter/state buffers and swaps them after each step, so the
// update is in place without a copy. `mask` (one 0/1 weight per sample)
// lets the last, partial batch train on its real samples only. A weight
// shared by strata-share-weights trains its codebook instead
// (SharedParameters.h).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_TRAIN_TRAININGSTEP_H
#define STRATA_PASSES_TRAIN_TRAININGSTEP_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "passes/train/SharedParameters.h"

#include <string>
#include <vector>

namespace strata::train {

enum class LossKind { CrossEntropy, MeanSquaredError };

struct OptimizerConfig {
  enum Kind { SGD, Adam } kind = SGD;
  double lr = 0.01;
  double momentum = 0.0;     ///< SGD
  bool nesterov = false;     ///< SGD with momentum
  double weightDecay = 0.0;  ///< L2: gradient += weightDecay * w
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8; ///< Adam
};

/// Parses "sgd(lr=0.05,momentum=0.9)", "sgd(lr=0.1,momentum=0.9,nesterov=1)",
/// "adam(lr=1e-3)", with weight_decay= for either. Sets `error` on failure.
bool parseOptimizer(const std::string &text, OptimizerConfig &out,
                    std::string &error);

struct TrainConfig {
  LossKind loss = LossKind::CrossEntropy;
  OptimizerConfig optimizer;
  /// Parameters whose names match one of these globs stay constants.
  std::vector<std::string> freeze;
  /// Return (loss, gradients..., statistics'...) instead of applying the
  /// optimizer: for checking gradients against another framework.
  bool gradientsOnly = false;
};

/// A tensor the runtime feeds or keeps (name, shape; f32 unless noted).
struct TensorSlot {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> initial; ///< parameters: their values; state: zeros
};

struct TrainingLayout {
  /// The ONNX initializers the step reads and rewrites: the first
  /// `trainable` by gradients, the rest batch-norm running statistics.
  std::vector<TensorSlot> params;
  size_t trainable = 0;
  std::vector<TensorSlot> state;  ///< optimizer state, in parameter order
  std::vector<std::string> frozen; ///< initializers kept constant by --freeze
  /// Shared weights: their codebooks (codebookName) are among `params`.
  std::vector<SharedParameter> shared;
  int64_t batch = 0;
};

/// Builds the train and eval modules from `forward` (func @main with a
/// static batch; its first result is the prediction the loss reads).
bool buildTrainingModules(mlir::ModuleOp forward, const TrainConfig &config,
                          mlir::OwningOpRef<mlir::ModuleOp> &train,
                          mlir::OwningOpRef<mlir::ModuleOp> &eval,
                          TrainingLayout &layout, std::string &error);

} // namespace strata::train

#endif // STRATA_PASSES_TRAIN_TRAININGSTEP_H
