//===- TileAndVectorize.cpp - cache/register tiling of linalg.matmul ------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/lowering/LinalgBuilders.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_TILEANDVECTORIZEMATMUL
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// Matmuls of at least this many multiply-adds are split into at least
/// kMinBlocks cache blocks, the thread pool's work items.
constexpr int64_t kMinParallelMacs = 1 << 18;
constexpr int64_t kMinBlocks = 4;

/// The largest candidate that divides `size` (1 always does).
int64_t pick(int64_t size, std::initializer_list<int64_t> candidates) {
  for (int64_t c : candidates)
    if (c <= size && size % c == 0)
      return c;
  return 1;
}

/// The largest divisor of `size` that is at most `limit` and a multiple of
/// `step` (size itself is a multiple of step here).
int64_t largestDivisor(int64_t size, int64_t limit, int64_t step) {
  for (int64_t d = std::min(size, limit) / step * step; d > step; d -= step)
    if (size % d == 0)
      return d;
  return step;
}

FailureOr<Operation *> tile(RewriterBase &rw, Operation *op,
                            ArrayRef<int64_t> sizes,
                            ArrayRef<int64_t> interchange = {},
                            bool parallel = false) {
  scf::SCFTilingOptions options;
  if (parallel)
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  if (!interchange.empty())
    options.setInterchange(interchange);
  SmallVector<OpFoldResult> ts;
  for (int64_t s : sizes)
    ts.push_back(rw.getIndexAttr(s));
  options.setTileSizes(ts);
  auto tileable = dyn_cast<TilingInterface>(op);
  if (!tileable)
    return failure();
  rw.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> r = scf::tileUsingSCF(rw, tileable, options);
  if (failed(r))
    return failure();
  rw.replaceOp(op, r->replacements);
  return r->tiledOps.back();
}

/// Row length of a weight matrix: a multiple of the register tile's width
/// (so odd layer sizes like 300 or 10 still vectorize), plus 16 floats when
/// the row is a multiple of 1 KiB, so that consecutive rows do not map to
/// the same L1 cache set (a column panel of B would thrash one set).
int64_t paddedRow(int64_t n, int64_t multiple) {
  int64_t p = (n + multiple - 1) / multiple * multiple;
  return (p * 4) % 1024 == 0 ? p + 16 : p;
}

/// Pads B's rows to whole register tiles so the matmul vectorizes: a
/// constant B is re-materialized with padded rows (zeros) once, at compile
/// time, and its original window read through extract_slice; any other B
/// (training reads weights and gradients as values) is copied into a padded
/// tensor at run time, which costs k*n of the matmul's m*k*n work.
/// Returns the matmul to tile: `op` itself, or the wider one replacing it.
/// Padded copies of constant weights, by the constant they pad: matmuls
/// that read one weight (the steps of an unrolled recurrent layer) share one
/// padded blob instead of each baking its own.
using PaddedWeights = llvm::DenseMap<std::pair<Operation *, int64_t>, Value>;

