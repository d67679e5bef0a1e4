//===- Checkpoint.h - save and resume a training run ------------*- C++ -*-===//
//
// What Ctrl-C saves and --resume reads: where the run stood (epoch, batch,
// seed) and every parameter and optimizer-state tensor by name. A plain
// binary file: a text header, then each tensor's floats.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_TRAIN_CHECKPOINT_H
#define STRATA_TOOLS_STRATA_TRAIN_CHECKPOINT_H

#include <cstdint>
#include <string>
#include <vector>

namespace strata::cli {

struct Checkpoint {
  std::string model;       ///< the ONNX file being trained
  int64_t epoch = 0;       ///< 0-based epoch to continue in
  int64_t batch = 0;       ///< first batch of that epoch not yet trained
  uint64_t seed = 0;
  struct Tensor {
    std::string name;
    std::vector<float> values;
  };
  std::vector<Tensor> tensors;
};

/// Writes beside `path` and renames, so a checkpoint is never half written.
bool saveCheckpoint(const std::string &path, const Checkpoint &c, std::string &error);
bool loadCheckpoint(const std::string &path, Checkpoint &c, std::string &error);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_TRAIN_CHECKPOINT_H
