//===- OneDnnBufferization.h - oneDNN ops to runtime calls ------*- C++ -*-===//

#ifndef STRATA_COMPILER_CPU_ONEDNNBUFFERIZATION_H
#define STRATA_COMPILER_CPU_ONEDNNBUFFERIZATION_H

#include "mlir/IR/DialectRegistry.h"

namespace strata::cpu {

/// Lets one-shot bufferization turn onednn.conv / onednn.pool into
/// calls of per-site declarations (typed memrefs, so memory planning and
/// deallocation see the buffers), which strata-lower-onednn-calls then binds
/// to the runtime's C functions.
void registerOneDnnBufferization(mlir::DialectRegistry &registry);

} // namespace strata::cpu

#endif
