//===- VectorizeReductions.cpp - sums over contiguous rows in registers ---===//
//
// nn.reduce sum over axes that include the innermost one, for the CPU: a
// convolution's bias gradient (LeNet-5: 64x6x24x24 summed to 6 values).
// The generic lowering is a linalg reduction whose loops add one element at
// a time into the result in memory: LLVM cannot keep the running sum in a
// register (the result buffer may alias the input, both living in the
// memory plan's arena), so every element is a load, an add and a store
// chained through store-to-load forwarding; the two bias gradients took 8%
// of LeNet-5's training step. Here one work item per kept index sums its
// rows in a vector accumulator (full vectors, then a masked tail) and
// reduces it once at the end.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/VectorBuilders.h"
#include "dialects/nn/NNOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_VECTORIZEREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::cpu;
namespace nn = strata::nn;

namespace {

/// Sums of fewer elements per result stay on the generic lowering.
constexpr int64_t kMinReduced = 64;

struct VectorizeRowSum : OpRewritePattern<nn::ReduceOp> {
  VectorizeRowSum(MLIRContext *ctx, int64_t lanes) : OpRewritePattern(ctx), lanes(lanes) {}
  int64_t lanes; ///< f32 lanes of the target's vector registers

  LogicalResult matchAndRewrite(nn::ReduceOp op, PatternRewriter &rw) const override {
    auto in = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getType());
    int64_t rank = in.getRank();
    if (op.getKind() != nn::ReduceKind::sum || !in.hasStaticShape() ||
        !generatedKernelsTake(in.getElementType()) || rank < 2)
      return rw.notifyMatchFailure(op, "not an f32 sum of static shape");
    SmallVector<bool> reduced(rank, false);
    for (int64_t a : op.getAxes())
      reduced[a < 0 ? a + rank : a] = true;
    SmallVector<int64_t> kept, summed;
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d) {
      if (reduced[d]) {
        summed.push_back(d);
        count *= in.getDimSize(d);
      } else {
        kept.push_back(d);
      }
    }
    if (!reduced[rank - 1] || kept.empty() || count < kMinReduced)
      return rw.notifyMatchFailure(op, "not a sum of long contiguous rows");

    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t width = in.getDimSize(rank - 1), lanes = rowLanes(width, this->lanes);
    int64_t full = width / lanes * lanes;
    auto laneType = VectorType::get({lanes}, rw.getF32Type());
    Value init = rw.create<tensor::EmptyOp>(loc, outType.getShape(), rw.getF32Type());
    SmallVector<OpFoldResult> ubs;
    for (int64_t d : kept)
      ubs.push_back(rw.getIndexAttr(in.getDimSize(d)));
    auto forall = rw.create<scf::ForallOp>(loc, ubs, ValueRange{init}, std::nullopt);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPoint(forall.getTerminator());
    Value out = forall.getRegionIterArgs()[0];

    // Input indices: the item's kept indices, loop indices for the rest.
    SmallVector<Value> at(rank);
    for (auto [i, d] : llvm::enumerate(kept))
      at[d] = forall.getInductionVars()[i];
    Value zero = rw.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(laneType, rw.getF32FloatAttr(0.0f).getValue()));
    auto addRow = [&](OpBuilder &b, Location loc, Value acc) {
      if (full > 0) {
        acc = b.create<scf::ForOp>(
                   loc, index(b, loc, 0), index(b, loc, full), index(b, loc, lanes),
                   ValueRange{acc},
                   [&](OpBuilder &b, Location loc, Value w, ValueRange accs) {
                     at[rank - 1] = w;
                     Value v = b.create<vector::TransferReadOp>(loc, laneType, x, at,
                                                                ArrayRef<bool>{true});
                     b.create<scf::YieldOp>(loc, ValueRange{b.create<arith::AddFOp>(
                                                     loc, accs[0], v)});
                   })
                  .getResult(0);
      }
      if (full < width) { // masked tail: lanes past the row read as zero
        at[rank - 1] = index(b, loc, full);
        Value v = b.create<vector::TransferReadOp>(loc, laneType, x, at, ArrayRef<bool>{false});
        acc = b.create<arith::AddFOp>(loc, acc, v);
      }
      return acc;
    };
    // Loops over the summed dimensions but the innermost, outermost first.
    std::function<Value(OpBuilder &, Location, size_t, Value)> loops =
        [&](OpBuilder &b, Location loc, size_t level, Value acc) -> Value {
      if (level + 1 == summed.size())
        return addRow(b, loc, acc);
      int64_t d = summed[level];
      return b.create<scf::ForOp>(
                  loc, index(b, loc, 0), index(b, loc, in.getDimSize(d)), index(b, loc, 1),
                  ValueRange{acc},
                  [&](OpBuilder &b, Location loc, Value iv, ValueRange accs) {
                    at[d] = iv;
                    b.create<scf::YieldOp>(loc, loops(b, loc, level + 1, accs[0]));
                  })
          .getResult(0);
    };
    Value acc = loops(rw, loc, 0, zero);
    Value sum = rw.create<vector::ReductionOp>(loc, vector::CombiningKind::ADD, acc);

    // The item's one result element, written as a one-lane vector.
    SmallVector<OpFoldResult> offsets, ones(outType.getRank(), rw.getIndexAttr(1));
    if (op.getKeepdims()) {
      for (int64_t d = 0; d < rank; ++d)
        offsets.push_back(reduced[d] ? OpFoldResult(rw.getIndexAttr(0)) : OpFoldResult(at[d]));
    } else {
      for (int64_t d : kept)
        offsets.push_back(at[d]);
    }
    auto one = RankedTensorType::get({1}, rw.getF32Type());
    Value slice = rw.create<tensor::ExtractSliceOp>(loc, one, out, offsets, ones, ones);
    Value lane = rw.create<vector::BroadcastOp>(loc, VectorType::get({1}, rw.getF32Type()), sum);
    Value written = rw.create<vector::TransferWriteOp>(loc, lane, slice,
                                                       ValueRange{index(rw, loc, 0)},
                                                       ArrayRef<bool>{true})
                        .getResult();
    rw.setInsertionPointToStart(forall.getTerminator().getBody());
    rw.create<tensor::ParallelInsertSliceOp>(loc, written, out, offsets, ones, ones);
    recordKernel(forall, "vector row sums", "long contiguous rows, f32");
    rw.replaceOp(op, forall.getResult(0));
    return success();
  }
};

struct VectorizeReductionsPass
    : strata::impl::VectorizeReductionsBase<VectorizeReductionsPass> {
  using VectorizeReductionsBase::VectorizeReductionsBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<VectorizeRowSum>(&getContext(), vectorBits / 32);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
