//===- ObjectEmitter.cpp - LLVM-dialect module to a loadable object -------===//

#include "compiler/cpu/ObjectEmitter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <cstdio>
#include <sstream>

using namespace mlir;

namespace strata::cpu {

namespace {
const char *dtypeName(Type t) {
  if (t.isF32()) return "FLOAT";
  if (t.isF16()) return "FLOAT16";
  if (t.isBF16()) return "BFLOAT16";
  if (t.isF64()) return "DOUBLE";
  if (t.isInteger(1)) return "BOOL";
  if (t.isUnsignedInteger(8)) return "UINT8";
  if (t.isInteger(8)) return "INT8";
  if (t.isInteger(32)) return "INT32";
  if (t.isInteger(64)) return "INT64";
  return "UNKNOWN";
}

/// Tabs and newlines separate fields of the signature text.
std::string clean(std::string s) {
  for (char &c : s)
    if (c == '\t' || c == '\n')
      c = '_';
  return s;
}
} // namespace

std::string ModelSignature::toText() const {
  std::ostringstream os;
  os << "strata-module 2\n";
  auto list = [&](const char *kind, const std::vector<TensorSignature> &ts) {
    os << kind << " " << ts.size() << "\n";
    for (const auto &t : ts) {
      os << clean(t.name) << "\t" << t.dtype << "\t" << t.shape.size();
      for (int64_t d : t.shape)
        os << "\t" << d;
      os << "\n";
    }
  };
  list("inputs", inputs);
  list("outputs", outputs);
  if (!weightsFile.empty()) {
    char id[17];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)weightsId);
    os << "weights " << weights.size() << "\t" << clean(weightsFile) << "\t" << id
       << "\n";
    for (const auto &w : weights)
      os << clean(w.name) << "\t" << w.offset << "\t" << w.bytes << "\n";
  }
  if (arenaBytes > 0)
    os << "arena " << arenaBytes << "\n";
  return os.str();
}

ModelSignature signatureOf(ModuleOp module) {
  ModelSignature sig;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return sig;
  auto describe = [](Type type, StringAttr name, size_t index,
                     const char *kind) {
    auto t = cast<RankedTensorType>(type);
    TensorSignature s;
    s.name = name ? name.str() : std::string(kind) + std::to_string(index);
    s.dtype = dtypeName(t.getElementType());
    s.shape.assign(t.getShape().begin(), t.getShape().end());
    return s;
  };
  FunctionType ft = main.getFunctionType();
  for (unsigned i = 0; i < ft.getNumInputs(); ++i)
    sig.inputs.push_back(describe(ft.getInput(i),
                                  main.getArgAttrOfType<StringAttr>(i, "onnx.name"),
                                  i, "input"));
  for (unsigned i = 0; i < ft.getNumResults(); ++i)
    sig.outputs.push_back(describe(ft.getResult(i),
                                   main.getResultAttrOfType<StringAttr>(i, "onnx.name"),
                                   i, "output"));
  return sig;
}

namespace {

int64_t dtypeBytes(const std::string &dtype) {
  if (dtype == "DOUBLE" || dtype == "INT64") return 8;
  if (dtype == "FLOAT" || dtype == "INT32") return 4;
  if (dtype == "FLOAT16" || dtype == "BFLOAT16") return 2;
  return 1;
}

int64_t tensorBytes(const TensorSignature &t) {
  int64_t n = dtypeBytes(t.dtype);
  for (int64_t d : t.shape)
    n *= d;
  return n;
}

/// strata_model_run for a CUDA module: the host pointers (inputs, outputs,
/// weights, as buffers[] orders them) go to the runtime's
/// strata_cuda_run, which keeps one device copy of each (weights uploaded
/// once), and calls back `packed` with the device pointers; `packed` calls
/// @main with them in @main's order (inputs, weights, outputs, arena).
void defineCudaRun(llvm::Module &m, llvm::Function *main,
                   const ModelSignature &sig, llvm::Function *run,
                   llvm::Value *hostWeights) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  size_t nin = sig.inputs.size(), nout = sig.outputs.size(), nw = sig.weights.size();
  size_t count = nin + nout + nw;

