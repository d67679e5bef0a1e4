// RUN: strata-opt %s --split-input-file --strata-onednn-matmuls | FileCheck %s

// Attention's per-head products (equal batch dimensions) run as oneDNN's
// batched matmul on [G, M, K] x [G, K, N] views.
// CHECK-LABEL: func @attention_scores
// CHECK-SAME: (%[[Q:.+]]: tensor<2x12x128x64xf32>, %[[K:.+]]: tensor<2x12x64x128xf32>)
// CHECK: %[[QV:.+]] = nn.reshape %[[Q]] : (tensor<2x12x128x64xf32>) -> tensor<24x128x64xf32>
// CHECK: %[[KV:.+]] = nn.reshape %[[K]] : (tensor<2x12x64x128xf32>) -> tensor<24x64x128xf32>
// CHECK: %[[S:.+]] = onednn.batch_matmul %[[QV]], %[[KV]] {{{.*}}strata.kernel = "oneDNN batched matmul", strata.rule = "f32, 24 products of 128x64 by 64x128"{{.*}}weights_constant = false}
// CHECK: nn.reshape %[[S]] : (tensor<24x128x128xf32>) -> tensor<2x12x128x128xf32>
// CHECK-NOT: nn.matmul
func.func @attention_scores(%q: tensor<2x12x128x64xf32>, %k: tensor<2x12x64x128xf32>) -> tensor<2x12x128x128xf32> {
  %s = nn.matmul %q, %k : (tensor<2x12x128x64xf32>, tensor<2x12x64x128xf32>) -> tensor<2x12x128x128xf32>
  return %s : tensor<2x12x128x128xf32>
}

// -----

// Rank-3 operands need no views; a constant right operand is reordered once.
// CHECK-LABEL: func @constant_rhs
// CHECK: onednn.batch_matmul %arg0, %{{.+}} {{{.*}}weights_constant = true} : (tensor<4x8x16xf32>, tensor<4x16x2xf32>) -> tensor<4x8x2xf32>
func.func @constant_rhs(%x: tensor<4x8x16xf32>) -> tensor<4x8x2xf32> {
  %w = nn.constant dense<1.0> : tensor<4x16x2xf32>
  %y = nn.matmul %x, %w : (tensor<4x8x16xf32>, tensor<4x16x2xf32>) -> tensor<4x8x2xf32>
  return %y : tensor<4x8x2xf32>
}

// -----

// Left to the lowering: broadcast batch dimensions, a 2-D right operand
// (one 2-D matmul there), integer products.
// CHECK-LABEL: func @not_taken
// CHECK-NOT: onednn.batch_matmul
// CHECK-COUNT-3: nn.matmul
func.func @not_taken(%a: tensor<2x8x16xf32>, %b: tensor<1x16x4xf32>, %w: tensor<16x4xf32>,
                     %i: tensor<2x8x16xi32>, %j: tensor<2x16x4xi32>)
    -> (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xi32>) {
  %x = nn.matmul %a, %b : (tensor<2x8x16xf32>, tensor<1x16x4xf32>) -> tensor<2x8x4xf32>
  %y = nn.matmul %a, %w : (tensor<2x8x16xf32>, tensor<16x4xf32>) -> tensor<2x8x4xf32>
  %z = nn.matmul %i, %j : (tensor<2x8x16xi32>, tensor<2x16x4xi32>) -> tensor<2x8x4xi32>
  return %x, %y, %z : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x4xi32>
}
