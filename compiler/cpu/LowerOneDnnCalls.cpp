//===- LowerOneDnnCalls.cpp - bind oneDNN call sites to the runtime's C ABI -===//
//
// After memory planning, each call of a per-site declaration made by the
// oneDNN bufferization (`__strata_onednn_conv_3`, carrying a descriptor and
// the ONNX node's name) becomes a call of the runtime's
//
//   void strata_onednn_conv(strata_run_context *context, int64_t *state,
//                           const int64_t *desc, const char *node,
//                           const float *src, const float *weight,
//                           const float *bias, float *dst);
//   void strata_onednn_inner_product(...same as conv...);
//   void strata_onednn_batch_matmul(...same as conv, bias always null...);
//   void strata_onednn_pool(strata_run_context *context, int64_t *state,
//                           const int64_t *desc, const char *node,
//                           const float *src, float *dst);
//
// with every buffer passed as its address (the buffers are dense).
// `context` is @main's run context argument (the run's stream, scratchpad
// and error); `state` is a zeroed global per site where the runtime keeps
// the primitive it creates, shared by all contexts; `desc` and `node` are
// constant globals. The module is tagged `strata.uses_onednn` so that the
// driver links the runtime's oneDNN glue and libdnnl, and gets
// @strata_onednn_prepare_sites, which creates every site's primitive ahead
// of the first run (strata_model_prepare in the module ABI).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/include/strata/onednn_calls.h"

#include "mlir/IR/SymbolTable.h"

namespace strata {
#define GEN_PASS_DEF_LOWERONEDNNCALLS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;

namespace {

/// The address of `buffer`'s first element, as an index. The oneDNN
/// bufferization hands over dense buffers only (identity layout, offset 0).
/// A memref.view into the arena is its source's address plus the byte
/// shift, spelled out: expand-strided-metadata rewrites the aligned pointer
/// of a view (also through reshapes of it) to its source's, which drops
/// memref.view's shift. Reshapes and casts of a dense buffer start where
/// their source does.
Value addressOf(OpBuilder &b, Location loc, Value buffer) {
  if (auto view = buffer.getDefiningOp<memref::ViewOp>())
    return b.create<arith::AddIOp>(loc, addressOf(b, loc, view.getSource()),
                                   view.getByteShift());
  if (auto collapse = buffer.getDefiningOp<memref::CollapseShapeOp>())
    return addressOf(b, loc, collapse.getSrc());
  if (auto expand = buffer.getDefiningOp<memref::ExpandShapeOp>())
    return addressOf(b, loc, expand.getSrc());
  if (auto cast = buffer.getDefiningOp<memref::CastOp>())
    return addressOf(b, loc, cast.getSource());
  return b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, buffer);
}

/// Defines a private global named `name` holding `values`.
void defineGlobal(OpBuilder &moduleBuilder, Location loc, StringRef name,
                  DenseElementsAttr values, bool constant) {
  auto type = MemRefType::get(values.getType().getShape(),
                              values.getType().getElementType());
  moduleBuilder.create<memref::GlobalOp>(
      loc, name, moduleBuilder.getStringAttr("private"), type, values, constant,
      /*alignment=*/constant ? IntegerAttr() : moduleBuilder.getI64IntegerAttr(8));
}

/// The address of global `global`, as an index.
Value globalAddress(OpBuilder &b, Location loc, memref::GlobalOp global) {
  Value ref = b.create<memref::GetGlobalOp>(loc, global.getType(), global.getSymName());
  return b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, ref);
}

/// @main's run context argument (strata-materialize-run-context), or null.
Value runContextOf(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.isExternal())
    return {};
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    if (main.getArgAttr(i, "strata.run_context"))
      return main.getArgument(i);
  return {};
}

/// The addresses of a site's state, descriptor and node name.
SmallVector<Value> siteAddresses(OpBuilder &b, Location loc, ModuleOp module,
                                 StringRef prefix) {
  SmallVector<Value> out;
  for (const char *suffix : {"_state", "_desc", "_node"})
    out.push_back(globalAddress(
        b, loc, module.lookupSymbol<memref::GlobalOp>((prefix + suffix).str())));
  return out;
}