  auto *packedTy = llvm::FunctionType::get(b.getVoidTy(), {ptrTy}, false);
  auto *packed = llvm::Function::Create(packedTy, llvm::GlobalValue::InternalLinkage,
                                        "strata_model_packed", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", packed));
  std::vector<llvm::Value *> args;
  auto load = [&](llvm::Value *array, size_t i) {
    return b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, array, i));
  };
  for (size_t i = 0; i < nin; ++i)
    args.push_back(load(packed->getArg(0), i));
  for (size_t i = 0; i < nw; ++i)
    args.push_back(load(packed->getArg(0), nin + nout + i));
  for (size_t i = 0; i < nout; ++i)
    args.push_back(load(packed->getArg(0), nin + i));
  if (sig.gpuArenaBytes > 0)
    args.push_back(load(packed->getArg(0), count));
  b.CreateCall(main, args);
  b.CreateRetVoid();

  std::vector<uint64_t> sizes;
  for (const auto &t : sig.inputs)
    sizes.push_back(tensorBytes(t));
  for (const auto &t : sig.outputs)
    sizes.push_back(tensorBytes(t));
  for (const auto &w : sig.weights)
    sizes.push_back(w.bytes);
  sizes.push_back(sig.gpuArenaBytes);
  auto *sizesInit = llvm::ConstantDataArray::get(ctx, sizes);
  auto *sizesVar = new llvm::GlobalVariable(m, sizesInit->getType(), true,
                                            llvm::GlobalValue::InternalLinkage,
                                            sizesInit, "strata_model_buffer_bytes");
  // The backend's per-module state (device buffers, stream), made on the
  // first run.
  auto *state = new llvm::GlobalVariable(m, ptrTy, false, llvm::GlobalValue::InternalLinkage,
                                         llvm::ConstantPointerNull::get(ptrTy),
                                         "strata_cuda_module_state");

  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", run));
  // The host pointers in buffers[] order, embedded weights pointing into
  // the blob.
  llvm::Value *host = b.CreateAlloca(ptrTy, b.getInt64(count ? count : 1));
  for (size_t i = 0; i < count; ++i) {
    llvm::Value *p = (i >= nin + nout && hostWeights)
                         ? b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), hostWeights,
                                                        sig.weights[i - nin - nout].offset)
                         : load(run->getArg(0), i);
    b.CreateStore(p, b.CreateConstGEP1_64(ptrTy, host, i));
  }
  auto *i32 = b.getInt32Ty();
  auto *cudaRunTy = llvm::FunctionType::get(
      i32, {ptrTy, ptrTy, ptrTy, i32, i32, i32, b.getInt64Ty(), ptrTy}, false);
  llvm::FunctionCallee cudaRun = m.getOrInsertFunction("strata_cuda_run", cudaRunTy);
  llvm::Value *rc = b.CreateCall(
      cudaRun, {state, host, sizesVar, b.getInt32(nin), b.getInt32(nout), b.getInt32(nw),
                b.getInt64(sig.gpuArenaBytes), packed});
  b.CreateRet(rc);
}

/// const char *strata_model_unpack(void): the packed entries of the blob
/// decoded by the runtime's strata_unpack_weights into one zeroed global
/// each (returned in `unpacked`, by weight index).
void defineUnpack(llvm::Module &m, const ModelSignature &sig, llvm::GlobalVariable *blob,
                  std::vector<llvm::GlobalVariable *> &unpacked) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  std::vector<llvm::Constant *> records, names, outs;
  std::vector<uint64_t> sizes;
  std::vector<int64_t> counts, layouts;
  for (auto [i, w] : llvm::enumerate(sig.weights)) {
    if (!w.packedBytes)
      continue;
    auto *type = llvm::ArrayType::get(b.getInt8Ty(), w.bytes);
    auto *buffer = new llvm::GlobalVariable(m, type, /*isConstant=*/false,
                                            llvm::GlobalValue::InternalLinkage,
                                            llvm::ConstantAggregateZero::get(type),
                                            "strata_unpacked_weight" + std::to_string(i));
    buffer->setAlignment(llvm::Align(64));
    unpacked[i] = buffer;
    records.push_back(llvm::ConstantExpr::getInBoundsGetElementPtr(
        b.getInt8Ty(), blob, b.getInt64(w.offset)));
    sizes.push_back(w.packedBytes);
    names.push_back(b.CreateGlobalString(w.name, "strata_packed_name" + std::to_string(i),
                                         0, &m));
    outs.push_back(buffer);
    counts.push_back(int64_t(w.bytes / sizeof(float)));
    layouts.insert(layouts.end(), {w.packedRows, w.packedCols, w.packedStride});
  }
  auto constArray = [&](std::vector<llvm::Constant *> &items, const char *name) {
    auto *type = llvm::ArrayType::get(ptrTy, items.size());
    return new llvm::GlobalVariable(m, type, true, llvm::GlobalValue::InternalLinkage,
                                    llvm::ConstantArray::get(type, items), name);
  };
  auto *recordsVar = constArray(records, "strata_packed_records");
  auto *namesVar = constArray(names, "strata_packed_names");
  auto *outsVar = constArray(outs, "strata_packed_outputs");
  auto *sizesInit = llvm::ConstantDataArray::get(ctx, sizes);
  auto *sizesVar = new llvm::GlobalVariable(m, sizesInit->getType(), true,
                                            llvm::GlobalValue::InternalLinkage, sizesInit,
                                            "strata_packed_sizes");
  auto int64Array = [&](const std::vector<int64_t> &v, const char *name) {
    auto *init = llvm::ConstantDataArray::get(
        ctx, llvm::ArrayRef<uint64_t>(reinterpret_cast<const uint64_t *>(v.data()), v.size()));
    return new llvm::GlobalVariable(m, init->getType(), true,
                                    llvm::GlobalValue::InternalLinkage, init, name);
  };
  auto *countsVar = int64Array(counts, "strata_packed_counts");
  // [rows, cols, stride] per layer: one the compiler transposed, else zeros.
  auto *transposeVar = int64Array(layouts, "strata_packed_transposes");
  auto *state = new llvm::GlobalVariable(m, b.getInt32Ty(), false,
                                         llvm::GlobalValue::InternalLinkage, b.getInt32(0),
                                         "strata_packed_state");
  auto *unpackTy = llvm::FunctionType::get(ptrTy, false);
  auto *unpack = llvm::Function::Create(unpackTy, llvm::GlobalValue::ExternalLinkage,
                                        "strata_model_unpack", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", unpack));
  auto *helperTy = llvm::FunctionType::get(
      ptrTy, {ptrTy, b.getInt32Ty(), ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy}, false);
  llvm::FunctionCallee helper = m.getOrInsertFunction("strata_unpack_weights", helperTy);
  b.CreateRet(b.CreateCall(helper, {state, b.getInt32(int32_t(records.size())), recordsVar,
                                    sizesVar, namesVar, outsVar, countsVar, transposeVar}));
}

