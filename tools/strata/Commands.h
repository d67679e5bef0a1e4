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

/// --target's values (cpu, cuda) and --gpu-arch's description, shared by
/// compile, run and bench.
llvm::cl::ValuesClass targetValues();
/// --conv-kernels=auto|generated, shared by compile, run and bench.
llvm::cl::ValuesClass convKernelValues();
extern const char *const kConvKernelsHelp;
extern const char *const kGpuArchHelp;

/// Copies --target/--gpu-arch into `options`; false (with `error`) when
/// --gpu-arch is given without --target=cuda.
bool applyTarget(Target target, const llvm::cl::opt<std::string> &gpuArch,
                 CompileOptions &options, std::string &error);

/// Prints "strata: error: <message>" to stderr and returns exit code 1.
int reportError(const std::string &message);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_COMMANDS_H
