// RUN: not strata-opt %s --strata-autodiff 2>&1 | FileCheck %s

// An op without a gradient rule on the path is an error naming it.
// CHECK: error: 'nn.tile' op has no gradient rule, but the loss depends on it through trainable values
func.func @no_rule(%x: tensor<4xf32>) -> tensor<8xf32> {
  %y = nn.tile %x {repeats = array<i64: 2>} : (tensor<4xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}
