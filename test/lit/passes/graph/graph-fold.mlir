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

// -----

// Weight blobs fold through reshapes (the same bytes) and transposes (one
// permuted blob at compile time instead of a copy per run); a slice of the
// whole tensor is its input.
// CHECK-LABEL: func @weight_blobs
func.func @weight_blobs() -> tensor<3x2xf32> {
  // CHECK: %[[T:.+]] = nn.constant dense_resource<transposed_weight> : tensor<3x2xf32>
  // CHECK-NEXT: return %[[T]]
  // Rows [0 1 2] [3 4 5] become [0 3] [1 4] [2 5]:
  // CHECK: transposed_weight: "0x{{[0-9A-F]+}}00000000000040400000803F00008040000000400000A040"
  %w = nn.constant dense_resource<w6> : tensor<1x2x3xf32>
  %s = nn.slice %w {ends = array<i64: 1, 2, 3>, starts = array<i64: 0, 0, 0>, steps = array<i64: 1, 1, 1>} : (tensor<1x2x3xf32>) -> tensor<1x2x3xf32>
  %r = nn.reshape %s : (tensor<1x2x3xf32>) -> tensor<2x3xf32>
  %t = nn.transpose %r {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %t : tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w6: "0x04000000000000000000803F0000004000004040000080400000A040"
    }
  }
#-}

// -----

// Shape arithmetic as exporters write it folds into constants: integer
// math with broadcasting (Div truncates as C does), Gather of dimensions,
// Concat, Slice, Equal/Where for -1 entries, Not.
// CHECK-LABEL: func @fold_shape_arithmetic
func.func @fold_shape_arithmetic() -> (tensor<4xi64>, tensor<2xi64>, tensor<2xi1>, tensor<2xi64>) {
  %shape = nn.constant dense<[1, 116, 28, 28]> : tensor<4xi64>
  %idx = nn.constant dense<1> : tensor<i64>
  %c = nn.gather %shape, %idx {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %two = nn.constant dense<2> : tensor<i64>
  %half = nn.div %c, %two : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %neg = nn.constant dense<[-7, 7]> : tensor<2xi64>
  // -7 / 2 = -3 (truncation), 7 / 2 = 3
  %q = nn.div %neg, %two : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %h1 = nn.reshape %half : (tensor<i64>) -> tensor<1xi64>
  %hw = nn.slice %shape {ends = array<i64: 4>, starts = array<i64: 2>, steps = array<i64: 1>} : (tensor<4xi64>) -> tensor<2xi64>
  %one = nn.constant dense<1> : tensor<1xi64>
  %cat = nn.concat %one, %h1, %hw {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %m1 = nn.constant dense<-1> : tensor<i64>
  %pair = nn.constant dense<[-1, 5]> : tensor<2xi64>
  %eq = nn.compare eq %pair, %m1 : (tensor<2xi64>, tensor<i64>) -> tensor<2xi1>
  %ne = nn.not %eq : tensor<2xi1>
  %ones = nn.constant dense<1> : tensor<2xi64>
  %w = nn.where %eq, %ones, %pair : (tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  // CHECK-DAG: %[[CAT:.+]] = nn.constant dense<[1, 58, 28, 28]> : tensor<4xi64>
  // CHECK-DAG: %[[Q:.+]] = nn.constant dense<[-3, 3]> : tensor<2xi64>
  // CHECK-DAG: %[[NE:.+]] = nn.constant dense<[false, true]> : tensor<2xi1>
  // CHECK-DAG: %[[W:.+]] = nn.constant dense<[1, 5]> : tensor<2xi64>
  // CHECK-NOT: nn.gather
  // CHECK-NOT: nn.div
  // CHECK-NOT: nn.where
  // CHECK: return %[[CAT]], %[[Q]], %[[NE]], %[[W]]
  return %cat, %q, %ne, %w : tensor<4xi64>, tensor<2xi64>, tensor<2xi1>, tensor<2xi64>
}

// -----

// What must not fold stays: division by zero, INT64_MAX beyond what a
// double holds exactly (Where selects it unchanged), an out-of-range Gather.
// CHECK-LABEL: func @no_unsafe_folds
// CHECK: %[[BIG:.+]] = nn.constant dense<9223372036854775807> : tensor<1xi64>
// CHECK: nn.div
// CHECK: nn.add
// CHECK: nn.gather
// CHECK: return %{{.+}}, %{{.+}}, %[[BIG]], %{{.+}} :
func.func @no_unsafe_folds() -> (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<i64>) {
  %a = nn.constant dense<[4]> : tensor<1xi64>
  %z = nn.constant dense<[0]> : tensor<1xi64>
  %d = nn.div %a, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %big = nn.constant dense<[9223372036854775807]> : tensor<1xi64>
  %s = nn.add %big, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %t = nn.constant dense<true> : tensor<1xi1>
  %w = nn.where %t, %big, %a : (tensor<1xi1>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %i = nn.constant dense<7> : tensor<i64>
  %g = nn.gather %a, %i {axis = 0 : i64} : (tensor<1xi64>, tensor<i64>) -> tensor<i64>
  return %d, %s, %w, %g : tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<i64>
}