/// Adds strata_model_run and strata_model_signature around @main.
bool addAbiSymbols(llvm::Module &m, const ModelSignature &sig,
                   std::string &error) {
  llvm::Function *main = m.getFunction("main");
  if (!main) {
    error = "the lowered module has no @main";
    return false;
  }
  size_t nin = sig.inputs.size(), nout = sig.outputs.size();
  size_t nw = sig.weights.size();
  bool arena = sig.cuda ? sig.gpuArenaBytes > 0 : sig.arenaBytes > 0;
  // CPU modules take the run context last (strata-materialize-run-context).
  size_t count = nin + nout + nw + (arena ? 1 : 0) + (sig.cuda ? 0 : 1);
  if (main->arg_size() != count) {
    error = "@main takes " + std::to_string(main->arg_size()) +
            " arguments, expected " + std::to_string(count);
    return false;
  }
  // The model's body must not clash with a program's own main().
  main->setName("strata_model_main");
  main->setLinkage(llvm::GlobalValue::InternalLinkage);

  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *runTy = llvm::FunctionType::get(b.getInt32Ty(), {ptrTy}, false);
  auto *run = llvm::Function::Create(runTy, llvm::GlobalValue::ExternalLinkage,
                                     "strata_model_run", m);
  llvm::GlobalVariable *blob = nullptr;
  if (!sig.embeddedWeights.empty()) {
    // One 64-byte aligned byte array; each weight is a pointer into it.
    llvm::Constant *bytes = llvm::ConstantDataArray::getRaw(
        sig.embeddedWeights, sig.embeddedWeights.size(), b.getInt8Ty());
    blob = new llvm::GlobalVariable(m, bytes->getType(), /*isConstant=*/true,
                                    llvm::GlobalValue::InternalLinkage, bytes,
                                    "strata_model_weights");
    blob->setAlignment(llvm::Align(64));
  }
  // Packed layers: each decoded at load into its own zero-initialized
  // buffer (no bytes in the file), by strata_model_unpack.
  std::vector<llvm::GlobalVariable *> unpacked(nw, nullptr);
  if (sig.packedWeights() && blob)
    defineUnpack(m, sig, blob, unpacked);
  if (sig.cuda) {
    defineCudaRun(m, main, sig, run, blob);
  } else {
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", run));
    // buffers[] holds inputs, outputs, weights, the arena and the run
    // context; @main takes inputs, weights (appended as arguments before
    // bufferization), outputs, the arena (strata-plan-memory), then the
    // context as an integer (strata-materialize-run-context).
    std::vector<llvm::Value *> args;
    auto slot = [&](size_t i) {
      return b.CreateLoad(ptrTy, b.CreateConstGEP1_64(ptrTy, run->getArg(0), i));
    };
    for (size_t i = 0; i < nin; ++i)
      args.push_back(slot(i));
    for (size_t i = 0; i < nw; ++i) {
      if (unpacked[i])
        args.push_back(unpacked[i]);
      else if (blob)
        args.push_back(b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), blob,
                                                    sig.weights[i].offset));
      else
        args.push_back(slot(nin + nout + i));
    }
    for (size_t i = 0; i < nout; ++i)
      args.push_back(slot(nin + i));
    // Embedded weights take no slot in buffers[].
    size_t next = nin + nout + (blob ? 0 : nw);
    if (arena)
      args.push_back(slot(next++));
    llvm::Value *context = slot(next);
    args.push_back(b.CreatePtrToInt(context, main->getArg(count - 1)->getType()));
    b.CreateCall(main, args);
    // strata_run_context.failed (offset 0): set by the first failure.
    llvm::Value *failed = b.CreateLoad(b.getInt64Ty(), context);
    b.CreateRet(b.CreateZExt(b.CreateICmpNE(failed, b.getInt64(0)), b.getInt32Ty()));
  }

  if (sig.oneDnn) {
    // int strata_model_prepare(void): every oneDNN primitive created now,
    // for the current thread count, rather than in the first run.
    llvm::Function *sites = m.getFunction("strata_onednn_prepare_sites");
    if (!sites) {
      error = "the lowered module calls oneDNN but has no strata_onednn_prepare_sites";
      return false;
    }
    sites->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *prepareTy = llvm::FunctionType::get(b.getInt32Ty(), false);
    auto *prepare = llvm::Function::Create(prepareTy, llvm::GlobalValue::ExternalLinkage,
                                           "strata_model_prepare", m);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", prepare));
    b.CreateCall(sites);
    llvm::FunctionCallee status = m.getOrInsertFunction(
        "strata_onednn_prepare_status", llvm::FunctionType::get(b.getInt32Ty(), false));
    b.CreateRet(b.CreateCall(status));
  }

  std::string text = sig.toText();
  llvm::Constant *textInit = llvm::ConstantDataArray::getString(ctx, text);
  new llvm::GlobalVariable(m, textInit->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, textInit,
                           "strata_model_signature");
  return true;
}

