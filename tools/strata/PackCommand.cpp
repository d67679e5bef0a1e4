//===- PackCommand.cpp - strata pack, strata unpack ------------------------===//
//
// Deep Compression's third stage and its inverse: `pack` Huffman-codes a
// model's layer weights (relative positions of the nonzeros and their
// cluster indices) with their codebooks into a .stz package
// (compiler/onnx/Package.h, docs/package-format.md); `unpack` decodes one
// back into ONNX that any runtime runs. `strata compile|run|inspect|bench`
// read packages directly.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "PackageTable.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace strata::cli {
namespace {

cl::SubCommand packSub("pack", "Huffman-code a (pruned, shared) model's layer weights into "
                               "a .stz package");
cl::opt<std::string> packModel(cl::Positional, cl::Required, cl::desc("<model.onnx>"),
                               cl::sub(packSub), cl::cat(category()));
cl::opt<std::string> packBits("bits",
                              cl::desc("Bits per cluster index: conv=N,fc=N or one N for both "
                                       "(default conv=8,fc=5; a model strata share wrote "
                                       "with as many keeps its codebooks exactly)"),
                              cl::init("conv=8,fc=5"), cl::value_desc("conv=8,fc=5"),
                              cl::sub(packSub), cl::cat(category()));
cl::opt<std::string> packOutput("o", cl::desc("Package (default: <model>.stz)"),
                                cl::value_desc("file.stz"), cl::sub(packSub),
                                cl::cat(category()));

cl::SubCommand unpackSub("unpack", "Decode a .stz package into an ONNX model");
cl::opt<std::string> packagePath(cl::Positional, cl::Required, cl::desc("<model.stz>"),
                                   cl::sub(unpackSub), cl::cat(category()));
cl::opt<std::string> unpackOutput("o", cl::Required, cl::desc("ONNX model to write"),
                                  cl::value_desc("file.onnx"), cl::sub(unpackSub),
                                  cl::cat(category()));

/// Refuses to write over the input (nothing the user gave is overwritten).
bool sameFile(const std::string &a, const std::string &b) {
  bool same = false;
  return !llvm::sys::fs::equivalent(a, b, same) && same;
}

int runPack() {
  LayerBits bits;
  std::string error;
  if (!parseLayerBits(packBits, bits, error))
    return reportError(error);
  std::string output = packOutput;
  if (output.empty()) {
    llvm::SmallString<256> p(packModel.getValue());
    llvm::sys::path::replace_extension(p, ".stz");
    output = std::string(p);
  }
  if (sameFile(packModel, output))
    return reportError(output + " is the model being packed; choose another -o");
  PackageReport report;
  if (!writePackage(packModel, bits, output, report, error))
    return reportError(error);
  printPackageTable(report, llvm::outs());
  llvm::errs() << "strata: wrote " << output << "\n";
  return 0;
}

int runUnpack() {
  if (sameFile(packagePath, unpackOutput))
    return reportError(unpackOutput + " is the package being unpacked; choose another -o");
  if (!isPackageFile(packagePath))
    return reportError(packagePath + ": not a strata package (no STRATAZ header; "
                       "strata pack writes them)");
  std::string error;
  if (!strata::unpackPackage(packagePath, unpackOutput, error))
    return reportError(error);
  llvm::errs() << "strata: wrote " << unpackOutput << "\n";
  return 0;
}

} // namespace

Command &packCommand() {
  static Command c{"pack", packSub,
                   "\nExamples:\n"
                   "  strata pack lenet300.shared.onnx -o lenet300.stz\n"
                   "  strata pack net.onnx --bits conv=6,fc=4\n"
                   "\nEach Conv/Gemm/MatMul weight is stored as the Huffman-coded gaps between\n"
                   "its nonzeros (with filler entries for long gaps; the gap width that codes\n"
                   "smallest per layer) and Huffman-coded indices into its codebook; the\n"
                   "graph and other initializers stay ONNX. Prints the per-layer table; the\n"
                   "last line (stdout):\n"
                   "  compression=41.2x dense_bytes=1066440 package_bytes=25886\n",
                   runPack};
  return c;
}

Command &unpackCommand() {
  static Command c{"unpack", unpackSub,
                   "\nExamples:\n"
                   "  strata unpack lenet300.stz -o lenet300.onnx\n"
                   "\nThe layer weights come back as float initializers holding the codebook\n"
                   "values (pruned weights zero): the model computes what the package's\n"
                   "program computes, in any ONNX runtime.\n",
                   runUnpack};
  return c;
}

} // namespace strata::cli
