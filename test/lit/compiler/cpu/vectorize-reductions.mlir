// RUN: strata-opt %s --split-input-file --strata-vectorize-reductions --canonicalize --cse | FileCheck %s
// RUN: strata-opt %s --split-input-file --strata-vectorize-reductions=vector-bits=512 --canonicalize --cse | FileCheck %s --check-prefix=AVX512

// An AVX-512 target accumulates rows of 24 in 8-lane vectors (16 would
// leave half a register masked), rows of 130 in 16-lane ones.
// AVX512-LABEL: func @bias_grad
// AVX512-NOT: vector<16xf32>
// AVX512: vector.transfer_read {{.+}} : tensor<4x6x24x24xf32>, vector<8xf32>
// AVX512-LABEL: func @rows_keepdims
// AVX512-NOT: vector<8xf32>
// AVX512: vector.transfer_read {{.+}} : tensor<3x130xf32>, vector<16xf32>

// A bias gradient: one item per channel sums its rows of 24 in a vector
// accumulator (3 full vectors per row), reduces it once and writes its
// element.
// CHECK-LABEL: func @bias_grad
// CHECK-NOT: nn.reduce
// CHECK: scf.forall (%[[C:.+]]) in (6)
// CHECK: scf.for %[[N:[a-z0-9]+]] = {{.+}} -> (vector<8xf32>)
// CHECK: scf.for %[[H:[a-z0-9]+]] = {{.+}} -> (vector<8xf32>)
// CHECK: scf.for %[[W:[a-z0-9]+]] = %{{.+}} to %{{.+}} step %c8 {{.+}} -> (vector<8xf32>)
// CHECK: vector.transfer_read %arg0[%[[N]], %[[C]], %[[H]], %[[W]]], %{{.+}} {in_bounds = [true]} : tensor<4x6x24x24xf32>, vector<8xf32>
// CHECK: arith.addf {{.+}} : vector<8xf32>
// CHECK: vector.reduction <add>
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[C]]] [1] [1]
func.func @bias_grad(%dy: tensor<4x6x24x24xf32>) -> tensor<6xf32> {
  %0 = nn.reduce sum %dy {axes = array<i64: 0, 2, 3>, keepdims = false} : (tensor<4x6x24x24xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// Rows of 130 end in a masked read of 2 lanes; keepdims puts the element at [i, 0].
// CHECK-LABEL: func @rows_keepdims
// CHECK: scf.forall (%[[I:.+]]) in (3)
// CHECK: vector.transfer_read %arg0[%[[I]], %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<3x130xf32>, vector<8xf32>
// CHECK: vector.transfer_read %arg0[%[[I]], %{{.+}}], %{{[a-z0-9_]+}} : tensor<3x130xf32>, vector<8xf32>
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[I]], 0] [1, 1] [1, 1]
func.func @rows_keepdims(%x: tensor<3x130xf32>) -> tensor<3x1xf32> {
  %0 = nn.reduce sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<3x130xf32>) -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

// Left alone: the innermost axis kept, short rows, other kinds.
// CHECK-LABEL: func @left_alone
// CHECK: nn.reduce  sum %arg0 {axes = array<i64: 0>
// CHECK: nn.reduce  sum %arg1
// CHECK: nn.reduce  max %arg2
func.func @left_alone(%a: tensor<64x120xf32>, %b: tensor<64x10xf32>, %c: tensor<4x256xf32>)
    -> (tensor<120xf32>, tensor<64xf32>, tensor<4xf32>) {
  %0 = nn.reduce sum %a {axes = array<i64: 0>, keepdims = false} : (tensor<64x120xf32>) -> tensor<120xf32>
  %1 = nn.reduce sum %b {axes = array<i64: 1>, keepdims = false} : (tensor<64x10xf32>) -> tensor<64xf32>
  %2 = nn.reduce max %c {axes = array<i64: 1>, keepdims = false} : (tensor<4x256xf32>) -> tensor<4xf32>
  return %0, %1, %2 : tensor<120xf32>, tensor<64xf32>, tensor<4xf32>
}
