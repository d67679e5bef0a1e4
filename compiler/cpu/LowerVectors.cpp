//===- LowerVectors.cpp - hoist accumulators, lower vector ops ------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_LOWERVECTORS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

bool sameIndices(vector::TransferReadOp r, vector::TransferWriteOp w) {
  return r.getIndices() == w.getIndices() &&
         r.getVectorType() == w.getVectorType() &&
         r.getPermutationMap() == w.getPermutationMap();
}

/// Moves one accumulator read/write pair out of `loop`: the tile `src` is
/// read before it, carried through it as an iter_arg and written after it.
/// Applies when, inside the loop, `src` is used by exactly that read and
/// that write at the same loop-invariant indices. Upstream's
/// hoistRedundantVectorTransfers refuses sources that are subviews (every
/// tile of a tiled matmul is one); within a register tile nothing else
/// touches the accumulator's subview, and bufferization never lets a
/// matmul's output alias its inputs.
bool hoistOne(RewriterBase &rw, scf::ForOp loop) {
  for (auto read : loop.getBody()->getOps<vector::TransferReadOp>()) {
    Value src = read.getSource();
    if (!loop.isDefinedOutsideOfLoop(src) ||
        !loop.isDefinedOutsideOfLoop(read.getPadding()) ||
        llvm::any_of(read.getIndices(),
                     [&](Value v) { return !loop.isDefinedOutsideOfLoop(v); }) ||
        read.getMask())
      continue;
    vector::TransferWriteOp write;
    int usesInLoop = 0;
    for (Operation *user : src.getUsers()) {
      if (!loop->isAncestor(user))
        continue;
      ++usesInLoop;
      if (auto w = dyn_cast<vector::TransferWriteOp>(user))
        write = w;
    }
    if (usesInLoop != 2 || !write || write->getBlock() != loop.getBody() ||
        !sameIndices(read, write) || write.getMask())
      continue;
    read->moveBefore(loop);
    auto yields = [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
      return SmallVector<Value>{write.getVector()};
    };
    FailureOr<LoopLikeOpInterface> hoisted = loop.replaceWithAdditionalYields(
        rw, read.getResult(), /*replaceInitOperandUsesInLoop=*/true, yields);
    if (failed(hoisted))
      return false;
    auto newLoop = cast<scf::ForOp>(hoisted->getOperation());
    write->moveAfter(newLoop);
    write.getVectorMutable().assign(newLoop.getResults().back());
    return true;
  }
  return false;
}

void hoistAccumulators(func::FuncOp func) {
  IRRewriter rw(func.getContext());
  bool changed = true;
  while (changed) {
    changed = false;
    func.walk([&](scf::ForOp loop) {
      if (hoistOne(rw, loop)) {
        changed = true;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
  }
}

/// vector.from_elements of 16 lanes picked from the 32 of a shuffle of two
/// 16-lane vectors by the lanes of an index vector, which strata-sparse-weights
/// builds for AVX-512 targets only (its permute kernel), becomes vpermi2ps.
/// Left as extracts, LLVM spills the 32 values to the stack and loads each.
/// Here, after bufferization: an llvm.call_intrinsic has unknown memory
/// effects, which the buffer deallocation pipeline refuses.
struct LanePicksToPermute : OpRewritePattern<vector::FromElementsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::FromElementsOp op, PatternRewriter &rw) const override {
    auto type = op.getType();
    if (type.getRank() != 1 || type.getNumElements() != 16 || !type.getElementType().isF32())
      return failure();
    vector::ShuffleOp from;
    Value indices;
    for (auto [i, element] : llvm::enumerate(op.getElements())) {
      auto pick = element.getDefiningOp<vector::ExtractElementOp>();
      if (!pick || !pick.getPosition())
        return failure();
      auto at = pick.getPosition().getDefiningOp<vector::ExtractElementOp>();
      auto shuffle = pick.getVector().getDefiningOp<vector::ShuffleOp>();
      if (!at || !shuffle || (from && shuffle != from) || (indices && at.getVector() != indices))
        return failure();
      from = shuffle;
      indices = at.getVector();
      APInt lane;
      if (!at.getPosition() || !matchPattern(at.getPosition(), m_ConstantInt(&lane)) ||
          lane != i)
        return failure();
    }
    auto indexType = cast<VectorType>(indices.getType());
    if (from.getV1().getType() != type || from.getV2().getType() != type ||
        !indexType.getElementType().isInteger(32) ||
        from.getMask().size() != 32)
      return failure();
    for (auto [i, lane] : llvm::enumerate(from.getMask()))
      if (cast<IntegerAttr>(lane).getInt() != static_cast<int64_t>(i))
        return failure();
    OperationState state(op.getLoc(), LLVM::CallIntrinsicOp::getOperationName());
    state.addOperands({from.getV1(), indices, from.getV2()});
    state.addTypes(type);
    state.addAttribute("intrin", rw.getStringAttr("llvm.x86.avx512.vpermi2var.ps.512"));
    rw.replaceOp(op, rw.create(state)->getResult(0));
    return success();
  }
};

struct LowerVectorsPass : strata::impl::LowerVectorsBase<LowerVectorsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // The accumulator tile is read and written at the same place in every k
    // iteration: keep it in registers across the loop.
    linalg::hoistRedundantVectorTransfers(func);
    hoistAccumulators(func);

    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    vector::VectorTransformsOptions options;
    options.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    vector::populateVectorContractLoweringPatterns(patterns, options);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns, /*maxRank=*/1);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(patterns, options);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
    patterns.add<LanePicksToPermute>(ctx);
    if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
