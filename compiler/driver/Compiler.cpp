//===- Compiler.cpp - strata's compiler as a library ----------------------===//

#include "compiler/driver/Compiler.h"
#include "compiler/onnx/Package.h"
#include "compiler/driver/DiagnosticCollector.h"
#include "compiler/support/DurableFile.h"
#include "compiler/cpu/CpuPipeline.h"
#include "compiler/cpu/ExternalWeights.h"
#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/ObjectEmitter.h"
#include "compiler/gpu/GpuKernelChoice.h"
#include "compiler/gpu/GpuPipeline.h"
#include "compiler/onnx/OnnxImporter.h"
#include "passes/ModelPipeline.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Parser/Parser.h"
#include "dialects/nn/NNDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <unistd.h>
#include <unistd.h>
#include <fstream>

using namespace mlir;

namespace strata {

std::string runtimeLibraryDir() {
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable("strata", &anchor);
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(dir, "lib");
  return std::string(dir);
}

namespace {

// Without --print-weights, constants above these sizes print as elided.
constexpr int64_t kElideBytes = 1024;
constexpr int64_t kElideElements = 16;

bool sameFile(const std::string &a, const std::string &b) {
  bool equivalent = false;
  return b != "-" && !llvm::sys::fs::equivalent(a, b, equivalent) && equivalent;
}

/// The model file a module was imported from (strata.source), or "".
std::string sourceOf(ModuleOp module) {
  auto source = module->getAttrOfType<StringAttr>("strata.source");
  return source ? source.str() : "";
}

/// Runs a pass pipeline, turning MLIR diagnostics into `error` (naming the
/// model file and the node where the module has them).
bool runPipeline(MLIRContext &ctx, ModuleOp module,
                 llvm::function_ref<void(OpPassManager &)> build,
                 std::string &error, bool timePasses = false) {
  DiagnosticCollector diagnostics(ctx, sourceOf(module));
  PassManager pm(&ctx);
  if (timePasses)
    pm.enableTiming(); // reported on stderr when pm goes out of scope
  build(pm);
  if (succeeded(pm.run(module)))
    return true;
  error = diagnostics.message("compilation failed");
  return false;
}

void printText(ModuleOp module, bool printWeights, llvm::raw_ostream &os) {
  OpPrintingFlags flags;
  if (!printWeights) {
    flags.elideLargeResourceString(kElideBytes);
    flags.elideLargeElementsAttrs(kElideElements);
  }
  module->print(os, flags);
  os << "\n";
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The C compiler driver that links programs, and flags it always gets: a
// sanitizer build of strata (STRATA_SANITIZE) links the programs it makes
// with the same sanitizers, whose runtime its libraries need.
#ifndef STRATA_PROGRAM_LINKER
#define STRATA_PROGRAM_LINKER "cc"
#endif
#ifndef STRATA_PROGRAM_LINK_FLAGS
#define STRATA_PROGRAM_LINK_FLAGS ""
#endif

/// Runs the linker with `args`; returns false with its exit described in `error`.
bool runLinker(std::vector<std::string> args, std::string &error) {
  auto cc = llvm::sys::findProgramByName(STRATA_PROGRAM_LINKER);
  if (!cc) {
    error = std::string("no C compiler driver '") + STRATA_PROGRAM_LINKER +
            "' on PATH to link with (install gcc)";
    return false;
  }
  llvm::SmallVector<llvm::StringRef> extra;
  llvm::StringRef(STRATA_PROGRAM_LINK_FLAGS).split(extra, ' ', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef flag : extra)
    args.push_back(flag.str());
  std::vector<llvm::StringRef> argv{*cc};
  for (const auto &a : args)
    argv.push_back(a);
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    error = "linking failed (cc exited with " + std::to_string(rc) + ")" +
            (message.empty() ? "" : ": " + message);
    return false;
  }
  return true;
}

std::string headerFor(const std::string &soPath, const cpu::ModelSignature &sig) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "/* " << llvm::sys::path::filename(soPath)
     << ": a model compiled by strata. Load it with strata_module_load()\n"
        " * (runtime/include/strata/runtime.h), or call the entry point\n"
        " * directly with one row-major buffer per input, then per output:\n";
  auto list = [&](const char *kind, const std::vector<cpu::TensorSignature> &ts) {
    for (const auto &t : ts) {
      os << " *   " << kind << " " << t.name << ": " << t.dtype << " [";
      for (size_t i = 0; i < t.shape.size(); ++i)
        os << (i ? ", " : "") << t.shape[i];
      os << "]\n";
    }
  };
  list("input ", sig.inputs);
  list("output", sig.outputs);
  os << " * then one per weight of a --weights file, then the arena and the run\n"
        " * context when the model has them (see strata/module_abi.h).\n"
        " */\n#ifndef STRATA_MODEL_H\n#define STRATA_MODEL_H\n"
        "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
        "/* Returns 0, or 1 when the run failed. */\n"
        "int strata_model_run(void **buffers);\n"
        "/* Names, dtypes and shapes as text (see strata/module_abi.h). */\n"
        "extern const char strata_model_signature[];\n"
        "#ifdef __cplusplus\n}\n#endif\n#endif\n";
  return out;
}

/// The pipelines of one compilation, configured once from its options.
struct Pipelines {
  ModelPipelineOptions model;
  cpu::CpuBackendOptions cpu; ///< also the CUDA host code's target CPU
  bool cuda = false;

