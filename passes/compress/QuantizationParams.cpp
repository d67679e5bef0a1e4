//===- QuantizationParams.cpp - constant scales and zero points -----------===//

#include "passes/compress/QuantizationParams.h"
#include "dialects/nn/NNOps.h"
#include "passes/graph/ConstantValues.h"

using namespace mlir;

namespace strata {

Value throughReshapes(Value v) {
  while (auto r = v.getDefiningOp<nn::ReshapeOp>())
    v = r.getInput();
  return v;
}

std::optional<std::vector<int64_t>> integerValues(Value v) {
  v = throughReshapes(v);
  auto widen = [](auto values) -> std::optional<std::vector<int64_t>> {
    if (!values)
      return std::nullopt;
    return std::vector<int64_t>(values->begin(), values->end());
  };
  if (auto r = widen(constantValues<int8_t>(v)))
    return r;
  if (auto r = widen(constantValues<uint8_t>(v)))
    return r;
  if (auto r = widen(constantValues<int32_t>(v)))
    return r;
  return widen(constantValues<int64_t>(v));
}

std::optional<std::vector<double>> scaleValues(Value v) {
  auto f = floatValuesAsF32(throughReshapes(v));
  if (!f)
    return std::nullopt;
  return std::vector<double>(f->begin(), f->end());
}

std::optional<Quantization> quantizationOf(Value scale, Value zeroPoint) {
  auto s = scaleValues(scale);
  auto z = integerValues(zeroPoint);
  if (!s || !z)
    return std::nullopt;
  return Quantization{*s, *z};
}

} // namespace strata
