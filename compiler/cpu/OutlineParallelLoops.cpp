//===- OutlineParallelLoops.cpp - scf.parallel to thread-pool work items --===//
//
// The CPU back end runs an operator's independent iterations on several
// threads. After bufferization every such operator is an scf.parallel
// (elementwise ops, pooling, the parallel dimensions of reductions and
// convolutions) or an scf.parallel made from a tiled matmul's scf.forall.
// This pass moves each outermost one into its own function over a range of
// linearized iterations; the runtime's thread pool calls that function on
// disjoint ranges (see runtime/src/parallel.c).
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/ParallelAbi.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace strata {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

std::optional<int64_t> tripCount(Value lb, Value ub, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lb), u = getConstantIntValue(ub),
                         s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, (*u - *l + *s - 1) / *s);
}

/// The fewest iterations of a chunk of the innermost dimension (two 8-float
/// vectors).
constexpr int64_t kMinChunk = 16;

int64_t saturatingMul(int64_t a, int64_t b) {
  constexpr int64_t cap = int64_t(1) << 50;
  return (a > 0 && b > cap / a) ? cap : a * b;
}

/// Operations the nest executes, roughly: loop trip counts times the
/// operations of their bodies (unknown trip counts count as 16).
int64_t estimateWork(Block &block) {
  int64_t work = 0;
  for (Operation &op : block) {
    int64_t inner = 0;
    for (Region &region : op.getRegions())
      for (Block &b : region)
        inner += estimateWork(b);
    int64_t trips = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      trips = tripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())
                  .value_or(16);
    } else if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      for (unsigned d = 0; d < loop.getNumLoops(); ++d)
        trips = saturatingMul(trips, tripCount(loop.getLowerBound()[d],
                                               loop.getUpperBound()[d],
                                               loop.getStep()[d])
                                         .value_or(16));
    }
    work += std::max<int64_t>(1, saturatingMul(trips, inner));
  }
  return work;
}

/// Values that can be recreated inside the body instead of passed in.
bool isSinkable(Value v) {
  Operation *def = v.getDefiningOp();
  return def && (isa<memref::GetGlobalOp>(def) ||
                 (isa<arith::ConstantOp>(def) && !isa<TensorType, MemRefType>(v.getType())));
}

/// Whether func-to-llvm's bare-pointer convention can pass `type`.
bool passableAsArgument(Type type) {
  if (type.isIntOrIndexOrFloat())
    return true;
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !memref.hasStaticShape() || memref.getMemorySpace())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(memref, strides, offset)))
    return false;
  return !ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

