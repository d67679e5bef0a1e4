//===- Package.cpp - strata's compressed model package (.stz) -------------===//

#include "compiler/onnx/Package.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/TensorConversion.h"
#include "compiler/support/DurableFile.h"

#include "strata/package.h"
#include "onnx/onnx_pb.h"
#include "strata/runtime.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <queue>
#include <set>

namespace strata {
namespace {

constexpr int kMaxCodeLength = 15; // lengths are stored in 4 bits
constexpr uint32_t kGraphRecord = 1, kLayerRecord = 2;

/// Little-endian bytes.
struct ByteWriter {
  std::string bytes;
  template <typename T> void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T)); // x86: little-endian
    bytes.append(b, sizeof(T));
  }
  void append(const std::string &s) { bytes += s; }
};

/// Huffman code lengths for `freq` (0 for unused symbols), at most
/// kMaxCodeLength: if the optimal code is deeper, the frequencies are
/// flattened and the code rebuilt. A lone symbol gets length 1.
std::vector<uint8_t> codeLengths(std::vector<uint64_t> freq) {
  size_t n = freq.size();
  std::vector<uint8_t> lengths(n, 0);
  for (;;) {
    using Node = std::pair<uint64_t, int>; // weight, node id
    std::priority_queue<Node, std::vector<Node>, std::greater<Node>> heap;
    std::vector<int> parent;
    for (size_t s = 0; s < n; ++s)
      if (freq[s]) {
        heap.push({freq[s], (int)parent.size()});
        parent.push_back(-1);
      }
    if (heap.empty())
      return lengths;
    std::vector<size_t> leafSymbol;
    for (size_t s = 0; s < n; ++s)
      if (freq[s])
        leafSymbol.push_back(s);
    size_t leaves = parent.size();
    if (leaves == 1) {
      lengths[leafSymbol[0]] = 1;
      return lengths;
    }
    while (heap.size() > 1) {
      Node a = heap.top();
      heap.pop();
      Node b = heap.top();
      heap.pop();
      int id = (int)parent.size();
      parent.push_back(-1);
      parent[a.second] = parent[b.second] = id;
      heap.push({a.first + b.first, id});
    }
    int deepest = 0;
    for (size_t i = 0; i < leaves; ++i) {
      int depth = 0;
      for (int p = (int)i; parent[p] >= 0; p = parent[p])
        ++depth;
      lengths[leafSymbol[i]] = (uint8_t)std::min(depth, 255);
      deepest = std::max(deepest, depth);
    }
    if (deepest <= kMaxCodeLength)
      return lengths;
    for (uint64_t &f : freq)
      if (f)
        f = f / 2 + 1;
  }
}

/// Canonical codes for `lengths`: by (length, symbol), as the decoder
/// (runtime/src/package.c) reads them.
std::vector<uint32_t> canonicalCodes(const std::vector<uint8_t> &lengths) {
  std::vector<uint32_t> codes(lengths.size(), 0);
  uint32_t code = 0;
  for (int len = 1; len <= kMaxCodeLength; ++len) {
    for (size_t s = 0; s < lengths.size(); ++s)
      if (lengths[s] == len)
        codes[s] = code++;
    code <<= 1;
  }
  return codes;
}

struct BitWriter {
  std::string bytes;
  uint64_t bit = 0;
  void put(uint32_t code, int length) {
    for (int i = length - 1; i >= 0; --i) {
      if (bit % 8 == 0)
        bytes.push_back(0);
      if ((code >> i) & 1)
        bytes.back() |= char(0x80 >> (bit % 8));
      ++bit;
    }
  }
};

/// The relative-position entries of a layer: (gap, symbol) with symbol k a
/// filler that advances the position by 2^gapBits without a value.
struct Entries {
  std::vector<uint32_t> gaps, symbols;
};

Entries entriesOf(const Codebook &codebook, int gapBits) {
  Entries e;
  uint32_t maxGap = (1u << gapBits) - 1, filler = (uint32_t)codebook.centroids.size();
  int64_t last = -1;
  for (size_t i = 0; i < codebook.index.size(); ++i) {
    if (codebook.index[i] < 0)
      continue;
    uint64_t gap = uint64_t(int64_t(i) - last - 1);
    while (gap > maxGap) {
      e.gaps.push_back(maxGap);
      e.symbols.push_back(filler);
      gap -= maxGap + 1;
    }
    e.gaps.push_back((uint32_t)gap);
    e.symbols.push_back((uint32_t)codebook.index[i]);
    last = (int64_t)i;
  }
  return e;
}

