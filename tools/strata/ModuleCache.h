//===- ModuleCache.h - compiled modules reused by run and bench -*- C++ -*-===//

#ifndef STRATA_TOOLS_STRATA_MODULECACHE_H
#define STRATA_TOOLS_STRATA_MODULECACHE_H

#include "compiler/driver/Compiler.h"

#include <string>

namespace strata::cli {

/// Returns the path of a shared library compiled from `model` with
/// `options`, building it unless a cached build (same model bytes' size and
/// time, same options, same strata build) exists in $XDG_CACHE_HOME/strata
/// (or ~/.cache/strata). Empty string and `error` on failure.
std::string cachedModule(const std::string &model, const CompileOptions &options,
                         bool useCache, std::string &error);

} // namespace strata::cli

#endif
