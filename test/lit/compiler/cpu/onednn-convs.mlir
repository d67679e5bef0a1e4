// RUN: strata-opt %s --split-input-file --strata-onednn-convs | FileCheck %s

// A ResNet block: the first layer reads NCHW and writes nChw8c; relu, max
// pooling, the residual add and the last relu stay blocked and fuse; one
// reorder back (transpose + reshape) where the NCHW result is returned.
// CHECK-LABEL: func @resnet_block
// CHECK-SAME: (%[[X:.+]]: tensor<1x3x16x16xf32>)
// CHECK: %[[C1:.+]] = onednn.conv %[[X]], %{{.+}}, %{{.+}} {{{.*}}dst_layout = "nChw8c"{{.*}}post_ops = ["relu"], src_layout = "nchw", strata.kernel = "oneDNN convolution", strata.rule = "3 input channels read as NCHW: oneDNN has a fast kernel for kernels up to 7x7, strides up to 2"{{.*}}weights_constant = true} : {{.*}} -> tensor<1x2x16x16x8xf32>
// CHECK: %[[P:.+]] = onednn.pool %[[C1]] {kernel_shape = array<i64: 3, 3>, layout = "nChw8c", pads = array<i64: 1, 1, 1, 1>, strata.kernel = "oneDNN max pooling", strata.rule = "reads a blocked convolution's output", strides = array<i64: 2, 2>} : (tensor<1x2x16x16x8xf32>) -> tensor<1x2x8x8x8xf32>
// CHECK: %[[C2:.+]] = onednn.conv %[[P]], %{{[^ ]+}} sum %[[P]] {{{.*}}post_ops = ["sum", "relu"], src_layout = "nChw8c"
// CHECK-NOT: nn.relu
// CHECK-NOT: nn.add
// CHECK: %[[T:.+]] = nn.transpose %[[C2]] {perm = array<i64: 0, 1, 4, 2, 3>} : (tensor<1x2x8x8x8xf32>) -> tensor<1x2x8x8x8xf32>
// CHECK: %[[R:.+]] = nn.reshape %[[T]] : (tensor<1x2x8x8x8xf32>) -> tensor<1x16x8x8xf32>
// CHECK: return %[[R]]
func.func @resnet_block(%x: tensor<1x3x16x16xf32>) -> tensor<1x16x8x8xf32> {
  %w1 = nn.constant dense<0.1> : tensor<16x3x3x3xf32>
  %b1 = nn.constant dense<0.2> : tensor<16xf32>
  %w2 = nn.constant dense<0.05> : tensor<16x16x3x3xf32>
  %c1 = nn.conv %x, %w1, %b1 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x16x16xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  %r1 = nn.relu %c1 : tensor<1x16x16x16xf32>
  %p = nn.pool max %r1 {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x16x16x16xf32>) -> tensor<1x16x8x8xf32>
  %c2 = nn.conv %p, %w2 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xf32>, tensor<16x16x3x3xf32>) -> tensor<1x16x8x8xf32>
  %a = nn.add %c2, %p : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %r2 = nn.relu %a : tensor<1x16x8x8xf32>
  return %r2 : tensor<1x16x8x8xf32>
}

// -----