struct OutlineParallelLoopsPass
    : strata::impl::OutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
        loops.push_back(loop);
    });
    SymbolTable symbols(module);
    int counter = 0;
    for (scf::ParallelOp loop : loops)
      outline(loop, symbols, counter);
  }

  void outline(scf::ParallelOp loop, SymbolTable &symbols, int &counter) {
    if (loop.getNumResults() != 0)
      return;
    unsigned rank = loop.getNumLoops();
    SmallVector<int64_t> counts, lbs, steps;
    for (unsigned d = 0; d < rank; ++d) {
      std::optional<int64_t> n = tripCount(loop.getLowerBound()[d],
                                           loop.getUpperBound()[d], loop.getStep()[d]);
      if (!n)
        return;
      counts.push_back(*n);
      lbs.push_back(*getConstantIntValue(loop.getLowerBound()[d]));
      steps.push_back(*getConstantIntValue(loop.getStep()[d]));
    }
    int64_t total = 1;
    for (int64_t n : counts)
      total = saturatingMul(total, n);
    if (total < 2 || saturatingMul(total, estimateWork(*loop.getBody())) < minWork)
      return;
    // Split over the shortest prefix of dimensions with enough iterations
    // to share out; the rest stay a loop inside each work item.
    unsigned split = 0;
    int64_t items = 1;
    while (split < rank && items < 64)
      items *= counts[split++];
    // Splitting every dimension of a nest with a short prefix (6 x 36864: a
    // bias broadcast over a convolution's columns) would leave each item one
    // element, found by a division per element, and nothing to vectorize.
    // The innermost dimension is then cut into chunks instead, each item a
    // contiguous inner loop.
    int64_t chunk = 0;
    if (split == rank && rank >= 2 && counts[rank - 1] >= 2 * kMinChunk) {
      int64_t n = counts[rank - 1], prefix = items / n;
      int64_t chunks = (64 + prefix - 1) / prefix;
      for (int64_t c = n / chunks; c >= kMinChunk && !chunk; --c)
        if (n % c == 0)
          chunk = c;
      if (chunk)
        items = prefix * (n / chunk);
    }

    SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    SmallVector<Value> captures, sunk;
    for (Value v : used) {
      if (isSinkable(v))
        sunk.push_back(v);
      else if (passableAsArgument(v.getType()))
        captures.push_back(v);
      else
        return; // stays sequential
    }

    MLIRContext *ctx = loop.getContext();
    Location loc = loop.getLoc();
    auto parent = loop->getParentOfType<func::FuncOp>();
    Type indexType = IndexType::get(ctx);
    SmallVector<Type> bodyArgs{indexType, indexType}, launchArgs{indexType};
    for (Value v : captures) {
      bodyArgs.push_back(v.getType());
      launchArgs.push_back(v.getType());
    }
    std::string name;
    do
      name = strata::cpu::kParallelBodyPrefix + std::to_string(counter++);
    while (symbols.lookup(name) || symbols.lookup(name + strata::cpu::kParallelLaunchSuffix));

    OpBuilder mb(ctx);
    mb.setInsertionPointAfter(parent);
    auto body = mb.create<func::FuncOp>(loc, name, FunctionType::get(ctx, bodyArgs, {}));
    body.setPrivate();
    symbols.insert(body);
    auto launch = mb.create<func::FuncOp>(loc, name + strata::cpu::kParallelLaunchSuffix,
                                          FunctionType::get(ctx, launchArgs, {}));
    launch.setPrivate();
    symbols.insert(launch);

    Block *entry = body.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (auto [i, v] : llvm::enumerate(captures))
      map.map(v, entry->getArgument(2 + i));
    for (Value v : sunk)
      b.clone(*v.getDefiningOp(), map);
    auto cst = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); };
    auto itemLoop = b.create<scf::ForOp>(loc, entry->getArgument(0), entry->getArgument(1),
                                       cst(1));
    b.create<func::ReturnOp>(loc);
    b.setInsertionPointToStart(itemLoop.getBody());
    // Delinearize the item index into the split dimensions' induction values
    // (for a chunked innermost dimension, the chunk's first iteration).
    Value rest = itemLoop.getInductionVar();
    Value chunkStart;
    for (int d = split - 1; d >= 0; --d) {
      bool chunked = chunk && d == int(rank) - 1;
      int64_t count = chunked ? counts[d] / chunk : counts[d];
      int64_t step = chunked ? steps[d] * chunk : steps[d];
      Value index = d == 0 ? rest : b.create<arith::RemUIOp>(loc, rest, cst(count));
      if (d > 0)
        rest = b.create<arith::DivUIOp>(loc, rest, cst(count));
      Value iv = b.create<arith::AddIOp>(
          loc, cst(lbs[d]), b.create<arith::MulIOp>(loc, index, cst(step)));
      if (chunked)
        chunkStart = iv;
      else
        map.map(loop.getInductionVars()[d], iv);
    }
    auto cloneBody = [&](OpBuilder &builder) {
      for (Operation &op : loop.getBody()->without_terminator())
        builder.clone(op, map);
    };
    if (chunk) {
      int64_t last = rank - 1;
      Value end = b.create<arith::AddIOp>(loc, chunkStart, cst(chunk * steps[last]));
      b.create<scf::ForOp>(loc, chunkStart, end, cst(steps[last]), ValueRange{},
                           [&](OpBuilder &nested, Location, Value iv, ValueRange) {
                             map.map(loop.getInductionVars()[last], iv);
                             cloneBody(nested);
                             nested.create<scf::YieldOp>(loc);
                           });
    } else if (split == rank) {
      cloneBody(b);
    } else {
      SmallVector<Value> innerLbs, innerUbs, innerSteps;
      for (unsigned d = split; d < rank; ++d) {
        innerLbs.push_back(cst(lbs[d]));
        innerUbs.push_back(cst(lbs[d] + counts[d] * steps[d]));
        innerSteps.push_back(cst(steps[d]));
      }
      b.create<scf::ParallelOp>(
          loc, innerLbs, innerUbs, innerSteps,
          [&](OpBuilder &nested, Location, ValueRange ivs) {
            for (unsigned d = split; d < rank; ++d)
              map.map(loop.getInductionVars()[d], ivs[d - split]);
            cloneBody(nested);
          });
    }

    OpBuilder pb(loop);
    SmallVector<Value> operands{pb.create<arith::ConstantIndexOp>(loc, items)};
    operands.append(captures.begin(), captures.end());
    pb.create<func::CallOp>(loc, launch, operands);
    loop.erase();
  }
};

} // namespace
