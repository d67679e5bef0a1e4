// RUN: strata-opt %s --split-input-file --strata-graph-fold | FileCheck %s

// Elementwise math on small dense constants is computed at compile time.
// CHECK-LABEL: func @fold_constant_math
func.func @fold_constant_math() -> tensor<3xf32> {
  // CHECK: %[[C:.+]] = nn.constant dense<[3.000000e+00, 5.000000e+00, 7.000000e+00]> : tensor<3xf32>
  // CHECK-NEXT: return %[[C]]
  %a = nn.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %b = nn.constant dense<[2.0, 3.0, 4.0]> : tensor<3xf32>
  %s = nn.add %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %n = nn.neg %s : tensor<3xf32>
  %r = nn.abs %n : tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

// x + 0 and x * 1 disappear when the type is unchanged; a broadcast x + 0 stays.
// CHECK-LABEL: func @identities
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>, %[[V:.+]]: tensor<3xf32>)
func.func @identities(%x: tensor<2x3xf32>, %v: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %zero = nn.constant dense<0.0> : tensor<2x3xf32>
  %one = nn.constant dense<1.0> : tensor<3xf32>
  %a = nn.add %x, %zero : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = nn.mul %a, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[Z:.+]] = nn.constant dense<0.000000e+00> : tensor<2x3xf32>
  // CHECK: %[[B:.+]] = nn.add %[[V]], %[[Z]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %b = nn.add %v, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: return %[[X]], %[[B]]
  return %m, %b : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// reshape(reshape(x)) becomes one reshape; identity transposes and casts go.
// CHECK-LABEL: func @shape_identities
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
func.func @shape_identities(%x: tensor<2x3x4xf32>) -> tensor<24xf32> {
  // CHECK-NEXT: %[[R:.+]] = nn.reshape %[[X]] : (tensor<2x3x4xf32>) -> tensor<24xf32>
  // CHECK-NEXT: return %[[R]]
  %t = nn.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %c = nn.cast %t : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %r1 = nn.reshape %c : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %r2 = nn.reshape %r1 : (tensor<6x4xf32>) -> tensor<24xf32>
  return %r2 : tensor<24xf32>
}

// -----

// Constant transposes, reshapes and casts are folded into new constants.
// CHECK-LABEL: func @fold_constant_layout
func.func @fold_constant_layout() -> (tensor<3x2xf32>, tensor<6xi64>, tensor<2xf32>) {
  // CHECK-DAG: nn.constant dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
  // CHECK-DAG: nn.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  // CHECK-DAG: nn.constant dense<[-1.000000e+00, 2.500000e+00]> : tensor<2xf32>
  %m = nn.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %t = nn.transpose %m {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %i = nn.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %r = nn.reshape %i : (tensor<2x3xi64>) -> tensor<6xi64>
  %h = nn.constant dense<[-1.0, 2.5]> : tensor<2xf16>
  %c = nn.cast %h : (tensor<2xf16>) -> tensor<2xf32>
  return %t, %r, %c : tensor<3x2xf32>, tensor<6xi64>, tensor<2xf32>
}

// -----

// dense_resource weights are never expanded, and unused ops are removed.
// CHECK-LABEL: func @keep_resources
func.func @keep_resources(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // CHECK-NOT: nn.exp
  // CHECK: nn.constant dense_resource<w>
  // CHECK: nn.add
  %w = nn.constant dense_resource<w> : tensor<4xf32>
  %unused = nn.exp %w : tensor<4xf32>
  %y = nn.add %x, %w : (tensor<1x4xf32>, tensor<4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F000000400000404000008040"
    }
  }
#-}
