//===- OneDnnOps.h - the CPU backend's oneDNN kernel ops --------*- C++ -*-===//

#ifndef STRATA_DIALECTS_ONEDNN_ONEDNNOPS_H
#define STRATA_DIALECTS_ONEDNN_ONEDNNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/onednn/OneDnnDialect.h"

#define GET_OP_CLASSES
#include "dialects/onednn/OneDnnOps.h.inc"

#endif // STRATA_DIALECTS_ONEDNN_ONEDNNOPS_H
