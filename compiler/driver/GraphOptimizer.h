//===- GraphOptimizer.h - strata opt: graph passes, ONNX to ONNX -*- C++ -*-===//

#ifndef STRATA_COMPILER_DRIVER_GRAPHOPTIMIZER_H
#define STRATA_COMPILER_DRIVER_GRAPHOPTIMIZER_H

#include <string>
#include <vector>

namespace strata {

/// A graph pass `strata opt --passes` can run.
struct GraphPassInfo {
  const char *name;     ///< as written in --passes
  const char *argument; ///< "" when it takes none, else what NAME=VALUE gives
  const char *description;
};

/// Every such pass, in the order --list-passes prints them.
const std::vector<GraphPassInfo> &graphPasses();

/// Imports `modelPath` (symbolic dimensions kept), runs `passes` (each NAME
/// or NAME=VALUE, in order) on the nn graph and writes it as ONNX at
/// `outputPath`. Every pass name and value is checked before anything is
/// read; nothing is written on failure. `summary` receives one line per
/// pass run.
bool optimizeModel(const std::string &modelPath, const std::vector<std::string> &passes,
                   const std::string &outputPath, std::vector<std::string> &summary,
                   std::string &error);

} // namespace strata

#endif // STRATA_COMPILER_DRIVER_GRAPHOPTIMIZER_H
