//===- ShapeRules.cpp - result-shape rules of nn ops ----------------------===//

#include "dialects/nn/ShapeRules.h"

#include <algorithm>
#include <sstream>

namespace strata::nn::shape {

namespace {
bool isDyn(int64_t d) { return d == kDynamic; }

ShapeOrError fail(std::string message) { return {{}, std::move(message)}; }
ShapeOrError done(Shape s) { return {std::move(s), {}}; }
} // namespace

std::string toString(const Shape &shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      os << ", ";
    if (isDyn(shape[i]))
      os << '?';
    else
      os << shape[i];
  }
  os << ']';
  return os.str();
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (isDyn(d))
      return kDynamic;
    n = mulSat(n, d);
  }
  return n;
}

bool compatible(const Shape &a, const Shape &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!isDyn(a[i]) && !isDyn(b[i]) && a[i] != b[i])
      return false;
  return true;
}

ShapeOrError broadcast(const Shape &lhs, const Shape &rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align at the right; a missing dimension behaves like 1.
    int64_t a = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t b = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (a == 1)
      out[i] = b;
    else if (b == 1)
      out[i] = a;
    else if (isDyn(a))
      out[i] = b; // a must equal b (or be 1, then b is the answer anyway)
    else if (isDyn(b) || a == b)
      out[i] = a;
    else
      return fail("shapes " + toString(lhs) + " and " + toString(rhs) +
                  " are not broadcastable");
  }
  return done(out);
}

ShapeOrError matmul(const Shape &lhs, const Shape &rhs) {
  if (lhs.empty() || rhs.empty())
    return fail("matmul operands must have rank >= 1");
  Shape a = lhs, b = rhs;
  bool promotedA = a.size() == 1, promotedB = b.size() == 1;
  if (promotedA)
    a.insert(a.begin(), 1);
  if (promotedB)
    b.push_back(1);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (!isDyn(k1) && !isDyn(k2) && k1 != k2)
    return fail("contraction dimensions differ: " + toString(lhs) + " x " +
                toString(rhs));
  ShapeOrError batch = broadcast(Shape(a.begin(), a.end() - 2),
                                 Shape(b.begin(), b.end() - 2));
  if (!batch.ok())
    return fail("batch dimensions: " + batch.error);
  Shape out = batch.shape;
  if (!promotedA)
    out.push_back(a[a.size() - 2]);
  if (!promotedB)
    out.push_back(b.back());
  return done(out);
}

ShapeOrError gemm(const Shape &a, const Shape &b, bool transA, bool transB) {
  if (a.size() != 2 || b.size() != 2)
    return fail("gemm operands must be 2-D, got " + toString(a) + " and " +
                toString(b));
  int64_t m = transA ? a[1] : a[0], ka = transA ? a[0] : a[1];
  int64_t kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
  if (!isDyn(ka) && !isDyn(kb) && ka != kb)
    return fail("contraction dimensions differ: " + std::to_string(ka) +
                " vs " + std::to_string(kb));
  return done({m, n});
}

int64_t windowOutputDim(int64_t in, int64_t kernel, int64_t stride,
                        int64_t padBegin, int64_t padEnd, int64_t dilation,
                        bool ceilMode) {
  if (isDyn(in))
    return kDynamic;
  int64_t extent = addSat(mulSat(dilation, subSat(kernel, 1)), 1);
  int64_t span = subSat(addSat(addSat(in, padBegin), padEnd), extent);
  if (span < 0)
    return 0;
  int64_t q = ceilMode ? addSat(span, stride - 1) / stride : span / stride;
  return addSat(q, 1);
}

