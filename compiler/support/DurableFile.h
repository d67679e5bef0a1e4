//===- DurableFile.h - files that appear whole or not at all ----*- C++ -*-===//
//
// What strata writes for the user (trained models, checkpoints) must never
// be found half written, even if the process is killed or the machine loses
// power in the middle: the bytes go to a temporary file beside the target,
// are flushed to the disk (fsync), and only then renamed over the target,
// and the rename itself is flushed (fsync of the folder). A reader sees the
// old file or the new one, nothing in between.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_SUPPORT_DURABLEFILE_H
#define STRATA_COMPILER_SUPPORT_DURABLEFILE_H

#include <string>

namespace strata {

/// Whether `path` exists and is neither a regular file nor a folder (a
/// device such as /dev/null, a FIFO): outputs are written through it, never
/// renamed over it (which would replace the device node itself).
bool isSpecialFile(const std::string &path);

/// Replaces `path` with `bytes` as described above (written through a
/// special file, isSpecialFile). Returns false with
/// `error` naming the file and the OS's reason; the target is then untouched
/// and no temporary is left.
bool writeFileDurably(const std::string &path, const std::string &bytes,
                      std::string &error);

} // namespace strata

#endif // STRATA_COMPILER_SUPPORT_DURABLEFILE_H
