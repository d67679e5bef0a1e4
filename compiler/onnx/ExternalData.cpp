//===- ExternalData.cpp - find a tensor's external data, safely -----------===//

#include "compiler/onnx/ExternalData.h"
#include "compiler/onnx/ImportError.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::onnx_import {

uint64_t externalElementBytes(int32_t t) {
  using onnx::TensorProto;
  switch (t) {
  case TensorProto::UINT8: case TensorProto::INT8: case TensorProto::BOOL:
    return 1;
  case TensorProto::UINT16: case TensorProto::INT16: case TensorProto::FLOAT16:
  case TensorProto::BFLOAT16:
    return 2;
  case TensorProto::FLOAT: case TensorProto::INT32: case TensorProto::UINT32:
    return 4;
  case TensorProto::DOUBLE: case TensorProto::INT64: case TensorProto::UINT64:
  case TensorProto::COMPLEX64:
    return 8;
  case TensorProto::COMPLEX128:
    return 16;
  default:
    return 0;
  }
}

namespace {

uint64_t parseNumber(const std::string &text, const char *key,
                     const std::string &what) {
  char *end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-' ||
      text[0] == '+' || text[0] == ' ')
    throw ImportError(what + ": external data " + key + " '" + text +
                      "' is not a non-negative number");
  return v;
}

/// The canonical absolute path of `path` (symbolic links resolved), or
/// empty with errno set.
std::string canonical(const std::string &path) {
  char buffer[PATH_MAX];
  if (!realpath(path.c_str(), buffer))
    return {};
  return buffer;
}

/// True if `location` has a ".." component ("a/../../b", "..", "../x").
bool climbsUp(const std::string &location) {
  size_t start = 0;
  while (start <= location.size()) {
    size_t slash = location.find('/', start);
    if (slash == std::string::npos)
      slash = location.size();
    if (location.compare(start, slash - start, "..") == 0 && slash - start == 2)
      return true;
    start = slash + 1;
  }
  return false;
}

} // namespace

ExternalData resolveExternalData(const onnx::TensorProto &tensor,
                                 const std::string &modelDir,
                                 uint64_t expectedBytes,
                                 const std::string &what) {
  std::string location;
  uint64_t offset = 0;
  bool hasLength = false;
  uint64_t length = 0;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = parseNumber(entry.value(), "offset", what);
    else if (entry.key() == "length")
      length = parseNumber(entry.value(), "length", what), hasLength = true;
  }
  if (location.empty())
    throw ImportError(what + ": external data has no 'location'");
  std::string quoted = "external data location '" + location + "'";
  if (location.find('\0') != std::string::npos)
    throw ImportError(what + ": " + quoted + " contains a NUL byte");
  if (location[0] == '/')
    throw ImportError(what + ": " + quoted +
                      " is an absolute path; it must name a file inside the "
                      "model's folder");
  if (climbsUp(location))
    throw ImportError(what + ": " + quoted +
                      " leaves the model's folder ('..'); external data must "
                      "be inside it");
  if (hasLength && length != expectedBytes)
    throw ImportError(what + ": external data length " + std::to_string(length) +
                      " does not match the " + std::to_string(expectedBytes) +
                      " bytes of its shape");

  std::string folder = canonical(modelDir);
  if (folder.empty())
    throw ImportError(what + ": cannot resolve the model's folder " + modelDir +
                      ": " + std::strerror(errno));
  std::string joined = modelDir + "/" + location;
  std::string resolved = canonical(joined);
  if (resolved.empty())
    throw ImportError(what + ": cannot open external data file " + joined +
                      ": " + std::strerror(errno));
  std::string prefix = folder == "/" ? "/" : folder + "/";
  if (resolved.compare(0, prefix.size(), prefix) != 0)
    throw ImportError(what + ": " + quoted + " resolves to " + resolved +
                      ", outside the model's folder (through a symbolic "
                      "link); external data must be inside it");

  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  ExternalData out;
  out.path = resolved;
  out.fd = open(resolved.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (out.fd < 0)
    throw ImportError(what + ": cannot open external data file " + resolved +
                      ": " + std::strerror(errno));
  struct stat st;
  if (fstat(out.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(out.fd);
    throw ImportError(what + ": " + quoted + " is not a regular file");
  }
  uint64_t size = (uint64_t)st.st_size;
  if (offset > size) {
    close(out.fd);
    throw ImportError(what + ": external data offset " + std::to_string(offset) +
                      " is past the end of " + resolved + " (" +
                      std::to_string(size) + " bytes)");
  }
  if (expectedBytes > size - offset) {
    close(out.fd);
    throw ImportError(what + ": external data needs " +
                      std::to_string(expectedBytes) + " bytes at offset " +
                      std::to_string(offset) + " of " + resolved +
                      ", which has " + std::to_string(size));
  }
  out.offset = offset;
  out.bytes = expectedBytes;
  return out;
}

} // namespace strata::onnx_import
