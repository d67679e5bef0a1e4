// RUN: strata-opt %s --split-input-file --strata-graph-fold --strata-lower-nn-to-linalg --canonicalize --strata-fuse-elementwise --cse | FileCheck %s

// The generic lowering (the CPU pipeline's strata-direct-conv would take
// these small convolutions first). A convolution and its weight
// gradient's nn.im2col read the same patches:
// both lower to the same pad and patch generic, and CSE keeps one, which
// feeds the forward matmul and the gradient's matmul alike.
// CHECK-LABEL: func @forward_and_patches
// CHECK: %[[PATCHES:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK-NOT: outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK: %[[MATRIX:.+]] = tensor.collapse_shape %[[PATCHES]]
// CHECK-NOT: outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<4x27xf32>, tensor<27x64xf32>)
// CHECK-NOT: outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK: return %{{.+}}, %[[PATCHES]]
func.func @forward_and_patches(%x: tensor<2x3x5x5xf32>, %w: tensor<4x3x3x3xf32>)
    -> (tensor<2x4x5x5xf32>, tensor<3x3x3x2x5x5xf32>) {
  %y = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32>
  %cols = nn.im2col %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>) -> tensor<3x3x3x2x5x5xf32>
  return %y, %cols : tensor<2x4x5x5xf32>, tensor<3x3x3x2x5x5xf32>
}

// -----

// A weight gradient (nn.conv_filter_grad) lowers to the input's patch
// columns times the output gradient, and shares the patches with the
// forward convolution the same way.
// CHECK-LABEL: func @forward_and_filter_grad
// CHECK: %[[PATCHES:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK-NOT: outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<4x27xf32>, tensor<27x{{[0-9]+}}xf32>)
// CHECK-NOT: outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<27x50xf32>, tensor<50x4xf32>)
// CHECK-NOT: outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// CHECK: return
func.func @forward_and_filter_grad(%x: tensor<2x3x5x5xf32>, %w: tensor<4x3x3x3xf32>, %dy: tensor<2x4x5x5xf32>)
    -> (tensor<2x4x5x5xf32>, tensor<4x3x3x3xf32>) {
  %y = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x5x5xf32>
  %dw = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x3x5x5xf32>, tensor<2x4x5x5xf32>) -> tensor<4x3x3x3xf32>
  return %y, %dw : tensor<2x4x5x5xf32>, tensor<4x3x3x3xf32>
}

// -----

// An input gradient (nn.conv_input_grad) lowers to the columns W^T dY, a
// matmul, summed back into input positions (nn.col2im's scatter).
// CHECK-LABEL: func @input_grad
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<27x4xf32>, tensor<4x50xf32>)
// CHECK: tensor.extract_slice
// CHECK: return
func.func @input_grad(%dy: tensor<2x4x5x5xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x5x5xf32> {
  %dx = nn.conv_input_grad %dy, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x4x5x5xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x5x5xf32>
  return %dx : tensor<2x3x5x5xf32>
}
