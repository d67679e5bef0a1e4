//===- OnnxImporter.h - ONNX model file to nn IR ----------------*- C++ -*-===//
//
// The importer's public face. No ONNX or protobuf type appears here, and no
// exception leaves it: callers compiled without exceptions (the tools, MLIR
// passes) can use it directly.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_ONNXIMPORTER_H
#define STRATA_COMPILER_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata {

/// Reads `path`, runs libonnx's checker and shape inference, and builds
/// `module { func.func @main }` of nn ops. On failure returns null and sets
/// `error` to one message naming the file (and node, op and domain where
/// the problem is in a node).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext &ctx, const std::string &path,
                std::string &error);

/// As above; with symbolicDim > 0 every symbolic dimension of the graph
/// inputs is fixed to that size first (`--batch`), and `notes` lists them.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModel(mlir::MLIRContext &ctx, const std::string &path,
                int64_t symbolicDim, std::vector<std::string> &notes,
                std::string &error);

/// Imports a model held in memory (`name` for messages, external data looked
/// up in `modelDir`), as importOnnxModel does a file: what the importer's
/// fuzzing target calls (test/fuzz).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxModelFromBytes(mlir::MLIRContext &ctx, const void *bytes, size_t size,
                         const std::string &name, const std::string &modelDir,
                         std::string &error);

/// What `strata inspect` prints.
struct ModelSummary {
  struct Tensor {
    std::string name, dtype;
    std::vector<std::string> dims; ///< numbers, symbolic names, or "?"
  };
  std::string path, producer, graphName;
  int64_t irVersion = 0, opset = 0;
  std::vector<Tensor> inputs, outputs;
  std::map<std::string, int64_t> opCounts; ///< by ONNX op type
  int64_t nodeCount = 0;
  int64_t parameterCount = 0;  ///< elements of all initializers
  int64_t parameterBytes = 0;
  int64_t externalParameterBytes = 0; ///< part of the above in side files
  std::vector<std::string> unsupportedOps; ///< op types strata cannot import
};

/// Loads and checks the model (no import). Returns false and sets `error` if
/// the model cannot be read or is invalid.
bool summarizeOnnxModel(const std::string &path, ModelSummary &summary,
                        std::string &error);

/// Writes a copy of the ONNX model at `sourcePath` to `outputPath` with the
/// named float initializers replaced by `values` (same graph, new weights:
/// what `strata train` saves). Initializers stored in external files are
/// copied into the output, so it stands alone. The output appears only
/// complete (written beside, then renamed); it may not be the source.
/// Writes @main of `module` (nn ops, as imported and transformed by graph
/// passes) as an ONNX model (opset 17) at `outputPath`: graph inputs and
/// outputs keep their names and declared types from `sourcePath`'s model,
/// initializers their names. Checked by libonnx's checker; written whole or
/// not at all, never over `sourcePath`. Fails naming the op for ops ONNX
/// has no form of (training-step gradients).
bool exportOnnxModel(mlir::ModuleOp module, const std::string &sourcePath,
                     const std::string &outputPath, std::string &error);

bool writeModelWithInitializers(
    const std::string &sourcePath, const std::string &outputPath,
    const std::map<std::string, std::vector<float>> &values, std::string &error);

/// The ONNX op types strata imports (sorted).
std::vector<std::string> supportedOnnxOps();

} // namespace strata

#endif // STRATA_COMPILER_ONNX_ONNXIMPORTER_H
