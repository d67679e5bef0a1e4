// RUN: strata-opt %s --split-input-file --strata-copy-returned-views | FileCheck %s

// Arguments become non-writable; an argument returned as is gets a copy.
// CHECK-LABEL: func @identity
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32> {bufferization.writable = false})
func.func @identity(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: %[[E:.+]] = tensor.empty() : tensor<4xf32>
  // CHECK: %[[C:.+]] = linalg.copy ins(%[[X]] : tensor<4xf32>) outs(%[[E]] : tensor<4xf32>)
  // CHECK: return %[[C]]
  return %x : tensor<4xf32>
}

// -----

// A computed result is returned as it is; the same value twice gets one copy.
// CHECK-LABEL: func @twice
func.func @twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  // CHECK: %[[R:.+]] = linalg.generic
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4xf32>
  // CHECK: %[[C:.+]] = linalg.copy ins(%[[R]]
  // CHECK: return %[[R]], %[[C]]
  return %r, %r : tensor<4xf32>, tensor<4xf32>
}
