//===- OneDnnDialect.h - the CPU backend's onednn dialect -------*- C++ -*-===//

#ifndef STRATA_DIALECTS_ONEDNN_ONEDNNDIALECT_H
#define STRATA_DIALECTS_ONEDNN_ONEDNNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/onednn/OneDnnDialect.h.inc"

#endif // STRATA_DIALECTS_ONEDNN_ONEDNNDIALECT_H
