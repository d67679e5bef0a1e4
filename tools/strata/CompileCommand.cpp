//===- CompileCommand.cpp - strata compile ---------------------------------===//
//
// Imports a model and stops at the stage named by --emit. Stages are an
// ordered list (Toy's -emit): each later stage adds passes to the pipeline.
// The output file is written only when everything succeeded, and never over
// the input.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "compiler/onnx/OnnxImporter.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

enum class Stage { NN };

// Without --print-weights, constants above these sizes print as elided.
constexpr int64_t kElideBytes = 1024;
constexpr int64_t kElideElements = 16;

cl::SubCommand sub("compile", "Compile an ONNX model (today: up to the nn "
                              "dialect)");
cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::opt<Stage> emit(
    "emit", cl::desc("The stage to stop at and write out"),
    cl::values(clEnumValN(Stage::NN, "nn",
                          "the imported graph as nn-dialect MLIR")),
    cl::init(Stage::NN), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(sub), cl::cat(category()));
cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print all constants in full, so the IR can be parsed back (by "
             "default constants of more than 16 elements are elided)"),
    cl::sub(sub), cl::cat(category()));

/// True if `out` names the same file as `in` (never overwrite the model).
bool sameFile(const std::string &in, const std::string &out) {
  if (out == "-")
    return false;
  bool equivalent = false;
  return !llvm::sys::fs::equivalent(in, out, equivalent) && equivalent;
}

int run() {
  if (sameFile(modelPath, outputPath))
    return reportError("output file " + outputPath +
                       " is the input model; choose another -o");

  mlir::DialectRegistry registry;
  registry.insert<nn::NNDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext ctx(registry);
  std::string error;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importOnnxModel(ctx, modelPath, error);
  if (!module)
    return reportError(error);

  std::string openError;
  auto output = mlir::openOutputFile(outputPath, &openError);
  if (!output)
    return reportError("cannot write " + outputPath + ": " + openError);
  mlir::OpPrintingFlags flags;
  if (!printWeights) {
    flags.elideLargeResourceString(kElideBytes);
    flags.elideLargeElementsAttrs(kElideElements);
  }
  switch (emit) {
  case Stage::NN:
    module->print(output->os(), flags);
    output->os() << "\n";
    break;
  }
  output->keep(); // only now does the file replace anything
  return 0;
}

} // namespace

Command &compileCommand() {
  static Command c{
      "compile", sub,
      "\nExamples:\n"
      "  strata compile model.onnx --emit=nn              # print the imported IR\n"
      "  strata compile model.onnx --emit=nn -o model.mlir --print-weights\n"
      "  strata-opt model.mlir --strata-graph-fold         # then run passes\n",
      run};
  return c;
}

} // namespace strata::cli
