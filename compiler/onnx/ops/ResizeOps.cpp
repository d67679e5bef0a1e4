//===- ResizeOps.cpp - import Resize as per-axis gathers and weights ------===//
//
// ONNX's Resize interpolates one axis at a time (its reference,
// interpolate_nd, recurses over the axes, innermost first), and for fixed
// input and output sizes every output position along an axis reads the same
// few input positions with the same weights. So each resized axis becomes
// one nn.gather per tap (nearest: 1, linear: 2, cubic: 4) with
// compile-time indices, times a compile-time weight per output position,
// summed: no new nn op, and autodiff, fusion and the GPU handle it as any
// graph. The taps follow the reference exactly: coordinate transformation,
// neighbours preferring the lower index, edge padding, nearest rounding
// modes, the cubic coefficient, exclude_outside, and tf_crop_and_resize's
// region of interest with its extrapolation value.
//
//===----------------------------------------------------------------------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/ops/Composites.h"
#include "dialects/nn/NNOps.h"

#include <cmath>

using namespace mlir;

namespace strata::onnx_import {
namespace {
using namespace composite;

struct ResizeMode {
  std::string mode, coordinates, nearest;
  double cubicA = -0.75, extrapolation = 0;
  bool excludeOutside = false;
};

/// What one output position along an axis reads: taps (input index,
/// weight), or the extrapolation value when it lies outside the region of
/// interest.
struct Taps {
  std::vector<int64_t> index;
  std::vector<double> weight;
  bool outside = false;
};

std::vector<double> coefficients(const ResizeMode &m, double ratio) {
  if (m.mode == "nearest") {
    if (ratio == 1.0)
      return {0, 1};
    if (m.nearest == "round_prefer_floor")
      return {double(ratio <= 0.5), double(ratio > 0.5)};
    if (m.nearest == "round_prefer_ceil")
      return {double(ratio < 0.5), double(ratio >= 0.5)};
    if (m.nearest == "floor")
      return {1, 0};
    return {0, 1}; // ceil
  }
  if (m.mode == "linear")
    return {1 - ratio, ratio};
  double a = m.cubicA, r = ratio, s = 1 - ratio;
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1, ((a + 2) * s - (a + 3)) * s * s + 1,
          ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a};
}

/// interpolate_1d_with_x of ONNX's reference, for output position `x` of
/// `outSize` along an axis of `inSize` at `scale` (roi: this axis's start
/// and end, for tf_crop_and_resize).
Taps tapsAt(const ResizeMode &m, int64_t x, int64_t inSize, double scale, double outSize,
            double roiStart, double roiEnd) {
  double in = (double)inSize, xOri;
  const std::string &c = m.coordinates;
  if (c == "align_corners") {
    xOri = outSize == 1 ? 0.0 : x * (in - 1) / (outSize - 1);
  } else if (c == "asymmetric") {
    xOri = x / scale;
  } else if (c == "tf_crop_and_resize") {
    xOri = outSize == 1 ? (roiEnd - roiStart) * (in - 1) / 2
                        : x * (roiEnd - roiStart) * (in - 1) / (outSize - 1);
    xOri += roiStart * (in - 1);
    if (xOri < 0 || xOri > in - 1)
      return Taps{{}, {}, true};
  } else if (c == "pytorch_half_pixel") {
    xOri = outSize == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  } else { // half_pixel
    xOri = (x + 0.5) / scale - 0.5;
  }
  double floorOri = std::floor(xOri);
  double ratio = xOri == floorOri ? 1.0 : xOri - floorOri;
  std::vector<double> w = coefficients(m, ratio);
  int64_t n = (int64_t)w.size();
  // The n nearest indices, preferring lower ones: at an integer position
  // the taps end there, otherwise they straddle it.
  int64_t first = (int64_t)floorOri - n / 2 + (ratio == 1.0 ? 0 : 1);
  Taps t;
  double kept = 0;
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = first + k;
    bool inside = i >= 0 && i < inSize;
    if (m.excludeOutside && !inside)
      w[k] = 0;
    kept += w[k];
    t.index.push_back(std::clamp<int64_t>(i, 0, inSize - 1)); // edge padding
    t.weight.push_back(w[k]);
  }
  if (m.excludeOutside && kept != 0)
    for (double &v : t.weight)
      v /= kept;
  if (m.mode == "nearest") { // one-hot: just the chosen index
    size_t chosen = t.weight[0] == 1.0 ? 0 : 1;
    t.index = {t.index[chosen]};
    t.weight = {1.0};
  }
  return t;
}

