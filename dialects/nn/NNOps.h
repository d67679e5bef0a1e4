//===- NNOps.h - nn dialect operations --------------------------*- C++ -*-===//

#ifndef STRATA_DIALECTS_NN_NNOPS_H
#define STRATA_DIALECTS_NN_NNOPS_H

#include "dialects/nn/NNDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/nn/NNEnums.h.inc"

#include "dialects/nn/NNInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/nn/NNAttrs.h.inc"

namespace strata::nn {
// Shared by the generated verifiers and folders of op families (NNOps.td).
mlir::LogicalResult verifyBroadcastOp(mlir::Operation *op);
mlir::OpFoldResult foldBinary(mlir::Operation *op, mlir::Attribute lhs,
                              mlir::Attribute rhs,
                              double (*fn)(double, double),
                              double rightIdentity);
mlir::OpFoldResult foldUnary(mlir::Operation *op, mlir::Attribute input,
                             double (*fn)(double));
} // namespace strata::nn

#define GET_OP_CLASSES
#include "dialects/nn/NNOps.h.inc"

#endif // STRATA_DIALECTS_NN_NNOPS_H
