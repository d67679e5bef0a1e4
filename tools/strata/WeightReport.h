//===- WeightReport.h - strata inspect --weights ----------------*- C++ -*-===//

#ifndef STRATA_TOOLS_STRATA_WEIGHTREPORT_H
#define STRATA_TOOLS_STRATA_WEIGHTREPORT_H

#include "compiler/driver/WeightStatistics.h"

#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace strata::cli {

/// `text` with <, > and & escaped, for SVG text.
std::string escapeXml(const std::string &text);

/// Counts of `values` in `bins` equal bins over [-limit, limit].
std::vector<int64_t> histogram(const std::vector<float> &values, double limit, int bins);

/// The per-initializer table, totals, and a text histogram of the layer
/// weights' nonzero values.
void printWeightReport(const std::vector<WeightStatistics> &stats,
                       const std::vector<float> &layerNonzeros, llvm::raw_ostream &os);

/// The same histogram and per-layer sparsity as an SVG picture at `path`.
bool writeWeightPlot(const std::string &path, const std::string &title,
                     const std::vector<WeightStatistics> &stats,
                     const std::vector<float> &layerNonzeros, std::string &error);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_WEIGHTREPORT_H
