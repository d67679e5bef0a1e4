// RUN: strata-opt %s --split-input-file --strata-onednn-int8 | FileCheck %s

// Two integer convolutions with a requantize, a max pooling and a
// dequantize-add-quantize between them: the region runs channels-last, with
// one reorder in (the input) and one out (the result); the requantize's
// per-channel factors are reshaped to [1, 1, 1, C].
// CHECK-LABEL: func @int8_block
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x8x8xui8>)
// CHECK: %[[IN:.+]] = nn.transpose %[[X]] {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x8x8x8xui8>) -> tensor<1x8x8x8xui8>
// CHECK: %[[C1:.+]] = onednn.conv %[[IN]], %{{.+}}, %{{.+}} {{{.*}}dst_layout = "nhwc"{{.*}}src_layout = "nhwc", strata.kernel = "oneDNN int8 convolution", strata.rule = "u8 x s8 -> s32, channels last"{{.*}}} : (tensor<1x8x8x8xui8>, tensor<16x8x3x3xi8>, tensor<16xi32>) -> tensor<1x8x8x16xi32>
// CHECK: %[[M:.+]] = nn.reshape %{{.+}} : (tensor<1x16x1x1xi32>) -> tensor<1x1x1x16xi32>
// CHECK: %[[Q:.+]] = nn.requantize %[[C1]], %[[M]], {{.+}} -> tensor<1x8x8x16xui8>
// CHECK: %[[P:.+]] = onednn.pool %[[Q]] {{{.*}}layout = "nhwc"{{.*}}} : (tensor<1x8x8x16xui8>) -> tensor<1x4x4x16xui8>
// CHECK: %[[D:.+]] = nn.dequantize %[[P]], {{.+}} -> tensor<1x4x4x16xf32>
// CHECK: %[[A:.+]] = nn.add %[[D]], %[[D]] : (tensor<1x4x4x16xf32>, tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
// CHECK: %[[Q2:.+]] = nn.quantize %[[A]], {{.+}} -> tensor<1x4x4x16xui8>
// CHECK: %[[C2:.+]] = onednn.conv %[[Q2]], {{.+}} -> tensor<1x4x4x4xi32>
// CHECK: %[[OUT:.+]] = nn.transpose %[[C2]] {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x4x4xi32>) -> tensor<1x4x4x4xi32>
// CHECK: return %[[OUT]]
func.func @int8_block(%x: tensor<1x8x8x8xui8>) -> tensor<1x4x4x4xi32> {
  %w = nn.constant dense<1> : tensor<16x8x3x3xi8>
  %b = nn.constant dense<3> : tensor<16xi32>
  %m = nn.constant dense<1073741824> : tensor<1x16x1x1xi32>
  %s = nn.constant dense<35> : tensor<1x16x1x1xi32>
  %z = nn.constant dense<5> : tensor<i32>
  %sf = nn.constant dense<0.1> : tensor<f32>
  %zu = nn.constant dense<5> : tensor<ui8>
  %w2 = nn.constant dense<-1> : tensor<4x16x1x1xi8>
  %c1 = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x8x8xui8>, tensor<16x8x3x3xi8>, tensor<16xi32>) -> tensor<1x16x8x8xi32>
  %q = nn.requantize %c1, %m, %s, %z {max = 255 : i64, min = 5 : i64} : (tensor<1x16x8x8xi32>, tensor<1x16x1x1xi32>, tensor<1x16x1x1xi32>, tensor<i32>) -> tensor<1x16x8x8xui8>
  %p = nn.pool max %q {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x16x8x8xui8>) -> tensor<1x16x4x4xui8>
  %d = nn.dequantize %p, %sf, %zu : (tensor<1x16x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x16x4x4xf32>
  %a = nn.add %d, %d : (tensor<1x16x4x4xf32>, tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %q2 = nn.quantize %a, %sf, %zu : (tensor<1x16x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x16x4x4xui8>
  %c2 = nn.conv %q2, %w2 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x4x4xui8>, tensor<4x16x1x1xi8>) -> tensor<1x4x4x4xi32>
  return %c2 : tensor<1x4x4x4xi32>
}

// -----

// A matmul by constant int8 weights [K, N] becomes oneDNN's inner product
// with the weights stored [N, K]; a float matmul stays.
// CHECK-LABEL: func @int8_matmul
// CHECK: %[[W:.+]] = nn.constant dense<{{\[\[}}1, 3], [2, 4]]> : tensor<2x2xi8>
// CHECK: onednn.inner_product %arg0, %[[W]] {{{.*}}strata.kernel = "oneDNN int8 inner product"{{.*}}} : (tensor<3x2xi8>, tensor<2x2xi8>) -> tensor<3x2xi32>
// CHECK: nn.matmul %arg1, %{{.+}} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
func.func @int8_matmul(%a: tensor<3x2xi8>, %f: tensor<3x2xf32>) -> (tensor<3x2xi32>, tensor<3x2xf32>) {
  %w = nn.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %wf = nn.constant dense<1.0> : tensor<2x2xf32>
  %y = nn.matmul %a, %w : (tensor<3x2xi8>, tensor<2x2xi8>) -> tensor<3x2xi32>
  %z = nn.matmul %f, %wf : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y, %z : tensor<3x2xi32>, tensor<3x2xf32>
}
