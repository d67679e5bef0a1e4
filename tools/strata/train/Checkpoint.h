//===- Checkpoint.h - save and resume a training run ------------*- C++ -*-===//
//
// What --checkpoint saves (periodically, and on Ctrl-C) and --resume reads:
// where the run stood (epoch, next step), the options that must not change
// when it continues (batch size, loss, optimizer, data size, seed), and
// every parameter and optimizer-state tensor by name. A text header, then
// each tensor's floats, checksummed; written whole or not at all
// (DurableFile.h), so a run killed at any moment leaves a checkpoint that
// loads.
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
  int64_t step = 0;        ///< first step of that epoch not yet trained
  int64_t batchSize = 0;   ///< samples per step
  int64_t samples = 0;     ///< training samples in the data
  uint64_t seed = 0;
  std::string loss, optimizer; ///< as given on the command line
  struct Tensor {
    std::string name;
    std::vector<float> values;
  };
  std::vector<Tensor> tensors;
};

bool saveCheckpoint(const std::string &path, const Checkpoint &c, std::string &error);
/// Reads and verifies (sizes against the file, checksum); false with
/// `error` saying what is wrong.
bool loadCheckpoint(const std::string &path, Checkpoint &c, std::string &error);
/// The same on the file's bytes (`path` for messages): a fuzzing target.
bool parseCheckpoint(const std::string &bytes, const std::string &path, Checkpoint &c,
                     std::string &error);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_TRAIN_CHECKPOINT_H
