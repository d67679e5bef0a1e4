//===- ModuleCache.cpp - compiled modules reused by run and bench ---------===//

#include "ModuleCache.h"

#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <cstdlib>

namespace strata::cli {

namespace {
std::string cacheDir() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/strata";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/strata";
  return "/tmp/strata-cache";
}
} // namespace

std::string cachedModule(const std::string &model, const CompileOptions &opt,
                         bool useCache, std::string &error) {
  llvm::sys::fs::file_status modelStatus, self;
  if (llvm::sys::fs::status(model, modelStatus)) {
    error = model + ": cannot open model";
    return {};
  }
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable("strata", &anchor);
  llvm::sys::fs::status(exe, self);
  llvm::SmallString<256> absolute(model);
  llvm::sys::fs::make_absolute(absolute);
  // A new strata build or a changed model gives a new key.
  size_t key = llvm::hash_combine(
      std::string(absolute), modelStatus.getSize(),
      modelStatus.getLastModificationTime().time_since_epoch().count(),
      opt.batch, opt.cpu, static_cast<int>(opt.target), opt.gpuArch,
      static_cast<int>(opt.convKernels), static_cast<int>(opt.sparse), opt.precision,
      llvm::hash_combine_range(opt.keepFp32.begin(), opt.keepFp32.end()),
      self.getLastModificationTime().time_since_epoch().count());
  std::string dir = cacheDir();
  std::string path = dir + "/" + llvm::sys::path::stem(model).str() + "-" +
                     llvm::utohexstr(key, /*LowerCase=*/true) + ".so";
  if (useCache && llvm::sys::fs::exists(path))
    return path;
  if (llvm::sys::fs::create_directories(dir)) {
    error = "cannot create the cache directory " + dir;
    return {};
  }
  CompileOptions so = opt;
  so.emit = Stage::Exe; // with a .so name: a shared library
  if (!compileModel(model, path, so, error))
    return {};
  return path;
}

} // namespace strata::cli
