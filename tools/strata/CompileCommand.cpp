//===- CompileCommand.cpp - strata compile ---------------------------------===//

#include "Commands.h"
#include "compiler/driver/Compiler.h"

#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand sub("compile", "Compile an ONNX model into an executable, a "
                              "shared library, or an intermediate stage");
cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                               cl::desc("<model.onnx>"), cl::sub(sub),
                               cl::cat(category()));
cl::opt<Stage> emit(
    "emit", cl::desc("The stage to stop at and write out"),
    cl::values(
        clEnumValN(Stage::NN, "nn", "the imported graph (nn dialect)"),
        clEnumValN(Stage::Graph, "graph",
                   "the graph after the model stage's passes (folded "
                   "constants, batch norms in convolutions)"),
        clEnumValN(Stage::Linalg, "linalg",
                   "after the backend's kernel selection: lowered and fused "
                   "linalg on tensors"),
        clEnumValN(Stage::LLVM, "llvm", "optimized LLVM IR for the target CPU"),
        clEnumValN(Stage::Asm, "asm", "assembly for the target CPU"),
        clEnumValN(Stage::Obj, "obj", "an object file exporting the module ABI"),
        clEnumValN(Stage::Exe, "exe",
                   "an executable, or a shared library + C header if -o "
                   "ends in .so (default)"),
        clEnumValN(Stage::PTX, "ptx",
                   "--target=cuda: the kernels' PTX assembly")),
    cl::init(Stage::Exe), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> outputPath(
    "o", cl::desc("Output file ('-' is stdout for text stages; default: "
                  "stdout for text, <model name> for exe, <model name>.o for obj)"),
    cl::value_desc("file"), cl::sub(sub), cl::cat(category()));
cl::opt<int64_t> batch(
    "batch", cl::desc("Size given to symbolic input dimensions (default 1 "
                      "for code generation; kept symbolic for --emit=nn)"),
    cl::init(0), cl::sub(sub), cl::cat(category()));
cl::opt<std::string> cpu("cpu", cl::desc("Target CPU, as LLVM names it "
                                         "(default: this machine's)"),
                         cl::value_desc("name"), cl::sub(sub),
                         cl::cat(category()));
TargetFlags targetFlags(sub);
cl::opt<std::string> weightsFile(
    "weights",
    cl::desc("Write the weights to FILE instead of embedding them; the "
             "program or library mmaps FILE from its own folder at start-up"),
    cl::value_desc("FILE"), cl::sub(sub), cl::cat(category()));
cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Text stages: print all constants in full, so the IR can be "
             "parsed back (by default constants of more than 16 elements are "
             "elided)"),
    cl::sub(sub), cl::cat(category()));
cl::opt<bool> timePasses(
    "time-passes",
    cl::desc("Print the time of each compiler pass and phase (import, LLVM "
             "code generation, link) to stderr"),
    cl::sub(sub), cl::cat(category()));

cl::opt<bool> explain(
    "explain",
    cl::desc("Print to stderr, per ONNX node, the kernel (and layout) the backend "
             "chose and the rule that chose it (CPU: --emit=linalg or later; "
             "--target=cuda: --emit=llvm or later)"),
    cl::sub(sub), cl::cat(category()));

std::string defaultOutput() {
  std::string stem = llvm::sys::path::stem(modelPath).str();
  switch (emit) {
  case Stage::Exe: return stem;
  case Stage::Obj: return stem + ".o";
  default: return "-";
  }
}

int run() {
  if (batch < 0)
    return reportError("--batch must be positive");
  CompileOptions options;
  options.emit = emit;
  options.batch = batch;
  options.cpu = cpu;
  std::string error;
  if (!targetFlags.apply(options, error))
    return reportError(error);
  options.printWeights = printWeights;
  options.weightsFile = weightsFile;
  options.timePasses = timePasses;
  options.explain = explain;
  options.note = [](const std::string &n) {
    llvm::errs() << "strata: note: " << n << "\n";
  };
  std::string out = outputPath.empty() ? defaultOutput() : outputPath;
  if (!compileModel(modelPath, out, options, error))
    return reportError(error);
  if (emit == Stage::Exe || emit == Stage::Obj)
    llvm::errs() << "strata: wrote " << out << "\n";
  return 0;
}

} // namespace

Command &compileCommand() {
  static Command c{
      "compile", sub,
      "\nExamples:\n"
      "  strata compile model.onnx -o model            # executable\n"
      "  ./model --input input=x.npy --output-dir out  # run it\n"
      "  strata compile model.onnx -o libmodel.so      # shared library + libmodel.h\n"
      "  strata compile model.onnx --batch=64 -o model64\n"
      "  strata compile model.onnx -o model --weights=model.weights  # keep both together\n"
      "  strata compile model.onnx --emit=nn           # the imported IR\n"
      "  strata compile model.onnx --emit=asm --cpu=skylake-avx512\n"
      "  strata compile model.onnx --target=cuda -o model_gpu   # NVIDIA GPU\n"
      "  strata compile model.onnx --target=cuda --gpu-arch=sm_90 --emit=ptx -o model.ptx\n",
      run};
  return c;
}

} // namespace strata::cli
