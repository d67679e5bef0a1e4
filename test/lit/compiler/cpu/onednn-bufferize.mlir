// RUN: strata-opt %s --split-input-file --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s

// Each oneDNN op becomes a call of its own private declaration, which
// carries the descriptor the runtime reads and the ONNX node's name. The
// result is a fresh buffer; arguments with a strided layout (the default at
// function boundaries here) are copied into dense buffers first.
// CHECK-LABEL: func.func private @__strata_onednn_conv_0
// CHECK-SAME: (memref<1x2x4x4x8xf32>, memref<16x16x3x3xf32>, memref<16xf32>, memref<1x2x4x4x8xf32>)
// CHECK-SAME: strata.onednn_desc = array<i64: 1, 1, 16, 4, 4, 16, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 1, 1, 0, 1, 2, 0, 0>
// CHECK-SAME: strata.onednn_kernel = "conv", strata.onednn_node = "layer1.conv"
// CHECK-LABEL: func @conv
// CHECK: %[[SRC:.+]] = memref.alloc() {{.*}}: memref<1x2x4x4x8xf32>
// CHECK: memref.copy %arg0, %[[SRC]] : memref<1x2x4x4x8xf32, strided<{{.*}}>> to memref<1x2x4x4x8xf32>
// CHECK: %[[DST:.+]] = memref.alloc() {{.*}}: memref<1x2x4x4x8xf32>
// CHECK: call @__strata_onednn_conv_0(%[[SRC]], %{{.+}}, %{{.+}}, %[[DST]])
// CHECK: return %[[DST]]
func.func @conv(%x: tensor<1x2x4x4x8xf32>, %w: tensor<16x16x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x2x4x4x8xf32> {
  %y = onednn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["relu"], weights_constant = false}
      : (tensor<1x2x4x4x8xf32>, tensor<16x16x3x3xf32>, tensor<16xf32>) -> tensor<1x2x4x4x8xf32> loc("layer1.conv")
  return %y : tensor<1x2x4x4x8xf32>
}

// -----

// A "sum" post-op accumulates into the sum operand's buffer; here the
// residual is also read afterwards, so bufferization copies it first and
// the convolution writes the copy.
// CHECK-LABEL: func @sum_of_live_value
// CHECK: %[[ACC:.+]] = memref.alloc() {{.*}}: memref<1x2x4x4x8xf32>
// CHECK: memref.copy %arg0, %[[ACC]]
// CHECK: call @__strata_onednn_conv_0(%{{.+}}, %{{.+}}, %[[ACC]])
// CHECK: return %[[ACC]], %arg0
func.func @sum_of_live_value(%x: tensor<1x2x4x4x8xf32>, %w: tensor<16x16x1x1xf32>) -> (tensor<1x2x4x4x8xf32>, tensor<1x2x4x4x8xf32>) {
  %y = onednn.conv %x, %w sum %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["sum"], weights_constant = false}
      : (tensor<1x2x4x4x8xf32>, tensor<16x16x1x1xf32>, tensor<1x2x4x4x8xf32>) -> tensor<1x2x4x4x8xf32>
  return %y, %x : tensor<1x2x4x4x8xf32>, tensor<1x2x4x4x8xf32>
}

// -----

// A batched matrix product (Winograd's) is a call site too: its descriptor
// is (kind 4, G, M, K, N, constant right operand).
// CHECK-LABEL: func.func private @__strata_onednn_batch_matmul_0
// CHECK-SAME: (memref<36x32x8xf32>, memref<36x8x16xf32>, memref<36x32x16xf32>)
// CHECK-SAME: strata.onednn_desc = array<i64: 4, 36, 32, 8, 16, 1, 1, 1, 1>
// CHECK-SAME: strata.onednn_kernel = "batch_matmul"
// CHECK-LABEL: func @batch_matmul
// CHECK: %[[DST:.+]] = memref.alloc() {{.*}}: memref<36x32x16xf32>
// CHECK: call @__strata_onednn_batch_matmul_0(%{{.+}}, %{{.+}}, %[[DST]])
// CHECK: return %[[DST]]
func.func @batch_matmul(%v: tensor<36x32x8xf32>, %u: tensor<36x8x16xf32>) -> tensor<36x32x16xf32> {
  %m = onednn.batch_matmul %v, %u {weights_constant = true} : (tensor<36x32x8xf32>, tensor<36x8x16xf32>) -> tensor<36x32x16xf32>
  return %m : tensor<36x32x16xf32>
}
