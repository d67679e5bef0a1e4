//===- SensitivityPlot.h - strata prune --sensitivity's picture -*- C++ -*-===//

#ifndef STRATA_TOOLS_STRATA_SENSITIVITYPLOT_H
#define STRATA_TOOLS_STRATA_SENSITIVITYPLOT_H

#include <string>
#include <vector>

namespace strata::cli {

/// One layer's score (accuracy, or MSE) at each sparsity of the sweep.
struct SensitivityCurve {
  std::string layer;
  std::vector<double> scores;
};

/// Han et al.'s sensitivity figure as SVG at `path`: one line per layer of
/// score against sparsity (the sweep's values, 0 being the dense model).
bool writeSensitivityPlot(const std::string &path, const std::string &title,
                          const std::string &metric, const std::vector<double> &sweep,
                          const std::vector<SensitivityCurve> &curves, std::string &error);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_SENSITIVITYPLOT_H
