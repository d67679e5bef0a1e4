// RUN: strata-opt %s --split-input-file --strata-winograd-convs | FileCheck %s

// F(4x4, 3x3) on a 16x32 image (4 x 8 = 32 tiles): the padded input's 6x6
// tiles become 36 matrices of 32 tiles x 8 channels (one forall item per
// (n, channel block, tile row), one vector per tile point), oneDNN
// multiplies them by the compile-time weight transform (36 x C x K), and
// the output transform adds the bias and applies relu in registers.
// CHECK-LABEL: func @f4_bias_relu
// CHECK: %[[U:.+]] = nn.constant dense_resource<winograd_weight> : tensor<36x8x16xf32>
// CHECK: %[[PAD:.+]] = tensor.pad %arg0 low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0]
// CHECK: %[[V:.+]] = scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 1, 4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<36x32x8xf32>)
// CHECK: scf.for
// CHECK-COUNT-36: vector.transfer_read %[[PAD]]
// CHECK-COUNT-36: vector.transfer_write
// CHECK: %[[M:.+]] = onednn.batch_matmul %[[V]], %[[U]] {strata.kernel = "Winograd F(4x4, 3x3): vector transforms around a oneDNN batched matmul", strata.rule = "3x3 stride 1 pad 1, constant weights, 32 tiles", weights_constant = true} : (tensor<36x32x8xf32>, tensor<36x8x16xf32>) -> tensor<36x32x16xf32>
// CHECK: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 2, 4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<1x2x16x32x8xf32>)
// CHECK: vector.transfer_read {{.+}} : tensor<16xf32>, vector<8xf32>
// CHECK: scf.for
// CHECK-COUNT-36: vector.transfer_read %[[M]]
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-COUNT-15: arith.maximumf
// CHECK-NOT: onednn.conv
func.func @f4_bias_relu(%x: tensor<1x1x16x32x8xf32>) -> tensor<1x2x16x32x8xf32> {
  %w = nn.constant dense<0.5> : tensor<16x8x3x3xf32>
  %bc = nn.constant dense<0.25> : tensor<16xf32>
  %y = onednn.conv %x, %w, %bc {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["relu"], weights_constant = true}
      : (tensor<1x1x16x32x8xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x2x16x32x8xf32>
  return %y : tensor<1x2x16x32x8xf32>
}

// -----

// F(2x2, 3x3) where tiles of 4x4 would be too few (20; 2 x 18x6 images
// make 54 tiles of 2x2), with a residual sum read from the blocked operand in the output
// transform.
// CHECK-LABEL: func @f2_sum
// CHECK: onednn.batch_matmul {{.+}} : (tensor<16x54x8xf32>, tensor<16x8x8xf32>) -> tensor<16x54x8xf32>
// CHECK: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (2, 1, 9)
// CHECK-COUNT-16: vector.transfer_read
// CHECK: vector.transfer_read %arg1
// CHECK-NOT: onednn.conv
func.func @f2_sum(%x: tensor<2x1x18x6x8xf32>, %s: tensor<2x1x18x6x8xf32>) -> tensor<2x1x18x6x8xf32> {
  %w = nn.constant dense<0.5> : tensor<8x8x3x3xf32>
  %y = onednn.conv %x, %w sum %s {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["sum"], weights_constant = true}
      : (tensor<2x1x18x6x8xf32>, tensor<8x8x3x3xf32>, tensor<2x1x18x6x8xf32>) -> tensor<2x1x18x6x8xf32>
  return %y : tensor<2x1x18x6x8xf32>
}

// -----

// Left to oneDNN's direct convolution: weights that are not constants
// (training), too few tiles (8x8: 16 tiles of 2x2; 7x7: 16 of 2x2),
// stride 2, and the NCHW first layer.
// CHECK-LABEL: func @left_alone
// CHECK-NOT: onednn_batch_matmul
// CHECK-COUNT-5: onednn.conv
// CHECK-NOT: onednn_batch_matmul
func.func @left_alone(%x: tensor<1x1x16x16x8xf32>, %wv: tensor<8x8x3x3xf32>, %small: tensor<1x1x8x8x8xf32>,
                      %odd: tensor<1x1x7x7x8xf32>, %plain: tensor<1x8x16x16xf32>)
    -> (tensor<1x1x16x16x8xf32>, tensor<1x1x8x8x8xf32>, tensor<1x1x7x7x8xf32>, tensor<1x1x8x8x8xf32>, tensor<1x1x16x16x8xf32>) {
  %w = nn.constant dense<0.5> : tensor<8x8x3x3xf32>
  %a = onednn.conv %x, %wv {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = [], weights_constant = false}
      : (tensor<1x1x16x16x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x1x16x16x8xf32>
  %b = onednn.conv %small, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = [], weights_constant = true}
      : (tensor<1x1x8x8x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x1x8x8x8xf32>
  %c = onednn.conv %odd, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = [], weights_constant = true}
      : (tensor<1x1x7x7x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x1x7x7x8xf32>
  %d = onednn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = [], weights_constant = true}
      : (tensor<1x1x16x16x8xf32>, tensor<8x8x3x3xf32>) -> tensor<1x1x8x8x8xf32>
  %e = onednn.conv %plain, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nchw", dst_layout = "nChw8c", post_ops = [], weights_constant = true}
      : (tensor<1x8x16x16xf32>, tensor<8x8x3x3xf32>) -> tensor<1x1x16x16x8xf32>
  return %a, %b, %c, %d, %e : tensor<1x1x16x16x8xf32>, tensor<1x1x8x8x8xf32>, tensor<1x1x7x7x8xf32>, tensor<1x1x8x8x8xf32>, tensor<1x1x16x16x8xf32>
}

// -----

// A clip post-op (ReLU6) is applied in registers as max then min with the
// bounds, after the bias.
// CHECK-LABEL: func @clip
// CHECK-DAG: %[[HI:.+]] = arith.constant dense<6.000000e+00> : vector<8xf32>
// CHECK-DAG: %[[LO:.+]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK: onednn.batch_matmul
// CHECK: scf.forall
// CHECK: %[[MAX:.+]] = arith.maximumf %{{.+}}, %[[LO]] : vector<8xf32>
// CHECK-NEXT: arith.minimumf %[[MAX]], %[[HI]] : vector<8xf32>
func.func @clip(%x: tensor<1x1x16x32x8xf32>) -> tensor<1x1x16x32x8xf32> {
  %w = nn.constant dense<0.5> : tensor<8x8x3x3xf32>
  %b = nn.constant dense<0.25> : tensor<8xf32>
  %y = onednn.conv %x, %w, %b {clip_max = 6.0 : f32, clip_min = 0.0 : f32, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["clip"], weights_constant = true}
      : (tensor<1x1x16x32x8xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<1x1x16x32x8xf32>
  return %y : tensor<1x1x16x32x8xf32>
}
