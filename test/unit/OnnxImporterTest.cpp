// The importer on models built here with libonnx's protobuf classes: weights
// (raw, typed, external) arrive intact, and errors name what is wrong.
#include "compiler/onnx/OnnxImporter.h"
#include "dialects/nn/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "onnx/onnx_pb.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace {

/// A fresh folder under /tmp, removed with everything in it when the test
/// case ends.
struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/strata-unit-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

onnx::ValueInfoProto *addValue(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> *list,
                               const std::string &name, std::vector<int64_t> dims) {
  auto *vi = list->Add();
  vi->set_name(name);
  auto *tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims)
    tt->mutable_shape()->add_dim()->set_dim_value(d);
  return vi;
}

/// y = MatMul(x[2,K], w[K,1]) with w given by `fillWeight`.
onnx::ModelProto matmulModel(int64_t k,
                             const std::function<void(onnx::TensorProto &)> &fillWeight) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto *g = m.mutable_graph();
  g->set_name("g");
  addValue(g->mutable_input(), "x", {2, k});
  addValue(g->mutable_output(), "y", {2, 1});
  auto *node = g->add_node();
  node->set_op_type("MatMul");
  node->set_name("fc");
  node->add_input("x");
  node->add_input("w");
  node->add_output("y");
  auto *w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(k);
  w->add_dims(1);
  fillWeight(*w);
  return m;
}

std::vector<float> ramp(int64_t n) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = 0.5f * (float)i - 3.0f;
  return v;
}

std::string bytesOf(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4);
}

/// The values of the (only) nn.constant of the imported module.
std::vector<float> importedWeight(mlir::ModuleOp module, bool &isResource) {
  std::vector<float> out;
  module.walk([&](strata::nn::ConstantOp c) {
    mlir::ElementsAttr attr = c.getValue();
    isResource = mlir::isa<mlir::DenseResourceElementsAttr>(attr);
    if (auto res = mlir::dyn_cast<mlir::DenseResourceElementsAttr>(attr)) {
      llvm::ArrayRef<char> data = res.getRawHandle().getBlob()->getData();
      out.resize(data.size() / 4);
      std::memcpy(out.data(), data.data(), data.size());
    } else {
      for (float f : mlir::cast<mlir::DenseElementsAttr>(attr).getValues<float>())
        out.push_back(f);
    }
  });
  return out;
}

mlir::MLIRContext &context() {
  static mlir::MLIRContext ctx;
  return ctx;
}

} // namespace

TEST_CASE("large raw initializers become dense_resource with the same bytes",
          "[importer]") {
  TempDir scratch;
  const std::string &dir = scratch.path;
  std::vector<float> w = ramp(1000);
  onnx::ModelProto m = matmulModel(1000, [&](onnx::TensorProto &t) {
    t.set_raw_data(bytesOf(w));
  });
  writeFile(dir + "/m.onnx", m.SerializeAsString());
  std::string error;
  auto module = strata::importOnnxModel(context(), dir + "/m.onnx", error);
  REQUIRE(module);
  CHECK(error.empty());
  bool isResource = false;
  CHECK(importedWeight(*module, isResource) == w);
  CHECK(isResource);
  int matmuls = 0;
  module->walk([&](strata::nn::MatMulOp) { ++matmuls; });
  CHECK(matmuls == 1);
}

TEST_CASE("small typed-field initializers become dense", "[importer]") {
  TempDir scratch;
  const std::string &dir = scratch.path;
  std::vector<float> w = ramp(8);
  onnx::ModelProto m = matmulModel(8, [&](onnx::TensorProto &t) {
    for (float f : w)
      t.add_float_data(f);
  });
  writeFile(dir + "/m.onnx", m.SerializeAsString());
  std::string error;
  auto module = strata::importOnnxModel(context(), dir + "/m.onnx", error);
  REQUIRE(module);
  bool isResource = true;
  CHECK(importedWeight(*module, isResource) == w);
  CHECK_FALSE(isResource);
}