/// Huffman-codes `symbols` (alphabet `alphabet`): the table, then the stream.
void putCoded(ByteWriter &table, ByteWriter &stream, const std::vector<uint32_t> &symbols,
              size_t alphabet) {
  std::vector<uint64_t> freq(alphabet, 0);
  for (uint32_t s : symbols)
    ++freq[s];
  std::vector<uint8_t> lengths = codeLengths(freq);
  std::vector<uint32_t> codes = canonicalCodes(lengths);
  table.put<uint32_t>((uint32_t)alphabet);
  for (size_t s = 0; s < alphabet; s += 2)
    table.put<uint8_t>(uint8_t(lengths[s] | (s + 1 < alphabet ? lengths[s + 1] << 4 : 0)));
  BitWriter bits;
  for (uint32_t s : symbols)
    bits.put(codes[s], lengths[s]);
  stream.put<uint64_t>(bits.bytes.size());
  stream.append(bits.bytes);
}

/// A layer record's payload with `gapBits` bits per relative position.
std::string layerRecord(const std::string &name, const std::vector<int64_t> &shape, int bits,
                        const Codebook &codebook, int gapBits, int64_t nonzero) {
  Entries e = entriesOf(codebook, gapBits);
  ByteWriter w;
  w.put<uint16_t>((uint16_t)name.size());
  w.append(name);
  w.put<uint8_t>((uint8_t)shape.size());
  w.put<uint8_t>((uint8_t)bits);
  w.put<uint8_t>((uint8_t)gapBits);
  w.put<uint8_t>(0);
  for (int64_t d : shape)
    w.put<int64_t>(d);
  w.put<uint32_t>((uint32_t)codebook.centroids.size());
  for (float c : codebook.centroids)
    w.put<float>(c);
  w.put<uint64_t>(e.gaps.size());
  w.put<uint64_t>((uint64_t)nonzero);
  ByteWriter gapTable, gapStream, indexTable, indexStream;
  putCoded(gapTable, gapStream, e.gaps, size_t(1) << gapBits);
  putCoded(indexTable, indexStream, e.symbols, codebook.centroids.size() + 1);
  w.append(gapTable.bytes);
  w.append(indexTable.bytes);
  w.append(gapStream.bytes);
  w.append(indexStream.bytes);
  return w.bytes;
}

std::vector<float> floatsOf(onnx::TensorProto &t, const onnx_import::LoadedModel &loaded) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    onnx_import::inlineExternalData(t, loaded.modelDir,
                                    loaded.path + ": initializer '" + t.name() + "'");
  int64_t count = 1;
  for (int64_t d : t.dims())
    count *= d;
  std::vector<float> v(count);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != size_t(count) * 4)
      throw onnx_import::ImportError(loaded.path + ": initializer '" + t.name() +
                                     "' has the wrong number of bytes");
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
  } else {
    if (t.float_data_size() != count)
      throw onnx_import::ImportError(loaded.path + ": initializer '" + t.name() +
                                     "' has the wrong number of values");
    std::copy(t.float_data().begin(), t.float_data().end(), v.begin());
  }
  return v;
}

/// The layer weights of the graph (name -> feeds a convolution).
std::map<std::string, bool> layerWeights(const onnx::GraphProto &g) {
  std::map<std::string, bool> out;
  for (const onnx::NodeProto &n : g.node()) {
    bool conv = n.op_type() == "Conv" && n.domain().empty();
    auto add = [&](int i) {
      if (i < n.input_size() && !n.input(i).empty())
        out.emplace(n.input(i), conv);
    };
    if (conv)
      add(1);
    else if ((n.op_type() == "Gemm" || n.op_type() == "MatMul") && n.domain().empty()) {
      add(0);
      add(1);
    }
  }
  return out;
}

uint64_t floatInitializerBytes(const onnx::GraphProto &g) {
  uint64_t bytes = 0;
  for (const onnx::TensorProto &t : g.initializer())
    if (t.data_type() == onnx::TensorProto::FLOAT) {
      uint64_t count = 1;
      for (int64_t d : t.dims())
        count *= uint64_t(d);
      bytes += count * 4;
    }
  return bytes;
}

} // namespace