  /// Fills in the pipelines' options from `opt`; false if --cpu is unknown.
  bool configure(const CompileOptions &opt, std::string &error) {
    cuda = opt.target == Target::CUDA;
    cpu.convKernels = opt.convKernels;
    model.precision = opt.precision;
    model.keepFp32 = opt.keepFp32;
    cpu.sparse = opt.sparse;
    if (!cpu::describeCpu(opt.cpu, cpu.target, error))
      return false;
    // 16-bit compute needs the kernels for it; say when it falls back.
    if (!cuda && opt.note && opt.precision == "bf16" && !cpu.target.avx512bf16 &&
        !cpu.target.amx)
      opt.note("--precision=bf16: this CPU has neither AVX512_BF16 nor AMX; convolutions "
               "and matmuls compute in fp32 (on the bf16-rounded weights)");
    if (!cuda && opt.note && opt.precision == "fp16")
      opt.note("--precision=fp16: the CPU has no fp16 kernels here; convolutions and "
               "matmuls compute in fp32 (on the fp16-rounded weights)");
    return true;
  }
  void buildModel(OpPassManager &pm) const { buildModelPipeline(pm, model); }
  /// The backend's kernel selection (what --explain reports), then the
  /// lowering of the rest to linalg on tensors.
  void buildKernelSelection(OpPassManager &pm) const {
    if (!cuda)
      cpu::buildKernelSelectionPipeline(pm, cpu);
  }
  void buildLowering(OpPassManager &pm) const {
    if (cuda)
      gpu::buildNNToLinalgPipeline(pm);
    else
      cpu::addLinalgLowering(pm, /*runTimeChecks=*/true);
  }
  void buildTiling(OpPassManager &pm) const { cpu::buildTilingPipeline(pm, cpu.target); }
};

} // namespace

