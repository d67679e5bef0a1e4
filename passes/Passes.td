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

def TileAndVectorizeMatmul : Pass<"strata-tile-and-vectorize-matmul", "mlir::func::FuncOp"> {
  let summary = "Tile linalg.matmul for caches and registers, vectorize the register tile";
  let description = [{
    Two levels of tiling on tensors: cache blocks (m, n, k) and, inside
    them, a register tile of `mr x nr x kr` with nr two vectors wide. The
    register tile becomes a `vector.contract`, which `strata-lower-vectors`
    turns into broadcast-FMA outer products after bufferization. Tile sizes
    are chosen to divide the matmul exactly, so every tile is static; a
    matmul with no fitting sizes is left for the scalar path.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the target's vector registers (256 for AVX2, 512 for AVX-512)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect", "::mlir::affine::AffineDialect"
  ];
}

def CopyReturnedViews : Pass<"strata-copy-returned-views", "mlir::func::FuncOp"> {
  let summary = "Give each function result a buffer of its own before bufferization";
  let description = [{
    Marks every tensor argument `bufferization.writable = false`: inputs
    belong to the caller and are never computed into. Results become
    caller-owned out-parameters that the function computes into directly. That needs every returned tensor to be a fresh
    allocation; arguments returned as they are (Identity), constants,
    reshape views and duplicated results are copied with linalg.copy first.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def LowerVectors : Pass<"strata-lower-vectors", "mlir::func::FuncOp"> {
  let summary = "Hoist accumulators out of k loops and lower vector ops for LLVM";
  let description = [{
    After bufferization: moves loop-invariant transfer_read/transfer_write
    pairs (the matmul accumulator) out of the reduction loop, lowers
    vector.contract to outer products and FMAs, and transfers to loads and
    stores, leaving only what convert-vector-to-llvm handles.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect", "::mlir::memref::MemRefDialect"];
}

#endif // STRATA_PASSES
