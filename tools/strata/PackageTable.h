//===- PackageTable.h - the per-layer table of a compressed package -*- C++ -*-===//
//
// Deep Compression's table (Han, Mao and Dally, ICLR 2016, Tables 2-5): per
// layer the weights, the share kept by pruning, bits per index, and bytes
// as dense float32 against bytes in the package; then the graph and other
// initializers, the total, and the last line
// "compression=NN.Nx dense_bytes=... package_bytes=...".
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TOOLS_STRATA_PACKAGETABLE_H
#define STRATA_TOOLS_STRATA_PACKAGETABLE_H

#include "compiler/onnx/Package.h"

#include "llvm/Support/raw_ostream.h"

namespace strata::cli {

void printPackageTable(const PackageReport &report, llvm::raw_ostream &os);

} // namespace strata::cli

#endif // STRATA_TOOLS_STRATA_PACKAGETABLE_H
