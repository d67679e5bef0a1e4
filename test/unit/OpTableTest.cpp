// The (op type, opset) dispatch picks the newest importer not newer than
// the model's opset.
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/OnnxImporter.h"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace strata::onnx_import;

TEST_CASE("versioned ops resolve by opset", "[optable]") {
  const OpTable &t = OpTable::get();
  REQUIRE(t.lookup("Softmax", 11) != nullptr);
  REQUIRE(t.lookup("Softmax", 13) != nullptr);
  CHECK(t.lookup("Softmax", 11) != t.lookup("Softmax", 13));
  CHECK(t.lookup("Softmax", 12) == t.lookup("Softmax", 11));
  CHECK(t.lookup("Softmax", 17) == t.lookup("Softmax", 13));
  CHECK(t.lookup("Clip", 10) != t.lookup("Clip", 11));
  CHECK(t.lookup("Shrink", 13) == nullptr);
  CHECK(t.lookup("Erf", 8) == nullptr); // Erf arrived in opset 9
  CHECK(t.lookup("Erf", 9) != nullptr);
  // Concat only from opset 4 on (earlier versions had an optional axis).
  CHECK(t.lookup("Concat", 3) == nullptr);
}

TEST_CASE("the issue's op list is supported", "[optable]") {
  std::vector<std::string> ops = strata::supportedOnnxOps();
  for (const char *op :
       {"MatMul", "Gemm", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
        "GlobalMaxPool", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid",
        "Tanh", "Clip", "Softmax", "LogSoftmax", "Add", "Sub", "Mul", "Div",
        "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "ReduceSum", "ReduceMean",
        "ReduceMax", "ReduceMin", "Reshape", "Flatten", "Transpose", "Concat",
        "Slice", "Gather", "Pad", "Squeeze", "Unsqueeze", "Cast", "Constant"})
    CHECK(std::count(ops.begin(), ops.end(), op) == 1);
}
