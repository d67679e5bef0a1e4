//===- Dataset.h - training data for strata train ---------------*- C++ -*-===//
//
// Samples as rows of floats plus one label per sample (class ids) or a row
// of float targets. Two sources: Fashion-MNIST / MNIST idx files (gzip or
// not), images scaled to [0, 1]; or train_x.npy / train_y.npy (and
// test_x.npy / test_y.npy), uint8 images scaled to [0, 1], floats as given.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_TRAIN_DATASET_H
#define STRATA_TOOLS_STRATA_TRAIN_DATASET_H

#include "strata/runtime.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace strata::cli {

struct Dataset {
  int64_t count = 0;
  int64_t features = 0;        ///< floats per sample
  std::vector<float> x;        ///< count x features
  std::vector<int64_t> labels; ///< class ids (classification)
  int64_t targetSize = 0;      ///< floats per sample of `targets` (regression)
  std::vector<float> targets;
};

/// Where Debian's dataset-fashion-mnist installs the data; `--data
/// fashion-mnist` means this folder.
constexpr const char *kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Loads the "train" or "t10k"/"test" split from `dir`. Returns false with
/// `error` naming the file. A missing test split leaves `out` empty and
/// returns true when `optional` is set.
bool loadSplit(const std::string &dir, bool train, Dataset &out,
               std::string &error, bool optional = false);

// The parsers behind loadSplit, on bytes in memory (fuzzing targets,
// test/fuzz); `name` is for messages.

/// Inflates `bytes` in place if they are gzip data (bounded at 16 GiB).
bool gunzipIfGzip(std::vector<uint8_t> &bytes, const std::string &name, std::string &error);
/// An idx file of unsigned bytes (MNIST's format).
bool parseIdx(const std::vector<uint8_t> &bytes, const std::string &name,
              std::vector<uint32_t> &dims, std::vector<uint8_t> &data, std::string &error);
/// Samples from idx images and labels.
bool datasetFromIdx(const std::vector<uint32_t> &imageDims, const std::vector<uint8_t> &pixels,
                    const std::vector<uint32_t> &labelDims, const std::vector<uint8_t> &ids,
                    const std::string &images, const std::string &labels, Dataset &out,
                    std::string &error);
/// Samples from x (FLOAT or UINT8, samples first) and y (class ids or FLOAT).
bool datasetFromTensors(const strata_tensor &x, const strata_tensor &y,
                        const std::string &xName, const std::string &yName, Dataset &out,
                        std::string &error);

/// The order of one epoch's samples: a permutation drawn from `seed` and the
/// epoch number alone, so that a resumed run sees the same order.
std::vector<int64_t> epochOrder(int64_t count, uint64_t seed, int64_t epoch);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_TRAIN_DATASET_H