// A 16-channel function input is reordered into nChw8c once, for both
// convolutions reading it; depthwise convolutions go to oneDNN too, and a
// two-sided clip (ReLU6) becomes a post-op. The sigmoid between them runs on
// the blocked tensor.
// CHECK-LABEL: func @depthwise_relu6
// CHECK-SAME: (%[[X:.+]]: tensor<1x16x8x8xf32>)
// CHECK: %[[S:.+]] = nn.reshape %[[X]] : (tensor<1x16x8x8xf32>) -> tensor<1x2x8x8x8xf32>
// CHECK: %[[B:.+]] = nn.transpose %[[S]] {perm = array<i64: 0, 1, 3, 4, 2>}
// CHECK: %[[D:.+]] = onednn.conv %[[B]], %{{.+}} {clip_max = 6.000000e+00 : f32, clip_min = 0.000000e+00 : f32, {{.*}}group = 16 : i64{{.*}}post_ops = ["clip"]
// CHECK: %[[G:.+]] = nn.sigmoid %[[D]] : tensor<1x2x8x8x8xf32>
// CHECK: onednn.conv %[[G]], %{{[^ ]+}} sum %[[B]] {{{.*}}post_ops = ["sum"]
// CHECK-COUNT-1: nn.transpose
// CHECK-NOT: nn.transpose
func.func @depthwise_relu6(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %wd = nn.constant dense<0.1> : tensor<16x1x3x3xf32>
  %wp = nn.constant dense<0.1> : tensor<16x16x1x1xf32>
  %d = nn.conv %x, %wd {dilations = array<i64: 1, 1>, group = 16 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x8x8xf32>
  %c = nn.clip %d {max = 6.0 : f64, min = 0.0 : f64} : tensor<1x16x8x8xf32>
  %g = nn.sigmoid %c : tensor<1x16x8x8xf32>
  %p = nn.conv %g, %wp {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x8x8xf32>
  %a = nn.add %x, %p : (tensor<1x16x8x8xf32>, tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %a : tensor<1x16x8x8xf32>
}

// -----

// Left to the generated path: output channels that do not fill a block, an
// NCHW first layer with an 11x11 stride-4 kernel (oneDNN has only reference
// code for it), 1-D convolutions and average pooling.
// CHECK-LABEL: func @stays_generated
// CHECK-NOT: onednn
// CHECK: nn.conv
// CHECK: nn.conv
// CHECK: nn.conv
// CHECK: nn.pool average
// CHECK-NOT: onednn
func.func @stays_generated(%x: tensor<1x3x64x64xf32>, %s: tensor<1x8x32xf32>) -> (tensor<1x6x64x64xf32>, tensor<1x16x14x14xf32>, tensor<1x8x30xf32>, tensor<1x6x32x32xf32>) {
  %w6 = nn.constant dense<0.1> : tensor<6x3x3x3xf32>
  %w11 = nn.constant dense<0.1> : tensor<16x3x11x11xf32>
  %w1d = nn.constant dense<0.1> : tensor<8x8x3xf32>
  %a = nn.conv %x, %w6 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x64x64xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x64x64xf32>
  %b = nn.conv %x, %w11 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 4, 4>} : (tensor<1x3x64x64xf32>, tensor<16x3x11x11xf32>) -> tensor<1x16x14x14xf32>
  %c = nn.conv %s, %w1d {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x8x32xf32>, tensor<8x8x3xf32>) -> tensor<1x8x30xf32>
  %p = nn.pool average %a {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x6x64x64xf32>) -> tensor<1x6x32x32xf32>
  return %a, %b, %c, %p : tensor<1x6x64x64xf32>, tensor<1x16x14x14xf32>, tensor<1x8x30xf32>, tensor<1x6x32x32xf32>
}

// -----

// ceil_mode max pooling: the end pads widen so that oneDNN's floor rule
// gives ceil_mode's 5x5 result: (10 + 0 + 1 - 3) / 2 + 1 = 5.
// CHECK-LABEL: func @ceil_mode_pool
// CHECK: onednn.pool %{{.+}} {kernel_shape = array<i64: 3, 3>, layout = "nChw8c", pads = array<i64: 0, 0, 1, 1>, {{.*}}strides = array<i64: 2, 2>} : (tensor<1x1x10x10x8xf32>) -> tensor<1x1x5x5x8xf32>
func.func @ceil_mode_pool(%x: tensor<1x8x10x10xf32>) -> tensor<1x8x5x5xf32> {
  %w = nn.constant dense<0.1> : tensor<8x8x1x1xf32>
  %c = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x10x10xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x10x10xf32>
  %p = nn.pool max %c {ceil_mode = true, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x10x10xf32>) -> tensor<1x8x5x5xf32>
  return %p : tensor<1x8x5x5xf32>
}

// -----

// A large fully connected layer at batch 1 (2^20 weights) becomes an inner
// product with its relu fused; a small one stays nn.gemm.
// CHECK-LABEL: func @fully_connected
// CHECK: %[[H:.+]] = onednn.inner_product %arg0, %{{.+}}, %{{.+}} {post_ops = ["relu"], strata.kernel = "oneDNN inner product", strata.rule = "1048576 weights at 1 rows: at least 2^20 weights, at most 16 rows", weights_constant = true} : (tensor<1x1024xf32>, tensor<1024x1024xf32>, tensor<1024xf32>) -> tensor<1x1024xf32>
// CHECK: nn.gemm %[[H]]
func.func @fully_connected(%x: tensor<1x1024xf32>) -> tensor<1x10xf32> {
  %w1 = nn.constant dense<0.01> : tensor<1024x1024xf32>
  %b1 = nn.constant dense<0.1> : tensor<1024xf32>
  %w2 = nn.constant dense<0.01> : tensor<10x1024xf32>
  %h = nn.gemm %x, %w1, %b1 {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<1x1024xf32>, tensor<1024x1024xf32>, tensor<1024xf32>) -> tensor<1x1024xf32>
  %r = nn.relu %h : tensor<1x1024xf32>
  %y = nn.gemm %r, %w2 {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<1x1024xf32>, tensor<10x1024xf32>) -> tensor<1x10xf32>
  return %y : tensor<1x10xf32>
}
