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

def LowerNNToLinalg : Pass<"strata-lower-nn-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower nn ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Elementwise ops become broadcasting `linalg.generic`s (fused later by
    `linalg-fuse-elementwise-ops`), 2-D matmul `linalg.matmul`, and gemm,
    batched matmul, convolution (any rank, groups, strides, dilations) and
    pooling `linalg.generic` contractions and window reductions; constants
    become `arith.constant` (weights stay `dense_resource`). Shapes must be
    static: an op with a dynamic dimension is reported with the advice to
    compile with `--batch=N`.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"
  ];
}

#endif // STRATA_PASSES
