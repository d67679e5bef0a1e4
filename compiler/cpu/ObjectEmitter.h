//===- ObjectEmitter.h - LLVM-dialect module to a loadable object -*- C++ -*-===//
//
// Turns the lowered module into the object the runtime knows: the model's
// function becomes internal, and two symbols are exported with C linkage
// (see runtime/include/strata/module_abi.h):
//   int strata_model_run(void **buffers)   inputs, outputs, weights, arena,
//                                          run context
//   const char strata_model_signature[]    names, dtypes and shapes as text
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_CPU_OBJECTEMITTER_H
#define STRATA_COMPILER_CPU_OBJECTEMITTER_H

#include "compiler/cpu/CpuTarget.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace llvm {
class raw_pwrite_stream;
}

namespace strata::cpu {

struct TensorSignature {
  std::string name;
  std::string dtype; ///< ONNX name: FLOAT, INT64, ...
  std::vector<int64_t> shape;
  uint64_t offset = 0, bytes = 0; ///< weights in a side file only
  /// An embedded weight stored as a compressed package's layer record of
  /// this many bytes (at `offset` in the blob), decoded at load into a
  /// zero-initialized buffer of `bytes` (strata_model_unpack).
  uint64_t packedBytes = 0;
  /// A packed 2-D layer [rows, cols] the compiler transposed (a Gemm's B),
  /// each row of the result padded to `packedStride` values: decoded, then
  /// transposed into the buffer. 0: used as stored.
  int64_t packedRows = 0, packedCols = 0, packedStride = 0;
};

struct ModelSignature {
  std::vector<TensorSignature> inputs, outputs;
  /// With --weights: the side file's name and its entries, which @main takes
  /// as trailing arguments (after the inputs, before the outputs), and the
  /// identity its header carries (strata_weights_header::id).
  std::string weightsFile;
  uint64_t weightsId = 0;
  std::vector<TensorSignature> weights;
  /// Without --weights: the same entries' bytes, embedded in the object as
  /// one array; strata_model_run passes pointers into it (or, for packed
  /// entries, into the buffers strata_model_unpack decodes them to).
  std::string embeddedWeights;
  /// Some embedded weights are packed: the object links the runtime's
  /// package decoder and exports strata_model_unpack.
  bool packedWeights() const {
    for (const TensorSignature &w : weights)
      if (w.packedBytes)
        return true;
    return false;
  }
  /// --target=cuda: @main takes device pointers (inputs, weights, outputs,
  /// then the arena when gpuArenaBytes > 0) and strata_model_run goes
  /// through the runtime's CUDA backend (strata_cuda_run).
  bool cuda = false;
  /// Some ops run through the runtime's oneDNN glue (linked with libdnnl;
  /// exports strata_model_prepare and the release functions).
  bool oneDnn = false;
  int64_t gpuArenaBytes = 0;
  /// CPU: the bytes of the activation arena @main takes after the outputs
  /// (0: none); the run context always comes last.
  int64_t arenaBytes = 0;
  /// The text stored in strata_model_signature.
  std::string toText() const;
};

/// Reads names (onnx.name), dtypes and static shapes of @main. Call before
/// lowering (afterwards the function takes bare pointers).
ModelSignature signatureOf(mlir::ModuleOp module);

enum class OutputKind { LLVMIR, Assembly, Object };

/// Translates an LLVM-dialect module, adds the ABI symbols, optimizes at O3
/// for the target CPU and writes IR, assembly or a PIC object. Returns false
/// with `error` set on failure.
bool emitModule(mlir::ModuleOp module, const ModelSignature &signature,
                const CpuTarget &target, OutputKind kind,
                llvm::raw_pwrite_stream &os, std::string &error);

} // namespace strata::cpu

#endif // STRATA_COMPILER_CPU_OBJECTEMITTER_H
