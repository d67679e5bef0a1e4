// The compressed package (.stz): the C++ writer and the C runtime's reader
// agree on every layer; a truncated or corrupted package, a wrong checksum,
// an unknown version and bits outside 1..16 are each refused with their
// own message, never a crash.
#include "compiler/onnx/Package.h"
#include "passes/compress/WeightSharing.h"
#include "strata/package.h"
#include "strata/runtime.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using strata::Codebook;

/// A pruned layer of `count` values (`keep` of them nonzero) shared at `bits`.
std::vector<float> prunedValues(size_t count, double keep, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<float> v(count, 0.0f);
  for (float &x : v)
    if (uniform(rng) < keep)
      x = normal(rng);
  return v;
}

struct Layer {
  std::string name;
  std::vector<int64_t> shape;
  int bits;
  std::vector<float> values; // shared
};

Layer makeLayer(const std::string &name, std::vector<int64_t> shape, int bits, double keep,
                unsigned seed) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  std::vector<float> raw = prunedValues(n, keep, seed);
  Codebook c = strata::clusterWeights(raw, bits);
  return {name, shape, bits, strata::sharedValues(c, n)};
}

std::string packageOf(const std::vector<Layer> &layers) {
  std::vector<std::string> records;
  for (const Layer &l : layers)
    records.push_back(strata::encodeLayer(l.name, l.shape, l.bits,
                                          strata::clusterWeights(l.values, l.bits)));
  return strata::assemblePackage("graph bytes (not parsed by the C reader)", records);
}

/// Opens `bytes`; on success decodes every layer. Returns the error text
/// ("" on success), which must name the package (a message left from an
/// earlier failure would not).
std::string openAndDecode(const std::string &bytes) {
  strata_package *p = nullptr;
  std::string error;
  if (strata_package_open(bytes.data(), bytes.size(), "t.stz", &p)) {
    error = strata_last_error();
    REQUIRE(error.find("t.stz") != std::string::npos);
    return error;
  }
  for (int i = 0; i < strata_package_num_layers(p) && error.empty(); ++i) {
    strata_packed_layer info;
    REQUIRE(strata_package_layer(p, i, &info) == 0);
    std::vector<float> out(size_t(info.count));
    if (strata_package_decode_layer(p, i, out.data(), info.count))
      error = strata_last_error();
  }
  strata_package_close(p);
  if (!error.empty())
    REQUIRE(error.find("t.stz") != std::string::npos);
  return error;
}

/// Rewrites the header's checksum after an edit, so that the reader gets to
/// the field edited.
void fixChecksum(std::string &bytes) {
  uint32_t crc = strata_crc32(0, bytes.data() + 32, bytes.size() - 32);
  std::memcpy(&bytes[24], &crc, 4);
}

/// The offset of the first layer record's payload.
size_t firstLayerPayload(const std::string &bytes) {
  uint64_t graphSize;
  std::memcpy(&graphSize, &bytes[32 + 8], 8);
  return 32 + 16 + graphSize + 16;
}

} // namespace

TEST_CASE("package: layers decode to exactly the shared values", "[package]") {
  std::vector<Layer> layers = {makeLayer("conv.weight", {8, 4, 5, 5}, 8, 0.4, 1),
                               makeLayer("fc.weight", {300, 784}, 5, 0.08, 2),
                               makeLayer("dense.weight", {10, 100}, 5, 1.0, 3),
                               makeLayer("tiny.weight", {1, 3}, 2, 1.0, 4)};
  // A layer with every value pruned, and one with a single distinct value.
  layers.push_back({"empty.weight", {4, 4}, 3, std::vector<float>(16, 0.0f)});
  layers.push_back({"one.weight", {2, 2}, 1, {0.5f, 0.0f, 0.5f, 0.5f}});
  std::string bytes = packageOf(layers);
  strata_package *p = nullptr;
  REQUIRE(strata_package_open(bytes.data(), bytes.size(), "t.stz", &p) == 0);
  REQUIRE(strata_package_num_layers(p) == int(layers.size()));
  size_t graphSize = 0;
  const char *graph = static_cast<const char *>(strata_package_graph(p, &graphSize));
  CHECK(std::string(graph, graphSize) == "graph bytes (not parsed by the C reader)");
  for (int i = 0; i < int(layers.size()); ++i) {
    strata_packed_layer info;
    REQUIRE(strata_package_layer(p, i, &info) == 0);
    CHECK(std::string(info.name) == layers[i].name);
    CHECK(info.rank == int(layers[i].shape.size()));
    CHECK(info.bits == layers[i].bits);
    int64_t nonzero = 0;
    for (float v : layers[i].values)
      nonzero += v != 0.0f;
    CHECK(info.nonzero == nonzero);
    std::vector<float> out(size_t(info.count), -1.0f);
    REQUIRE(strata_package_decode_layer(p, i, out.data(), info.count) == 0);
    CHECK(out == layers[i].values);
    std::vector<float> centroids(size_t(info.num_centroids));
    REQUIRE(strata_package_copy_centroids(p, i, centroids.data()) == 0);
    CHECK(centroids == strata::clusterWeights(layers[i].values, layers[i].bits).centroids);
  }
  strata_packed_layer info;
  CHECK(strata_package_layer(p, 99, &info) != 0);
  std::vector<float> wrong(3);
  CHECK(strata_package_decode_layer(p, 0, wrong.data(), 3) != 0);
  CHECK(std::string(strata_last_error()).find("has 800 values, not 3") != std::string::npos);
  strata_package_close(p);
}

