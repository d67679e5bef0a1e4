//===- TemporaryDirectory.h - a folder removed with its contents -*- C++ -*-===//
//
// strata train and strata prune compile into a fresh folder under the
// system's temporary directory and remove it however they end.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_TRAIN_TEMPORARYDIRECTORY_H
#define STRATA_TOOLS_STRATA_TRAIN_TEMPORARYDIRECTORY_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <string>

namespace strata::cli {

class TemporaryDirectory {
public:
  /// Creates <tmp>/<prefix>-XXXXXX; ok() says whether it worked.
  explicit TemporaryDirectory(const char *prefix) {
    llvm::SmallString<128> dir;
    if (!llvm::sys::fs::createUniqueDirectory(prefix, dir))
      path_ = std::string(dir);
  }
  ~TemporaryDirectory() {
    if (!path_.empty())
      llvm::sys::fs::remove_directories(path_);
  }
  TemporaryDirectory(const TemporaryDirectory &) = delete;
  TemporaryDirectory &operator=(const TemporaryDirectory &) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_TRAIN_TEMPORARYDIRECTORY_H
