//===- ExternalWeights.cpp - weights as one blob: side file or embedded ---===//

#include "compiler/cpu/ExternalWeights.h"
#include "compiler/lowering/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace strata::cpu {

namespace {
/// Moves the large constants of @main into `out` (64-byte aligned entries)
/// and makes each a trailing argument of @main.
bool moveWeights(ModuleOp module, int64_t minBytes, ModelSignature &signature,
                 llvm::raw_ostream &out, std::string &error) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main) {
    error = "the module has no @main";
    return false;
  }
  uint64_t offset = 0;
  SmallVector<arith::ConstantOp> constants;
  main.walk([&](arith::ConstantOp c) {
    auto attr = dyn_cast<ElementsAttr>(c.getValue());
    if (attr && (int64_t)lowering::rawConstantBytes(attr).size() >= minBytes)
      constants.push_back(c);
  });
  for (arith::ConstantOp c : constants) {
    ArrayRef<char> bytes = lowering::rawConstantBytes(c.getValue());
    uint64_t aligned = (offset + 63) / 64 * 64;
    out.write_zeros(aligned - offset);
    out.write(bytes.data(), bytes.size());
    offset = aligned + bytes.size();
    TensorSignature entry;
    entry.name = "weight" + std::to_string(signature.weights.size());
    entry.offset = aligned;
    entry.bytes = bytes.size();
    signature.weights.push_back(entry);
    unsigned index = main.getNumArguments();
    (void)main.insertArgument(index, c.getType(), {}, c.getLoc());
    c.getResult().replaceAllUsesWith(main.getArgument(index));
    c.erase();
  }
  return true;
}
} // namespace

bool embedWeights(ModuleOp module, int64_t minBytes, ModelSignature &signature,
                  std::string &error) {
  signature.embeddedWeights.clear();
  llvm::raw_string_ostream out(signature.embeddedWeights);
  bool ok = moveWeights(module, minBytes, signature, out, error);
  out.flush();
  return ok;
}

bool externalizeWeights(ModuleOp module, const std::string &path,
                        int64_t minBytes, ModelSignature &signature,
                        std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  signature.weightsFile = llvm::sys::path::filename(path).str();
  if (!moveWeights(module, minBytes, signature, out, error))
    return false;
  out.close();
  if (out.has_error()) {
    error = "writing " + path + " failed";
    return false;
  }
  return true;
}

} // namespace strata::cpu
