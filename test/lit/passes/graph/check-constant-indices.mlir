// RUN: strata-opt %s --split-input-file --verify-diagnostics --strata-check-constant-indices | FileCheck %s

// Constant indices inside [-n, n), negative ones included, are left as they are.
// CHECK-LABEL: func @in_range
// CHECK: nn.gather
// CHECK: nn.gather_elements
func.func @in_range(%x: tensor<5x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %i = nn.constant dense<[4, -5]> : tensor<2xi64>
  %g = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %j = nn.constant dense<[[0, 2, -3], [1, 1, 2]]> : tensor<2x3xi64>
  %e = nn.gather_elements %x, %j {axis = 1 : i64} : (tensor<5x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %g, %e : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// An index past the end of its axis is the model's error, reported at compile time.
func.func @past_the_end(%x: tensor<5x3xf32>) -> tensor<2x3xf32> {
  %i = nn.constant dense<[1, 7]> : tensor<2xi64>
  // expected-error @+1 {{index 7 is out of range [-5, 5) along axis 0 (the indices are constants)}}
  %g = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}

// -----

// So is one before the start.
func.func @before_the_start(%x: tensor<5x3xf32>) -> tensor<1x3xf32> {
  %i = nn.constant dense<[-6]> : tensor<1xi64>
  // expected-error @+1 {{index -6 is out of range [-5, 5) along axis 0}}
  %g = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<1xi64>) -> tensor<1x3xf32>
  return %g : tensor<1x3xf32>
}

// -----

// GatherElements along axis 1, whose size is 3.
func.func @elements(%x: tensor<5x3xf32>) -> tensor<1x2xf32> {
  %j = nn.constant dense<[[0, 3]]> : tensor<1x2xi64>
  // expected-error @+1 {{index 3 is out of range [-3, 3) along axis 1}}
  %e = nn.gather_elements %x, %j {axis = 1 : i64} : (tensor<5x3xf32>, tensor<1x2xi64>) -> tensor<1x2xf32>
  return %e : tensor<1x2xf32>
}

// -----

// Indices computed at run time are not this pass's to judge.
// CHECK-LABEL: func @computed
// CHECK: nn.gather
func.func @computed(%x: tensor<5x3xf32>, %i: tensor<2xi64>) -> tensor<2x3xf32> {
  %g = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}
