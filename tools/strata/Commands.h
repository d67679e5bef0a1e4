//===- Commands.h - the subcommands of the strata CLI -----------*- C++ -*-===//
//
// Each subcommand lives in its own file with its llvm::cl options (a
// cl::SubCommand and the options that name it must be constructed in one
// translation unit). main.cpp asks which one was chosen and runs it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_COMMANDS_H
#define STRATA_TOOLS_STRATA_COMMANDS_H

#include "compiler/driver/Compiler.h"

#include "llvm/Support/CommandLine.h"

namespace strata::cli {

/// All of strata's options, so that LLVM's own can be hidden from --help.
llvm::cl::OptionCategory &category();

struct Command {
  const char *name;
  llvm::cl::SubCommand &sub;
  const char *examples; ///< printed after the options by --help
  int (*run)();
};

Command &compileCommand();
Command &inspectCommand();
Command &runCommand();
Command &benchCommand();
Command &trainCommand();
Command &pruneCommand();
Command &shareCommand();
Command &compressCommand();
Command &packCommand();
Command &unpackCommand();
Command &optCommand();
Command &quantizeCommand();

/// --conv-kernels=auto|generated (also taken by train).
llvm::cl::ValuesClass convKernelValues();
extern const char *const kConvKernelsHelp;

/// --target, --gpu-arch, --conv-kernels, --sparse, --precision and --keep-fp32 of
/// one subcommand (compile, run, bench): where the model runs, who computes its
/// convolutions and in which type.
struct TargetFlags {
  explicit TargetFlags(llvm::cl::SubCommand &sub);
  /// Copies the flags into `options`; false (with `error`) when --gpu-arch
  /// is given without --target=cuda.
  bool apply(CompileOptions &options, std::string &error) const;

  llvm::cl::opt<Target> target;
  llvm::cl::opt<std::string> gpuArch;
  llvm::cl::opt<ConvKernels> convKernels;
  llvm::cl::opt<SparseKernels> sparse;
  llvm::cl::opt<std::string> precision;
  llvm::cl::list<std::string> keepFp32;
};

/// Prints "strata: error: <message>" to stderr and returns exit code 1.
int reportError(const std::string &message);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_COMMANDS_H
