//===- NNDialect.h - the nn dialect -----------------------------*- C++ -*-===//

#ifndef STRATA_DIALECTS_NN_NNDIALECT_H
#define STRATA_DIALECTS_NN_NNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/nn/NNDialect.h.inc"

#endif // STRATA_DIALECTS_NN_NNDIALECT_H