std::string assemblePackage(const std::string &graph, const std::vector<std::string> &layers) {
  ByteWriter body;
  auto record = [&](uint32_t kind, const std::string &payload) {
    body.put<uint32_t>(kind);
    body.put<uint32_t>(0);
    body.put<uint64_t>(payload.size());
    body.append(payload);
  };
  record(kGraphRecord, graph);
  for (const std::string &r : layers)
    record(kLayerRecord, r);
  ByteWriter file;
  file.bytes.append(STRATA_PACKAGE_MAGIC, 8);
  file.put<uint32_t>(STRATA_PACKAGE_VERSION);
  file.put<uint32_t>(uint32_t(1 + layers.size()));
  file.put<uint64_t>(32 + body.bytes.size());
  file.put<uint32_t>(strata_crc32(0, body.bytes.data(), body.bytes.size()));
  file.put<uint32_t>(0);
  file.append(body.bytes);
  return file.bytes;
}

std::string encodeLayer(const std::string &name, const std::vector<int64_t> &shape, int bits,
                        const Codebook &codebook, int *gapBitsOut) {
  int64_t nonzero = 0;
  for (int32_t j : codebook.index)
    nonzero += j >= 0;
  // The paper's relative positions with filler zeros; the gap width that
  // codes smallest, measured per layer.
  std::string best;
  for (int gapBits = 1; gapBits <= 12; ++gapBits) {
    std::string rec = layerRecord(name, shape, bits, codebook, gapBits, nonzero);
    if (best.empty() || rec.size() < best.size()) {
      best = std::move(rec);
      if (gapBitsOut)
        *gapBitsOut = gapBits;
    }
  }
  return best;
}

uint64_t fixedWidthBytes(const Codebook &codebook, int valueBits) {
  uint64_t best = UINT64_MAX;
  for (int gapBits = 1; gapBits <= 12; ++gapBits) {
    uint64_t bits = entriesOf(codebook, gapBits).gaps.size() * uint64_t(valueBits + gapBits);
    best = std::min(best, (bits + 7) / 8);
  }
  return best;
}

bool isPackage(const void *bytes, size_t size) {
  return size >= 8 && std::memcmp(bytes, STRATA_PACKAGE_MAGIC, 8) == 0;
}

