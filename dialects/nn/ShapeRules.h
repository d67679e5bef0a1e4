//===- ShapeRules.h - result-shape rules of nn ops --------------*- C++ -*-===//
//
// Pure functions that compute an op's result shape from its operand shapes
// and attributes, following ONNX's shape inference (ONNX 1.12). Op verifiers
// use them to check declared result types, and later passes (shape
// specialization, autodiff) use them to build new ops. A dimension equal to
// kDynamic is unknown until run time.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_DIALECTS_NN_SHAPERULES_H
#define STRATA_DIALECTS_NN_SHAPERULES_H

#include <cstdint>
#include <string>
#include <vector>

namespace strata::nn::shape {

using Shape = std::vector<int64_t>;

/// The same value as mlir::ShapedType::kDynamic (checked in ShapeRules.cpp).
constexpr int64_t kDynamic = INT64_MIN;

/// a + b, a - b and a * b saturating at the int64 range instead of
/// overflowing. Attributes come from model files and may be anything (a Tile
/// by 2^62); a saturated size then fails the checks that follow it.
inline int64_t addSat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN + 1) : r;
}
inline int64_t subSat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? INT64_MAX : INT64_MIN + 1) : r;
}
inline int64_t mulSat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? ((a < 0) != (b < 0) ? INT64_MIN + 1 : INT64_MAX)
                                          : r;
}

/// A shape, or the reason there is none.
struct ShapeOrError {
  Shape shape;
  std::string error; // empty on success
  bool ok() const { return error.empty(); }
};

/// NumPy/ONNX multidirectional broadcasting of two shapes.
ShapeOrError broadcast(const Shape &lhs, const Shape &rhs);

/// ONNX MatMul: 1-D promotion and batch broadcasting.
ShapeOrError matmul(const Shape &lhs, const Shape &rhs);

/// ONNX Gemm on 2-D operands.
ShapeOrError gemm(const Shape &a, const Shape &b, bool transA, bool transB);

/// One spatial output dimension of a convolution or pooling window.
int64_t windowOutputDim(int64_t in, int64_t kernel, int64_t stride,
                        int64_t padBegin, int64_t padEnd, int64_t dilation,
                        bool ceilMode);

/// Convolution (NC + spatial) with explicit pads (begins, then ends).
ShapeOrError conv(const Shape &input, const Shape &weight,
                  const std::vector<int64_t> &strides,
                  const std::vector<int64_t> &pads,
                  const std::vector<int64_t> &dilations, int64_t group);

/// Max/average pooling (NC + spatial).
ShapeOrError pool(const Shape &input, const std::vector<int64_t> &kernel,
                  const std::vector<int64_t> &strides,
                  const std::vector<int64_t> &pads,
                  const std::vector<int64_t> &dilations, bool ceilMode);

/// Reduction over sorted, unique, non-negative axes.
ShapeOrError reduce(const Shape &input, const std::vector<int64_t> &axes,
                    bool keepDims);

ShapeOrError transpose(const Shape &input, const std::vector<int64_t> &perm);

ShapeOrError concat(const std::vector<Shape> &inputs, int64_t axis);

/// Normalized slice: one (start, end, step) per dimension.
ShapeOrError slice(const Shape &input, const std::vector<int64_t> &starts,
                   const std::vector<int64_t> &ends,
                   const std::vector<int64_t> &steps);

ShapeOrError gather(const Shape &data, const Shape &indices, int64_t axis);

ShapeOrError pad(const Shape &input, const std::vector<int64_t> &pads);

/// Number of elements, or kDynamic if any dimension is dynamic.
int64_t numElements(const Shape &shape);

/// True if two shapes can describe the same tensor (dynamic matches any).
bool compatible(const Shape &a, const Shape &b);

/// "[1, ?, 28, 28]" for messages.
std::string toString(const Shape &shape);

} // namespace strata::nn::shape

#endif // STRATA_DIALECTS_NN_SHAPERULES_H
