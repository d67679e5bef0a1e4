//===- MergeGpuKernels.cpp - one kernel module, kernels named after ops ----===//
//
// gpu-kernel-outlining gives every kernel of @main its own gpu.module and
// the name `main_kernel`. One module is one PTX file (--emit=ptx, ptxas) and
// one cuModuleLoad at run time; a name such as `k3_conv1_relu1` tells a
// profile or a CUDA error message which ONNX nodes the kernel computes.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata {
#define GEN_PASS_DEF_MERGEGPUKERNELS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// Node names in `loc` (NameLocs, also inside fused locations), in order.
void collectNames(Location loc, SmallVectorImpl<std::string> &names) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    names.push_back(name.getName().str());
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location l : fused.getLocations())
      collectNames(l, names);
  } else if (auto call = dyn_cast<CallSiteLoc>(loc)) {
    collectNames(call.getCallee(), names);
  }
}

/// A C identifier: k<N>, then up to two distinct node names.
std::string kernelName(unsigned n, Location loc) {
  SmallVector<std::string> names;
  collectNames(loc, names);
  std::string out = "k" + std::to_string(n);
  SmallVector<std::string> used;
  for (const std::string &name : names) {
    if (used.size() == 2 || llvm::is_contained(used, name))
      continue;
    used.push_back(name);
    out += "_";
    for (char c : name)
      out += llvm::isAlnum(c) ? c : '_';
  }
  return out.size() > 80 ? out.substr(0, 80) : out;
}

struct MergeGpuKernels : strata::impl::MergeGpuKernelsBase<MergeGpuKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto modules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    if (modules.empty())
      return;
    gpu::GPUModuleOp target = modules.front();
    SymbolTable targetSymbols(target);
    // "module::kernel" -> the kernel's new name in `target`.
    llvm::StringMap<std::string> renamed;
    unsigned count = 0;
    for (gpu::GPUModuleOp from : modules) {
      for (auto kernel : llvm::make_early_inc_range(from.getOps<gpu::GPUFuncOp>())) {
        std::string key = (from.getName() + "::" + kernel.getName()).str();
        std::string name = kernelName(count++, kernel.getLoc());
        if (from != target) {
          kernel->moveBefore(&target.getBody()->back());
          targetSymbols.insert(kernel);
        }
        targetSymbols.setSymbolName(kernel, name);
        renamed[key] = name;
      }
    }
    for (gpu::GPUModuleOp from : llvm::drop_begin(modules))
      from.erase();
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find((launch.getKernelModuleName().getValue() + "::" +
                              launch.getKernelName().getValue())
                                 .str());
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          target.getNameAttr(), {FlatSymbolRefAttr::get(&getContext(), it->second)}));
    });
  }
};

} // namespace
