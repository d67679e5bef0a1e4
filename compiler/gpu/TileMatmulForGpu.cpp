//===- TileMatmulForGpu.cpp - f32 matmuls as shared-memory tiled kernels ---===//
//
// The generic mapping gives each thread one output element and a dot
// product over K read from global memory: about 1.3 TFLOP/s on an H100
// (2.5% of cuBLAS). Every convolution is a matmul after im2col, so this
// pass gives linalg.matmul on f32 buffers its own kernel, the classic
// register-blocked SGEMM:
//
//   - a block of 256 threads computes a BM x 128 tile of C (BM = 128, or 64
//     when M is small, as for convolutions with 64 output channels);
//   - per step of BK = 16 along K, the threads copy a BM x 16 tile of A
//     (transposed) and a 16 x 128 tile of B into shared memory, then each
//     thread accumulates a (BM/16) x 8 tile of C in registers from them;
//     the next step's tiles are read from global memory into registers
//     while this step's are multiplied (software pipelining);
//   - each thread's rows and columns are two groups of consecutive ones
//     half a tile apart, so a warp's shared-memory reads hit distinct banks
//     and neighbouring threads write neighbouring elements of C.
//
// Where the tiles divide the matrix, loads and stores are plain and
// contiguous (vector loads, given the buffers' 16-byte alignment); at other
// edges the indices of global loads are clamped and what lies outside
// zeroed (branch-free), and stores are guarded, so any static shape works.
// The kernel accumulates into C (linalg.matmul's semantics).
//
// Measured on an H100 at 4096^3 (bench, test/gpu/run.sh): BK = 8 with
// clamped loads 22.1 TFLOP/s, + plain vector loads 27.2, BK = 16 37.2 (72%
// of cuBLAS's 51.7).
//
//===----------------------------------------------------------------------===//

#include "compiler/gpu/GpuKernelChoice.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace {

constexpr int64_t kThreads = 256; // 16 x 16
constexpr int64_t kBN = 128, kBK = 16, kTN = 8;

class MatmulKernelBuilder {
public:
  MatmulKernelBuilder(OpBuilder &b, Location loc, Value A, Value B, Value C,
                      int64_t M, int64_t N, int64_t K)
      : b(b), loc(loc), A(A), B(B), C(C), M(M), N(N), K(K),
        BM(M <= 64 ? 64 : 128), TM(BM / 16), exactM(M % BM == 0),
        exactN(N % kBN == 0), exactK(K % kBK == 0) {}