/// Imports an ONNX model, or parses nn IR from a `.mlir` file (what
/// `strata compile --emit=nn` and `strata-opt` write).
OwningOpRef<ModuleOp> loadModel(MLIRContext &ctx, const std::string &modelPath,
                                int64_t batch, std::vector<std::string> &notes,
                                std::string &error) {
  if (!endsWith(modelPath, ".mlir"))
    return importOnnxModel(ctx, modelPath, batch, notes, error);
  DiagnosticCollector diagnostics(ctx, modelPath);
  ParserConfig config(&ctx);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(modelPath, config);
  if (!module) {
    error = diagnostics.message("cannot read " + modelPath);
    return nullptr;
  }
  if (!module->lookupSymbol<func::FuncOp>("main")) {
    error = modelPath + ": no func.func @main to compile";
    return nullptr;
  }
  // --emit=nn without --print-weights writes dense_resource<__elided__>:
  // a constant without data, which nothing can compile.
  WalkResult elided = module->walk([&](Operation *op) {
    for (NamedAttribute attr : op->getAttrs()) {
      auto resource = dyn_cast<DenseResourceElementsAttr>(attr.getValue());
      if (!resource || resource.getRawHandle().getBlob())
        continue;
      std::string where;
      llvm::raw_string_ostream os(where);
      if (auto file = dyn_cast<FileLineColLoc>(op->getLoc()))
        os << ":" << file.getLine() << ":" << file.getColumn();
      auto name = op->getAttrOfType<StringAttr>("onnx.initializer");
      error = modelPath + where + ": the constant " +
              (name ? "'" + name.str() + "' " : std::string()) +
              "has no data (dense_resource<" + resource.getRawHandle().getKey().str() +
              ">): the file was written without its weights; write it again "
              "with strata compile --emit=nn --print-weights";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (elided.wasInterrupted())
    return nullptr;
  // Diagnostics of later stages name this file (not the ONNX model the IR
  // may have come from).
  (*module)->setAttr("strata.source", StringAttr::get(&ctx, modelPath));
  return module;
}

bool compileModel(const std::string &modelPath, const std::string &outputPath,
                  const CompileOptions &opt, std::string &error) {
  if (sameFile(modelPath, outputPath)) {
    error = "output file " + outputPath + " is the input model; choose another -o";
    return false;
  }
  if (!opt.weightsFile.empty() && sameFile(modelPath, opt.weightsFile)) {
    error = "--weights " + opt.weightsFile + " would overwrite the model or the output";
    return false;
  }
  std::string archError;
  if (opt.target == Target::CUDA && !gpu::checkArch(opt.gpuArch, archError)) {
    error = archError;
    return false;
  }
  if (opt.target == Target::CUDA && opt.explain && opt.emit == Stage::Linalg) {
    error = "--explain with --target=cuda needs --emit=llvm or later: the GPU's kernels "
            "are chosen after the linalg stage";
    return false;
  }
  if (opt.explain && (opt.emit == Stage::NN || opt.emit == Stage::Graph)) {
    error = "--explain needs the kernel stage: --emit=linalg or later";
    return false;
  }
  if (opt.target == Target::CPU && opt.emit == Stage::PTX) {
    error = "--emit=ptx needs --target=cuda";
    return false;
  }
  DialectRegistry registry;
  gpu::registerGpuDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadDialect<nn::NNDialect, func::FuncDialect>();
  std::vector<std::string> notes;
  int64_t batch = opt.batch;
  if (batch == 0 && opt.emit != Stage::NN)
    batch = 1; // code generation needs static shapes
  auto start = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module = loadModel(ctx, modelPath, batch, notes, error);
  if (opt.timePasses)
    llvm::errs() << llvm::format(
        "strata: %-34s %8.3f s\n", (const char *)"import (parse, check, infer shapes)",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!module)
    return false;
  if (opt.note)
    for (const auto &n : notes)
      opt.note("fixed symbolic dimension: " + n +
               (opt.batch == 0 ? " (default; set with --batch=N)" : ""));
  // A compressed package: its layers stay packed in the program where no
  // pass rewrote them, and are decoded when it loads.
  if (isPackageFile(modelPath) && opt.weightsFile.empty()) {
    CompileOptions packed = opt;
    if (!packedRecords(modelPath, packed.packedLayers, error))
      return false;
    return compileNNModule(*module, outputPath, packed, error);
  }
  return compileNNModule(*module, outputPath, opt, error);
}

bool compileNNModule(ModuleOp module, const std::string &outputPath,
                     const CompileOptions &opt, std::string &error) {
  MLIRContext &ctx = *module.getContext();
  bool textStage = opt.emit == Stage::NN || opt.emit == Stage::Graph ||
                   opt.emit == Stage::Linalg ||
                   opt.emit == Stage::LLVM || opt.emit == Stage::Asm ||
                   opt.emit == Stage::PTX;
  bool cuda = opt.target == Target::CUDA;
  if (!opt.weightsFile.empty()) {
    if (opt.emit == Stage::NN || opt.emit == Stage::Graph || opt.emit == Stage::Linalg) {
      error = "--weights applies to --emit=exe, obj, llvm and asm";
      return false;
    }
    if (sameFile(outputPath, opt.weightsFile)) {
      error = "--weights " + opt.weightsFile + " would overwrite the model or the output";
      return false;
    }
  }
  if (!textStage && outputPath == "-") {
    error = "binary output needs -o FILE";
    return false;
  }
  auto phaseStart = std::chrono::steady_clock::now();
  // --time-passes: how long each phase outside the pass managers took.
  auto phase = [&](const char *name) {
    auto now = std::chrono::steady_clock::now();
    if (opt.timePasses)
      llvm::errs() << llvm::format("strata: %-34s %8.3f s\n", name,
                                   std::chrono::duration<double>(now - phaseStart).count());
    phaseStart = now;
  };
  auto openText = [&]() {
    std::string openError;
    auto file = mlir::openOutputFile(outputPath, &openError);
    if (!file)
      error = "cannot write " + outputPath + ": " + openError;
    return file;
  };
  auto writeIR = [&]() {
    auto out = openText();
    if (!out)
      return false;
    printText(module, opt.printWeights, out->os());
    out->keep();
    return true;
  };

  if (opt.emit == Stage::NN)
    return writeIR();
  Pipelines pipelines;
  if (!pipelines.configure(opt, error))
    return false;
  cpu::ModelSignature signature = cpu::signatureOf(module);
  auto run = [&](void (Pipelines::*build)(OpPassManager &) const) {
    return runPipeline(
        ctx, module, [&](OpPassManager &pm) { (pipelines.*build)(pm); }, error,
        opt.timePasses);
  };
  if (!run(&Pipelines::buildModel))
    return false;
  if (opt.emit == Stage::Graph)
    return writeIR();
  if (!run(&Pipelines::buildKernelSelection))
    return false;
  if (opt.explain && !cuda)
    cpu::explainKernels(module, pipelines.cpu.target, llvm::errs());
  if (!run(&Pipelines::buildLowering))
    return false;
  if (opt.emit == Stage::Linalg)
    return writeIR();
  const cpu::CpuTarget &target = pipelines.cpu.target;
  if (cuda) {
    // Splats and booleans become device computations; every other constant
    // (however small) a weight, uploaded to device memory once.
    if (!runPipeline(ctx, module, gpu::buildGpuConstantsPipeline, error, opt.timePasses))
      return false;
  } else if (!run(&Pipelines::buildTiling)) {
    return false;
  }
  int64_t minWeightBytes = cuda ? 1 : 1024;
  // The weights file is written beside its final place and moved there only
  // when the program is complete, as the program itself is: a failed compile
  // leaves no partial file and never replaces the user's.
  std::string tmpWeights = opt.weightsFile + ".strata-tmp";
  llvm::FileRemover removeTmpWeights(opt.weightsFile.empty() ? "" : tmpWeights);
  if (!opt.weightsFile.empty()) {
    if (!cpu::externalizeWeights(module, tmpWeights, opt.weightsFile,
                                 minWeightBytes, signature, error))
      return false;
  } else if (!cpu::embedWeights(module, minWeightBytes, signature, error,
                                 cuda ? std::vector<PackedRecord>() : opt.packedLayers)) {
    return false;
  }
  if (!opt.packedLayers.empty() && opt.note) {
    size_t kept = 0;
    for (const cpu::TensorSignature &w : signature.weights)
      kept += w.packedBytes != 0;
    opt.note(std::to_string(kept) + " of the package's " +
             std::to_string(opt.packedLayers.size()) +
             " layers stay packed in the program and are decoded when it loads" +
             (kept < opt.packedLayers.size()
                  ? "; the others are stored as their kernels need them (sparse slices, "
                    "blocked or transformed weights)"
                  : ""));
  }
  if (cuda) {
    gpu::GpuTarget gpuTarget;
    gpuTarget.arch = opt.gpuArch;
    if (!runPipeline(ctx, module, gpu::buildGpuBufferizationPipeline, error, opt.timePasses))
      return false;
    if (opt.explain)
      gpu::explainGpuKernels(module, gpuTarget, llvm::errs());
    if (!runPipeline(ctx, module,
                     [&](OpPassManager &pm) { gpu::buildGpuKernelPipeline(pm, gpuTarget); },
                     error, opt.timePasses))
      return false;
    if (std::string missing = gpu::missingLibdevice(gpu::collectPtx(module, opt.gpuArch));
        !missing.empty()) {
      error = missing;
      return false;
    }
    if (auto arena = module->getAttrOfType<IntegerAttr>("strata.gpu_arena_bytes"))
      signature.gpuArenaBytes = arena.getInt();
    signature.cuda = true;
  } else if (!runPipeline(
                 ctx, module,
                 [&](OpPassManager &pm) { cpu::buildLinalgToLLVMPipeline(pm, target); },
                 error, opt.timePasses)) {
    return false;
  } else if (auto arena = module->getAttrOfType<IntegerAttr>("strata.arena_bytes")) {
    signature.arenaBytes = arena.getInt();
    // Compiling for a bigger machine is fine; running here will fail when
    // the context is made, so say so now.
    double memory = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (opt.note && memory > 0 && (double)signature.arenaBytes > memory)
      opt.note(llvm::formatv("each run needs {0:F1} GiB of activation memory, more than "
                             "this machine's {1:F1} GiB",
                             signature.arenaBytes / 1073741824.0, memory / 1073741824.0)
                   .str());
  }
  signature.oneDnn = module->hasAttr("strata.uses_onednn");
  if (opt.emit == Stage::PTX) {
    auto out = openText();
    if (!out)
      return false;
    out->os() << gpu::collectPtx(module, opt.gpuArch);
    out->keep();
    return true;
  }

  if (opt.emit == Stage::LLVM || opt.emit == Stage::Asm) {
    auto out = openText();
    if (!out)
      return false;
    if (!cpu::emitModule(module, signature, target,
                         opt.emit == Stage::LLVM ? cpu::OutputKind::LLVMIR
                                                 : cpu::OutputKind::Assembly,
                         out->os(), error))
      return false;
    out->keep();
    return true;
  }

  // Binary stages: object into a temporary, linked into a temporary beside
  // the output, renamed into place only at the end.
  llvm::SmallString<256> objPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("strata", "o", fd, objPath)) {
    error = "cannot create a temporary object file";
    return false;
  }
  llvm::FileRemover removeObj(objPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    phaseStart = std::chrono::steady_clock::now();
    if (!cpu::emitModule(module, signature, target, cpu::OutputKind::Object,
                         os, error))
      return false;
    phase("LLVM optimization and code generation");
  }
  // A device or FIFO (-o /dev/null) is written through, not replaced, and
  // the temporary goes to the system's folder rather than beside it.
  bool special = isSpecialFile(outputPath);
  std::string tmpOut = outputPath + ".strata-tmp";
  if (special) {
    llvm::SmallString<256> t;
    llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, t);
    llvm::sys::path::append(t, "strata-out-" + std::to_string(::getpid()));
    tmpOut = std::string(t);
  }
  llvm::FileRemover removeTmp(tmpOut);
  if (opt.emit == Stage::Obj) {
    if (llvm::sys::fs::copy_file(objPath, tmpOut)) {
      error = "cannot write " + outputPath;
      return false;
    }
  } else if (endsWith(outputPath, ".so")) {
    std::string lib = runtimeLibraryDir();
    std::vector<std::string> args{"-shared", "-o", tmpOut, std::string(objPath)};
    if (cuda)
      args.push_back(lib + "/libstrata_cuda.a");
    if (signature.oneDnn)
      args.insert(args.end(), {lib + "/libstrata_onednn.a", "-ldnnl"});
    if (signature.packedWeights()) // the package decoder, for strata_model_unpack
      args.push_back(lib + "/libstrata_runtime.a");
    for (const char *a : {"/libstrata_parallel.a", "-lgomp", "-lm", "-ldl"})
      args.push_back(a[0] == '/' ? lib + a : a);
    if (!runLinker(args, error))
      return false;
    std::ofstream header(outputPath.substr(0, outputPath.size() - 3) + ".h");
    header << headerFor(outputPath, signature);
  } else {
    std::string lib = runtimeLibraryDir();
    std::vector<std::string> args{"-o", tmpOut, std::string(objPath),
                                  lib + "/libstrata_driver.a"};
    if (cuda)
      args.push_back(lib + "/libstrata_cuda.a");
    if (signature.oneDnn)
      args.insert(args.end(), {lib + "/libstrata_onednn.a", "-ldnnl"});
    for (const char *a : {"/libstrata_runtime.a", "/libstrata_parallel.a", "-lgomp",
                          "-lm", "-ldl"})
      args.push_back(a[0] == '/' ? lib + a : a);
    if (!runLinker(args, error))
      return false;
  }
  phase("link");
  if (!opt.weightsFile.empty() && llvm::sys::fs::rename(tmpWeights, opt.weightsFile)) {
    error = "cannot move the weights to " + opt.weightsFile;
    return false;
  }
  if (special ? bool(llvm::sys::fs::copy_file(tmpOut, outputPath))
              : bool(llvm::sys::fs::rename(tmpOut, outputPath))) {
    error = "cannot move the result to " + outputPath;
    return false;
  }
  return true;
}

bool planModelMemory(const std::string &modelPath, const CompileOptions &opt,
                     MemoryPlan &plan, std::string &error) {
  DialectRegistry registry;
  cpu::registerCpuDialects(registry);
  MLIRContext ctx(registry);
  std::vector<std::string> notes;
  OwningOpRef<ModuleOp> module = importOnnxModel(
      ctx, modelPath, opt.batch > 0 ? opt.batch : 1, notes, error);
  if (!module)
    return false;
  CompileOptions cpuOptions = opt;
  cpuOptions.target = Target::CPU;
  Pipelines pipelines;
  if (!pipelines.configure(cpuOptions, error) ||
      !runPipeline(ctx, *module,
                   [&](OpPassManager &pm) {
                     pipelines.buildModel(pm);
                     pipelines.buildKernelSelection(pm);
                     pipelines.buildLowering(pm);
                     pipelines.buildTiling(pm);
                     cpu::buildLinalgToLLVMPipeline(pm, pipelines.cpu.target);
                   },
                   error))
    return false;
  auto get = [&](const char *name) {
    auto a = (*module)->getAttrOfType<IntegerAttr>(name);
    return a ? a.getInt() : int64_t(0);
  };
  plan.arenaBytes = get("strata.arena_bytes");
  plan.buffers = get("strata.arena_buffers");
  plan.unsharedBytes = get("strata.unshared_bytes");
  return true;
}

} // namespace strata
