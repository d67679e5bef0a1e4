//===- Checkpoint.cpp - save and resume a training run --------------------===//

#include "train/Checkpoint.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace strata::cli {

static constexpr const char *kMagic = "strata-checkpoint 1";

bool saveCheckpoint(const std::string &path, const Checkpoint &c, std::string &error) {
  std::string tmp = path + ".strata-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kMagic << "\nmodel " << c.model << "\nepoch " << c.epoch << "\nbatch "
        << c.batch << "\nseed " << c.seed << "\ntensors " << c.tensors.size() << "\n";
    for (const auto &t : c.tensors)
      out << t.name << "\t" << t.values.size() << "\n";
    for (const auto &t : c.tensors)
      out.write(reinterpret_cast<const char *>(t.values.data()),
                (std::streamsize)(t.values.size() * sizeof(float)));
    if (!out) {
      std::remove(tmp.c_str());
      error = "cannot write checkpoint " + path;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str())) {
    std::remove(tmp.c_str());
    error = "cannot move the checkpoint to " + path;
    return false;
  }
  return true;
}

bool loadCheckpoint(const std::string &path, Checkpoint &c, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open checkpoint " + path;
    return false;
  }
  auto bad = [&](const std::string &why) {
    error = path + " is not a strata checkpoint (" + why + ")";
    return false;
  };
  std::string line, key;
  if (!std::getline(in, line) || line != kMagic)
    return bad("wrong header");
  size_t count = 0;
  auto field = [&](const char *name, auto &value) {
    if (!std::getline(in, line))
      return false;
    std::istringstream s(line);
    return (s >> key) && key == name && (s >> value);
  };
  if (!std::getline(in, line) || line.rfind("model ", 0) != 0)
    return bad("no model line");
  c.model = line.substr(6);
  if (!field("epoch", c.epoch) || !field("batch", c.batch) || !field("seed", c.seed) ||
      !field("tensors", count))
    return bad("truncated header");
  c.tensors.assign(count, {});
  for (auto &t : c.tensors) {
    size_t n = 0;
    if (!std::getline(in, line))
      return bad("truncated tensor list");
    size_t tab = line.rfind('\t');
    if (tab == std::string::npos)
      return bad("bad tensor line");
    t.name = line.substr(0, tab);
    n = std::strtoull(line.c_str() + tab + 1, nullptr, 10);
    t.values.resize(n);
  }
  for (auto &t : c.tensors)
    if (!in.read(reinterpret_cast<char *>(t.values.data()),
                 (std::streamsize)(t.values.size() * sizeof(float))))
      return bad("truncated data");
  return true;
}

} // namespace strata::cli
