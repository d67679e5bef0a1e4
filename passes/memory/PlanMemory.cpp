//===- PlanMemory.cpp - activations share one arena by liveness -----------===//
//
// After bufferization, every intermediate tensor of the model function is a
// `memref.alloc` in its entry block, freed by a `memref.dealloc`. This pass
// computes each buffer's live range (from its allocation to the last
// top-level operation that uses it or a view of it), packs the buffers into
// one arena so that buffers whose ranges overlap never overlap in memory
// (largest first, lowest free offset), and replaces each allocation with a
// `memref.view` into the arena, a new last argument of @main. The compiled
// module then allocates nothing per inference, and keeps no state of a run:
// the runtime gives each context its own arena, so several threads run one
// loaded model at once (docs/runtime.md). The argument is `llvm.noalias`:
// no input, output or weight lies inside it.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Interfaces/ViewLikeInterface.h"

namespace strata {
#define GEN_PASS_DEF_PLANMEMORY
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;

struct Buffer {
  memref::AllocOp alloc;
  SmallVector<Operation *> deallocs; // of the buffer and its views
  int64_t bytes = 0;
  unsigned first = 0, last = 0; // positions in the entry block
  int64_t offset = 0;
};

std::optional<int64_t> sizeInBytes(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace())
    return std::nullopt;
  Type e = type.getElementType();
  if (!e.isIntOrIndexOrFloat() || e.isIndex())
    return std::nullopt;
  // Elements are stored whole bytes each: an i1 takes one byte in memory
  // (counting eight per byte left the arena short of the booleans' buffers
  // and the generated code wrote past its end).
  int64_t bytes = (e.getIntOrFloatBitWidth() + 7) / 8;
  return type.getNumElements() * bytes;
}

/// The top-level operation of `block` that contains `op`.
Operation *topLevel(Operation *op, Block *block) {
  while (op && op->getBlock() != block)
    op = op->getParentOp();
  return op;
}

/// Position of the last top-level op that uses `value` or a view of it;
/// false if a use escapes the analysis (returned). Deallocations of the
/// buffer or of any view of it are collected in `deallocs`.
bool lastUse(Value value, Block *block, DenseMap<Operation *, unsigned> &position,
             unsigned &last, SmallVectorImpl<Operation *> &deallocs) {
  SmallVector<Value> work{value};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<memref::DeallocOp>(user)) {
        deallocs.push_back(user);
        continue;
      }
      if (isa<func::ReturnOp>(user))
        return false;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user))
        if (view.getViewSource() == v)
          for (Value r : user->getResults())
            work.push_back(r);
      Operation *top = topLevel(user, block);
      if (!top)
        return false;
      last = std::max(last, position[top]);
    }
  }
  return true;
}

struct PlanMemoryPass : strata::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    Block *block = &main.getBody().front();
    DenseMap<Operation *, unsigned> position;
    unsigned i = 0;
    for (Operation &op : *block)
      position[&op] = i++;

    std::vector<Buffer> buffers;
    for (auto alloc : block->getOps<memref::AllocOp>()) {
      std::optional<int64_t> bytes = sizeInBytes(alloc.getType());
      if (!bytes || !alloc.getDynamicSizes().empty() || !alloc.getSymbolOperands().empty())
        continue;
      Buffer b;
      b.alloc = alloc;
      b.bytes = (*bytes + kAlignment - 1) / kAlignment * kAlignment;
      b.first = b.last = position[alloc];
      if (!lastUse(alloc.getResult(), block, position, b.last, b.deallocs))
        continue;
      buffers.push_back(b);
    }
    if (buffers.empty())
      return;

    // Largest first; each at the lowest offset clear of every placed buffer
    // whose live range overlaps.
    std::vector<Buffer *> order;
    for (Buffer &b : buffers)
      order.push_back(&b);
    std::stable_sort(order.begin(), order.end(),
                     [](Buffer *a, Buffer *b) { return a->bytes > b->bytes; });
    std::vector<Buffer *> placed;
    int64_t peak = 0, total = 0;
    for (Buffer *b : order) {
      std::vector<std::pair<int64_t, int64_t>> taken;
      for (Buffer *p : placed)
        if (p->first <= b->last && b->first <= p->last)
          taken.push_back({p->offset, p->offset + p->bytes});
      std::sort(taken.begin(), taken.end());
      int64_t offset = 0;
      for (auto [lo, hi] : taken) {
        if (offset + b->bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      b->offset = offset;
      placed.push_back(b);
      peak = std::max(peak, offset + b->bytes);
      total += b->bytes;
    }

    MLIRContext *ctx = &getContext();
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    auto arenaType = MemRefType::get({peak}, IntegerType::get(ctx, 8));
    unsigned index = main.getNumArguments();
    main.insertArgument(index, arenaType, {}, main.getLoc());
    main.setArgAttr(index, "strata.arena", mb.getUnitAttr());
    main.setArgAttr(index, "llvm.noalias", mb.getUnitAttr());
    Value base = main.getArgument(index);

    OpBuilder b = OpBuilder::atBlockBegin(block);
    for (Buffer &buf : buffers) {
      b.setInsertionPoint(buf.alloc);
      Value offset = b.create<arith::ConstantIndexOp>(buf.alloc.getLoc(), buf.offset);
      Value view = b.create<memref::ViewOp>(buf.alloc.getLoc(), buf.alloc.getType(),
                                            base, offset, ValueRange{});
      // The arena belongs to the caller: no deallocation may reach free().
      for (Operation *dealloc : buf.deallocs)
        dealloc->erase();
      buf.alloc.replaceAllUsesWith(view);
      buf.alloc.erase();
    }
    module->setAttr("strata.arena_bytes", mb.getI64IntegerAttr(peak));
    module->setAttr("strata.arena_buffers", mb.getI64IntegerAttr(buffers.size()));
    module->setAttr("strata.unshared_bytes", mb.getI64IntegerAttr(total));
  }
};

} // namespace
