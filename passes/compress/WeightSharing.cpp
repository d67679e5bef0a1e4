//===- WeightSharing.cpp - k-means codebooks for a layer's weights ---------===//

#include "passes/compress/WeightSharing.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace strata {

namespace {

/// The centroid nearest `v` (ties: the lower one); `centroids` ascending.
int32_t nearest(const std::vector<float> &centroids, float v) {
  auto it = std::lower_bound(centroids.begin(), centroids.end(), v);
  if (it == centroids.begin())
    return 0;
  if (it == centroids.end())
    return static_cast<int32_t>(centroids.size() - 1);
  int32_t hi = static_cast<int32_t>(it - centroids.begin());
  return (v - centroids[hi - 1]) <= (centroids[hi] - v) ? hi - 1 : hi;
}

} // namespace

Codebook clusterWeights(const std::vector<float> &values, int bits, int maxIterations) {
  assert(bits >= 1 && bits <= 16 && "bits out of range");
  Codebook c;
  c.index.assign(values.size(), -1);
  float lo = INFINITY, hi = -INFINITY;
  std::vector<float> distinct;
  for (float v : values)
    if (v != 0.0f) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      distinct.push_back(v);
    }
  if (distinct.empty())
    return c;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  size_t k = std::min<size_t>(size_t(1) << bits, distinct.size());
  if (k == distinct.size()) {
    // Every value is its own centroid: nothing to approximate.
    c.centroids = distinct;
  } else {
    for (size_t i = 0; i < k; ++i)
      c.centroids.push_back(k == 1 ? (lo + hi) / 2
                                   : lo + (hi - lo) * float(i) / float(k - 1));
  }
  for (int it = 0; it < maxIterations; ++it) {
    bool moved = false;
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] == 0.0f)
        continue;
      int32_t j = nearest(c.centroids, values[i]);
      moved |= j != c.index[i];
      c.index[i] = j;
    }
    c.iterations = it + 1;
    if (!moved && it > 0)
      break;
    std::vector<double> sum(c.centroids.size(), 0.0);
    std::vector<int64_t> n(c.centroids.size(), 0);
    for (size_t i = 0; i < values.size(); ++i)
      if (c.index[i] >= 0) {
        sum[c.index[i]] += values[i];
        ++n[c.index[i]];
      }
    for (size_t j = 0; j < c.centroids.size(); ++j)
      if (n[j])
        c.centroids[j] = static_cast<float>(sum[j] / double(n[j]));
    // Means of ordered 1-D clusters stay ordered.
  }
  // Drop empty clusters and renumber.
  std::vector<int64_t> n(c.centroids.size(), 0);
  for (int32_t j : c.index)
    if (j >= 0)
      ++n[j];
  std::vector<int32_t> renumber(c.centroids.size(), -1);
  std::vector<float> kept;
  for (size_t j = 0; j < c.centroids.size(); ++j)
    if (n[j]) {
      renumber[j] = static_cast<int32_t>(kept.size());
      kept.push_back(c.centroids[j]);
    }
  for (int32_t &j : c.index)
    if (j >= 0)
      j = renumber[j];
  c.centroids = std::move(kept);
  return c;
}

std::vector<float> sharedValues(const Codebook &codebook, size_t count) {
  std::vector<float> out(count, 0.0f);
  for (size_t i = 0; i < count && i < codebook.index.size(); ++i)
    if (codebook.index[i] >= 0)
      out[i] = codebook.centroids[codebook.index[i]];
  return out;
}

bool parseLayerBits(llvm::StringRef text, LayerBits &out, std::string &error) {
  auto inRange = [](int b) { return b >= 1 && b <= 16; };
  int all = 0;
  if (!text.trim().getAsInteger(10, all)) {
    out.conv = out.fc = all;
  } else {
    llvm::SmallVector<llvm::StringRef> items;
    text.split(items, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef item : items) {
      auto [key, value] = item.split('=');
      int bits = 0;
      if ((key.trim() != "conv" && key.trim() != "fc") || value.trim().getAsInteger(10, bits)) {
        error = "--bits '" + text.str() + "': expected conv=N,fc=N (or one N for both)";
        return false;
      }
      (key.trim() == "conv" ? out.conv : out.fc) = bits;
    }
  }
  if (!inRange(out.conv) || !inRange(out.fc)) {
    error = "--bits '" + text.str() + "': bits per weight must be in 1..16";
    return false;
  }
  return true;
}

std::optional<Codebook> indexByCodebook(const std::vector<float> &values,
                                        const std::vector<float> &centroids) {
  Codebook c;
  c.centroids = centroids;
  c.index.assign(values.size(), -1);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == 0.0f)
      continue;
    auto it = std::lower_bound(centroids.begin(), centroids.end(), values[i]);
    if (it == centroids.end() || *it != values[i])
      return std::nullopt;
    c.index[i] = static_cast<int32_t>(it - centroids.begin());
  }
  return c;
}

} // namespace strata
