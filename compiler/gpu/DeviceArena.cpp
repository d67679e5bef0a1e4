//===- DeviceArena.cpp - the planned arena as device memory from the host --===//
//
// strata-plan-memory places @main's intermediate buffers in one static
// global. A kernel cannot reach host globals, so on the CUDA path the arena
// becomes @main's last argument instead: the runtime allocates it once per
// module in device memory (with the inputs, outputs and weights) and passes
// it on every run. Then nothing in @main may allocate or read a global.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata {
#define GEN_PASS_DEF_GPUDEVICEARENA
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

constexpr const char *kArenaName = "__strata_arena";

struct GpuDeviceArena : strata::impl::GpuDeviceArenaBase<GpuDeviceArena> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      module.emitError("no func.func @main");
      return signalPassFailure();
    }
    if (auto arena = module.lookupSymbol<memref::GlobalOp>(kArenaName)) {
      unsigned index = main.getNumArguments();
      main.insertArgument(index, arena.getType(), {}, arena.getLoc());
      BlockArgument replacement = main.getArgument(index);
      SmallVector<memref::GetGlobalOp> reads;
      main.walk([&](memref::GetGlobalOp g) {
        if (g.getName() == kArenaName)
          reads.push_back(g);
      });
      for (memref::GetGlobalOp g : reads) {
        g.getResult().replaceAllUsesWith(replacement);
        g.erase();
      }
      module->setAttr("strata.gpu_arena_bytes",
                      IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                       arena.getType().getNumElements()));
      arena.erase();
    }
    // What is left would put a host address into a kernel.
    WalkResult result = main.walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::GetGlobalOp>(op) &&
          op->getParentOp() == main.getOperation()) {
        op->emitError() << "'" << op->getName()
                        << "' in @main cannot run on the GPU (a buffer the "
                           "memory plan did not place, or a host global)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
