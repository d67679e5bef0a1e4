//===- TileAndVectorize.cpp - cache/register tiling of linalg.matmul ------===//

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

/// The largest candidate that divides `size` (1 always does).
int64_t pick(int64_t size, std::initializer_list<int64_t> candidates) {
  for (int64_t c : candidates)
    if (c <= size && size % c == 0)
      return c;
  return 1;
}

FailureOr<Operation *> tile(RewriterBase &rw, Operation *op,
                            ArrayRef<int64_t> sizes,
                            ArrayRef<int64_t> interchange = {}) {
  scf::SCFTilingOptions options;
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

/// Row length of a weight matrix padded so that consecutive rows do not map
/// to the same L1 cache set (a row of 4 KiB, or any multiple of 1 KiB, makes
/// a column panel of B thrash one set).
int64_t paddedRow(int64_t n) { return (n * 4) % 1024 == 0 ? n + 16 : n; }

/// If B is a constant whose rows alias in the cache, re-materializes it with
/// padded rows and reads the original window through extract_slice. The
/// padding is paid once, at compile time.
void padConstantWeights(RewriterBase &rw, linalg::MatmulOp op) {
  Value b = op.getDpsInputs()[1];
  auto constant = b.getDefiningOp<arith::ConstantOp>();
  auto type = cast<RankedTensorType>(b.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1), np = paddedRow(n);
  if (!constant || np == n || !type.getElementType().isF32())
    return;
  ArrayRef<char> bytes;
  std::vector<char> dense;
  if (auto res = dyn_cast<DenseResourceElementsAttr>(constant.getValue())) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return;
    bytes = blob->getData();
  } else if (auto d = dyn_cast<DenseElementsAttr>(constant.getValue())) {
    if (d.isSplat())
      return;
    bytes = d.getRawData();
  } else {
    return;
  }
  if ((int64_t)bytes.size() != k * n * 4)
    return;
  AsmResourceBlob padded = HeapAsmResourceBlob::allocate(k * np * 4, 64);
  char *out = padded.getMutableData().data();
  std::memset(out, 0, k * np * 4);
  for (int64_t r = 0; r < k; ++r)
    std::memcpy(out + r * np * 4, bytes.data() + r * n * 4, n * 4);
  auto paddedType = RankedTensorType::get({k, np}, type.getElementType());
  rw.setInsertionPoint(op);
  Value wide = rw.create<arith::ConstantOp>(
      constant.getLoc(),
      DenseResourceElementsAttr::get(paddedType, "padded_weight", std::move(padded)));
  Value window = rw.create<tensor::ExtractSliceOp>(
      op.getLoc(), type, wide, ArrayRef<OpFoldResult>{rw.getIndexAttr(0), rw.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(k), rw.getIndexAttr(n)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(1), rw.getIndexAttr(1)});
  rw.modifyOpInPlace(op, [&] { op.getDpsInputOperand(1)->set(window); });
}

struct TileAndVectorizeMatmulPass
    : strata::impl::TileAndVectorizeMatmulBase<TileAndVectorizeMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) { matmuls.push_back(op); });
    IRRewriter rw(&getContext());
    int64_t lanes = std::max<int64_t>(vectorBits / 32, 1);
    for (linalg::MatmulOp op : matmuls) {
      auto a = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
      auto b = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
      if (!a.hasStaticShape() || !b.hasStaticShape() ||
          !a.getElementType().isF32())
        continue;
      int64_t m = a.getDimSize(0), k = a.getDimSize(1), n = b.getDimSize(1);
      // Register tile: nr = two vectors; mr rows keep 2*mr accumulators in
      // the 16 (AVX2) or 32 (AVX-512) vector registers.
      int64_t nr = pick(n, {2 * lanes, lanes});
      int64_t mr = pick(m, lanes >= 16 ? std::initializer_list<int64_t>{8, 6, 4, 2}
                                       : std::initializer_list<int64_t>{6, 4, 3, 2});
      int64_t kr = pick(k, {4, 2});
      if (nr < lanes)
        continue; // too narrow to vectorize well; leave it scalar
      padConstantWeights(rw, op);
      // Cache block: a B panel of kc x nc floats stays in L2.
      // (Sizes from a sweep at n=1024 on a 2-core AVX2 EPYC; bench/RESULTS.md.)
      int64_t mc = pick(m, {mr * 16, mr * 8, mr * 4, mr});
      int64_t nc = pick(n, {nr * 32, nr * 16, nr * 8, nr * 4, nr});
      int64_t kc = pick(k, {128, 64, 32, kr});
      FailureOr<Operation *> block = tile(rw, op, {mc, nc, kc});
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