linalg::MatmulOp padWeights(RewriterBase &rw, linalg::MatmulOp op,
                            int64_t multiple, PaddedWeights &padded) {
  Value b = op.getDpsInputs()[1];
  auto constant = b.getDefiningOp<arith::ConstantOp>();
  auto type = cast<RankedTensorType>(b.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  // A narrow B (fewer columns than one vector) is padded to one vector
  // only: the register tile is then a single column of vectors.
  if (n < multiple / 2)
    multiple /= 2;
  int64_t np = paddedRow(n, multiple);
  if (np == n || !strata::cpu::generatedKernelsTake(type.getElementType()))
    return op;
  if (!constant && n % multiple == 0)
    return op; // whole tiles already; only constants get the L1 row padding
  auto index = [&](int64_t v) -> OpFoldResult { return rw.getIndexAttr(v); };
  Value window;
  if (!constant) {
    int64_t width = (n + multiple - 1) / multiple * multiple;
    int64_t m = cast<RankedTensorType>(op.getDpsInits()[0].getType()).getDimSize(0);
    if (width == n || m < 4)
      return op; // already whole tiles, or too few rows to be worth a copy
    rw.setInsertionPoint(op);
    Value zero = rw.create<arith::ConstantOp>(op.getLoc(), rw.getF32FloatAttr(0.0f));
    window = rw.create<tensor::PadOp>(
        op.getLoc(), RankedTensorType::get({k, width}, type.getElementType()), b,
        ArrayRef<OpFoldResult>{index(0), index(0)},
        ArrayRef<OpFoldResult>{index(0), index(width - n)}, zero);
  } else {
    Value &wide = padded[{constant.getOperation(), np}];
    if (!wide) {
      ArrayRef<char> bytes = strata::lowering::rawConstantBytes(constant.getValue());
      if ((int64_t)bytes.size() != k * n * 4)
        return op;
      AsmResourceBlob blob = HeapAsmResourceBlob::allocate(k * np * 4, 64);
      char *out = blob.getMutableData().data();
      std::memset(out, 0, k * np * 4);
      for (int64_t r = 0; r < k; ++r)
        std::memcpy(out + r * np * 4, bytes.data() + r * n * 4, n * 4);
      auto paddedType = RankedTensorType::get({k, np}, type.getElementType());
      // Beside the original, which dominates every matmul reading it.
      rw.setInsertionPointAfter(constant);
      wide = rw.create<arith::ConstantOp>(
          constant.getLoc(),
          DenseResourceElementsAttr::get(paddedType, "padded_weight", std::move(blob)));
    }
    rw.setInsertionPoint(op);
    int64_t width = (n + multiple - 1) / multiple * multiple;
    window = rw.create<tensor::ExtractSliceOp>(
        op.getLoc(), RankedTensorType::get({k, width}, type.getElementType()), wide,
        ArrayRef<OpFoldResult>{index(0), index(0)},
        ArrayRef<OpFoldResult>{index(k), index(width)},
        ArrayRef<OpFoldResult>{index(1), index(1)});
  }
  int64_t width = (n + multiple - 1) / multiple * multiple;
  if (width == n) {
    rw.modifyOpInPlace(op, [&] { op.getDpsInputOperand(1)->set(window); });
    return op;
  }
  // Wider than N: compute a padded C (zero columns of B give zero columns
  // of C, which are sliced off) from an accumulator padded the same way.
  Value c = op.getDpsInits()[0];
  auto cType = cast<RankedTensorType>(c.getType());
  int64_t m = cType.getDimSize(0);
  Value zero = rw.create<arith::ConstantOp>(op.getLoc(), rw.getF32FloatAttr(0.0f));
  Value cWide = rw.create<tensor::PadOp>(
      op.getLoc(), RankedTensorType::get({m, width}, cType.getElementType()), c,
      ArrayRef<OpFoldResult>{index(0), index(0)},
      ArrayRef<OpFoldResult>{index(0), index(width - n)}, zero);
  auto wideMatmul = rw.create<linalg::MatmulOp>(
      op.getLoc(), ValueRange{op.getDpsInputs()[0], window}, ValueRange{cWide});
  Value narrow = rw.create<tensor::ExtractSliceOp>(
      op.getLoc(), cType, wideMatmul.getResult(0),
      ArrayRef<OpFoldResult>{index(0), index(0)},
      ArrayRef<OpFoldResult>{index(m), index(n)},
      ArrayRef<OpFoldResult>{index(1), index(1)});
  rw.replaceOp(op, narrow);
  return wideMatmul;
}

struct TileAndVectorizeMatmulPass
    : strata::impl::TileAndVectorizeMatmulBase<TileAndVectorizeMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    IRRewriter rw(&getContext());
    PaddedWeights padded;
    int64_t lanes = std::max<int64_t>(vectorBits / 32, 1);
    for (linalg::MatmulOp op : matmuls) {
      auto a = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
      auto b = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
      auto c = cast<RankedTensorType>(op.getDpsInits()[0].getType());
      if (!a.hasStaticShape() || !b.hasStaticShape() ||
          !strata::cpu::generatedKernelsTake(a.getElementType()) ||
          !strata::cpu::generatedKernelsTake(b.getElementType()) ||
          !strata::cpu::generatedKernelsTake(c.getElementType()))
        continue;
      // B is padded to whole register tiles (constant weights also to rows
      // that do not alias in L1); the matmul may be replaced by a wider one.
      op = padWeights(rw, op, 2 * lanes, padded);
      a = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
      b = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
      int64_t m = a.getDimSize(0), k = a.getDimSize(1), n = b.getDimSize(1);
      // Register tile: nr = two vectors; mr rows keep 2*mr accumulators in
      // the 16 (AVX2) or 32 (AVX-512) vector registers.
      int64_t nr = pick(n, {2 * lanes, lanes});
      int64_t mr = pick(m, lanes >= 16 ? std::initializer_list<int64_t>{8, 6, 5, 4, 2}
                                       : std::initializer_list<int64_t>{6, 5, 4, 3, 2});
      int64_t kr = pick(k, {4, 2});
      if (nr < lanes)
        continue; // too narrow to vectorize well; leave it scalar
      // Cache block: a B panel of kc x nc floats stays in L2. (Sizes from a
      // sweep at n=1024 on a 2-core AVX2 EPYC; bench/RESULTS.md.)
      int64_t mc = pick(m, {mr * 16, mr * 8, mr * 4, mr});
      int64_t nc = pick(n, {nr * 32, nr * 16, nr * 8, nr * 4, nr});
      int64_t kc = largestDivisor(k, 128, kr);
      // Enough cache blocks to share out: a matmul worth threads (the
      // fully connected layers of a training step, 64 x 120 x 256) would
      // otherwise be one block, run by one thread however many there are.
      if (m * n * k >= kMinParallelMacs)
        while ((m / mc) * (n / nc) < kMinBlocks) {
          if (nc > nr && nc % (2 * nr) == 0)
            nc /= 2;
          else if (mc > mr && mc % (2 * mr) == 0)
            mc /= 2;
          else
            break;
        }
      // Cache blocks of C are independent: an scf.forall, which becomes
      // the thread pool's work items (strata-outline-parallel-loops).
      FailureOr<Operation *> block = tile(rw, op, {mc, nc, 0}, {}, /*parallel=*/true);
      if (failed(block))
        continue;
      block = tile(rw, *block, {0, 0, kc});
      if (failed(block))
        continue;
      // n outside m: one B panel (kc x nr) serves every row tile of the block.
      FailureOr<Operation *> micro = tile(rw, *block, {mr, nr, kr}, {1, 0, 2});
      if (failed(micro))
        continue;
      (void)linalg::vectorize(rw, *micro);
    }
    // The vectorizer writes a matmul as broadcast reads, mulf and a
    // multi_reduction; fold that back into vector.contract, which lowers to
    // FMA outer products.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateSinkVectorBroadcastPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