TEST_CASE("external data is read from beside the model", "[importer]") {
  TempDir scratch;
  const std::string &dir = scratch.path;
  std::vector<float> w = ramp(600);
  // 16 bytes of padding first, so the offset is exercised.
  writeFile(dir + "/weights.bin", std::string(16, '\0') + bytesOf(w));
  onnx::ModelProto m = matmulModel(600, [&](onnx::TensorProto &t) {
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    auto add = [&](const char *k, const std::string &v) {
      auto *e = t.add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    add("location", "weights.bin");
    add("offset", "16");
    add("length", std::to_string(600 * 4));
  });
  writeFile(dir + "/m.onnx", m.SerializeAsString());
  std::string error;
  auto module = strata::importOnnxModel(context(), dir + "/m.onnx", error);
  REQUIRE(module);
  bool isResource = false;
  CHECK(importedWeight(*module, isResource) == w);
  CHECK(isResource);

  SECTION("a malformed offset is a clear error") {
    auto *entry = m.mutable_graph()->mutable_initializer(0)->mutable_external_data(1);
    entry->set_value("12abc");
    writeFile(dir + "/bad.onnx", m.SerializeAsString());
    CHECK_FALSE(strata::importOnnxModel(context(), dir + "/bad.onnx", error));
    CHECK(error.find("external data offset '12abc' is not a non-negative number") !=
          std::string::npos);
  }

  SECTION("a missing data file is a clear error") {
    REQUIRE(std::remove((dir + "/weights.bin").c_str()) == 0);
    auto again = strata::importOnnxModel(context(), dir + "/m.onnx", error);
    CHECK_FALSE(again);
    CHECK(error.find("weights.bin") != std::string::npos);
  }
}

TEST_CASE("a raw_data size that does not match the shape is rejected",
          "[importer]") {
  TempDir scratch;
  const std::string &dir = scratch.path;
  onnx::ModelProto m = matmulModel(300, [&](onnx::TensorProto &t) {
    t.set_raw_data(bytesOf(ramp(299)));
  });
  writeFile(dir + "/m.onnx", m.SerializeAsString());
  std::string error;
  CHECK_FALSE(strata::importOnnxModel(context(), dir + "/m.onnx", error));
  CHECK(error.find("initializer 'w'") != std::string::npos);
  CHECK(error.find("1196 bytes, expected 1200") != std::string::npos);
}

TEST_CASE("truncated and foreign files are rejected with the file name",
          "[importer]") {
  TempDir scratch;
  const std::string &dir = scratch.path;
  onnx::ModelProto m = matmulModel(1000, [&](onnx::TensorProto &t) {
    t.set_raw_data(bytesOf(ramp(1000)));
  });
  std::string bytes = m.SerializeAsString();
  writeFile(dir + "/cut.onnx", bytes.substr(0, bytes.size() / 2));
  std::string error;
  CHECK_FALSE(strata::importOnnxModel(context(), dir + "/cut.onnx", error));
  CHECK(error.find(dir + "/cut.onnx: not a valid ONNX model") == 0);

  writeFile(dir + "/text.onnx", "this is not a model\n");
  CHECK_FALSE(strata::importOnnxModel(context(), dir + "/text.onnx", error));
  CHECK(error.find(dir + "/text.onnx: not") == 0);

  CHECK_FALSE(strata::importOnnxModel(context(), dir + "/missing.onnx", error));
  CHECK(error.find("cannot open model") != std::string::npos);
}

TEST_CASE("an unsupported op names node index, name, op and domain",
          "[importer]") {
  TempDir scratch;
  const std::string &dir = scratch.path;
  onnx::ModelProto m = matmulModel(4, [&](onnx::TensorProto &t) {
    for (float f : ramp(4))
      t.add_float_data(f);
  });
  // Append y2 = Shrink(y), an op strata does not import.
  auto *node = m.mutable_graph()->add_node();
  node->set_op_type("Shrink");
  node->set_name("my_shrink");
  node->add_input("y");
  node->add_output("y2");
  addValue(m.mutable_graph()->mutable_output(), "y2", {2, 1});
  writeFile(dir + "/m.onnx", m.SerializeAsString());
  std::string error;
  CHECK_FALSE(strata::importOnnxModel(context(), dir + "/m.onnx", error));
  CHECK(error.find("node 1 'my_shrink' (op Shrink, domain ai.onnx, opset 13)") !=
        std::string::npos);

  strata::ModelSummary summary;
  REQUIRE(strata::summarizeOnnxModel(dir + "/m.onnx", summary, error));
  CHECK(summary.unsupportedOps == std::vector<std::string>{"ai.onnx.Shrink"});
  CHECK(summary.parameterCount == 4);
  CHECK(summary.parameterBytes == 16);
}