struct LowerOneDnnCallsPass
    : strata::impl::LowerOneDnnCallsBase<LowerOneDnnCallsPass> {
  using LowerOneDnnCallsBase::LowerOneDnnCallsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (callee && callee->hasAttr("strata.onednn_kernel"))
        calls.push_back(call);
    });
    if (calls.empty())
      return;
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointToStart(module.getBody());
    Type index = mb.getIndexType();
    Value context = runContextOf(module);
    if (!context) {
      module.emitError("oneDNN calls need @main's run context "
                       "(run strata-materialize-run-context first)");
      return signalPassFailure();
    }
    DenseSet<Operation *> sites;
    SmallVector<std::string> prefixes;
    for (func::CallOp call : calls) {
      auto site = module.lookupSymbol<func::FuncOp>(call.getCallee());
      sites.insert(site);
      StringRef kernel =
          site->getAttrOfType<StringAttr>("strata.onednn_kernel").getValue();
      ArrayRef<int64_t> desc =
          site->getAttrOfType<DenseI64ArrayAttr>("strata.onednn_desc").asArrayRef();
      std::string node =
          site->getAttrOfType<StringAttr>("strata.onednn_node").getValue().str();
      std::string entry = ("strata_onednn_" + kernel).str();
      // Whether the site has a bias, as its descriptor says
      // (strata/onednn_calls.h); pooling has none.
      bool withWeights = kernel == "conv" || kernel == "inner_product" ||
                         kernel == "batch_matmul";
      bool hasBias = (kernel == "conv" && desc[STRATA_CONV_HAS_BIAS] != 0) ||
                     (kernel == "inner_product" && desc[STRATA_IP_HAS_BIAS] != 0);
      unsigned arity = withWeights ? 8 : 6;

      OpBuilder b(call);
      Location loc = call.getLoc();
      std::string prefix = site.getName().str();
      defineGlobal(mb, loc, prefix + "_state",
                   DenseElementsAttr::get(RankedTensorType::get({1}, mb.getI64Type()),
                                          ArrayRef<int64_t>{0}),
                   /*constant=*/false);
      defineGlobal(mb, loc, prefix + "_desc",
                   DenseElementsAttr::get(
                       RankedTensorType::get({int64_t(desc.size())}, mb.getI64Type()),
                       desc),
                   /*constant=*/true);
      SmallVector<int8_t> chars(node.begin(), node.end());
      chars.push_back(0);
      defineGlobal(mb, loc, prefix + "_node",
                   DenseElementsAttr::get(
                       RankedTensorType::get({int64_t(chars.size())}, mb.getI8Type()),
                       ArrayRef<int8_t>(chars)),
                   /*constant=*/true);
      prefixes.push_back(prefix);
      if (call->getParentOfType<func::FuncOp>() != context.getParentBlock()->getParentOp()) {
        call.emitError() << "oneDNN calls must be in @main";
        return signalPassFailure();
      }
      SmallVector<Value> args{context};
      args.append(siteAddresses(b, loc, module, prefix));
      for (auto [i, operand] : llvm::enumerate(call.getOperands())) {
        if (!cast<MemRefType>(operand.getType()).getLayout().isIdentity()) {
          call.emitError() << "oneDNN needs dense buffers, got "
                           << operand.getType();
          return signalPassFailure();
        }
        if (withWeights && i == 2 && !hasBias)
          args.push_back(b.create<arith::ConstantIndexOp>(loc, 0));
        args.push_back(addressOf(b, loc, operand));
      }
      if (args.size() != arity) {
        call.emitError() << "oneDNN call site has " << args.size()
                         << " arguments, expected " << arity;
        return signalPassFailure();
      }
      auto decl = module.lookupSymbol<func::FuncOp>(entry);
      if (!decl) {
        decl = mb.create<func::FuncOp>(
            loc, entry, mb.getFunctionType(SmallVector<Type>(arity, index), {}));
        decl.setPrivate();
      }
      b.create<func::CallOp>(loc, decl, args);
      call.erase();
    }
    for (Operation *site : sites)
      site->erase();
    // mb's insertion point may have been one of the erased declarations.
    mb.setInsertionPointToEnd(module.getBody());
    defineSitePreparation(module, mb, prefixes);
    module->setAttr("strata.uses_onednn", UnitAttr::get(&getContext()));
  }

  /// @strata_onednn_prepare_sites() creates every site's primitive ahead of
  /// the first run (the module ABI's strata_model_prepare calls it at load).
  void defineSitePreparation(ModuleOp module, OpBuilder &mb,
                             ArrayRef<std::string> prefixes) {
    Location loc = module.getLoc();
    Type index = mb.getIndexType();
    auto prepare = mb.create<func::FuncOp>(
        loc, "strata_onednn_prepare", mb.getFunctionType({index, index, index}, {}));
    prepare.setPrivate();
    auto sites = mb.create<func::FuncOp>(loc, "strata_onednn_prepare_sites",
                                         mb.getFunctionType({}, {}));
    OpBuilder b = OpBuilder::atBlockBegin(sites.addEntryBlock());
    if (maxIsa != STRATA_ONEDNN_ISA_ALL) {
      OpBuilder::InsertionGuard guard(mb);
      mb.setInsertionPoint(prepare);
      auto limit = mb.create<func::FuncOp>(loc, "strata_onednn_limit_isa",
                                           mb.getFunctionType({index}, {}));
      limit.setPrivate();
      b.create<func::CallOp>(loc, limit,
                             ValueRange{b.create<arith::ConstantIndexOp>(loc, maxIsa)});
    }
    for (const std::string &prefix : prefixes)
      b.create<func::CallOp>(loc, prepare, siteAddresses(b, loc, module, prefix));
    b.create<func::ReturnOp>(loc);
  }
};

} // namespace