  void build() {
    Type f32 = b.getF32Type();
    auto shared = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto aTileType = MemRefType::get({kBK, BM}, f32, MemRefLayoutAttrInterface{}, shared);
    auto bTileType = MemRefType::get({kBK, kBN}, f32, MemRefLayoutAttrInterface{}, shared);
    Value gridX = idx((N + kBN - 1) / kBN), gridY = idx((M + BM - 1) / BM);
    Value one = idx(1);
    auto launch = b.create<gpu::LaunchOp>(
        loc, gridX, gridY, one, idx(kThreads), one, one, /*dynamicSharedMemorySize=*/Value(),
        /*asyncTokenType=*/Type(), /*asyncDependencies=*/ValueRange(),
        TypeRange{aTileType, bTileType});
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    // strata's device buffers (the runtime's block, the arena's and the
    // weights' offsets) are at least 64-byte aligned: let LLVM use vector
    // loads for contiguous elements.
    for (Value m : {A, B, C})
      if (cast<MemRefType>(m.getType()).getLayout().isIdentity())
        b.create<memref::AssumeAlignmentOp>(loc, m, 16);
    Value aTile = launch.getWorkgroupAttributions()[0];
    Value bTile = launch.getWorkgroupAttributions()[1];
    Value t = launch.getThreadIds().x;
    Value tx = rem(t, 16), ty = div(t, 16);
    Value row0 = mul(launch.getBlockIds().y, BM);
    Value col0 = mul(launch.getBlockIds().x, kBN);

    // This thread's rows of C: two groups of TM/2, half a tile apart; its
    // columns likewise, groups of 4 at tx*4 and 64 + tx*4.
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < TM / 2; ++i)
        localRows.push_back(add(mul(ty, TM / 2), h * (BM / 2) + i));
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t j = 0; j < kTN / 2; ++j)
        localCols.push_back(add(mul(tx, kTN / 2), h * (kBN / 2) + j));

    // Accumulators start from C.
    SmallVector<Value> acc;
    for (Value r : localRows)
      for (Value c : localCols)
        acc.push_back(exactM && exactN ? load(C, add(row0, r), add(col0, c))
                                       : loadClamped(C, add(row0, r), M, add(col0, c), N));

    // Software pipelining: the next step's tiles are read from global
    // memory into registers while this step's are multiplied.
    SmallVector<Value> staged = loadTiles(t, row0, col0, idx(0));
    SmallVector<Value> carried(acc);
    carried.append(staged);
    auto loop = b.create<scf::ForOp>(loc, idx(0), idx(K), idx(kBK), carried);
    b.setInsertionPointToStart(loop.getBody());
    Value k0 = loop.getInductionVar();
    auto iterArgs = loop.getRegionIterArgs();
    storeTiles(t, SmallVector<Value>(iterArgs.begin() + acc.size(), iterArgs.end()), aTile,
               bTile);
    b.create<gpu::BarrierOp>(loc);
    SmallVector<Value> next = loadTiles(t, row0, col0, add(k0, kBK));
    SmallVector<Value> sums(iterArgs.begin(), iterArgs.begin() + acc.size());
    for (int64_t kk = 0; kk < kBK; ++kk) {
      SmallVector<Value> a, bv;
      for (Value r : localRows)
        a.push_back(b.create<memref::LoadOp>(loc, aTile, ValueRange{idx(kk), r}));
      for (Value c : localCols)
        bv.push_back(b.create<memref::LoadOp>(loc, bTile, ValueRange{idx(kk), c}));
      for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < bv.size(); ++j) {
          Value &s = sums[i * bv.size() + j];
          s = b.create<math::FmaOp>(loc, a[i], bv[j], s);
        }
    }
    sums.append(next);
    b.create<gpu::BarrierOp>(loc);
    b.create<scf::YieldOp>(loc, sums);

    // Guarded stores of the tile.
    b.setInsertionPointAfter(loop);
    for (size_t i = 0; i < localRows.size(); ++i)
      for (size_t j = 0; j < localCols.size(); ++j) {
        Value r = add(row0, localRows[i]), c = add(col0, localCols[j]);
        Value result = loop.getResult(i * localCols.size() + j);
        if (exactM && exactN) {
          b.create<memref::StoreOp>(loc, result, C, ValueRange{r, c});
          continue;
        }
        Value inside = b.create<arith::AndIOp>(loc, lessThan(r, M), lessThan(c, N));
        auto guard = b.create<scf::IfOp>(loc, inside, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(&guard.getThenRegion().front());
        b.create<memref::StoreOp>(loc, result, C, ValueRange{r, c});
      }
    b.create<gpu::TerminatorOp>(loc);
  }

