//===- WarpReductions.cpp - long reductions as one warp per output ---------===//
//
// The generic mapping gives each output element of a reduction one thread
// that walks the reduced dimensions alone: a softmax over 1000 classes of
// one image runs its max and sum on a single thread, a whole-tensor sum on
// one thread of the whole GPU. Here a linalg.generic whose reduction has at
// least 32 iterations per output instead gets one warp per output element:
// each lane folds every 32nd iteration into a partial value with the op's
// own body, the 32 partials are combined with warp shuffles (xor butterfly,
// five steps), and lane 0 folds the total into the output.
//
// Applies when the body's yield is one associative and commutative
// combiner (add, mul, max, min, or, and) of the accumulator and a value
// computed from the inputs alone, on f32 or i32 (the widths a shuffle
// moves), without linalg.index. The order of the additions changes, as it
// does between any two reduction kernels.
//
//===----------------------------------------------------------------------===//

#include "compiler/gpu/GpuKernelChoice.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"

#include <limits>

using namespace mlir;

namespace {

constexpr int64_t kWarp = 32, kWarpsPerBlock = 8, kMinReduction = 32;

/// The combiner of a reduction body: the op yielded, if it is one of the
/// associative, commutative ones and combines the accumulator with a value
/// that does not depend on it.
Operation *combinerOf(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument acc = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1 || !acc.hasOneUse())
    return nullptr;
  Operation *c = yield.getOperand(0).getDefiningOp();
  if (!c || c->getBlock() != &body || c->getNumOperands() != 2 ||
      !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp, arith::AddIOp, arith::OrIOp,
           arith::AndIOp, arith::MaxSIOp, arith::MinSIOp>(c))
    return nullptr;
  if (c->getOperand(0) != acc && c->getOperand(1) != acc)
    return nullptr;
  return c;
}

/// The combiner's identity: what lanes without iterations contribute.
TypedAttr identityOf(Operation *c, Type t, Builder &b) {
  auto f = [&](double v) { return b.getFloatAttr(t, v); };
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (isa<arith::AddFOp>(c)) return f(0);
  if (isa<arith::MulFOp>(c)) return f(1);
  if (isa<arith::MaximumFOp>(c)) return f(-inf);
  if (isa<arith::MinimumFOp>(c)) return f(inf);
  if (isa<arith::MaxNumFOp, arith::MinNumFOp>(c)) return f(nan); // ignored by maxnum/minnum
  if (isa<arith::AddIOp, arith::OrIOp>(c)) return b.getIntegerAttr(t, 0);
  if (isa<arith::AndIOp>(c)) return b.getIntegerAttr(t, -1);
  if (isa<arith::MaxSIOp>(c)) return b.getIntegerAttr(t, std::numeric_limits<int32_t>::min());
  return b.getIntegerAttr(t, std::numeric_limits<int32_t>::max()); // minsi
}

Value combine(OpBuilder &b, Operation *combiner, Value x, Value y) {
  OperationState state(combiner->getLoc(), combiner->getName());
  state.addOperands({x, y});
  state.addTypes(x.getType());
  state.addAttributes(combiner->getAttrs());
  return b.create(state)->getResult(0);
}

class WarpReductionBuilder {
public:
  WarpReductionBuilder(linalg::GenericOp op, Operation *combiner)
      : op(op), combiner(combiner), b(op), loc(op.getLoc()) {}

