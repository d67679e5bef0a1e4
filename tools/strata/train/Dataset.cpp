//===- Dataset.cpp - training data for strata train -----------------------===//

#include "train/Dataset.h"

#include "strata/runtime.h"

#include "llvm/Support/FileSystem.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace strata::cli {
namespace {

bool exists(const std::string &p) { return llvm::sys::fs::exists(p); }

/// The largest data set file strata reads (after gunzip): bounds what a
/// hostile .gz (a few KB that inflate to terabytes) can make it allocate.
constexpr size_t kMaxDataBytes = size_t(16) << 30;

uint32_t bigEndian32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out.size() <= kMaxDataBytes)
    out.insert(out.end(), buf, buf + n);
  bool ok = !std::ferror(f) && out.size() <= kMaxDataBytes;
  std::fclose(f);
  if (!ok)
    error = path + ": cannot read it (or it is larger than 16 GiB)";
  return ok;
}

} // namespace

bool gunzipIfGzip(std::vector<uint8_t> &bytes, const std::string &name, std::string &error) {
  if (bytes.size() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b)
    return true;
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) {
    error = name + ": cannot start gzip decompression";
    return false;
  }
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  z.next_in = bytes.data();
  z.avail_in = (uInt)std::min<size_t>(bytes.size(), UINT32_MAX);
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END)
      break;
    out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
    if (out.size() > kMaxDataBytes) {
      inflateEnd(&z);
      error = name + ": decompresses to more than 16 GiB";
      return false;
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      rc = Z_BUF_ERROR; // input ended before the stream did
      break;
    }
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    error = name + ": corrupt or truncated gzip data";
    return false;
  }
  bytes.swap(out);
  return true;
}

bool parseIdx(const std::vector<uint8_t> &bytes, const std::string &name,
              std::vector<uint32_t> &dims, std::vector<uint8_t> &data, std::string &error) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
    error = name + ": not an idx file of unsigned bytes";
    return false;
  }
  size_t rank = bytes[3], header = 4 + 4 * rank;
  uint64_t count = 1;
  if (bytes.size() < header) {
    error = name + ": truncated idx header";
    return false;
  }
  bool overflow = false;
  dims.clear();
  for (size_t i = 0; i < rank; ++i) {
    dims.push_back(bigEndian32(&bytes[4 + 4 * i]));
    overflow |= __builtin_mul_overflow(count, (uint64_t)dims.back(), &count);
  }
  if (overflow || count != bytes.size() - header) {
    error = name + ": its header promises " +
            (overflow ? std::string("more bytes than fit in 64 bits")
                      : std::to_string(count) + " bytes of data") +
            ", the file has " + std::to_string(bytes.size() - header);
    return false;
  }
  data.assign(bytes.begin() + header, bytes.end());
  return true;
}

namespace {

/// An idx file of unsigned bytes: magic 0x0000080N, N dimensions.
bool readIdx(const std::string &path, std::vector<uint32_t> &dims,
             std::vector<uint8_t> &data, std::string &error) {
  std::vector<uint8_t> bytes;
  return readFile(path, bytes, error) && gunzipIfGzip(bytes, path, error) &&
         parseIdx(bytes, path, dims, data, error);
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
  return readIdx(images, idims, pixels, error) && readIdx(labels, ldims, ids, error) &&
         datasetFromIdx(idims, pixels, ldims, ids, images, labels, out, error);
}

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
  bool ok = datasetFromTensors(x, y, xPath, yPath, out, error);
  strata_tensor_free(&x);
  strata_tensor_free(&y);
  return ok;
}

} // namespace

bool datasetFromIdx(const std::vector<uint32_t> &idims, const std::vector<uint8_t> &pixels,
                    const std::vector<uint32_t> &ldims, const std::vector<uint8_t> &ids,
                    const std::string &images, const std::string &labels, Dataset &out,
                    std::string &error) {
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

bool datasetFromTensors(const strata_tensor &x, const strata_tensor &y,
                        const std::string &xPath, const std::string &yPath, Dataset &out,
                        std::string &error) {
  int64_t n = x.rank ? x.dims[0] : 0, total = strata_tensor_num_elements(&x);
  if (x.rank < 1 || y.rank < 1 || y.dims[0] != n) {
    error = xPath + " and " + yPath + " must both have the samples first, in equal numbers";
    return false;
  }
  if (x.dtype != STRATA_FLOAT && x.dtype != STRATA_UINT8) {
    error = xPath + ": samples must be FLOAT or UINT8, not " + strata_dtype_name(x.dtype);
    return false;
  }
  out.count = n;
  out.features = n ? total / n : 0;
  out.x.resize(total);
  for (int64_t i = 0; i < total; ++i)
    out.x[i] = x.dtype == STRATA_FLOAT ? ((float *)x.data)[i] : ((uint8_t *)x.data)[i] / 255.0f;
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
    return false;
  }
  if (!out.labels.empty() && (int64_t)out.labels.size() != n) {
    error = yPath + ": class ids must be one per sample (shape [N])";
    return false;
  }
  return true;
}


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