bool writePackage(const std::string &modelPath, LayerBits bits, const std::string &outPath,
                  PackageReport &report, std::string &error) {
  report = PackageReport();
  try {
    onnx_import::LoadedModel loaded = onnx_import::readModelFile(modelPath);
    onnx::GraphProto *graph = loaded.model.mutable_graph();
    report.floatBytes = floatInitializerBytes(*graph);
    std::map<std::string, bool> layers = layerWeights(*graph);
    std::vector<std::string> records;
    auto *inits = graph->mutable_initializer();
    for (int i = 0; i < inits->size();) {
      onnx::TensorProto &t = (*inits)[i];
      auto layer = layers.find(t.name());
      if (layer == layers.end() || t.data_type() != onnx::TensorProto::FLOAT ||
          t.dims_size() < 2 || t.dims_size() > STRATA_PACKAGE_MAX_RANK || t.name().size() > 65535) {
        ++i;
        continue;
      }
      std::vector<float> values = floatsOf(t, loaded);
      for (float v : values)
        if (!std::isfinite(v)) {
          error = modelPath + ": initializer '" + t.name() + "' holds NaN or infinity";
          return false;
        }
      int layerBits = layer->second ? bits.conv : bits.fc;
      Codebook codebook = clusterWeights(values, layerBits);
      PackedLayerReport r;
      r.name = t.name();
      r.shape.assign(t.dims().begin(), t.dims().end());
      r.count = (int64_t)values.size();
      for (int32_t j : codebook.index)
        r.nonzero += j >= 0;
      r.bits = layerBits;
      r.centroids = (int)codebook.centroids.size();
      r.convolution = layer->second;
      std::string best = encodeLayer(r.name, r.shape, layerBits, codebook, &r.gapBits);
      // The paper's stages without Huffman coding: 32-bit values, then
      // bits-wide indices plus the codebook, each with fixed-width gaps.
      r.prunedBytes = fixedWidthBytes(codebook, 32);
      r.sharedBytes = fixedWidthBytes(codebook, layerBits) + 4 * codebook.centroids.size();
      r.storedBytes = best.size() + 16;
      report.layerFloatBytes += uint64_t(r.count) * 4;
      report.layers.push_back(r);
      records.push_back(std::move(best));
      inits->erase(inits->begin() + i);
    }
    std::string graphBytes;
    if (!loaded.model.SerializeToString(&graphBytes)) {
      error = "cannot serialize the graph of " + modelPath;
      return false;
    }
    std::string file = assemblePackage(graphBytes, records);
    report.graphBytes = graphBytes.size() + 16;
    report.packageBytes = file.size();
    return writeFileDurably(outPath, file, error);
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

bool decodePackage(const void *bytes, size_t size, const std::string &name,
                   onnx::ModelProto &model, PackageReport *report, std::string &error) {
  strata_package *package = nullptr;
  if (strata_package_open(bytes, size, name.c_str(), &package)) {
    error = strata_last_error();
    return false;
  }
  struct Closer {
    strata_package *p;
    ~Closer() { strata_package_close(p); }
  } closer{package};
  size_t graphSize = 0;
  const void *graph = strata_package_graph(package, &graphSize);
  if (graphSize > INT32_MAX || !model.ParseFromArray(graph, (int)graphSize) ||
      !model.has_graph()) {
    error = name + ": the package's graph is not an ONNX model";
    return false;
  }
  if (report) {
    *report = PackageReport();
    report->packageBytes = size;
    report->graphBytes = graphSize + 16;
  }
  std::set<std::string> names;
  for (const onnx::TensorProto &t : model.graph().initializer())
    names.insert(t.name());
  for (int i = 0; i < strata_package_num_layers(package); ++i) {
    strata_packed_layer info;
    strata_package_layer(package, i, &info);
    if (!names.insert(info.name).second) {
      error = name + ": layer '" + std::string(info.name) + "' appears twice";
      return false;
    }
    std::vector<float> values(info.count);
    if (strata_package_decode_layer(package, i, values.data(), info.count)) {
      error = strata_last_error();
      return false;
    }
    onnx::TensorProto *t = model.mutable_graph()->add_initializer();
    t->set_name(info.name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int d = 0; d < info.rank; ++d)
      t->add_dims(info.dims[d]);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(values.data()),
                                values.size() * sizeof(float)));
    if (report) {
      PackedLayerReport r;
      r.name = info.name;
      r.shape.assign(info.dims, info.dims + info.rank);
      r.count = info.count;
      r.nonzero = info.nonzero;
      r.bits = info.bits;
      r.centroids = info.num_centroids;
      r.gapBits = info.gap_bits;
      r.storedBytes = info.stored_bytes;
      report->layerFloatBytes += uint64_t(info.count) * 4;
      report->layers.push_back(r);
    }
  }
  if (report)
    report->floatBytes = floatInitializerBytes(model.graph());
  return true;
}

bool unpackPackage(const std::string &path, const std::string &outPath, std::string &error) {
  try {
    onnx_import::LoadedModel loaded = onnx_import::readModelFile(path);
    std::string bytes;
    if (!loaded.model.SerializeToString(&bytes)) {
      error = "cannot serialize the unpacked model";
      return false;
    }
    return writeFileDurably(outPath, bytes, error);
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

bool packedRecords(const std::string &path, std::vector<PackedRecord> &out, std::string &error) {
  out.clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open the package";
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  strata_package *package = nullptr;
  if (strata_package_open(bytes.data(), bytes.size(), path.c_str(), &package)) {
    error = strata_last_error();
    return false;
  }
  // Records follow the graph record in file order, one per layer.
  uint64_t graphSize;
  std::memcpy(&graphSize, bytes.data() + 32 + 8, 8);
  size_t at = 32 + 16 + graphSize;
  bool ok = true;
  for (int i = 0; i < strata_package_num_layers(package) && ok; ++i) {
    strata_packed_layer info;
    strata_package_layer(package, i, &info);
    uint64_t size;
    std::memcpy(&size, bytes.data() + at + 8, 8);
    PackedRecord r;
    r.name = info.name;
    r.record = bytes.substr(at + 16, size);
    r.shape.assign(info.dims, info.dims + info.rank);
    r.values.resize(info.count);
    if (strata_package_decode_layer(package, i, r.values.data(), info.count)) {
      error = strata_last_error();
      ok = false;
    }
    out.push_back(std::move(r));
    at += 16 + size;
  }
  strata_package_close(package);
  return ok;
}

bool isPackageFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  return in.read(magic, sizeof magic) && isPackage(magic, sizeof magic);
}

bool readPackageReport(const std::string &path, PackageReport &report, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open the package";
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  onnx::ModelProto model;
  return decodePackage(bytes.data(), bytes.size(), path, model, &report, error);
}

} // namespace strata
