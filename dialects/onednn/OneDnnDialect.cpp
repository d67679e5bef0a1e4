//===- OneDnnDialect.cpp - onednn dialect registration --------------------===//

#include "dialects/onednn/OneDnnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace strata::onednn;

#include "dialects/onednn/OneDnnDialect.cpp.inc"

void OneDnnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/onednn/OneDnnOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "dialects/onednn/OneDnnOps.cpp.inc"