/// Resizes `x` along `axis` to `outSize`.
Value resizeAxis(NodeContext &n, const ResizeMode &m, Value x, int64_t axis, int64_t outSize,
                 double scale, double roiStart, double roiEnd) {
  auto t = typeOf(x);
  int64_t inSize = t.getDimSize(axis);
  std::vector<Taps> taps;
  // The reference's output width is scale x input (3.2 for 0.8 of 4), not
  // the number of positions written (3): align_corners divides by it.
  double outWidth = scale * (double)inSize;
  for (int64_t o = 0; o < outSize; ++o)
    taps.push_back(tapsAt(m, o, inSize, scale, outWidth, roiStart, roiEnd));
  size_t count = 0;
  bool anyOutside = false;
  for (const Taps &tp : taps) {
    count = std::max(count, tp.index.size());
    anyOutside |= tp.outside;
  }
  OpBuilder &b = n.builder();
  Type et = t.getElementType();
  SmallVector<int64_t> shape(t.getShape());
  shape[axis] = outSize;
  auto outType = RankedTensorType::get(shape, et);
  SmallVector<int64_t> weightShape(t.getRank(), 1);
  weightShape[axis] = outSize;
  auto weightType = RankedTensorType::get(weightShape, et);
  auto indexType = RankedTensorType::get({outSize}, b.getI64Type());
  auto floatConstant = [&](const std::vector<double> &v) -> Value {
    SmallVector<Attribute> attrs;
    for (double d : v)
      attrs.push_back(b.getFloatAttr(et, d));
    return b.create<nn::ConstantOp>(n.loc(), DenseElementsAttr::get(weightType, attrs));
  };

  Value sum;
  for (size_t k = 0; k < count; ++k) {
    std::vector<int64_t> index(outSize, 0);
    std::vector<double> weight(outSize, 0.0);
    bool unit = true, zero = true;
    for (int64_t o = 0; o < outSize; ++o) {
      if (taps[o].outside)
        continue;
      index[o] = taps[o].index[k];
      weight[o] = taps[o].weight[k];
      unit &= weight[o] == 1.0;
      zero &= weight[o] == 0.0;
    }
    if (zero)
      continue; // e.g. nearest's unused tap
    Value picked = b.create<nn::GatherOp>(
        n.loc(), outType, x,
        b.create<nn::ConstantOp>(n.loc(), DenseElementsAttr::get(indexType, ArrayRef<int64_t>(index))),
        b.getI64IntegerAttr(axis));
    Value term = unit && !anyOutside ? picked : binary<nn::MulOp>(n, picked, floatConstant(weight));
    sum = sum ? binary<nn::AddOp>(n, sum, term) : term;
  }
  if (!sum) // every position outside the region: all extrapolation
    return b.create<nn::ConstantOp>(
        n.loc(), DenseElementsAttr::get(outType, b.getFloatAttr(et, m.extrapolation)));
  if (anyOutside && m.extrapolation != 0) {
    std::vector<double> fill(outSize);
    for (int64_t o = 0; o < outSize; ++o)
      fill[o] = taps[o].outside ? m.extrapolation : 0.0;
    sum = binary<nn::AddOp>(n, sum, floatConstant(fill));
  }
  return sum;
}

