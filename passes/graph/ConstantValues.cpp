//===- ConstantValues.cpp - f32 weights read and written at compile time ---===//

#include "passes/graph/ConstantValues.h"
#include "dialects/nn/NNOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace strata {

std::optional<std::vector<float>> f32Values(Value v) {
  auto c = v.getDefiningOp<nn::ConstantOp>();
  if (!c)
    return std::nullopt;
  auto type = cast<RankedTensorType>(c.getType());
  if (!type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(c.getValue())) {
    std::vector<float> out;
    for (float f : dense.getValues<float>())
      out.push_back(f);
    return out;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != size_t(type.getNumElements()) * 4)
      return std::nullopt;
    std::vector<float> out(type.getNumElements());
    std::memcpy(out.data(), blob->getData().data(), out.size() * 4);
    return out;
  }
  return std::nullopt;
}

Value f32Constant(OpBuilder &b, Location loc, RankedTensorType type,
                  const std::vector<float> &values, StringRef name) {
  if (values.size() <= 16)
    return b.create<nn::ConstantOp>(loc,
                                    DenseElementsAttr::get(type, ArrayRef<float>(values)));
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(values.size() * 4, 64);
  std::memcpy(blob.getMutableData().data(), values.data(), values.size() * 4);
  return b.create<nn::ConstantOp>(
      loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

} // namespace strata
