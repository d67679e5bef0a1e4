//===- MapLoopsToGpu.cpp - top-level loop nests become gpu.launch kernels --===//
//
// After linalg becomes loops, @main is a sequence of loop nests over device
// buffers. Each parallel nest becomes one launch over its linearized
// iteration space: thread t of block b runs iteration b * blockSize + t, the
// innermost dimension varying fastest so that neighbouring threads read and
// write neighbouring elements (coalesced). Unlike upstream's
// gpu-map-parallel-loops (first three dimensions to the grid, one thread
// per block unless tiled), this fills every block for any rank and shape.
// Whatever else touches memory runs as a one-thread kernel, so the host
// only launches.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace strata {
#define GEN_PASS_DEF_MAPLOOPSTOGPU
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// Constant trip counts of every dimension, or nothing.
std::optional<SmallVector<int64_t>> tripCounts(scf::ParallelOp loop) {
  SmallVector<int64_t> trips;
  for (unsigned d = 0; d < loop.getNumLoops(); ++d) {
    auto lb = getConstantIntValue(loop.getLowerBound()[d]);
    auto ub = getConstantIntValue(loop.getUpperBound()[d]);
    auto step = getConstantIntValue(loop.getStep()[d]);
    if (!lb || !ub || !step || *step <= 0)
      return std::nullopt;
    trips.push_back(std::max<int64_t>(0, (*ub - *lb + *step - 1) / *step));
  }
  return trips;
}

/// True if `op` can stay on the host: it computes only addresses or
/// scalars, never dereferencing a buffer.
bool staysOnHost(Operation *op) {
  if (isa<func::ReturnOp, memref::DeallocOp, memref::AssumeAlignmentOp,
          memref::ExtractStridedMetadataOp, memref::CastOp>(op) ||
      isa<ViewLikeOpInterface>(op))
    return true;
  if (op->getNumRegions() != 0)
    return false;
  auto noBuffer = [](Value v) { return !isa<BaseMemRefType>(v.getType()); };
  return isMemoryEffectFree(op) && llvm::all_of(op->getOperands(), noBuffer) &&
         llvm::all_of(op->getResults(), noBuffer);
}

class Mapper {
public:
  Mapper(func::FuncOp func, int64_t blockSize) : func(func), blockSize(blockSize) {}

  /// Parallel nests become launches of many threads; every other op that
  /// touches memory, or uses a value such an op computed, joins a group
  /// that runs as one single-thread kernel at the group's end (a scalar
  /// read and the arithmetic on it stay together on the device).
  LogicalResult run() {
    Block &body = func.getBody().front();
    SmallVector<Operation *> group;
    llvm::SmallPtrSet<Operation *, 16> inGroup;
    auto usesGroup = [&](Operation *op) {
      bool uses = false;
      op->walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          if (Operation *def = v.getDefiningOp(); def && inGroup.contains(def))
            uses = true;
      });
      return uses;
    };
    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        if (failed(flush(group, inGroup)))
          return failure();
        break;
      }
      bool dependent = usesGroup(&op);
      if (!dependent && staysOnHost(&op))
        continue;
      if (isa<gpu::LaunchOp>(op)) { // a kernel already (a tiled matmul)
        if (dependent)
          return op.emitError("a kernel uses a value computed by a single-thread kernel");
        if (failed(flush(group, inGroup)))
          return failure();
        continue;
      }
      auto loop = dyn_cast<scf::ParallelOp>(op);
      std::optional<SmallVector<int64_t>> trips;
      if (loop && loop.getNumResults() == 0 && !dependent)
        trips = tripCounts(loop);
      if (trips) {
        if (failed(flush(group, inGroup)) || failed(mapParallel(loop, *trips)))
          return failure();
        continue;
      }
      group.push_back(&op);
      inGroup.insert(&op);
    }
    return success();
  }

private:
  Value index(OpBuilder &b, Location loc, int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v);
  }

  gpu::LaunchOp launch(OpBuilder &b, Location loc, int64_t blocks, int64_t threads) {
    Value one = index(b, loc, 1);
    auto op = b.create<gpu::LaunchOp>(loc, index(b, loc, blocks), one, one,
                                      index(b, loc, threads), one, one);
    b.setInsertionPointToEnd(&op.getBody().front());
    b.create<gpu::TerminatorOp>(loc);
    b.setInsertionPointToStart(&op.getBody().front());
    return op;
  }

  LogicalResult mapParallel(scf::ParallelOp loop, ArrayRef<int64_t> trips) {
    int64_t total = 1;
    for (int64_t t : trips)
      total *= t;
    if (total == 0) {
      loop.erase();
      return success();
    }
    int64_t threads = std::min(blockSize, total);
    int64_t blocks = (total + threads - 1) / threads;
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    gpu::LaunchOp kernel = launch(b, loc, blocks, threads);
    Value id = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, kernel.getBlockIds().x, index(b, loc, threads)),
        kernel.getThreadIds().x);
    if (blocks * threads != total) {
      Value inRange = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, id,
                                              index(b, loc, total));
      auto guard = b.create<scf::IfOp>(loc, inRange, /*withElseRegion=*/false);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
    }
    // Innermost dimension fastest: iv_d = lb_d + (id / inner_d % trips_d) * step_d.
    IRMapping map;
    Value rest = id;
    for (int d = (int)trips.size() - 1; d >= 0; --d) {
      Value pos = d == 0 ? rest
                         : b.create<arith::RemUIOp>(loc, rest, index(b, loc, trips[d]));
      if (d > 0)
        rest = b.create<arith::DivUIOp>(loc, rest, index(b, loc, trips[d]));
      Value iv = b.create<arith::AddIOp>(
          loc, loop.getLowerBound()[d],
          b.create<arith::MulIOp>(loc, pos, loop.getStep()[d]));
      map.map(loop.getInductionVars()[d], iv);
    }
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, map);
    loop.erase();
    return success();
  }

  /// Moves `group` into one single-thread kernel after its last op.
  LogicalResult flush(SmallVectorImpl<Operation *> &group,
                      llvm::SmallPtrSetImpl<Operation *> &inGroup) {
    if (group.empty())
      return success();
    for (Operation *op : group)
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers())
          if (!llvm::any_of(group, [&](Operation *g) { return g->isAncestor(user); }))
            return op->emitError() << "'" << op->getName()
                                   << "' produces a value the host would use; "
                                      "it cannot run on the GPU";
    OpBuilder b(func.getContext());
    b.setInsertionPointAfter(group.back());
    gpu::LaunchOp kernel = launch(b, group.front()->getLoc(), 1, 1);
    Operation *terminator = kernel.getBody().front().getTerminator();
    for (Operation *op : group)
      op->moveBefore(terminator);
    group.clear();
    inGroup.clear();
    return success();
  }

  func::FuncOp func;
  int64_t blockSize;
};

struct MapLoopsToGpu : strata::impl::MapLoopsToGpuBase<MapLoopsToGpu> {
  using MapLoopsToGpuBase::MapLoopsToGpuBase;
  void runOnOperation() override {
    if (blockSize <= 0 || blockSize > 1024) {
      getOperation().emitError("block-size must be in 1..1024");
      return signalPassFailure();
    }
    if (failed(Mapper(getOperation(), blockSize).run()))
      signalPassFailure();
  }
};

} // namespace
