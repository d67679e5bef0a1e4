//===- DeviceArena.cpp - the planned arena as device memory from the host --===//
//
// strata-plan-memory places @main's intermediate buffers in one arena, its
// last argument (marked strata.arena). On the CUDA path the runtime
// allocates that arena once per module in device memory (with the inputs,
// outputs and weights) and passes it on every run; this pass records its
// size and checks that nothing in @main allocates or reads host memory,
// which a kernel could not reach.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata {
#define GEN_PASS_DEF_GPUDEVICEARENA
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

struct GpuDeviceArena : strata::impl::GpuDeviceArenaBase<GpuDeviceArena> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main) {
      module.emitError("no func.func @main");
      return signalPassFailure();
    }
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      if (main.getArgAttr(i, "strata.arena"))
        module->setAttr("strata.gpu_arena_bytes",
                        IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                         cast<MemRefType>(main.getArgument(i).getType())
                                             .getNumElements()));
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