void optimize(llvm::Module &m, llvm::TargetMachine *tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // O2, not O3: the loops arrive tiled and vectorized, and what O3 adds
  // (non-trivial loop unswitching, more inlining) only made code to
  // schedule. LeNet-5's training step compiled in 3.5-5.4 s instead of
  // 8.5-9.2 s, ResNet-18's generated code in 4.7-5.2 s instead of 6.6 s,
  // with the same epoch and inference times (alternating runs).
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(m, mam);
}

} // namespace

bool emitModule(ModuleOp module, const ModelSignature &sig,
                const CpuTarget &target, OutputKind kind,
                llvm::raw_pwrite_stream &os, std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = translateModuleToLLVMIR(module, ctx);
  if (!m) {
    error = "translation to LLVM IR failed";
    return false;
  }
  if (!addAbiSymbols(*m, sig, error))
    return false;

  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!t)
    return false;
  const std::string &cpu = target.cpu, &features = target.features;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(t->createTargetMachine(
      triple, cpu, features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm) {
    error = "cannot create a target machine for CPU '" + cpu + "'";
    return false;
  }
  m->setDataLayout(tm->createDataLayout());
  m->setTargetTriple(triple);
  // LLVM prefers 256-bit vectors even on AVX-512 CPUs (to avoid frequency
  // drops in mixed code); a model's loops are the whole program, so use the
  // full width.
  for (llvm::Function &f : *m) {
    if (f.isDeclaration())
      continue;
    if (target.vectorBits == 512)
      f.addFnAttr("prefer-vector-width", "512");
    f.addFnAttr("target-cpu", cpu);
    if (!features.empty())
      f.addFnAttr("target-features", features);
  }
  optimize(*m, tm.get());
  if (llvm::verifyModule(*m, &llvm::errs())) {
    error = "the generated LLVM IR does not verify";
    return false;
  }
  if (kind == OutputKind::LLVMIR) {
    m->print(os, nullptr);
    return true;
  }
  llvm::legacy::PassManager pm;
  auto fileType = kind == OutputKind::Assembly
                      ? llvm::CodeGenFileType::AssemblyFile
                      : llvm::CodeGenFileType::ObjectFile;
  if (tm->addPassesToEmitFile(pm, os, nullptr, fileType)) {
    error = "the target cannot emit this file type";
    return false;
  }
  pm.run(*m);
  return true;
}

} // namespace strata::cpu