namespace {
/// An empty message if the window (kernel dilated) fits into the padded
/// input along one static dimension; ONNX would give such an output 0 or a
/// negative size.
std::string checkWindowFits(int64_t in, int64_t kernel, int64_t padBegin,
                            int64_t padEnd, int64_t dilation) {
  if (isDyn(in) || isDyn(kernel))
    return {};
  int64_t extent = addSat(mulSat(dilation, subSat(kernel, 1)), 1);
  if (addSat(addSat(in, padBegin), padEnd) >= extent)
    return {};
  return "the window (" + std::to_string(extent) +
         " wide with dilation) is larger than the padded input (" +
         std::to_string(in) + " + " + std::to_string(padBegin + padEnd) +
         " padding): the output would be empty";
}

/// Checks the attribute lengths shared by conv and pool.
std::string checkWindowAttrs(size_t spatial, size_t kernels, size_t strides,
                             size_t pads, size_t dilations) {
  if (kernels != spatial || strides != spatial || dilations != spatial ||
      pads != 2 * spatial)
    return "expected " + std::to_string(spatial) +
           " kernel dims, strides and dilations and " +
           std::to_string(2 * spatial) + " pads";
  return {};
}
} // namespace

ShapeOrError conv(const Shape &input, const Shape &weight,
                  const std::vector<int64_t> &strides,
                  const std::vector<int64_t> &pads,
                  const std::vector<int64_t> &dilations, int64_t group) {
  if (input.size() < 3 || weight.size() != input.size())
    return fail("conv needs input and weight of equal rank >= 3, got " +
                toString(input) + " and " + toString(weight));
  size_t spatial = input.size() - 2;
  std::string err =
      checkWindowAttrs(spatial, spatial, strides.size(), pads.size(),
                       dilations.size());
  if (!err.empty())
    return fail(err);
  if (group < 1)
    return fail("group must be >= 1");
  int64_t c = input[1], wc = weight[1], m = weight[0];
  if (!isDyn(c) && !isDyn(wc) && c != mulSat(wc, group))
    return fail("input has " + std::to_string(c) + " channels but weight " +
                toString(weight) + " with group " + std::to_string(group) +
                " expects " + std::to_string(mulSat(wc, group)));
  if (!isDyn(m) && m % group != 0)
    return fail("output channels " + std::to_string(m) +
                " not divisible by group " + std::to_string(group));
  Shape out{input[0], m};
  for (size_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || dilations[i] < 1 || pads[i] < 0 ||
        pads[i + spatial] < 0)
      return fail("strides and dilations must be >= 1 and pads >= 0");
    std::string fits = checkWindowFits(input[i + 2], weight[i + 2], pads[i],
                                       pads[i + spatial], dilations[i]);
    if (!fits.empty())
      return fail(fits);
    out.push_back(isDyn(weight[i + 2])
                      ? kDynamic
                      : windowOutputDim(input[i + 2], weight[i + 2],
                                        strides[i], pads[i],
                                        pads[i + spatial], dilations[i],
                                        false));
  }
  return done(out);
}

ShapeOrError pool(const Shape &input, const std::vector<int64_t> &kernel,
                  const std::vector<int64_t> &strides,
                  const std::vector<int64_t> &pads,
                  const std::vector<int64_t> &dilations, bool ceilMode) {
  if (input.size() < 3)
    return fail("pooling needs rank >= 3, got " + toString(input));
  size_t spatial = input.size() - 2;
  std::string err = checkWindowAttrs(spatial, kernel.size(), strides.size(),
                                     pads.size(), dilations.size());
  if (!err.empty())
    return fail(err);
  Shape out{input[0], input[1]};
  for (size_t i = 0; i < spatial; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1 || pads[i] < 0 ||
        pads[i + spatial] < 0)
      return fail("kernel, strides and dilations must be >= 1 and pads >= 0");
    // As ONNX Runtime: a window made of padding only has no value to take.
    if (pads[i] >= kernel[i] || pads[i + spatial] >= kernel[i])
      return fail("pads must be smaller than the kernel (" +
                  std::to_string(kernel[i]) + "), got " + std::to_string(pads[i]) +
                  " and " + std::to_string(pads[i + spatial]));
    std::string fits = checkWindowFits(input[i + 2], kernel[i], pads[i],
                                       pads[i + spatial], dilations[i]);
    if (!fits.empty())
      return fail(fits);
    out.push_back(windowOutputDim(input[i + 2], kernel[i], strides[i],
                                  pads[i], pads[i + spatial], dilations[i],
                                  ceilMode));
  }
  return done(out);
}

