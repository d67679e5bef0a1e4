//===- GpuPipeline.cpp - from linalg to kernels in PTX and a host function -===//

#include "compiler/gpu/GpuPipeline.h"
#include "compiler/cpu/CpuPipeline.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <set>

using namespace mlir;

namespace strata::gpu {

bool checkArch(const std::string &arch, std::string &error) {
  static const int known[] = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};
  int n = 0;
  if (arch.rfind("sm_", 0) == 0 && arch.size() <= 6 &&
      llvm::all_of(arch.substr(3), ::isdigit) && arch.size() > 3)
    n = std::stoi(arch.substr(3));
  if (llvm::is_contained(known, n))
    return true;
  error = "unknown --gpu-arch '" + arch +
          "' (expected sm_50 ... sm_90: sm_70 Volta, sm_75 Turing, sm_80 A100, "
          "sm_86/sm_89 consumer Ampere/Ada, sm_90 H100)";
  return false;
}

void registerGpuDialects(DialectRegistry &registry) {
  cpu::registerCpuDialects(registry);
  registry.insert<mlir::gpu::GPUDialect, NVVM::NVVMDialect>();
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  mlir::gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
}

void buildNNToLinalgPipeline(OpPassManager &pm) {
  cpu::addLinalgLowering(pm, /*runTimeChecks=*/false);
}

void buildGpuConstantsPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createGpuMaterializeConstants());
}

namespace {
/// libdevice (CUDA's math library as bitcode), linked into the kernels when
/// the CUDA Toolkit is installed; strata's kernels use it only for the math
/// functions NVVM has no instruction for.
std::string findLibdevice() {
  // As MLIR's NVVM target looks: the environment's toolkit if one is named,
  // else /usr/local/cuda.
  std::vector<std::string> roots;
  for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (auto v = llvm::sys::Process::GetEnv(var))
      roots.push_back(*v);
  if (roots.empty())
    roots.push_back("/usr/local/cuda");
  for (const std::string &root : roots) {
    llvm::SmallString<256> path(root);
    llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
    if (llvm::sys::fs::exists(path))
      return std::string(path);
  }
  return "";
}
} // namespace

void buildGpuBufferizationPipeline(OpPassManager &pm) {
  cpu::buildBufferizationPipeline(pm);
  pm.addPass(createPlanMemory());
  pm.addPass(createGpuDeviceArena());
}

void buildGpuLoweringPipeline(OpPassManager &pm, const GpuTarget &target) {
  buildGpuBufferizationPipeline(pm);
  buildGpuKernelPipeline(pm, target);
}

void buildGpuKernelPipeline(OpPassManager &pm, const GpuTarget &target) {
  // The kernel choice (GpuKernelChoice.h): tiled matmuls, warp reductions,
  // then one thread per element for the rest.
  pm.addNestedPass<func::FuncOp>(createTileMatmulForGpu());
  pm.addNestedPass<func::FuncOp>(createWarpReductions());
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  MapLoopsToGpuOptions mapping;
  mapping.blockSize = target.blockSize;
  pm.addNestedPass<func::FuncOp>(createMapLoopsToGpu(mapping));
  pm.addPass(createGpuLauchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createMergeGpuKernels());
  pm.addPass(createExpandGpuMath());

  // Kernels and host alike: structured control flow and affine maps away.
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));

  GpuNVVMAttachTargetOptions nvvm;
  nvvm.chip = target.arch;
  nvvm.features = "+ptx78";
  nvvm.optLevel = 3;
  static std::vector<std::string> libs; // outlives the pass manager
  libs.clear();
  std::string libdevice = findLibdevice();
  if (!libdevice.empty())
    libs.push_back(libdevice);
  nvvm.linkLibs = libs;
  pm.addPass(createGpuNVVMAttachTarget(nvvm));

  OpPassManager &kernels = pm.nest<mlir::gpu::GPUModuleOp>();
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.indexBitwidth = 64;
  kernels.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  // Host: as the CPU's, with bare pointers for @main, then launches as
  // runtime calls and the kernel modules as PTX.
  pm.addPass(createConvertMathToLLVMPass());
  cpu::addHostToLLVMConversions(pm);
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createCanonicalizerPass());
}

std::string missingLibdevice(const std::string &ptx) {
  // NVVM lowers most math ops to calls into CUDA's libdevice (__nv_expf,
  // __nv_floorf, ...), linked when the CUDA Toolkit is found; without it
  // they stay undefined and the driver would refuse the PTX at run time.
  std::set<std::string> names;
  llvm::SmallVector<llvm::StringRef> lines;
  llvm::StringRef(ptx).split(lines, '\n');
  for (llvm::StringRef line : lines) {
    size_t name = line.find("__nv_");
    if (line.starts_with(".extern .func") && name != llvm::StringRef::npos)
      names.insert(line.substr(name).take_until([](char c) {
        return c == ' ' || c == '(' || c == '\t';
      }).str());
  }
  if (names.empty())
    return "";
  std::string list;
  for (const std::string &n : names)
    list += (list.empty() ? "" : ", ") + n;
  return "the kernels call CUDA's math library libdevice (" + list +
         "), which the compiler links from the CUDA Toolkit, but none was found "
         "(looked for nvvm/libdevice/libdevice.10.bc under $CUDA_HOME, or "
         "/usr/local/cuda): install the CUDA Toolkit or set CUDA_HOME";
}

std::string collectPtx(ModuleOp module, const std::string &arch) {
  std::string out;
  module.walk([&](mlir::gpu::BinaryOp binary) {
    for (Attribute a : binary.getObjects()) {
      auto object = dyn_cast<mlir::gpu::ObjectAttr>(a);
      if (!object)
        continue;
      StringRef ptx = object.getObject().getValue();
      while (!ptx.empty() && ptx.back() == '\0')
        ptx = ptx.drop_back();
      out += ptx.str();
      out += "\n";
    }
  });
  if (out.empty()) // a model without kernels (empty tensors only)
    out = ".version 7.8\n.target " + arch + "\n.address_size 64\n";
  return out;
}

void registerExpandGpuMath();
void registerTileMatmulForGpu();
void registerWarpReductions();

void registerGpuPipelines() {
  registerExpandGpuMath();
  registerTileMatmulForGpu();
  registerWarpReductions();
  PassPipelineRegistration<>(
      "strata-gpu-pipeline",
      "linalg on tensors to LLVM host code with PTX kernels for sm_80 "
      "(strata compile --target=cuda --emit=llvm, before translation)",
      [](OpPassManager &pm) {
        buildGpuConstantsPipeline(pm);
        buildGpuLoweringPipeline(pm, GpuTarget{});
      });
}

} // namespace strata::gpu
