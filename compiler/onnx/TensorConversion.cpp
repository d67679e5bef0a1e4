//===- TensorConversion.cpp - ONNX types and tensors to MLIR --------------===//

#include "compiler/onnx/TensorConversion.h"
#include "compiler/onnx/ExternalData.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/TensorLimits.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace mlir;

namespace strata::onnx_import {

using onnx::TensorProto;

Type elementType(MLIRContext *ctx, int32_t t) {
  Builder b(ctx);
  switch (t) {
  case TensorProto::FLOAT: return b.getF32Type();
  case TensorProto::FLOAT16: return b.getF16Type();
  case TensorProto::BFLOAT16: return b.getBF16Type();
  case TensorProto::DOUBLE: return b.getF64Type();
  case TensorProto::BOOL: return b.getI1Type();
  case TensorProto::INT8: return b.getIntegerType(8);
  case TensorProto::UINT8: return b.getIntegerType(8, /*isSigned=*/false);
  case TensorProto::INT32: return b.getI32Type();
  case TensorProto::INT64: return b.getI64Type();
  default: return {};
  }
}

int32_t onnxDataType(Type t) {
  if (t.isF32()) return TensorProto::FLOAT;
  if (t.isF64()) return TensorProto::DOUBLE;
  if (t.isF16()) return TensorProto::FLOAT16;
  if (t.isBF16()) return TensorProto::BFLOAT16;
  if (t.isInteger(1)) return TensorProto::BOOL;
  if (auto i = dyn_cast<IntegerType>(t)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8: return u ? TensorProto::UINT8 : TensorProto::INT8;
    case 16: return u ? TensorProto::UINT16 : TensorProto::INT16;
    case 32: return u ? TensorProto::UINT32 : TensorProto::INT32;
    case 64: return u ? TensorProto::UINT64 : TensorProto::INT64;
    default: return 0;
    }
  }
  return 0;
}

std::optional<TensorProto> denseToTensor(DenseElementsAttr attr) {
  auto type = cast<RankedTensorType>(attr.getType());
  int32_t dtype = onnxDataType(type.getElementType());
  if (!dtype || !type.hasStaticShape())
    return std::nullopt;
  TensorProto t;
  t.set_data_type(dtype);
  for (int64_t d : type.getShape())
    t.add_dims(d);
  std::string raw;
  if (type.getElementType().isInteger(1)) {
    for (bool b : attr.getValues<bool>())
      raw.push_back(b ? 1 : 0);
  } else {
    ArrayRef<char> data = attr.getRawData();
    int64_t copies = attr.isSplat() ? type.getNumElements() : 1;
    for (int64_t i = 0; i < copies; ++i)
      raw.append(data.data(), data.size());
  }
  t.set_raw_data(std::move(raw));
  return t;
}

std::string dataTypeName(int32_t t) {
  if (TensorProto::DataType_IsValid(t))
    return TensorProto::DataType_Name((TensorProto::DataType)t);
  return "type " + std::to_string(t);
}

namespace {
size_t byteWidth(Type t);
} // namespace

std::optional<RankedTensorType> tensorType(MLIRContext *ctx,
                                           const onnx::TypeProto &type,
                                           std::string &why) {
  if (!type.has_tensor_type()) {
    why = "it is not a tensor (sequences, maps and optionals are not "
          "supported)";
    return std::nullopt;
  }
  const auto &tt = type.tensor_type();
  Type element = elementType(ctx, tt.elem_type());
  if (!element) {
    why = "its element type " + dataTypeName(tt.elem_type()) +
          " is not supported";
    return std::nullopt;
  }
  if (!tt.has_shape()) {
    why = "its shape (even its rank) could not be inferred";
    return std::nullopt;
  }
  SmallVector<int64_t> dims, known;
  for (const auto &d : tt.shape().dim()) {
    dims.push_back(d.has_dim_value() ? d.dim_value() : ShapedType::kDynamic);
    if (d.has_dim_value())
      known.push_back(d.dim_value());
  }
  // Unknown sizes are checked once --batch or inference has fixed them.
  uint64_t bytes;
  if (!tensorBytes(known.size() == dims.size() ? dims : known,
                   byteWidth(element), bytes, why)) {
    why = "its type " + why;
    return std::nullopt;
  }
  return RankedTensorType::get(dims, element);
}

