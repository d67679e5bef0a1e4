//===- TensorConversion.h - ONNX types and tensors to MLIR ------*- C++ -*-===//

#ifndef STRATA_COMPILER_ONNX_TENSORCONVERSION_H
#define STRATA_COMPILER_ONNX_TENSORCONVERSION_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "onnx/onnx_pb.h"

#include <optional>
#include <string>
#include <vector>

namespace strata::onnx_import {

/// Tensors of more bytes than this become `dense_resource` blobs; smaller ones
/// become `dense` attributes that folders can compute with.
constexpr size_t kResourceThresholdBytes = 1024;

/// The MLIR element type of an ONNX TensorProto::DataType, or null when strata
/// does not support it.
mlir::Type elementType(mlir::MLIRContext *ctx, int32_t onnxType);

/// The ONNX TensorProto::DataType of an MLIR element type, or 0 when ONNX has
/// none.
int32_t onnxDataType(mlir::Type t);

/// A small `dense` constant as a TensorProto (raw data, row-major): what
/// per-node type inference reads as an input's value. Nothing for types
/// ONNX cannot hold.
std::optional<onnx::TensorProto> denseToTensor(mlir::DenseElementsAttr attr);

/// "FLOAT", "INT64", ... for messages.
std::string dataTypeName(int32_t onnxType);

/// The ranked tensor type of an inferred ONNX type; unknown dimensions become
/// dynamic. Returns std::nullopt (with `why`) if the rank or type is unknown.
std::optional<mlir::RankedTensorType>
tensorType(mlir::MLIRContext *ctx, const onnx::TypeProto &type, std::string &why);

/// Converts a tensor (raw, typed fields, or external data beside the model)
/// into an ElementsAttr. Large raw data is moved out of the TensorProto, and
/// external data is memory-mapped, so weights are never copied twice. Throws
/// ImportError naming `what` (e.g. "initializer 'fc1.weight'").
mlir::ElementsAttr tensorToAttr(mlir::MLIRContext *ctx,
                                onnx::TensorProto &tensor,
                                const std::string &modelDir,
                                const std::string &what);

/// Replaces a tensor's external data with raw_data read from beside the
/// model (for writing a model elsewhere). Throws ImportError naming `what`.
void inlineExternalData(onnx::TensorProto &tensor, const std::string &modelDir,
                        const std::string &what);

/// Reads the values of a (small) constant as integers or doubles.
std::vector<int64_t> readInts(mlir::ElementsAttr attr);
std::vector<double> readDoubles(mlir::ElementsAttr attr);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_TENSORCONVERSION_H
