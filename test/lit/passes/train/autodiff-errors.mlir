// RUN: not strata-opt %s --strata-autodiff 2>&1 | FileCheck %s

// An op without a gradient rule on the path is an error naming it.
// CHECK: error: 'nn.gather' op has no gradient rule, but the loss depends on it through trainable values
func.func @no_rule(%x: tensor<4xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  %y = nn.gather %x, %i {axis = 0 : i64} : (tensor<4xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
