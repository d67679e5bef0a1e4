//===- MaterializeParallelLaunches.cpp - call the thread pool -------------===//
//
// Runs after conversion to the LLVM dialect, when every capture of an
// outlined loop has a plain LLVM type (bare pointers, i64, floats), so the
// captures can be packed into one stack struct that the thread pool hands
// back to each worker.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/ParallelAbi.h"
#include "passes/Passes.h"

#include "llvm/ADT/StringExtras.h"

namespace strata {
#define GEN_PASS_DEF_MATERIALIZEPARALLELLAUNCHES
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
using namespace strata::cpu;

namespace {

struct MaterializeParallelLaunchesPass
    : strata::impl::MaterializeParallelLaunchesBase<MaterializeParallelLaunchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> launches;
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
      if (fn.isExternal() && fn.getName().starts_with(kParallelBodyPrefix) &&
          fn.getName().ends_with(kParallelLaunchSuffix))
        launches.push_back(fn);
    if (launches.empty())
      return;

    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
    auto parallelFor = module.lookupSymbol<LLVM::LLVMFuncOp>(kParallelForSymbol);
    if (!parallelFor)
      parallelFor = mb.create<LLVM::LLVMFuncOp>(
          module.getLoc(), kParallelForSymbol,
          LLVM::LLVMFunctionType::get(voidType, {ptr, ptr, i64}));

    for (LLVM::LLVMFuncOp launch : launches) {
      StringRef bodyName =
          launch.getName().drop_back(StringRef(kParallelLaunchSuffix).size());
      auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(bodyName);
      if (!body) {
        launch.emitError("no outlined body ") << bodyName;
        return signalPassFailure();
      }
      Location loc = launch.getLoc();
      ArrayRef<Type> params = launch.getFunctionType().getParams();
      SmallVector<Type> fields(params.drop_front());
      auto context = LLVM::LLVMStructType::getLiteral(ctx, fields);

      // thunk(ctx, lo, hi): body(lo, hi, ctx->captures...)
      mb.setInsertionPointAfter(launch);
      auto thunk = mb.create<LLVM::LLVMFuncOp>(
          loc, (bodyName + kParallelThunkSuffix).str(),
          LLVM::LLVMFunctionType::get(voidType, {ptr, i64, i64}),
          LLVM::Linkage::Internal);
      OpBuilder b = OpBuilder::atBlockBegin(thunk.addEntryBlock(mb));
      SmallVector<Value> args{thunk.getArgument(1), thunk.getArgument(2)};
      for (auto [i, t] : llvm::enumerate(fields)) {
        Value at = b.create<LLVM::GEPOp>(
            loc, ptr, context, thunk.getArgument(0),
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
        args.push_back(b.create<LLVM::LoadOp>(loc, t, at));
      }
      b.create<LLVM::CallOp>(loc, body, args);
      b.create<LLVM::ReturnOp>(loc, ValueRange{});

      // launch(count, captures...): pack, then run on the pool.
      launch.setLinkage(LLVM::Linkage::Internal);
      body.setLinkage(LLVM::Linkage::Internal);
      b.setInsertionPointToStart(launch.addEntryBlock(mb));
      Value packed;
      if (fields.empty()) {
        packed = b.create<LLVM::ZeroOp>(loc, ptr);
      } else {
        Value one = b.create<LLVM::ConstantOp>(loc, i64, b.getI64IntegerAttr(1));
        packed = b.create<LLVM::AllocaOp>(loc, ptr, context, one);
        for (auto [i, t] : llvm::enumerate(fields)) {
          Value at = b.create<LLVM::GEPOp>(
              loc, ptr, context, packed,
              ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
          b.create<LLVM::StoreOp>(loc, launch.getArgument(i + 1), at);
        }
      }
      Value thunkAddress = b.create<LLVM::AddressOfOp>(loc, thunk);
      b.create<LLVM::CallOp>(loc, parallelFor,
                             ValueRange{thunkAddress, packed, launch.getArgument(0)});
      b.create<LLVM::ReturnOp>(loc, ValueRange{});
    }
  }
};

} // namespace
