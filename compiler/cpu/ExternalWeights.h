//===- ExternalWeights.h - weights in a side file, mmapped at load -*- C++ -*-===//

#ifndef STRATA_COMPILER_CPU_EXTERNALWEIGHTS_H
#define STRATA_COMPILER_CPU_EXTERNALWEIGHTS_H

#include "compiler/cpu/ObjectEmitter.h"
#include "compiler/onnx/Package.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace strata::cpu {

/// Moves every constant of at least `minBytes` out of @main: it becomes a
/// trailing input argument, and its bytes go to `path` at a 64-byte aligned
/// offset after a strata_weights_header (module_abi.h) that carries the
/// payload's hash as the file's identity. Records `finalName`'s base name
/// (where the caller will move `path` once everything else succeeded), the
/// identity and each entry in `signature`, so the runtime can mmap the file
/// from beside the module, check it is this model's, and pass the pointers.
/// Call on tensors, before bufferization. Returns false with `error` set.
bool externalizeWeights(mlir::ModuleOp module, const std::string &path,
                        const std::string &finalName, int64_t minBytes,
                        ModelSignature &signature, std::string &error);

/// The same, into `signature.embeddedWeights`, which the object emitter
/// writes as one byte array. LLVM emits a float array constant element by
/// element (15 of ResNet-18's 20 s of compile time); a byte array is one
/// copy.
/// A constant whose bytes equal one of `packed`'s decoded values (a layer
/// of a compressed package the model came from, that no pass rewrote) is
/// embedded as that layer's record instead, and decoded at load.
bool embedWeights(mlir::ModuleOp module, int64_t minBytes,
                  ModelSignature &signature, std::string &error,
                  const std::vector<PackedRecord> &packed = {});

} // namespace strata::cpu

#endif