namespace {

size_t byteWidth(Type t) {
  if (t.isInteger(1))
    return 1; // ONNX stores one byte per bool
  return (t.getIntOrFloatBitWidth() + 7) / 8;
}

bool aligned(const void *p, size_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

/// memcpy for buffers that may be empty: an empty vector's data() may be
/// null, which memcpy may not be given even for 0 bytes (found by fuzzing,
/// UBSan, on a tensor with a zero dimension).
void copyBytes(void *to, const void *from, size_t n) {
  if (n)
    std::memcpy(to, from, n);
}

/// Data from ONNX's typed repeated fields, packed as MLIR's raw layout.
std::vector<char> bytesFromTypedFields(const TensorProto &t, Type element,
                                       int64_t count, const std::string &what) {
  std::vector<char> out(count * byteWidth(element));
  auto fail = [&](const char *field, int64_t have) {
    throw ImportError(what + ": " + field + " holds " + std::to_string(have) +
                      " values, expected " + std::to_string(count));
  };
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    if (t.float_data_size() != count) fail("float_data", t.float_data_size());
    copyBytes(out.data(), t.float_data().data(), out.size());
    break;
  case TensorProto::DOUBLE:
    if (t.double_data_size() != count) fail("double_data", t.double_data_size());
    copyBytes(out.data(), t.double_data().data(), out.size());
    break;
  case TensorProto::INT64:
    if (t.int64_data_size() != count) fail("int64_data", t.int64_data_size());
    copyBytes(out.data(), t.int64_data().data(), out.size());
    break;
  case TensorProto::INT32:
    if (t.int32_data_size() != count) fail("int32_data", t.int32_data_size());
    copyBytes(out.data(), t.int32_data().data(), out.size());
    break;
  case TensorProto::FLOAT16:
  case TensorProto::BFLOAT16:
    // 16-bit patterns, one per int32 entry.
    if (t.int32_data_size() != count) fail("int32_data", t.int32_data_size());
    for (int64_t i = 0; i < count; ++i) {
      uint16_t bits = (uint16_t)t.int32_data(i);
      std::memcpy(out.data() + 2 * i, &bits, 2);
    }
    break;
  case TensorProto::INT8:
  case TensorProto::UINT8:
  case TensorProto::BOOL:
    if (t.int32_data_size() != count) fail("int32_data", t.int32_data_size());
    for (int64_t i = 0; i < count; ++i)
      out[i] = (char)(uint8_t)t.int32_data(i);
    break;
  default:
    throw ImportError(what + ": element type " + dataTypeName(t.data_type()) +
                      " is not supported");
  }
  return out;
}

AsmResourceBlob copyBlob(ArrayRef<char> bytes, size_t alignment) {
  // MLIR's allocateAndCopyWithAlign memcpys from bytes.data(), null when
  // the tensor is empty.
  if (bytes.empty())
    return HeapAsmResourceBlob::allocate(0, alignment);
  return HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignment);
}

/// The bytes of external data, memory-mapped from beside the model (see
/// ExternalData.h for what is refused).
AsmResourceBlob externalBlob(const TensorProto &t, const std::string &modelDir,
                             size_t expected, size_t alignment,
                             const std::string &what) {
  ExternalData file = resolveExternalData(t, modelDir, expected, what);
  auto buffer = llvm::MemoryBuffer::getOpenFileSlice(
      file.fd, file.path, expected, (int64_t)file.offset, /*IsVolatile=*/false);
  close(file.fd);
  if (!buffer)
    throw ImportError(what + ": cannot read " + std::to_string(expected) +
                      " bytes at offset " + std::to_string(file.offset) + " of " +
                      file.path + ": " + buffer.getError().message());
  std::unique_ptr<llvm::MemoryBuffer> mapped = std::move(*buffer);
  if (mapped->getBufferSize() != expected)
    throw ImportError(what + ": external file " + file.path + " is too short");
  ArrayRef<char> bytes(mapped->getBufferStart(), expected);
  if (!aligned(bytes.data(), alignment))
    return copyBlob(bytes, alignment);
  // The blob keeps the mapping alive; unmapping happens in its deleter.
  return AsmResourceBlob(
      bytes, alignment,
      [owner = std::move(mapped)](void *, size_t, size_t) mutable {
        owner.reset();
      },
      /*dataIsMutable=*/false);
}

} // namespace

void inlineExternalData(TensorProto &t, const std::string &modelDir,
                        const std::string &what) {
  uint64_t width = externalElementBytes(t.data_type());
  if (!width)
    throw ImportError(what + ": external data of type " +
                      dataTypeName(t.data_type()) + " cannot be copied");
  std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
  uint64_t bytes = checkedTensorBytes(dims, width, what);
  AsmResourceBlob blob = externalBlob(t, modelDir, bytes, 1, what);
  t.set_raw_data(std::string(blob.getData().data(), blob.getData().size()));
  t.clear_external_data();
  t.set_data_location(TensorProto::DEFAULT);
}

