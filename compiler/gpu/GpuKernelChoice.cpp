//===- GpuKernelChoice.cpp - which kernel each op gets on the GPU ---------===//

#include "compiler/gpu/GpuKernelChoice.h"
#include "compiler/cpu/KernelChoice.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace strata::gpu {

namespace {

bool isStaticF32Matrix(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.getRank() == 2 && t.hasStaticShape() && t.getElementType().isF32();
}

} // namespace

GpuKernelChoice chooseGpuKernel(linalg::LinalgOp op, const GpuTarget &target) {
  std::string perElement =
      llvm::formatv("one thread per element, blocks of {0}", target.blockSize).str();
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation())) {
    if (matmul.hasPureBufferSemantics() &&
        llvm::all_of(matmul->getOperands(), isStaticF32Matrix)) {
      auto a = cast<MemRefType>(matmul.getDpsInputs()[0].getType());
      auto c = cast<MemRefType>(matmul.getDpsInits()[0].getType());
      int64_t m = c.getDimSize(0), n = c.getDimSize(1), k = a.getDimSize(1);
      return {GpuKernel::TiledMatmul,
              llvm::formatv("tiled matmul ({0} x 128 tiles of C in shared memory and "
                            "registers)",
                            m <= 64 ? 64 : 128)
                  .str(),
              llvm::formatv("static f32 matrices, {0} x {1} x {2}", m, n, k).str()};
    }
    return {GpuKernel::ThreadPerElement, perElement,
            "a matmul the tiled kernel does not take (not static f32 2-D)"};
  }
  if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation())) {
    if (isWarpReduction(generic))
      return {GpuKernel::WarpReduction, "warp reduction (one warp per output, shuffles)",
              "static reduction of at least 32 iterations per output, one combiner"};
    if (generic.getNumReductionLoops() > 0)
      return {GpuKernel::ThreadPerElement, perElement,
              "a reduction the warp kernel does not take (short, dynamic, indexed or "
              "not one f32/i32 combiner)"};
  }
  return {GpuKernel::ThreadPerElement, perElement, "elementwise or data movement"};
}

void explainGpuKernels(ModuleOp module, const GpuTarget &target, llvm::raw_ostream &os) {
  // A node's op is the one with a specialised kernel (a convolution's
  // matmul rather than its im2col), else its first reduction (a softmax's),
  // else its first other loop nest that is not a fill or copy.
  cpu::explainNodes(
      module, "strata: kernels for " + target.arch,
      [&](Operation *op) {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
        if (!linalgOp)
          return 0;
        if (isa<linalg::FillOp, linalg::CopyOp>(op))
          return 1;
        if (chooseGpuKernel(linalgOp, target).kernel != GpuKernel::ThreadPerElement)
          return 4;
        return linalgOp.getNumReductionLoops() > 0 ? 3 : 2;
      },
      [&](Operation *op) -> std::string {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
        if (!linalgOp)
          return "no kernel of its own (a view, copy or allocation)";
        GpuKernelChoice choice = chooseGpuKernel(linalgOp, target);
        return choice.name + "  [" + choice.rule + "]";
      },
      os);
}

} // namespace strata::gpu
