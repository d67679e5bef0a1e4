//===- Passes.td - strata's passes -----------------------------*- tablegen -*-===//
//
// Every strata pass is declared here; flags carry the `strata-` prefix.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES
#define STRATA_PASSES

include "mlir/Pass/PassBase.td"

def GraphFold : Pass<"strata-graph-fold"> {
  let summary = "Fold nn ops on constants, drop algebraic identities and dead ops";
  let description = [{
    Runs the `nn` folders to a fixed point: elementwise math on small `dense`
    constants, `x + 0`, `x * 1`, reshape-of-reshape, identity transposes and
    casts; then removes ops whose results are unused. Unlike `canonicalize`
    it applies no other dialect's patterns, so it is safe to run right after
    import. `dense_resource` weights are never expanded.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

#endif // STRATA_PASSES