namespace {

/// All bytes of `t` in MLIR's layout, moved or mapped rather than copied
/// where the data allow it.
AsmResourceBlob tensorBlob(TensorProto &t, Type element, int64_t count,
                           const std::string &modelDir,
                           const std::string &what) {
  size_t alignment = std::max<size_t>(byteWidth(element), 1);
  size_t expected = count * byteWidth(element);
  if (t.data_location() == TensorProto::EXTERNAL)
    return externalBlob(t, modelDir, expected, alignment, what);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != expected)
      throw ImportError(what + ": raw_data has " +
                        std::to_string(t.raw_data().size()) +
                        " bytes, expected " + std::to_string(expected));
    std::unique_ptr<std::string> owned(t.release_raw_data());
    ArrayRef<char> bytes(owned->data(), owned->size());
    if (!aligned(bytes.data(), alignment))
      return copyBlob(bytes, alignment);
    return AsmResourceBlob(
        bytes, alignment,
        [owner = std::move(owned)](void *, size_t, size_t) mutable {
          owner.reset();
        },
        /*dataIsMutable=*/true);
  }
  std::vector<char> bytes = bytesFromTypedFields(t, element, count, what);
  return copyBlob(bytes, alignment);
}

/// Resource keys are printed bare in MLIR assembly: keep them identifiers.
std::string resourceKey(const std::string &name) {
  std::string key = name.empty() ? "tensor" : name;
  for (char &c : key)
    if (!isalnum((unsigned char)c) && c != '_' && c != '.')
      c = '_';
  if (isdigit((unsigned char)key[0]))
    key = "t" + key;
  return key;
}

} // namespace

ElementsAttr tensorToAttr(MLIRContext *ctx, TensorProto &t,
                          const std::string &modelDir,
                          const std::string &what) {
  Type element = elementType(ctx, t.data_type());
  if (!element)
    throw ImportError(what + ": element type " + dataTypeName(t.data_type()) +
                      " is not supported");
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  checkedTensorBytes(dims, byteWidth(element), what);
  auto type = RankedTensorType::get(dims, element);
  int64_t count = type.getNumElements();
  AsmResourceBlob blob = tensorBlob(t, element, count, modelDir, what);
  ArrayRef<char> bytes = blob.getData();

  if (element.isInteger(1)) {
    SmallVector<bool> values;
    for (char c : bytes)
      values.push_back(c != 0);
    return DenseElementsAttr::get(type, values);
  }
  if (bytes.size() <= kResourceThresholdBytes) {
    bool splat = false;
    if (!DenseElementsAttr::isValidRawBuffer(type, bytes, splat))
      throw ImportError(what + ": data does not match its type");
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  }
  return DenseResourceElementsAttr::get(type, resourceKey(t.name()),
                                        std::move(blob));
}

namespace {
std::string dataTypeNameOf(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

template <typename T>
std::vector<T> readValues(ElementsAttr attr) {
  Type element = attr.getElementType();
  std::vector<T> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    for (Attribute a : dense.getValues<Attribute>()) {
      if (auto f = dyn_cast<FloatAttr>(a))
        out.push_back((T)f.getValueAsDouble());
      else if (element.isUnsignedInteger() || element.isInteger(1))
        out.push_back((T)cast<IntegerAttr>(a).getValue().getZExtValue());
      else
        out.push_back((T)cast<IntegerAttr>(a).getValue().getSExtValue());
    }
    return out;
  }
  auto resource = cast<DenseResourceElementsAttr>(attr);
  ArrayRef<char> bytes = resource.getRawHandle().getBlob()->getData();
  int64_t n = resource.getNumElements();
  auto read = [&](auto tag) {
    using E = decltype(tag);
    for (int64_t i = 0; i < n; ++i) {
      E v;
      std::memcpy(&v, bytes.data() + i * sizeof(E), sizeof(E));
      out.push_back((T)v);
    }
  };
  if (element.isF32()) read(float());
  else if (element.isF64()) read(double());
  else if (element.isInteger(64)) read(int64_t());
  else if (element.isInteger(32)) read(int32_t());
  else if (element.isUnsignedInteger(8)) read(uint8_t());
  else if (element.isInteger(8)) read(int8_t());
  else
    throw ImportError("cannot read constant values of a large " +
                      dataTypeNameOf(element) +
                      " tensor (only f32, f64 and integer types)");
  return out;
}
} // namespace

std::vector<int64_t> readInts(ElementsAttr attr) {
  return readValues<int64_t>(attr);
}
std::vector<double> readDoubles(ElementsAttr attr) {
  return readValues<double>(attr);
}

} // namespace strata::onnx_import