ShapeOrError reduce(const Shape &input, const std::vector<int64_t> &axes,
                    bool keepDims) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= (int64_t)input.size())
      return fail("axis " + std::to_string(axes[i]) + " out of range for " +
                  toString(input));
    if (i && axes[i] <= axes[i - 1])
      return fail("axes must be sorted and unique");
  }
  Shape out;
  for (size_t d = 0; d < input.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), (int64_t)d) != axes.end();
    if (!reduced)
      out.push_back(input[d]);
    else if (keepDims)
      out.push_back(1);
  }
  return done(out);
}

ShapeOrError transpose(const Shape &input, const std::vector<int64_t> &perm) {
  if (perm.size() != input.size())
    return fail("perm has " + std::to_string(perm.size()) +
                " entries for rank " + std::to_string(input.size()));
  std::vector<bool> seen(perm.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)perm.size() || seen[p])
      return fail("perm is not a permutation of 0.." +
                  std::to_string(perm.size() - 1));
    seen[p] = true;
    out.push_back(input[p]);
  }
  return done(out);
}

ShapeOrError concat(const std::vector<Shape> &inputs, int64_t axis) {
  if (inputs.empty())
    return fail("concat needs at least one input");
  const Shape &first = inputs.front();
  if (axis < 0 || axis >= (int64_t)first.size())
    return fail("axis " + std::to_string(axis) + " out of range for rank " +
                std::to_string(first.size()));
  Shape out = first;
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Shape &s = inputs[i];
    if (s.size() != first.size())
      return fail("inputs differ in rank");
    for (size_t d = 0; d < s.size(); ++d) {
      if ((int64_t)d == axis) {
        out[d] = isDyn(out[d]) || isDyn(s[d]) ? kDynamic : out[d] + s[d];
      } else if (!isDyn(s[d]) && !isDyn(out[d]) && s[d] != out[d]) {
        return fail("inputs " + toString(first) + " and " + toString(s) +
                    " differ outside axis " + std::to_string(axis));
      } else if (isDyn(out[d])) {
        out[d] = s[d];
      }
    }
  }
  return done(out);
}

ShapeOrError slice(const Shape &input, const std::vector<int64_t> &starts,
                   const std::vector<int64_t> &ends,
                   const std::vector<int64_t> &steps) {
  size_t rank = input.size();
  if (starts.size() != rank || ends.size() != rank || steps.size() != rank)
    return fail("starts, ends and steps need one entry per dimension");
  Shape out;
  for (size_t d = 0; d < rank; ++d) {
    if (steps[d] == 0)
      return fail("step of dimension " + std::to_string(d) + " is 0");
    if (isDyn(input[d])) {
      out.push_back(kDynamic);
      continue;
    }
    if (steps[d] == INT64_MIN)
      return fail("step of dimension " + std::to_string(d) + " is out of range");
    int64_t n = steps[d] > 0
                    ? addSat(subSat(ends[d], starts[d]), steps[d] - 1) / steps[d]
                    : subSat(subSat(starts[d], ends[d]), steps[d] + 1) / -steps[d];
    out.push_back(std::max<int64_t>(n, 0));
  }
  return done(out);
}

ShapeOrError gather(const Shape &data, const Shape &indices, int64_t axis) {
  if (axis < 0 || axis >= (int64_t)data.size())
    return fail("axis " + std::to_string(axis) + " out of range for " +
                toString(data));
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  return done(out);
}

ShapeOrError pad(const Shape &input, const std::vector<int64_t> &pads) {
  size_t rank = input.size();
  if (pads.size() != 2 * rank)
    return fail("expected " + std::to_string(2 * rank) + " pads");
  Shape out;
  for (size_t d = 0; d < rank; ++d) {
    if (pads[d] < 0 || pads[d + rank] < 0)
      return fail("pads must be >= 0");
    out.push_back(isDyn(input[d]) ? kDynamic
                                  : addSat(addSat(input[d], pads[d]), pads[d + rank]));
  }
  return done(out);
}

} // namespace strata::nn::shape