void importResize(NodeContext &n) {
  if (n.opset() < 11)
    n.fail("Resize of opset 10 is not supported (convert the model to opset 11 or later)");
  ResizeMode m;
  m.mode = n.attrString("mode", "nearest");
  m.coordinates = n.attrString("coordinate_transformation_mode", "half_pixel");
  m.nearest = n.attrString("nearest_mode", "round_prefer_floor");
  m.cubicA = n.attrFloat("cubic_coeff_a", -0.75f);
  m.excludeOutside = n.attrInt("exclude_outside", 0) != 0;
  m.extrapolation = n.attrFloat("extrapolation_value", 0.0f);
  if (m.mode != "nearest" && m.mode != "linear" && m.mode != "cubic")
    n.fail("mode '" + m.mode + "' is not nearest, linear or cubic");
  static const char *coordinateModes[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                          "asymmetric", "tf_crop_and_resize"};
  if (std::find_if(std::begin(coordinateModes), std::end(coordinateModes),
                   [&](const char *c) { return m.coordinates == c; }) == std::end(coordinateModes))
    n.fail("coordinate_transformation_mode '" + m.coordinates + "' is not supported");
  static const char *nearestModes[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  if (std::find_if(std::begin(nearestModes), std::end(nearestModes),
                   [&](const char *c) { return m.nearest == c; }) == std::end(nearestModes))
    n.fail("nearest_mode '" + m.nearest + "' is not supported");

  Value x = n.input(0);
  auto in = typeOf(x);
  RankedTensorType out = n.resultType();
  if (!in.hasStaticShape() || !out.hasStaticShape())
    n.fail("Resize needs static input and output shapes (compile with --batch=N)");
  if (!isa<FloatType>(in.getElementType()))
    n.fail("Resize of integer tensors is not supported");
  int64_t rank = in.getRank();

  // Scales: given (a constant), or from the sizes, which the inferred
  // result type already holds, as ONNX's reference computes them.
  std::vector<double> scales;
  auto nonEmpty = [&](int i) { return n.hasInput(i) && typeOf(n.input(i)).getNumElements() > 0; };
  if (nonEmpty(3)) {
    for (int64_t d = 0; d < rank; ++d)
      scales.push_back((double)out.getDimSize(d) / (double)in.getDimSize(d));
  } else if (nonEmpty(2)) {
    scales = n.constantDoubles(2, "Resize's scales");
  } else {
    n.fail("Resize needs scales or sizes");
  }
  if ((int64_t)scales.size() != rank)
    n.fail("scales have " + std::to_string(scales.size()) + " entries for a rank-" +
           std::to_string(rank) + " input");
  std::vector<double> roi;
  if (m.coordinates == "tf_crop_and_resize") {
    if (!nonEmpty(1))
      n.fail("tf_crop_and_resize needs the roi input");
    roi = n.constantDoubles(1, "Resize's roi");
    if ((int64_t)roi.size() != 2 * rank)
      n.fail("roi must hold 2 x rank values");
  } else if (n.hasInput(1)) {
    n.input(1); // read only by tf_crop_and_resize
  }

  // Innermost axis first, as the reference's recursion computes.
  for (int64_t d = rank - 1; d >= 0; --d) {
    if (scales[d] <= 0)
      n.fail("scale " + std::to_string(scales[d]) + " of axis " + std::to_string(d) +
             " is not positive");
    bool identity = out.getDimSize(d) == in.getDimSize(d) && scales[d] == 1.0 &&
                    m.coordinates != "tf_crop_and_resize";
    if (identity)
      continue;
    x = resizeAxis(n, m, x, d, out.getDimSize(d), scales[d], roi.empty() ? 0 : roi[d],
                   roi.empty() ? 1 : roi[rank + d]);
  }
  n.setResult(0, x);
}

} // namespace

void registerResizeImporters(OpTable &t) { t.add("Resize", 10, importResize); }

} // namespace strata::onnx_import
