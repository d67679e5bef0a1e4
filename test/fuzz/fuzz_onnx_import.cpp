// libFuzzer target: the ONNX loader and importer (protobuf parse, strata's
// prechecks, libonnx's checker and shape inference, the graph importer and
// the nn verifiers) on arbitrary bytes. Any crash, hang, sanitizer report
// or uncaught exception is a bug; a clean refusal is the expected outcome.
#include "compiler/onnx/OnnxImporter.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {
/// An empty folder as the model's folder: external data must stay in it.
/// Removed (it stays empty) when the process exits.
char createdDir[] = "/tmp/strata-fuzz-XXXXXX"; // a plain array: alive in atexit handlers

const std::string &modelDir() {
  static std::string dir = [] {
    if (!mkdtemp(createdDir))
      return std::string("/nonexistent");
    std::atexit([] { rmdir(createdDir); });
    return std::string(createdDir);
  }();
  return dir;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A fresh context per input: nothing one input registers (resource
  // blobs) leaks into the next.
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  ctx.loadDialect<strata::nn::NNDialect, mlir::func::FuncDialect>();
  ctx.printOpOnDiagnostic(false);
  std::string error;
  auto module = strata::importOnnxModelFromBytes(ctx, data, size, "fuzz.onnx", modelDir(),
                                                 error);
  if (!module && error.empty())
    std::abort(); // a refusal must say why
  return 0;
}