TEST_CASE("package: pruned layers code smaller than their dense floats", "[package]") {
  // 92% pruned, 5 bits: relative positions and indices, Huffman-coded,
  // take a few bits per kept weight (the paper's LeNet-300-100 fc1).
  Layer fc = makeLayer("fc1.weight", {300, 784}, 5, 0.08, 5);
  int gapBits = 0;
  std::string record = strata::encodeLayer(fc.name, fc.shape, fc.bits,
                                           strata::clusterWeights(fc.values, fc.bits), &gapBits);
  double kept = 0;
  for (float v : fc.values)
    kept += v != 0.0f;
  double bitsPerKept = 8.0 * double(record.size()) / kept;
  INFO("gap bits " << gapBits << ", " << bitsPerKept << " bits per kept weight");
  CHECK(bitsPerKept < 10.0);
  CHECK(record.size() * 30 < fc.values.size() * 4);
}

TEST_CASE("package: truncated at every length, refused with a reason", "[package]") {
  std::string bytes = packageOf({makeLayer("fc.weight", {20, 30}, 4, 0.3, 6)});
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::string cut = bytes.substr(0, n);
    std::string error = openAndDecode(cut);
    INFO("truncated to " << n << " bytes");
    REQUIRE(!error.empty());
    if (n >= 32)
      CHECK(error.find("truncated") != std::string::npos);
  }
}

TEST_CASE("package: every flipped bit is caught", "[package]") {
  std::string bytes = packageOf({makeLayer("fc.weight", {20, 30}, 4, 0.3, 7)});
  for (size_t bit = 0; bit < bytes.size() * 8; bit += 7) {
    std::string bad = bytes;
    bad[bit / 8] ^= char(1 << (bit % 8));
    INFO("bit " << bit);
    CHECK(!openAndDecode(bad).empty());
  }
  std::string bad = bytes;
  bad[bytes.size() - 1] ^= 1;
  CHECK(openAndDecode(bad).find("checksum mismatch") != std::string::npos);
}

