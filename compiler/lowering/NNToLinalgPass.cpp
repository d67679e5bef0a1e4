//===- NNToLinalgPass.cpp - the strata-lower-nn-to-linalg pass ------------===//

#include "compiler/lowering/LoweringUtils.h"
#include "dialects/nn/NNOps.h"
#include "dialects/nn/NodeLocation.h"
#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_LOWERNNTOLINALG
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// Gathers with indices computed at run time report an index out of range
/// to the run: each gets a constant string naming its node (referenced by
/// the op's strata.index_report attribute, read by the lowering), and the
/// module gets the declarations the generated code calls.
void prepareRunTimeChecks(ModuleOp module) {
  SmallVector<Operation *> gathers;
  module.walk([&](Operation *op) {
    Value indices;
    if (auto g = dyn_cast<strata::nn::GatherOp>(op))
      indices = g.getIndices();
    else if (auto g = dyn_cast<strata::nn::GatherElementsOp>(op))
      indices = g.getIndices();
    if (indices && !matchPattern(indices, m_Constant()))
      gathers.push_back(op);
  });
  if (gathers.empty())
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  Location loc = module.getLoc();
  Type index = b.getIndexType(), i64 = b.getI64Type();
  SymbolTable symbols(module);
  auto declare = [&](StringRef name, FunctionType type) {
    if (symbols.lookup(name))
      return;
    auto f = b.create<func::FuncOp>(loc, name, type);
    f.setPrivate();
  };
  declare("strata_run_context", b.getFunctionType({}, {index}));
  declare("strata_index_out_of_range",
          b.getFunctionType({index, index, i64, i64}, {}));
  for (Operation *op : gathers) {
    std::string text = strata::nn::describeNodeAt(op->getLoc());
    if (text.empty())
      text = "'" + op->getName().getStringRef().str() + "'";
    SmallVector<int8_t> chars(text.begin(), text.end());
    chars.push_back(0);
    auto type = MemRefType::get({(int64_t)chars.size()}, b.getI8Type());
    auto global = b.create<memref::GlobalOp>(
        op->getLoc(), "__strata_node", b.getStringAttr("private"), type,
        DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getI8Type()),
                               ArrayRef<int8_t>(chars)),
        /*constant=*/true, IntegerAttr());
    symbols.insert(global); // unique name
    op->setAttr("strata.index_report", FlatSymbolRefAttr::get(global.getSymNameAttr()));
  }
}

struct LowerNNToLinalgPass
    : strata::impl::LowerNNToLinalgBase<LowerNNToLinalgPass> {
  using LowerNNToLinalgBase::LowerNNToLinalgBase;

  void runOnOperation() override {
    if (runTimeChecks)
      prepareRunTimeChecks(getOperation());
    RewritePatternSet patterns(&getContext());
    strata::lowering::populateElementwiseLowering(patterns);
    strata::lowering::populateTensorLowering(patterns);
    strata::lowering::populateNeuralLowering(patterns);
    strata::lowering::populateConvAsMatmulLowering(patterns);
    strata::lowering::populatePatchColumnsLowering(patterns);
    strata::lowering::populateQuantizationLowering(patterns);
    GreedyRewriteConfig config;
    config.maxIterations = GreedyRewriteConfig::kNoLimit;
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                       config);
    // Whatever is left could not be lowered: say which op and why.
    bool failed = false;
    getOperation().walk([&](Operation *op) {
      if (!isa<strata::nn::NNDialect>(op->getDialect()))
        return; // e.g. the CPU's onednn ops: they bufferize into runtime calls
      std::string reason = strata::lowering::unsupportedReason(op);
      op->emitError() << "cannot lower '" << op->getName()
                      << "' for the CPU: "
                      << (reason.empty() ? "this form is not supported yet"
                                         : reason);
      failed = true;
    });
    if (failed)
      signalPassFailure();
  }
};
} // namespace
