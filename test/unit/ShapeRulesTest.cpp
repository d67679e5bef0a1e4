// The shape rules that nn verifiers use, against hand-computed ONNX answers.
#include "dialects/nn/ShapeRules.h"

#include <catch2/catch.hpp>

using namespace strata::nn::shape;

static const int64_t D = kDynamic;

TEST_CASE("broadcast follows NumPy rules", "[shape]") {
  CHECK(broadcast({2, 3, 4}, {4}).shape == Shape{2, 3, 4});
  CHECK(broadcast({3, 1}, {1, 5}).shape == Shape{3, 5});
  CHECK(broadcast({}, {2, 2}).shape == Shape{2, 2});
  CHECK(broadcast({D, 4}, {3, 1}).shape == Shape{3, 4});
  CHECK(broadcast({D, 4}, {1, 4}).shape == Shape{D, 4});
  auto bad = broadcast({2, 3}, {4});
  CHECK_FALSE(bad.ok());
  CHECK(bad.error.find("[2, 3] and [4]") != std::string::npos);
}

TEST_CASE("matmul promotes 1-D operands and broadcasts batches", "[shape]") {
  CHECK(matmul({3}, {7, 3, 6}).shape == Shape{7, 6});
  CHECK(matmul({2, 3}, {3}).shape == Shape{2});
  CHECK(matmul({5, 1, 2, 3}, {4, 3, 6}).shape == Shape{5, 4, 2, 6});
  CHECK_FALSE(matmul({2, 3}, {4, 5}).ok());
}

TEST_CASE("gemm honours transposes", "[shape]") {
  CHECK(gemm({4, 2}, {4, 5}, true, false).shape == Shape{2, 5});
  CHECK(gemm({1, 784}, {300, 784}, false, true).shape == Shape{1, 300});
  CHECK_FALSE(gemm({1, 784}, {300, 784}, false, false).ok());
}

TEST_CASE("conv output size, groups and dilation", "[shape]") {
  // 7x7, 3x3 kernel, stride 2, pads 1: (7 + 2 - 3) / 2 + 1 = 4.
  CHECK(conv({1, 3, 7, 7}, {8, 3, 3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1).shape ==
        Shape{1, 8, 4, 4});
  // Depthwise, dilation 2: effective kernel 5, pads 2 keep the size.
  CHECK(conv({D, 4, 8, 8}, {4, 1, 3, 3}, {1, 1}, {2, 2, 2, 2}, {2, 2}, 4).shape ==
        Shape{D, 4, 8, 8});
  auto bad = conv({1, 3, 8, 8}, {4, 2, 3, 3}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1);
  CHECK_FALSE(bad.ok());
  CHECK(bad.error.find("3 channels") != std::string::npos);
}

TEST_CASE("pool ceil mode follows ONNX 1.12 shape inference", "[shape]") {
  CHECK(pool({1, 1, 6, 6}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, true).shape ==
        Shape{1, 1, 3, 3});
  CHECK(pool({1, 1, 5, 5}, {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1}, true).shape ==
        Shape{1, 1, 4, 4});
  CHECK(pool({1, 1, 5, 5}, {2, 2}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false).shape ==
        Shape{1, 1, 3, 3});
}

TEST_CASE("reduce, transpose, concat, slice, gather, pad", "[shape]") {
  CHECK(reduce({2, 3, 4}, {0, 2}, true).shape == Shape{1, 3, 1});
  CHECK(reduce({2, 3, 4}, {2}, false).shape == Shape{2, 3});
  CHECK_FALSE(reduce({2, 3}, {1, 0}, true).ok());
  CHECK(transpose({2, 3, 4}, {2, 0, 1}).shape == Shape{4, 2, 3});
  CHECK_FALSE(transpose({2, 3}, {0, 0}).ok());
  CHECK(concat({{2, 3}, {2, 5}}, 1).shape == Shape{2, 8});
  CHECK_FALSE(concat({{2, 3}, {3, 5}}, 1).ok());
  // Reverse the rows (start 3, end -1, step -1) and take every third column.
  CHECK(slice({4, 10}, {3, 1}, {-1, 10}, {-1, 3}).shape == Shape{4, 3});
  CHECK(gather({4, 10}, {2, 2}, 1).shape == Shape{4, 2, 2});
  CHECK(pad({3, 4}, {0, 1, 0, 2}).shape == Shape{3, 7});
  CHECK(numElements({2, D}) == D);
  CHECK(toString({1, D, 28}) == "[1, ?, 28]");
}
