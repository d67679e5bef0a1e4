//===- MixedPrecision.cpp - the strata-mixed-precision pass ----------------===//
//
// Mixed precision (strata compile --precision=bf16|fp16): convolutions,
// matmuls and Gemms read their operands in the 16-bit type and accumulate
// into f32, as the contraction rule pairs them (bf16 x bf16 -> f32). Every
// other op -- softmax, reductions, normalizations, exp/log, the losses --
// stays f32: only the contractions are on the allow list, so the casts sit
// at their inputs and nowhere else. Constant weights are converted here,
// once (half the bytes); an activation gets one cast per value (CSE'd), and
// the results stay f32 for the ops after.
//
// This is the model stage's decision of what may compute in 16 bits. The
// backend decides what does: the CPU runs such a contraction on oneDNN's
// bf16 kernels where the target has them and otherwise computes it in f32
// on the same rounded values (compiler/cpu/OneDnnConvs.cpp).
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNOps.h"
#include "dialects/nn/NodeLocation.h"
#include "passes/Passes.h"
#include "passes/graph/ConstantValues.h"

#include "llvm/Support/GlobPattern.h"

namespace strata {
#define GEN_PASS_DEF_MIXEDPRECISION
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

struct MixedPrecisionPass : strata::impl::MixedPrecisionBase<MixedPrecisionPass> {
  using MixedPrecisionBase::MixedPrecisionBase;

  void runOnOperation() override {
    Builder b(&getContext());
    Type half;
    if (precision == "bf16")
      half = b.getBF16Type();
    else if (precision == "fp16")
      half = b.getF16Type();
    else if (precision == "fp32")
      return;
    else {
      getOperation()->emitError() << "unknown precision '" << precision
                                  << "' (fp32, bf16 or fp16)";
      return signalPassFailure();
    }
    std::vector<llvm::GlobPattern> keep;
    for (const std::string &g : keepFp32) {
      auto pattern = llvm::GlobPattern::create(g);
      if (!pattern) {
        getOperation()->emitError() << "bad keep-fp32 pattern '" << g
                                    << "': " << llvm::toString(pattern.takeError());
        return signalPassFailure();
      }
      keep.push_back(std::move(*pattern));
    }
    SmallVector<Operation *> contractions;
    getOperation()->walk([&](Operation *op) {
      if (!isa<nn::ConvOp, nn::MatMulOp, nn::GemmOp>(op))
        return;
      std::string node = nn::nodeNameOf(op->getLoc());
      if (llvm::any_of(keep, [&](const llvm::GlobPattern &g) { return g.match(node); }))
        return;
      // All f32, result included: the pair this pass makes.
      Value lhs = op->getOperand(0), rhs = op->getOperand(1);
      if (typeOf(lhs).getElementType().isF32() && typeOf(rhs).getElementType().isF32() &&
          typeOf(op->getResult(0)).getElementType().isF32())
        contractions.push_back(op);
    });
    llvm::DenseMap<Value, Value> narrowed; // one cast per value
    OpBuilder builder(&getContext());
    auto narrow = [&](Value v) -> Value {
      if (Value n = narrowed.lookup(v))
        return n;
      if (Operation *def = v.getDefiningOp())
        builder.setInsertionPointAfter(def);
      else
        builder.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
      auto type = typeOf(v).clone(half);
      Value n;
      if (auto c = v.getDefiningOp<nn::ConstantOp>(); c && type.hasStaticShape()) {
        if (auto values = strata::floatValuesAsF32(v))
          n = strata::makeFloatConstant(builder, c.getLoc(), type, *values, "weight_half");
      }
      if (!n)
        n = builder.create<nn::CastOp>(v.getLoc(), type, v);
      narrowed[v] = n;
      return n;
    };
    for (Operation *op : contractions) {
      op->setOperand(0, narrow(op->getOperand(0)));
      op->setOperand(1, narrow(op->getOperand(1)));
    }
    // f32 weights nothing reads any more.
    getOperation()->walk([&](nn::ConstantOp c) {
      if (c->use_empty() && narrowed.count(c.getResult()))
        c->erase();
    });
  }
};

} // namespace
