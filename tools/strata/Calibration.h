//===- Calibration.h - activation ranges from a compiled float model -*- C++ -*-===//
//
// strata quantize and strata train --qat calibrate the same way: the float
// model, compiled with every tensor to quantize as an extra output, runs
// over samples, and each tensor's values give its range.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_CALIBRATION_H
#define STRATA_TOOLS_STRATA_CALIBRATION_H

#include "compiler/onnx/QdqModel.h"
#include "train/TemporaryDirectory.h"

#include "strata/runtime.h"

#include <map>
#include <string>
#include <vector>

namespace strata::cli {

/// A compiled model loaded from a shared library, freed with it.
struct Loaded {
  strata_module *m = nullptr;
  ~Loaded() { strata_module_free(m); }
};

enum class CalibrationMethod { MinMax, Percentile, Entropy };

/// What calibration leaves: the ranges, and the loaded observed model and
/// samples (strata quantize --report runs them again).
struct Calibration {
  TemporaryDirectory work{"strata-calibrate"};
  Loaded floatModel;
  std::vector<float> rows; ///< samples, `features` floats each
  int64_t features = 0, count = 0;
  std::map<std::string, int> outputOf; ///< tensor -> output of floatModel
  std::map<std::string, TensorRange> ranges;
};

/// Calibrates `plan`'s activations of `model` on up to `samples` samples of
/// `data` (a folder of .npy, one .npy, or training data as strata train
/// --data takes it).
/// `threads` splits each operator (0: all cores).
bool calibrateModel(const std::string &model, const QdqPlan &plan, const std::string &data,
                    int64_t samples, CalibrationMethod method, double upperPercentile,
                    int threads, Calibration &calibration, std::string &error);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_CALIBRATION_H