private:
  /// A's BM x 8 tile at (row0, k0) and B's 8 x 128 tile at (k0, col0),
  /// this thread's share of each (consecutive elements of one row, so a
  /// warp reads whole rows of B), zero beyond the matrices' edges.
  SmallVector<Value> loadTiles(Value t, Value row0, Value col0, Value k0) {
    SmallVector<Value> values;
    // With K a multiple of 8 the last step's prefetch (k0 = K) wraps to the
    // first tile instead of reading past the end; it is never used.
    if (exactK)
      k0 = b.create<arith::RemUIOp>(loc, k0, idx(K));
    forEachTileElement(t, [&](bool isA, Value r, Value c) {
      if (isA)
        values.push_back(exactM && exactK
                             ? load(A, add(row0, r), add(k0, c))
                             : loadClamped(A, add(row0, r), M, add(k0, c), K));
      else
        values.push_back(exactK && exactN
                             ? load(B, add(k0, r), add(col0, c))
                             : loadClamped(B, add(k0, r), K, add(col0, c), N));
    });
    return values;
  }

  /// Stores what loadTiles read: A transposed (k, row), B as it is.
  void storeTiles(Value t, ArrayRef<Value> values, Value aTile, Value bTile) {
    size_t i = 0;
    forEachTileElement(t, [&](bool isA, Value r, Value c) {
      if (isA)
        b.create<memref::StoreOp>(loc, values[i++], aTile, ValueRange{c, r});
      else
        b.create<memref::StoreOp>(loc, values[i++], bTile, ValueRange{r, c});
    });
  }

  /// Calls f(isA, row, column) for this thread's elements of the A tile
  /// (BM x 8) and of the B tile (8 x 128), tile-relative.
  void forEachTileElement(Value t, llvm::function_ref<void(bool, Value, Value)> f) {
    int64_t perThreadA = BM * kBK / kThreads; // 4 or 2
    int64_t threadsPerRowA = kBK / perThreadA;
    Value aRow = div(t, threadsPerRowA), aK = mul(rem(t, threadsPerRowA), perThreadA);
    for (int64_t q = 0; q < perThreadA; ++q)
      f(true, aRow, add(aK, q));
    int64_t perThreadB = kBK * kBN / kThreads; // 4
    int64_t threadsPerRowB = kBN / perThreadB;
    Value bRow = div(t, threadsPerRowB), bCol = mul(rem(t, threadsPerRowB), perThreadB);
    for (int64_t q = 0; q < perThreadB; ++q)
      f(false, bRow, add(bCol, q));
  }

  Value load(Value m, Value r, Value c) {
    return b.create<memref::LoadOp>(loc, m, ValueRange{r, c});
  }

  /// m[min(r, rows-1), min(c, cols-1)], or 0 where (r, c) is outside.
  Value loadClamped(Value m, Value r, int64_t rows, Value c, int64_t cols) {
    Value rc = b.create<arith::MinUIOp>(loc, r, idx(rows - 1));
    Value cc = b.create<arith::MinUIOp>(loc, c, idx(cols - 1));
    Value v = b.create<memref::LoadOp>(loc, m, ValueRange{rc, cc});
    Value inside = b.create<arith::AndIOp>(loc, lessThan(r, rows), lessThan(c, cols));
    Value zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
    return b.create<arith::SelectOp>(loc, inside, v, zero);
  }

  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, int64_t v) { return v ? b.create<arith::AddIOp>(loc, x, idx(v)) : x; }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value mul(Value x, int64_t v) { return b.create<arith::MulIOp>(loc, x, idx(v)); }
  Value div(Value x, int64_t v) { return b.create<arith::DivUIOp>(loc, x, idx(v)); }
  Value rem(Value x, int64_t v) { return b.create<arith::RemUIOp>(loc, x, idx(v)); }
  Value lessThan(Value x, int64_t v) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, idx(v));
  }

  OpBuilder &b;
  Location loc;
  Value A, B, C;
  int64_t M, N, K, BM, TM;
  // Dimensions the tiles divide: their loads and stores need no clamping
  // or guards, and contiguous ones can become vector loads.
  bool exactM, exactN, exactK;
  SmallVector<Value> localRows, localCols;
};

struct TileMatmulForGpu : PassWrapper<TileMatmulForGpu, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TileMatmulForGpu)
  StringRef getArgument() const final { return "strata-tile-matmul-for-gpu"; }
  StringRef getDescription() const final {
    return "Bufferized f32 linalg.matmul as a gpu.launch of a shared-memory, "
           "register-blocked kernel (128 x 128 or 64 x 128 tiles of C), where "
           "chooseGpuKernel says so (lit test: test/lit/compiler/gpu/tile-matmul-for-gpu.mlir)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, scf::SCFDialect, arith::ArithDialect,
                    math::MathDialect, memref::MemRefDialect>();
  }
  void runOnOperation() override {
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (op->getParentOp() == getOperation().getOperation() &&
          strata::gpu::chooseGpuKernel(op).kernel == strata::gpu::GpuKernel::TiledMatmul)
        matmuls.push_back(op);
    });
    for (linalg::MatmulOp op : matmuls) {
      Value A = op.getDpsInputs()[0], B = op.getDpsInputs()[1], C = op.getDpsInits()[0];
      auto a = cast<MemRefType>(A.getType()), c = cast<MemRefType>(C.getType());
      OpBuilder b(op);
      MatmulKernelBuilder(b, op.getLoc(), A, B, C, c.getDimSize(0), c.getDimSize(1),
                          a.getDimSize(1))
          .build();
      op.erase();
    }
  }
};

} // namespace

namespace strata::gpu {
std::unique_ptr<Pass> createTileMatmulForGpu() { return std::make_unique<TileMatmulForGpu>(); }
void registerTileMatmulForGpu() { PassRegistration<TileMatmulForGpu>(); }
} // namespace strata::gpu
