//===- Checkpoint.cpp - save and resume a training run --------------------===//

#include "train/Checkpoint.h"

#include "compiler/support/DurableFile.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace strata::cli {

namespace {

constexpr const char *kMagic = "strata-checkpoint 2";

uint64_t fnv1a(const char *p, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  for (size_t i = 0; i < n; ++i)
    h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
  return h;
}

/// Text fields may not break the line-oriented header.
std::string oneLine(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  return s;
}

} // namespace

bool saveCheckpoint(const std::string &path, const Checkpoint &c, std::string &error) {
  std::string payload;
  for (const auto &t : c.tensors)
    payload.append(reinterpret_cast<const char *>(t.values.data()),
                   t.values.size() * sizeof(float));
  std::ostringstream out;
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016" PRIx64, fnv1a(payload.data(), payload.size()));
  out << kMagic << "\nmodel " << oneLine(c.model) << "\nepoch " << c.epoch << "\nstep "
      << c.step << "\nbatch_size " << c.batchSize << "\nsamples " << c.samples << "\nseed "
      << c.seed << "\nloss " << oneLine(c.loss) << "\noptimizer " << oneLine(c.optimizer)
      << "\ntensors " << c.tensors.size() << "\npayload_bytes " << payload.size()
      << "\nchecksum " << checksum << "\n";
  for (const auto &t : c.tensors)
    out << oneLine(t.name) << "\t" << t.values.size() << "\n";
  std::string bytes = out.str() + payload;
  return writeFileDurably(path, bytes, error);
}

bool loadCheckpoint(const std::string &path, Checkpoint &c, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open checkpoint " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parseCheckpoint(all, path, c, error);
}

bool parseCheckpoint(const std::string &all, const std::string &path, Checkpoint &c,
                     std::string &error) {
  auto bad = [&](const std::string &why) {
    error = path + " is not a valid strata checkpoint (" + why + ")";
    return false;
  };
  size_t pos = 0;
  auto line = [&](std::string &out) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string::npos)
      return false;
    out = all.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string text;
  if (!line(text) || text != kMagic)
    return bad(text.rfind("strata-checkpoint", 0) == 0 ? "written by another strata version"
                                                       : "wrong header");
  /// "key value" lines in a fixed order.
  auto field = [&](const char *key, std::string &value) {
    if (!line(text) || text.rfind(std::string(key) + " ", 0) != 0)
      return false;
    value = text.substr(std::strlen(key) + 1);
    return true;
  };
  auto number = [&](const char *key, auto &value, bool hex = false) {
    std::string v;
    if (!field(key, v) || v.empty())
      return false;
    char *end = nullptr;
    errno = 0;
    unsigned long long u = std::strtoull(v.c_str(), &end, hex ? 16 : 10);
    if (*end || errno || v[0] == '-')
      return false;
    value = (std::remove_reference_t<decltype(value)>)u;
    return u <= (unsigned long long)INT64_MAX || hex;
  };
  uint64_t count = 0, payloadBytes = 0, checksum = 0;
  if (!field("model", c.model) || !number("epoch", c.epoch) || !number("step", c.step) ||
      !number("batch_size", c.batchSize) || !number("samples", c.samples) ||
      !number("seed", c.seed) || !field("loss", c.loss) || !field("optimizer", c.optimizer) ||
      !number("tensors", count) || !number("payload_bytes", payloadBytes) ||
      !number("checksum", checksum, /*hex=*/true))
    return bad("truncated or malformed header");
  // Every size is checked against the file before anything is allocated.
  if (payloadBytes > all.size() - pos)
    return bad("the header promises " + std::to_string(payloadBytes) +
               " bytes of data, the file has " + std::to_string(all.size() - pos) +
               " after it (truncated?)");
  if (count > all.size())
    return bad("more tensors than the file could hold");
  c.tensors.assign(count, {});
  uint64_t total = 0;
  for (auto &t : c.tensors) {
    if (!line(text))
      return bad("truncated tensor list");
    size_t tab = text.rfind('\t');
    if (tab == std::string::npos)
      return bad("malformed tensor line");
    t.name = text.substr(0, tab);
    char *end = nullptr;
    unsigned long long n = std::strtoull(text.c_str() + tab + 1, &end, 10);
    if (*end || n > payloadBytes / sizeof(float))
      return bad("tensor '" + t.name + "' has an impossible size");
    total += n * sizeof(float);
    t.values.resize(n);
  }
  if (total != payloadBytes || all.size() - pos != payloadBytes)
    return bad("the tensors need " + std::to_string(total) + " bytes, the data has " +
               std::to_string(all.size() - pos));
  if (fnv1a(all.data() + pos, payloadBytes) != checksum)
    return bad("checksum mismatch: the file is corrupt");
  for (auto &t : c.tensors) {
    std::memcpy(t.values.data(), all.data() + pos, t.values.size() * sizeof(float));
    pos += t.values.size() * sizeof(float);
  }
  return true;
}

} // namespace strata::cli
