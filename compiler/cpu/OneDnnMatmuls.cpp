//===- OneDnnMatmuls.cpp - batched f32 matmuls to oneDNN ------------------===//
//
// Attention multiplies per-head matrices: [B, H, T, D] x [B, H, D, T]. The
// generic lowering of a batched nn.matmul is a loop nest the matmul tiler
// does not take (it tiles 2-D products), which ran BERT-shaped attention
// about 25x slower than oneDNN's batched matmul. Products of equal batch
// dimensions therefore become onednn.batch_matmul on [G, M, K] x [G, K, N]
// views (the reshapes are free: row-major, contiguous). A product by a 2-D
// right operand is one 2-D matmul instead (LowerNeural's lowerMatMul), and
// broadcast batch dimensions keep the generic lowering.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"

namespace strata {
#define GEN_PASS_DEF_ONEDNNMATMULS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;
namespace onednn = strata::onednn;

namespace {

/// G, M, K, N of a batched product with equal static batch dimensions, or
/// nothing.
std::optional<std::array<int64_t, 4>> batchedShape(nn::MatMulOp op) {
  auto lt = cast<RankedTensorType>(op.getLhs().getType());
  auto rt = cast<RankedTensorType>(op.getRhs().getType());
  if (lt.getRank() < 3 || lt.getRank() != rt.getRank() || !lt.hasStaticShape() ||
      !rt.hasStaticShape() || !op.getType().hasStaticShape())
    return std::nullopt;
  int64_t rank = lt.getRank(), g = 1;
  for (int64_t d = 0; d < rank - 2; ++d) {
    if (lt.getDimSize(d) != rt.getDimSize(d))
      return std::nullopt;
    g *= lt.getDimSize(d);
  }
  int64_t m = lt.getDimSize(rank - 2), k = lt.getDimSize(rank - 1), n = rt.getDimSize(rank - 1);
  if (g == 0 || m == 0 || k == 0 || n == 0)
    return std::nullopt;
  return std::array<int64_t, 4>{g, m, k, n};
}

struct OneDnnMatmulsPass : strata::impl::OneDnnMatmulsBase<OneDnnMatmulsPass> {
  void runOnOperation() override {
    SmallVector<nn::MatMulOp> matmuls;
    getOperation().walk([&](nn::MatMulOp op) { matmuls.push_back(op); });
    for (nn::MatMulOp op : matmuls) {
      Type et = op.getType().getElementType();
      if (!strata::cpu::oneDnnTakes(cast<RankedTensorType>(op.getLhs().getType()).getElementType(),
                                    cast<RankedTensorType>(op.getRhs().getType()).getElementType(), et))
        continue;
      auto shape = batchedShape(op);
      if (!shape)
        continue;
      auto [g, m, k, n] = *shape;
      OpBuilder b(op);
      Location loc = op.getLoc();
      auto view = [&](Value v, int64_t rows, int64_t cols) -> Value {
        auto type = RankedTensorType::get({g, rows, cols}, et);
        return v.getType() == type ? v : b.create<nn::ReshapeOp>(loc, type, v).getResult();
      };
      bool constantRhs = op.getRhs().getDefiningOp<nn::ConstantOp>() != nullptr;
      Value lhs = view(op.getLhs(), m, k);
      Value rhs = view(op.getRhs(), k, n);
      Value product = b.create<onednn::BatchMatmulOp>(
          loc, RankedTensorType::get({g, m, n}, et), lhs, rhs, b.getBoolAttr(constantRhs));
      strata::cpu::recordKernel(product.getDefiningOp(), "oneDNN batched matmul",
                                llvm::formatv("f32, {0} products of {1}x{2} by {2}x{3}", g, m, k, n));
      Value result = product.getType() == op.getType()
                         ? product
                         : b.create<nn::ReshapeOp>(loc, op.getType(), product).getResult();
      op.replaceAllUsesWith(result);
      op.erase();
    }
  }
};

} // namespace
