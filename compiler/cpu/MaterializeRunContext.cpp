//===- MaterializeRunContext.cpp - @main's run context argument -----------===//
//
// Code that must reach the state of the run it belongs to (a gather that
// reports an index out of range, a oneDNN call that keeps its stream and
// scratchpad per context) asks for it with `func.call @strata_run_context()`
// while the lowering cannot yet know where it comes from. Here @main gets
// the context as its last argument (an `index`: the address of the caller's
// strata_run_context) and every such call becomes that argument. Afterwards
// loop outlining passes it on like any other captured value.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace strata {
#define GEN_PASS_DEF_MATERIALIZERUNCONTEXT
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

constexpr const char *kContextFunction = "strata_run_context";

struct MaterializeRunContextPass
    : strata::impl::MaterializeRunContextBase<MaterializeRunContextPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("no func.func @main to give a run context");
      return signalPassFailure();
    }
    OpBuilder b(&getContext());
    unsigned index = main.getNumArguments();
    main.insertArgument(index, b.getIndexType(), {}, main.getLoc());
    main.setArgAttr(index, "strata.run_context", b.getUnitAttr());
    Value context = main.getArgument(index);

    SmallVector<func::CallOp> calls;
    WalkResult result = module.walk([&](func::CallOp call) {
      if (call.getCallee() != kContextFunction)
        return WalkResult::advance();
      if (call->getParentOfType<func::FuncOp>() != main) {
        call.emitError() << "@" << kContextFunction
                         << " is only defined inside @main";
        return WalkResult::interrupt();
      }
      calls.push_back(call);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (func::CallOp call : calls) {
      call.getResult(0).replaceAllUsesWith(context);
      call.erase();
    }
    if (auto decl = module.lookupSymbol<func::FuncOp>(kContextFunction))
      decl.erase();
  }
};

} // namespace
