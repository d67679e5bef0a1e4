// RUN: strata-opt %s --strata-graph-fold --strata-lower-nn-to-linalg --canonicalize --strata-fuse-elementwise --cse | FileCheck %s

// A batched convolution's matmul writes [M, N*OH*OW]; the transpose to NCHW
// becomes a generic, so the relu after it fuses into it: one pass over the
// result instead of two.
// CHECK-LABEL: func @conv_relu
// CHECK: %[[MM:.+]] = linalg.matmul
// CHECK-NOT: linalg.transpose
// CHECK: %[[EXP:.+]] = tensor.expand_shape
// CHECK: %[[Y:.+]] = linalg.generic {{.*}} ins(%[[EXP]] : tensor<4x2x5x5xf32>) outs(%{{.+}} : tensor<2x4x5x5xf32>)
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @conv_relu(%x: tensor<2x3x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32> {
  %y = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32>
  %r = nn.relu %y : tensor<2x4x5x5xf32>
  return %r : tensor<2x4x5x5xf32>
}
