//===- DurableFile.cpp - files that appear whole or not at all ------------===//

#include "compiler/support/DurableFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

namespace {
std::string folderOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
} // namespace

bool isSpecialFile(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

bool writeFileDurably(const std::string &path, const std::string &bytes,
                      std::string &error) {
  if (isSpecialFile(path)) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < bytes.size();) {
      ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      ok = n > 0 || (n < 0 && errno == EINTR);
      done += n > 0 ? (size_t)n : 0;
    }
    if (!ok)
      error = "cannot write " + path + ": " + std::strerror(errno);
    if (fd >= 0)
      close(fd);
    return ok;
  }
  std::string tmp = path + ".strata-tmp";
  auto failWith = [&](const char *what, int fd) {
    error = "cannot write " + path + ": " + what + ": " + std::strerror(errno);
    if (fd >= 0)
      close(fd);
    unlink(tmp.c_str());
    return false;
  };
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return failWith("creating a temporary file", -1);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return failWith("writing", fd);
    done += (size_t)n;
  }
  if (fsync(fd) != 0)
    return failWith("flushing to disk", fd);
  if (close(fd) != 0)
    return failWith("closing", -1);
  if (rename(tmp.c_str(), path.c_str()) != 0)
    return failWith("renaming into place", -1);
  // The rename is only durable once the folder's entry is.
  int dir = open(folderOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return true;
}

} // namespace strata
