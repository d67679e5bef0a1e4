//===- main.cpp - strata: the command-line driver --------------------------===//

#include "Commands.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace strata::cli;

namespace strata::cli {
llvm::cl::OptionCategory &category() {
  static llvm::cl::OptionCategory c("strata options");
  return c;
}

namespace {
llvm::cl::ValuesClass targetValues() {
  return llvm::cl::values(
      clEnumValN(Target::CPU, "cpu", "this machine's CPU, vectorized and "
                                     "multi-threaded (default)"),
      clEnumValN(Target::CUDA, "cuda",
                 "an NVIDIA GPU: kernels in PTX, launched by the runtime's CUDA "
                 "backend (needs libcuda.so.1 only when run)"));
}

const char *const kGpuArchHelp =
    "--target=cuda: the GPU architecture the PTX targets (sm_70 Volta, sm_75 "
    "Turing, sm_80 A100 (default), sm_86/sm_89 Ampere/Ada, sm_90 H100); the "
    "driver compiles it for newer GPUs too";
} // namespace

llvm::cl::ValuesClass convKernelValues() {
  return llvm::cl::values(
      clEnumValN(ConvKernels::Auto, "auto",
                 "oneDNN for 2-D f32 convolutions it runs well (plain or "
                 "depthwise, output channels a multiple of 8), in its blocked "
                 "nChw8c layout with relu/clip/residual-add fused, 3x3 "
                 "stride-1 ones on large enough images as Winograd F(4x4,3x3) "
                 "or F(2x2,3x3) transforms around oneDNN matrix products; "
                 "strata's generated code for the rest (default)"),
      clEnumValN(ConvKernels::Direct, "direct",
                 "as auto, but no Winograd: oneDNN's direct convolutions"),
      clEnumValN(ConvKernels::Generated, "generated",
                 "strata's generated im2col + matmul code for every "
                 "convolution (the executable needs no libdnnl)"));
}

const char *const kConvKernelsHelp =
    "Who computes convolutions on the CPU (ignored for --target=cuda)";

TargetFlags::TargetFlags(llvm::cl::SubCommand &sub)
    : target("target", llvm::cl::desc("Where the model's kernels run"), targetValues(),
             llvm::cl::init(Target::CPU), llvm::cl::sub(sub), llvm::cl::cat(category())),
      gpuArch("gpu-arch", llvm::cl::desc(kGpuArchHelp), llvm::cl::value_desc("sm_NN"),
              llvm::cl::init("sm_80"), llvm::cl::sub(sub), llvm::cl::cat(category())),
      convKernels("conv-kernels", llvm::cl::desc(kConvKernelsHelp), convKernelValues(),
                  llvm::cl::init(ConvKernels::Auto), llvm::cl::sub(sub),
                  llvm::cl::cat(category())),
      sparse("sparse",
             llvm::cl::desc("Sparse kernels for fully connected layers and convolutions "
                            "whose constant weights are mostly zeros (pruned models; CPU)"),
             llvm::cl::values(
                 clEnumValN(SparseKernels::Auto, "auto",
                            "where measured faster: fully connected layers on AVX-512 "
                            "CPUs with at least 60% zeros (batch 1) or 85% (larger "
                            "batches) (default)"),
                 clEnumValN(SparseKernels::On, "on",
                            "sparse kernels for every fully connected layer and "
                            "convolution with a constant weight"),
                 clEnumValN(SparseKernels::Off, "off", "always the dense kernels")),
             llvm::cl::init(SparseKernels::Auto), llvm::cl::sub(sub),
             llvm::cl::cat(category())),
      precision("precision",
                llvm::cl::desc("The type convolutions, matmuls and Gemms read their operands "
                               "in, accumulating in fp32: fp32 (default), bf16 or fp16; "
                               "every other op stays fp32. The CPU runs bf16 on oneDNN's "
                               "bf16 kernels where it has AVX512_BF16 or AMX, else in fp32 "
                               "on the rounded values (with a note)"),
                llvm::cl::value_desc("fp32|bf16|fp16"), llvm::cl::init("fp32"),
                llvm::cl::sub(sub), llvm::cl::cat(category())),
      keepFp32("keep-fp32",
               llvm::cl::desc("With --precision: ONNX nodes (name globs, repeatable) whose "
                              "contractions stay fp32"),
               llvm::cl::value_desc("GLOB"), llvm::cl::sub(sub), llvm::cl::cat(category())) {}

bool TargetFlags::apply(CompileOptions &options, std::string &error) const {
  if (target == Target::CPU && gpuArch.getNumOccurrences()) {
    error = "--gpu-arch needs --target=cuda";
    return false;
  }
  if (precision != "fp32" && precision != "bf16" && precision != "fp16") {
    error = "--precision=" + precision + " is not one of fp32, bf16, fp16";
    return false;
  }
  if (!keepFp32.empty() && precision == "fp32") {
    error = "--keep-fp32 needs --precision=bf16 or fp16";
    return false;
  }
  options.precision = precision;
  options.keepFp32.assign(keepFp32.begin(), keepFp32.end());
  options.target = target;
  options.gpuArch = gpuArch;
  options.convKernels = convKernels;
  options.sparse = sparse;
  return true;
}

int reportError(const std::string &message) {
  llvm::WithColor::error(llvm::errs(), "strata") << message << "\n";
  return 1;
}
} // namespace strata::cli

static const char *kOverview = R"(strata: compile ONNX models into small, fast native programs

Subcommands:
  compile   compile an ONNX model into an executable, a shared library, or a stage
  run       compile (cached) and run a model on .npy/.pb inputs
  bench     measure a model's latency
  train     train a model (compiled forward, backward and optimizer) and save it as ONNX
  prune     prune a model's smallest weights and retrain, in steps (Han et al. 2015)
  compress  prune, share and Huffman-code a model into a .stz package (Deep Compression)
  share     share each layer's weights in a k-means codebook, fine-tune the centroids
  pack      Huffman-code a model's layer weights into a compressed .stz package
  unpack    decode a .stz package into an ONNX model
  opt       run graph passes (folding, batch-norm folding, pruning, sharing), ONNX out
  quantize  quantize a float model to int8 (QDQ ONNX) from calibration data
  inspect   print a model's (or package's) inputs, outputs, ops and parameter count

Run 'strata <subcommand> --help' for its options and examples.
)";

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  Command *commands[] = {&compileCommand(), &runCommand(),   &benchCommand(),
                         &trainCommand(),   &pruneCommand(), &shareCommand(),
                         &compressCommand(), &packCommand(), &unpackCommand(),
                         &optCommand(),     &quantizeCommand(), &inspectCommand()};

  // Examples belong to one subcommand's --help; register only that one.
  std::unique_ptr<llvm::cl::extrahelp> examples;
  if (argc > 1)
    for (Command *c : commands)
      if (std::strcmp(argv[1], c->name) == 0)
        examples = std::make_unique<llvm::cl::extrahelp>(c->examples);
  llvm::cl::HideUnrelatedOptions(category());

  if (argc < 2) {
    llvm::errs() << kOverview;
    return reportError("no subcommand given");
  }
  if (!llvm::cl::ParseCommandLineOptions(argc, argv, kOverview, &llvm::errs()))
    return 1;
  for (Command *c : commands)
    if (c->sub)
      return c->run();
  llvm::errs() << kOverview;
  return reportError("no subcommand given");
}
