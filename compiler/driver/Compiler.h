//===- Compiler.h - strata's compiler as a library --------------*- C++ -*-===//
//
// What `strata compile`, `strata run` and `strata bench` call: import a
// model, lower it to the requested stage, and write text, an object, an
// executable or a shared library. The tools only parse flags.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_DRIVER_COMPILER_H
#define STRATA_COMPILER_DRIVER_COMPILER_H

#include "compiler/cpu/CpuPipeline.h"
#include "compiler/onnx/Package.h"
#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <string>
#include <vector>

namespace strata {

/// Stages in pipeline order (Toy's -emit): each adds passes to the previous.
/// NN is the imported graph, Graph the model stage's output (the
/// target-independent nn -> nn passes), Linalg the backend's kernel
/// selection and lowering.
enum class Stage { NN, Graph, Linalg, LLVM, Asm, Obj, Exe, PTX };

/// Where the generated kernels run.
enum class Target { CPU, CUDA };

using cpu::ConvKernels;
using cpu::SparseKernels;

struct CompileOptions {
  Stage emit = Stage::Exe;
  /// Size for symbolic input dimensions; 0 keeps them (only valid for nn).
  int64_t batch = 0;
  std::string cpu;          ///< empty: the host CPU (also the CUDA host side)
  Target target = Target::CPU;
  std::string gpuArch = "sm_80"; ///< CUDA: the PTX's target architecture
  ConvKernels convKernels = ConvKernels::Auto; ///< CPU only
  SparseKernels sparse = SparseKernels::Auto;  ///< CPU only
  /// Convolutions' and matmuls' operand type: "fp32", "bf16" or "fp16"
  /// (strata-mixed-precision); `keepFp32`: node-name globs that stay f32.
  std::string precision = "fp32";
  std::vector<std::string> keepFp32;
  bool printWeights = false; ///< text stages: print large constants in full
  /// Exe/obj: write weights to this file (mmapped at load, looked up beside
  /// the program or library) instead of embedding them.
  std::string weightsFile;
  /// Print MLIR's per-pass timing and the time of each phase to stderr.
  bool timePasses = false;
  /// CPU: print the kernel and layout each ONNX node got, and the rule that
  /// chose it, to stderr (after kernel selection).
  bool explain = false;
  /// Receives notes (fixed symbolic dimensions, link steps) for the user.
  std::function<void(const std::string &)> note;
  /// Set by compileModel for a .stz package: its layers, which stay packed
  /// in an embedded-weights CPU program and are decoded at load.
  std::vector<PackedRecord> packedLayers;
};

/// Compiles `modelPath` (ONNX, or nn IR in a `.mlir` file) to `outputPath`
/// ("-" for stdout in text stages).
/// Exe writes an executable, or a shared library plus OUT.h when the name
/// ends in ".so". The output appears only if everything succeeded.
bool compileModel(const std::string &modelPath, const std::string &outputPath,
                  const CompileOptions &options, std::string &error);

/// Compiles nn IR already in memory (a module with func.func @main, e.g.
/// a training step built by strata train) as compileModel does after
/// import. Passes run on `module` in place.
bool compileNNModule(mlir::ModuleOp module, const std::string &outputPath,
                     const CompileOptions &options, std::string &error);

/// The static memory plan of a compiled model (strata-plan-memory).
struct MemoryPlan {
  int64_t arenaBytes = 0;    ///< peak: the one arena all activations share
  int64_t buffers = 0;       ///< intermediate buffers placed in it
  int64_t unsharedBytes = 0; ///< what they would take without sharing
};

/// Lowers the model to the LLVM dialect in memory (writes nothing) and
/// reports its memory plan. `options.batch` and `options.cpu` apply.
bool planModelMemory(const std::string &modelPath, const CompileOptions &options,
                     MemoryPlan &plan, std::string &error);

/// Where libstrata_runtime.a and libstrata_driver.a live (next to the tool:
/// <bin>/../lib), found from the running executable.
std::string runtimeLibraryDir();

} // namespace strata

#endif // STRATA_COMPILER_DRIVER_COMPILER_H
