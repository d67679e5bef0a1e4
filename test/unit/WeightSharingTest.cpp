//===- WeightSharingTest.cpp - k-means codebooks (Deep Compression) -------===//

#include "passes/compress/WeightSharing.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace strata;

TEST_CASE("clusterWeights: linear initialization, Lloyd to a fixed point, zeros outside",
          "[weight-sharing]") {
  // Two bits: centroids start at 1, 3.33, 5.67, 8 and settle at the means
  // of {1, 1.5}, {4}, {5}, {7, 8}.
  std::vector<float> w = {1.0f, 1.5f, 0.0f, 8.0f, 0.0f, 4.0f, 5.0f, 7.0f};
  Codebook c = clusterWeights(w, 2);
  REQUIRE(c.centroids == std::vector<float>{1.25f, 4.0f, 5.0f, 7.5f});
  REQUIRE(c.index == std::vector<int32_t>{0, 0, -1, 3, -1, 1, 2, 3});
  REQUIRE(sharedValues(c, w.size()) ==
          std::vector<float>{1.25f, 1.25f, 0.0f, 7.5f, 0.0f, 4.0f, 5.0f, 7.5f});
}

TEST_CASE("clusterWeights: fewer distinct values than centroids keeps them exactly",
          "[weight-sharing]") {
  std::vector<float> w = {-0.5f, 0.25f, -0.5f, 0.0f};
  Codebook c = clusterWeights(w, 8);
  REQUIRE(c.centroids == std::vector<float>{-0.5f, 0.25f});
  REQUIRE(sharedValues(c, w.size()) == w);
}

TEST_CASE("clusterWeights: all zeros has no codebook", "[weight-sharing]") {
  Codebook c = clusterWeights({0.0f, 0.0f}, 5);
  REQUIRE(c.centroids.empty());
  REQUIRE(sharedValues(c, 2) == std::vector<float>{0.0f, 0.0f});
}

TEST_CASE("clusterWeights: each weight takes its nearest centroid, each centroid is its "
          "cluster's mean", "[weight-sharing]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::vector<float> w(5000);
  for (float &v : w)
    v = normal(rng);
  for (int bits : {1, 3, 5}) {
    Codebook c = clusterWeights(w, bits, 1000);
    REQUIRE(c.iterations < 1000); // converged: no value moved
    REQUIRE(c.centroids.size() <= (size_t(1) << bits));
    REQUIRE(std::is_sorted(c.centroids.begin(), c.centroids.end()));
    std::vector<double> sum(c.centroids.size(), 0.0);
    std::vector<int> n(c.centroids.size(), 0);
    for (size_t i = 0; i < w.size(); ++i) {
      int32_t j = c.index[i];
      REQUIRE(j >= 0);
      for (float other : c.centroids)
        REQUIRE(std::fabs(w[i] - c.centroids[j]) <= std::fabs(w[i] - other) + 1e-7f);
      sum[j] += w[i];
      ++n[j];
    }
    for (size_t j = 0; j < c.centroids.size(); ++j) {
      REQUIRE(n[j] > 0);
      REQUIRE(std::fabs(c.centroids[j] - sum[j] / n[j]) < 1e-6);
    }
  }
}