TEST_CASE("package: header and record fields out of range", "[package]") {
  std::string good = packageOf({makeLayer("fc.weight", {20, 30}, 4, 0.3, 8)});
  REQUIRE(openAndDecode(good).empty());
  SECTION("not a package") {
    CHECK(openAndDecode("hello, this is not a strata package at all")
              .find("not a strata package") != std::string::npos);
  }
  SECTION("unknown version") {
    std::string bad = good;
    uint32_t version = 2;
    std::memcpy(&bad[8], &version, 4);
    CHECK(openAndDecode(bad).find("package format version 2; this strata reads version 1") !=
          std::string::npos);
  }
  SECTION("bytes appended") {
    std::string bad = good + "xx";
    CHECK(openAndDecode(bad).find("truncated or appended to") != std::string::npos);
  }
  size_t layer = firstLayerPayload(good);
  size_t fields = layer + 2 + std::strlen("fc.weight"); // rank, bits, gap bits
  for (int bits : {0, 17, 200}) {
    DYNAMIC_SECTION("bits per index " << bits) {
      std::string bad = good;
      bad[fields + 1] = char(bits);
      fixChecksum(bad);
      CHECK(openAndDecode(bad).find("bits per index (1..16)") != std::string::npos);
    }
  }
  SECTION("rank 0") {
    std::string bad = good;
    bad[fields] = 0;
    fixChecksum(bad);
    CHECK(openAndDecode(bad).find("has rank 0") != std::string::npos);
  }
  SECTION("a dimension of zero") {
    std::string bad = good;
    std::memset(&bad[fields + 4], 0, 8);
    fixChecksum(bad);
    CHECK(openAndDecode(bad).find("bad shape") != std::string::npos);
  }
  SECTION("more centroids than the bits allow") {
    std::string bad = good;
    uint32_t k = 17;
    std::memcpy(&bad[fields + 4 + 16], &k, 4);
    fixChecksum(bad);
    CHECK(openAndDecode(bad).find("centroids for 4 bits") != std::string::npos);
  }
  SECTION("a corrupted code stream, checksum fixed") {
    // The last bytes are the index stream: all ones decode to codes the
    // table may lack, or to positions that run past the layer.
    std::string bad = good;
    for (size_t i = bad.size() - 8; i < bad.size(); ++i)
      bad[i] = char(0xFF);
    fixChecksum(bad);
    std::string error = openAndDecode(bad);
    CHECK(!error.empty());
  }
}

TEST_CASE("package: a program's packed layers decode once, as laid out", "[package]") {
  // What strata_model_unpack does at load: one layer as stored, one 2-D
  // layer transposed into rows padded to 16 (a Gemm's B as the matmul
  // reads it).
  Layer conv = makeLayer("conv.weight", {4, 2, 3, 3}, 6, 0.5, 9);
  Layer fc = makeLayer("fc.weight", {10, 7}, 4, 0.4, 10);
  std::string convRecord = strata::encodeLayer(conv.name, conv.shape, conv.bits,
                                               strata::clusterWeights(conv.values, conv.bits));
  std::string fcRecord = strata::encodeLayer(fc.name, fc.shape, fc.bits,
                                             strata::clusterWeights(fc.values, fc.bits));
  std::vector<float> convOut(conv.values.size(), -1.0f), fcOut(7 * 16, 0.0f);
  const void *records[] = {convRecord.data(), fcRecord.data()};
  uint64_t sizes[] = {convRecord.size(), fcRecord.size()};
  const char *names[] = {"conv.weight", "fc.weight"};
  float *outs[] = {convOut.data(), fcOut.data()};
  int64_t counts[] = {int64_t(convOut.size()), int64_t(fcOut.size())};
  int64_t layouts[] = {0, 0, 0, 10, 7, 16};
  int32_t state = 0;
  REQUIRE(strata_unpack_weights(&state, 2, records, sizes, names, outs, counts, layouts) ==
          nullptr);
  CHECK(state == 1);
  CHECK(convOut == conv.values);
  for (int c = 0; c < 7; ++c)
    for (int r = 0; r < 16; ++r)
      CHECK(fcOut[c * 16 + r] == (r < 10 ? fc.values[r * 7 + c] : 0.0f));
  // Decoded already: a second load leaves the buffers alone.
  convOut.assign(convOut.size(), 42.0f);
  REQUIRE(strata_unpack_weights(&state, 2, records, sizes, names, outs, counts, layouts) ==
          nullptr);
  CHECK(convOut[0] == 42.0f);

  // A damaged record: the error names the layer, and the state stays
  // "not decoded".
  std::string bad = fcRecord;
  bad.resize(bad.size() - 3);
  const void *badRecords[] = {bad.data()};
  uint64_t badSizes[] = {bad.size()};
  const char *badNames[] = {"fc.weight"};
  int32_t fresh = 0;
  const char *error =
      strata_unpack_weights(&fresh, 1, badRecords, badSizes, badNames, outs + 1, counts + 1,
                            layouts + 3);
  REQUIRE(error != nullptr);
  CHECK(std::string(error).find("fc.weight") != std::string::npos);
  CHECK(fresh == 0);
  // A layout that does not fit the buffer is refused, not written past.
  int64_t wrong[] = {10, 7, 9};
  CHECK(strata_unpack_weights(&fresh, 1, records + 1, sizes + 1, names + 1, outs + 1, counts + 1,
                              wrong) != nullptr);
}
