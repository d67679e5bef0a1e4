//===- ConstantValues.cpp - weights read and written at compile time ------===//
//
// Every constant is handled as its raw little-endian bytes (what dense
// attributes and resource blobs both store), so one reader and one writer
// serve all element types; only bf16/f16 need a conversion.
//
//===----------------------------------------------------------------------===//

#include "passes/graph/ConstantValues.h"
#include "dialects/nn/NNOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"

#include <cstring>

using namespace mlir;

namespace strata {

template <> bool holdsExactly<float>(Type t) { return t.isF32(); }
template <> bool holdsExactly<double>(Type t) { return t.isF64(); }
template <> bool holdsExactly<int8_t>(Type t) { return t.isInteger(8) && !t.isUnsignedInteger(); }
template <> bool holdsExactly<uint8_t>(Type t) { return t.isUnsignedInteger(8); }
template <> bool holdsExactly<int32_t>(Type t) { return t.isInteger(32) && !t.isUnsignedInteger(); }
template <> bool holdsExactly<int64_t>(Type t) { return t.isInteger(64) && !t.isUnsignedInteger(); }

namespace {

/// The bytes of a static-shaped nn.constant with `bytesPerElement`-byte
/// elements, one copy per element (splats expanded), or nothing.
std::optional<std::vector<char>> rawBytes(Value v, size_t bytesPerElement) {
  auto c = v.getDefiningOp<nn::ConstantOp>();
  if (!c)
    return std::nullopt;
  auto type = cast<RankedTensorType>(c.getType());
  if (!type.hasStaticShape())
    return std::nullopt;
  size_t count = type.getNumElements(), size = count * bytesPerElement;
  if (auto dense = dyn_cast<DenseElementsAttr>(c.getValue())) {
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat() && raw.size() == bytesPerElement) {
      std::vector<char> out(size);
      for (size_t i = 0; i < count; ++i)
        std::memcpy(out.data() + i * bytesPerElement, raw.data(), bytesPerElement);
      return out;
    }
    if (raw.size() != size)
      return std::nullopt; // e.g. bit-packed i1
    return std::vector<char>(raw.begin(), raw.end());
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != size)
      return std::nullopt;
    return std::vector<char>(blob->getData().begin(), blob->getData().end());
  }
  return std::nullopt;
}

Value constantFromBytes(OpBuilder &b, Location loc, RankedTensorType type,
                        ArrayRef<char> bytes, StringRef name) {
  if (type.getNumElements() <= 16)
    return b.create<nn::ConstantOp>(loc, DenseElementsAttr::getFromRawBuffer(type, bytes));
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(bytes.size(), 64);
  std::memcpy(blob.getMutableData().data(), bytes.data(), bytes.size());
  return b.create<nn::ConstantOp>(loc,
                                  DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

const llvm::fltSemantics *halfSemantics(Type t) {
  if (t.isBF16())
    return &APFloat::BFloat();
  if (t.isF16())
    return &APFloat::IEEEhalf();
  return nullptr;
}

} // namespace

template <typename T> std::optional<std::vector<T>> constantValues(Value v) {
  if (!isa<RankedTensorType>(v.getType()) ||
      !holdsExactly<T>(cast<RankedTensorType>(v.getType()).getElementType()))
    return std::nullopt;
  std::optional<std::vector<char>> bytes = rawBytes(v, sizeof(T));
  if (!bytes)
    return std::nullopt;
  std::vector<T> out(bytes->size() / sizeof(T));
  std::memcpy(out.data(), bytes->data(), bytes->size());
  return out;
}

std::optional<std::vector<float>> floatValuesAsF32(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type)
    return std::nullopt;
  if (type.getElementType().isF32())
    return constantValues<float>(v);
  const llvm::fltSemantics *semantics = halfSemantics(type.getElementType());
  if (!semantics)
    return std::nullopt;
  std::optional<std::vector<char>> bytes = rawBytes(v, 2);
  if (!bytes)
    return std::nullopt;
  std::vector<float> out(bytes->size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes->data() + 2 * i, 2);
    out[i] = APFloat(*semantics, APInt(16, bits)).convertToFloat();
  }
  return out;
}

template <typename T>
Value makeConstant(OpBuilder &b, Location loc, RankedTensorType type, ArrayRef<T> values,
                   StringRef name) {
  assert(holdsExactly<T>(type.getElementType()) && "element type not held by T");
  assert(values.size() == size_t(type.getNumElements()) && "one value per element");
  return constantFromBytes(
      b, loc, type,
      ArrayRef<char>(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(T)),
      name);
}

Value makeFloatConstant(OpBuilder &b, Location loc, RankedTensorType type,
                        ArrayRef<float> values, StringRef name) {
  const llvm::fltSemantics *semantics = halfSemantics(type.getElementType());
  if (!semantics)
    return makeConstant<float>(b, loc, type, values, name);
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    APFloat f(values[i]);
    bool lost;
    f.convert(*semantics, APFloat::rmNearestTiesToEven, &lost);
    bits[i] = uint16_t(f.bitcastToAPInt().getZExtValue());
  }
  return constantFromBytes(
      b, loc, type,
      ArrayRef<char>(reinterpret_cast<const char *>(bits.data()), bits.size() * 2), name);
}

#define STRATA_CONSTANT_TYPE(T)                                                          \
  template std::optional<std::vector<T>> constantValues<T>(Value);                       \
  template Value makeConstant<T>(OpBuilder &, Location, RankedTensorType, ArrayRef<T>,   \
                                 StringRef);
STRATA_CONSTANT_TYPE(float)
STRATA_CONSTANT_TYPE(double)
STRATA_CONSTANT_TYPE(int8_t)
STRATA_CONSTANT_TYPE(uint8_t)
STRATA_CONSTANT_TYPE(int32_t)
STRATA_CONSTANT_TYPE(int64_t)
#undef STRATA_CONSTANT_TYPE

} // namespace strata