  void build() {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<unsigned> parallel, reduced;
    for (auto [i, kind] : llvm::enumerate(op.getIteratorTypesArray()))
      (kind == utils::IteratorType::parallel ? parallel : reduced).push_back(i);
    int64_t outputs = 1, iterations = 1;
    for (unsigned d : parallel)
      outputs *= ranges[d];
    for (unsigned d : reduced)
      iterations *= ranges[d];

    Value one = idx(1);
    int64_t blocks = (outputs + kWarpsPerBlock - 1) / kWarpsPerBlock;
    auto launch = b.create<gpu::LaunchOp>(loc, idx(blocks), one, one,
                                          idx(kWarpsPerBlock * kWarp), one, one);
    b.setInsertionPointToEnd(&launch.getBody().front());
    b.create<gpu::TerminatorOp>(loc);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value t = launch.getThreadIds().x;
    Value warp = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, launch.getBlockIds().x, idx(kWarpsPerBlock)),
        b.create<arith::DivUIOp>(loc, t, idx(kWarp)));
    Value lane = b.create<arith::RemUIOp>(loc, t, idx(kWarp));
    // Whole warps drop out together, so the shuffles see all 32 lanes.
    auto active = b.create<scf::IfOp>(
        loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, warp, idx(outputs)),
        /*withElseRegion=*/false);
    b.setInsertionPointToStart(&active.getThenRegion().front());

    SmallVector<Value> dims(ranges.size(), idx(0));
    delinearize(warp, parallel, ranges, dims);

    Value out = op.getDpsInits()[0];
    Type type = cast<MemRefType>(out.getType()).getElementType();
    Value identity = b.create<arith::ConstantOp>(loc, identityOf(combiner, type, b));
    auto loop = b.create<scf::ForOp>(loc, lane, idx(iterations), idx(kWarp), identity);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> loopDims(dims);
      delinearize(loop.getInductionVar(), reduced, ranges, loopDims);
      Block &body = op.getRegion().front();
      IRMapping map;
      for (OpOperand *input : op.getDpsInputOperands())
        map.map(body.getArgument(input->getOperandNumber()), load(input, loopDims));
      map.map(body.getArguments().back(), loop.getRegionIterArgs()[0]);
      for (Operation &nested : body.without_terminator())
        b.clone(nested, map);
      b.create<scf::YieldOp>(loc, map.lookup(body.getTerminator()->getOperand(0)));
    }
    Value partial = loop.getResult(0);
    for (int64_t offset = kWarp / 2; offset > 0; offset /= 2) {
      auto shuffle = b.create<gpu::ShuffleOp>(loc, partial, offset, kWarp,
                                              gpu::ShuffleMode::XOR);
      partial = combine(b, combiner, partial, shuffle.getShuffleResult());
    }
    auto first = b.create<scf::IfOp>(
        loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, lane, idx(0)),
        /*withElseRegion=*/false);
    b.setInsertionPointToStart(&first.getThenRegion().front());
    OpOperand *init = op.getDpsInitOperand(0);
    SmallVector<Value> at = indices(init, dims);
    Value old = b.create<memref::LoadOp>(loc, out, at);
    b.create<memref::StoreOp>(loc, combine(b, combiner, old, partial), out, at);
  }

private:
  /// dims[d] for d in `which` from `linear`, the last varying fastest.
  void delinearize(Value linear, ArrayRef<unsigned> which, ArrayRef<int64_t> ranges,
                   SmallVectorImpl<Value> &dims) {
    Value rest = linear;
    for (int i = (int)which.size() - 1; i >= 0; --i) {
      unsigned d = which[i];
      dims[d] = i == 0 ? rest : b.create<arith::RemUIOp>(loc, rest, idx(ranges[d]));
      if (i > 0)
        rest = b.create<arith::DivUIOp>(loc, rest, idx(ranges[d]));
    }
  }

  SmallVector<Value> indices(OpOperand *operand, ArrayRef<Value> dims) {
    AffineMap m = op.getMatchingIndexingMap(operand);
    SmallVector<Value> result;
    for (unsigned r = 0; r < m.getNumResults(); ++r)
      result.push_back(b.create<affine::AffineApplyOp>(loc, m.getSubMap({r}), dims));
    return result;
  }

  Value load(OpOperand *operand, ArrayRef<Value> dims) {
    Value v = operand->get();
    if (!isa<MemRefType>(v.getType()))
      return v; // a scalar operand
    return b.create<memref::LoadOp>(loc, v, indices(operand, dims));
  }

  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }

  linalg::GenericOp op;
  Operation *combiner;
  OpBuilder b;
  Location loc;
};

} // namespace

bool strata::gpu::isWarpReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op.hasIndexSemantics())
    return false;
  auto out = dyn_cast<MemRefType>(op.getDpsInits()[0].getType());
  if (!out || !out.hasStaticShape() || !(out.getElementType().isF32() ||
                                         out.getElementType().isInteger(32)))
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t iterations = 1;
  for (auto [i, kind] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (ShapedType::isDynamic(ranges[i]))
      return false;
    if (kind == utils::IteratorType::reduction)
      iterations *= ranges[i];
  }
  return iterations >= kMinReduction && combinerOf(op);
}

namespace {

struct WarpReductions : PassWrapper<WarpReductions, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(WarpReductions)
  StringRef getArgument() const final { return "strata-gpu-warp-reductions"; }
  StringRef getDescription() const final {
    return "Reductions of at least 32 iterations per output as a gpu.launch "
           "with one warp per output, combined with warp shuffles, where "
           "chooseGpuKernel says so (lit test: test/lit/compiler/gpu/warp-reductions.mlir)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, scf::SCFDialect, arith::ArithDialect,
                    affine::AffineDialect, memref::MemRefDialect>();
  }
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> reductions;
    func::FuncOp f = getOperation();
    f.walk([&](linalg::GenericOp op) {
      if (op->getParentOp() == f.getOperation() &&
          strata::gpu::chooseGpuKernel(op).kernel == strata::gpu::GpuKernel::WarpReduction)
        reductions.push_back(op);
    });
    for (linalg::GenericOp op : reductions) {
      WarpReductionBuilder(op, combinerOf(op)).build();
      op.erase();
    }
  }
};

} // namespace

namespace strata::gpu {
std::unique_ptr<Pass> createWarpReductions() { return std::make_unique<WarpReductions>(); }
void registerWarpReductions() { PassRegistration<WarpReductions>(); }
} // namespace strata::gpu
