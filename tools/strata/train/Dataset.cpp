//===- Dataset.cpp - training data for strata train -----------------------===//

#include "train/Dataset.h"

#include "strata/runtime.h"

#include "llvm/Support/FileSystem.h"

#include <zlib.h>

#include <cstring>

namespace strata::cli {
namespace {

bool exists(const std::string &p) { return llvm::sys::fs::exists(p); }

/// Reads a whole file, gunzipping it when it is gzip (zlib reads plain
/// files unchanged).
bool readMaybeGzip(const std::string &path, std::vector<uint8_t> &out,
                   std::string &error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open " + path;
    return false;
  }
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0)
    out.insert(out.end(), buf, buf + n);
  bool ok = n == 0;
  if (!ok) {
    int code;
    error = path + ": " + gzerror(f, &code);
  }
  gzclose(f);
  return ok;
}

uint32_t bigEndian32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/// An idx file of unsigned bytes: magic 0x0000080N, N dimensions.
bool readIdx(const std::string &path, std::vector<uint32_t> &dims,
             std::vector<uint8_t> &data, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readMaybeGzip(path, bytes, error))
    return false;
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
    error = path + ": not an idx file of unsigned bytes";
    return false;
  }
  size_t rank = bytes[3], header = 4 + 4 * rank, count = 1;
  if (bytes.size() < header) {
    error = path + ": truncated idx header";
    return false;
  }
  for (size_t i = 0; i < rank; ++i) {
    dims.push_back(bigEndian32(&bytes[4 + 4 * i]));
    count *= dims.back();
  }
  if (bytes.size() != header + count) {
    error = path + ": expected " + std::to_string(count) + " bytes of data, found " +
            std::to_string(bytes.size() - header);
    return false;
  }
  data.assign(bytes.begin() + header, bytes.end());
  return true;
}

std::string firstExisting(const std::string &dir, std::vector<std::string> names) {
  for (const auto &n : names)
    for (const char *ext : {"", ".gz"})
      if (exists(dir + "/" + n + ext))
        return dir + "/" + n + ext;
  return {};
}

bool loadIdx(const std::string &images, const std::string &labels, Dataset &out,
             std::string &error) {
  std::vector<uint32_t> idims, ldims;
  std::vector<uint8_t> pixels, ids;
  if (!readIdx(images, idims, pixels, error) || !readIdx(labels, ldims, ids, error))
    return false;
  if (idims.empty() || ldims.size() != 1 || idims[0] != ldims[0]) {
    error = images + " and " + labels + " disagree on the number of samples";
    return false;
  }
  out.count = idims[0];
  out.features = out.count ? (int64_t)(pixels.size() / out.count) : 0;
  out.x.resize(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i)
    out.x[i] = pixels[i] / 255.0f;
  out.labels.assign(ids.begin(), ids.end());
  return true;
}

/// x: float or uint8 (scaled to [0, 1]); y: integer class ids or floats.
bool loadNpy(const std::string &xPath, const std::string &yPath, Dataset &out,
             std::string &error) {
  strata_tensor x, y;
  if (strata_tensor_read_file(xPath.c_str(), &x)) {
    error = strata_last_error();
    return false;
  }
  if (strata_tensor_read_file(yPath.c_str(), &y)) {
    error = strata_last_error();
    strata_tensor_free(&x);
    return false;
  }
  bool ok = true;
  int64_t n = x.rank ? x.dims[0] : 0, total = strata_tensor_num_elements(&x);
  if (x.rank < 1 || y.rank < 1 || y.dims[0] != n) {
    error = xPath + " and " + yPath + " must both have the samples first, in equal numbers";
    ok = false;
  } else if (x.dtype != STRATA_FLOAT && x.dtype != STRATA_UINT8) {
    error = xPath + ": samples must be FLOAT or UINT8, not " + strata_dtype_name(x.dtype);
    ok = false;
  }
  if (ok) {
    out.count = n;
    out.features = n ? total / n : 0;
    out.x.resize(total);
    for (int64_t i = 0; i < total; ++i)
      out.x[i] = x.dtype == STRATA_FLOAT ? ((float *)x.data)[i]
                                         : ((uint8_t *)x.data)[i] / 255.0f;
    int64_t ny = strata_tensor_num_elements(&y);
    switch (y.dtype) {
    case STRATA_INT64: out.labels.assign((int64_t *)y.data, (int64_t *)y.data + ny); break;
    case STRATA_INT32: out.labels.assign((int32_t *)y.data, (int32_t *)y.data + ny); break;
    case STRATA_UINT8: out.labels.assign((uint8_t *)y.data, (uint8_t *)y.data + ny); break;
    case STRATA_FLOAT:
      out.targets.assign((float *)y.data, (float *)y.data + ny);
      out.targetSize = n ? ny / n : 0;
      break;
    default:
      error = yPath + ": labels must be integer class ids or FLOAT targets";
      ok = false;
    }
    if (ok && !out.labels.empty() && (int64_t)out.labels.size() != n) {
      error = yPath + ": class ids must be one per sample (shape [N])";
      ok = false;
    }
  }
  strata_tensor_free(&x);
  strata_tensor_free(&y);
  return ok;
}

} // namespace

bool loadSplit(const std::string &dirIn, bool train, Dataset &out,
               std::string &error, bool optional) {
  std::string dir = dirIn == "fashion-mnist" ? kFashionMnistDir : dirIn;
  out = Dataset();
  if (!llvm::sys::fs::is_directory(dir)) {
    error = "--data " + dirIn + " is not a folder" +
            (dirIn == "fashion-mnist" ? " (install Debian's dataset-fashion-mnist)" : "");
    return false;
  }
  std::string prefix = train ? "train" : "t10k";
  std::string images = firstExisting(dir, {prefix + "-images-idx3-ubyte", prefix + "-images.idx3-ubyte"});
  std::string labels = firstExisting(dir, {prefix + "-labels-idx1-ubyte", prefix + "-labels.idx1-ubyte"});
  if (!images.empty() && !labels.empty())
    return loadIdx(images, labels, out, error);
  std::string split = train ? "train" : "test";
  std::string x = dir + "/" + split + "_x.npy", y = dir + "/" + split + "_y.npy";
  if (exists(x) && exists(y))
    return loadNpy(x, y, out, error);
  if (optional)
    return true;
  error = dir + " has neither " + prefix + "-images-idx3-ubyte[.gz] with " + prefix +
          "-labels-idx1-ubyte[.gz] (MNIST layout) nor " + split + "_x.npy with " +
          split + "_y.npy";
  return false;
}

std::vector<int64_t> epochOrder(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(count);
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;
  // Fisher-Yates with mt19937_64 (std::shuffle's algorithm is not
  // specified, so the order would differ between standard libraries).
  std::mt19937_64 rng(seed * 1000003ull + (uint64_t)epoch);
  for (int64_t i = count - 1; i > 0; --i) {
    int64_t j = (int64_t)(rng() % (uint64_t)(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

} // namespace strata::cli
