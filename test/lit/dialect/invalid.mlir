// RUN: strata-opt %s --split-input-file --verify-diagnostics

// Verifiers reject result types that contradict the shape rules.

func.func @broadcast_mismatch(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.add' op shapes [2, 3] and [4] are not broadcastable}}
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @wrong_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{result shape [3, 3] does not match the expected [2, 3]}}
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @mixed_element_types(%a: tensor<2xf32>, %b: tensor<2xf16>) -> tensor<2xf32> {
  // expected-error @+1 {{element types differ: 'f32' vs 'f16'}}
  %0 = nn.mul %a, %b : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{contraction dimensions differ}}
  %0 = nn.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{input has 3 channels but weight [4, 2, 3, 3] with group 1 expects 2}}
  %0 = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_output_size(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{result shape [1, 4, 8, 8] does not match the expected [1, 4, 6, 6]}}
  %0 = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{bias must be 1-D with one entry per output channel, got [3]}}
  %0 = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @pool_rank(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{pooling needs rank >= 3, got [2, 4]}}
  %0 = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1>, kernel_shape = array<i64: 2>, pads = array<i64: 0, 0>, strides = array<i64: 2>}
      : (tensor<2x4xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{cannot reshape 6 elements into 7}}
  %0 = nn.reshape %x : (tensor<2x3xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{perm is not a permutation of 0..1}}
  %0 = nn.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis -1 is out of range for rank 2 (axes are normalized to >= 0)}}
  %0 = nn.softmax %x {axis = -1 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_axes(%x: tensor<2x3xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{axes must be sorted and unique}}
  %0 = nn.reduce sum %x {axes = array<i64: 1, 0>, keepdims = true} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

func.func @clip_bounds(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{min 6.000000e+00 is greater than max 0.000000e+00}}
  %0 = nn.clip %x {min = 6.0 : f64, max = 0.0 : f64} : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) -> tensor<5x3xf32> {
  // expected-error @+1 {{differ outside axis 1}}
  %0 = nn.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

func.func @unsupported_element_type(%a: tensor<2xi16>) -> tensor<2xi16> {
  // expected-error @+1 {{must be ranked tensor of}}
  %0 = nn.relu %a : tensor<2xi16>
  return %0 : tensor<2xi16>
}

// -----

func.func @gemm_c(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<5xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{C of shape [5] does not broadcast to [2, 4]}}
  %0 = nn.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = false}
      : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<5xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @onednn_layout(%x: tensor<1x16x4x4xf32>, %w: tensor<16x16x1x1xf32>) -> tensor<1x2x4x4x8xf32> {
  // expected-error @+1 {{an nChw8c tensor must be N x C/8 x H x W x 8}}
  %0 = onednn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = [], weights_constant = true}
      : (tensor<1x16x4x4xf32>, tensor<16x16x1x1xf32>) -> tensor<1x2x4x4x8xf32>
  return %0 : tensor<1x2x4x4x8xf32>
}

// -----

func.func @onednn_unknown_block(%x: tensor<1x1x4x4x12xf32>, %w: tensor<12x12x1x1xf32>) -> tensor<1x1x4x4x12xf32> {
  // expected-error @+1 {{unknown layout 'nChw12c' (nchw, nhwc, nChw8c or nChw16c)}}
  %0 = onednn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, src_layout = "nChw12c", dst_layout = "nChw12c", post_ops = [], weights_constant = true}
      : (tensor<1x1x4x4x12xf32>, tensor<12x12x1x1xf32>) -> tensor<1x1x4x4x12xf32>
  return %0 : tensor<1x1x4x4x12xf32>
}

// -----

func.func @onednn_sum_without_post_op(%x: tensor<1x2x4x4x8xf32>, %w: tensor<16x16x1x1xf32>) -> tensor<1x2x4x4x8xf32> {
  // expected-error @+1 {{a sum operand goes with a "sum" post-op}}
  %0 = onednn.conv %x, %w sum %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["relu"], weights_constant = true}
      : (tensor<1x2x4x4x8xf32>, tensor<16x16x1x1xf32>, tensor<1x2x4x4x8xf32>) -> tensor<1x2x4x4x8xf32>
  return %0 : tensor<1x2x4x4x8xf32>
}

// -----

func.func @onednn_pool_size(%x: tensor<1x2x8x8x8xf32>) -> tensor<1x2x5x5x8xf32> {
  // expected-error @+1 {{the result's spatial size does not match the window, strides and pads}}
  %0 = onednn.pool %x {kernel_shape = array<i64: 3, 3>, layout = "nChw8c", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x8x8x8xf32>) -> tensor<1x2x5x5x8xf32>
  return %0 : tensor<1x2x5x5x8xf32>
}

// -----

func.func @onednn_inner_product(%x: tensor<1x8xf32>, %w: tensor<4x9xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects M x K input, N x K weight, M x N result}}
  %0 = onednn.inner_product %x, %w {post_ops = [], weights_constant = true}
      : (tensor<1x8xf32>, tensor<4x9xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @onednn_batch_matmul(%a: tensor<16x49x8xf32>, %b: tensor<16x9x24xf32>) -> tensor<16x49x24xf32> {
  // expected-error @+1 {{expects G x M x K lhs, G x K x N rhs, G x M x N result}}
  %0 = onednn.batch_matmul %a, %b {weights_constant = true}
      : (tensor<16x49x8xf32>, tensor<16x9x24xf32>) -> tensor<16x49x24xf32>
  return %0 : tensor<16x49x24xf32>
}

// -----

func.func @im2col_windows(%x: tensor<2x3x8x8xf32>) -> tensor<3x3x3x2x7x7xf32> {
  // expected-error @+1 {{columns [3, 3, 3, 2, 7, 7] should be [3, 3, 3, 2, 6, 6] for input [2, 3, 8, 8]}}
  %0 = nn.im2col %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>) -> tensor<3x3x3x2x7x7xf32>
  return %0 : tensor<3x3x3x2x7x7xf32>
}

// -----

func.func @im2col_attributes(%x: tensor<2x3x8x8xf32>) -> tensor<3x3x3x2x6x6xf32> {
  // expected-error @+1 {{needs one kernel size, stride and dilation, two pads per spatial dimension}}
  %0 = nn.im2col %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>) -> tensor<3x3x3x2x6x6xf32>
  return %0 : tensor<3x3x3x2x6x6xf32>
}

// -----

func.func @conv_filter_grad_channels(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x6x6xf32>) -> tensor<4x2x3x3xf32> {
  // expected-error @+1 {{input [2, 3, 8, 8], output gradient [2, 4, 6, 6] and weight [4, 2, 3, 3] do not match an ungrouped convolution}}
  %0 = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>, tensor<2x4x6x6xf32>) -> tensor<4x2x3x3xf32>
  return %0 : tensor<4x2x3x3xf32>
}

// -----

func.func @conv_filter_grad_windows(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x7x7xf32>) -> tensor<4x3x3x3xf32> {
  // expected-error @+1 {{output gradient size 7 of dimension 0 does not match a convolution of size 8 with kernel 3}}
  %0 = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x3x8x8xf32>, tensor<2x4x7x7xf32>) -> tensor<4x3x3x3xf32>
  return %0 : tensor<4x3x3x3xf32>
}

// -----

func.func @conv_input_grad_channels(%dy: tensor<2x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x2x8x8xf32> {
  // expected-error @+1 {{input [2, 2, 8, 8], output gradient [2, 4, 6, 6] and weight [4, 3, 3, 3] do not match an ungrouped convolution}}
  %0 = nn.conv_input_grad %dy, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<2x2x8x8xf32>
  return %0 : tensor<2x2x8x8xf32>
}

// -----

func.func @segment_sum_lengths(%g: tensor<6xf32>, %ids: tensor<5xi32>) -> tensor<2xf32> {
  // expected-error @+1 {{takes data and segment ids of one length and gives a static 1-D result}}
  %0 = nn.segment_sum %g, %ids : (tensor<6xf32>, tensor<5xi32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @quantize_scale_shape(%x: tensor<2x3xf32>, %s: tensor<2xf32>, %z: tensor<i8>) -> tensor<2x3xi8> {
  // expected-error @+1 {{scale and zero point must broadcast to the input [2, 3], got [2]}}
  %0 = nn.quantize %x, %s, %z : (tensor<2x3xf32>, tensor<2xf32>, tensor<i8>) -> tensor<2x3xi8>
  return %0 : tensor<2x3xi8>
}

// -----

func.func @quantize_to_float(%x: tensor<3xf32>, %s: tensor<f32>, %z: tensor<i8>) -> tensor<3xf32> {
  // expected-error @+1 {{result must be an integer tensor}}
  %0 = nn.quantize %x, %s, %z : (tensor<3xf32>, tensor<f32>, tensor<i8>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @dequantize_float_zero_point(%x: tensor<3xi8>, %s: tensor<f32>, %z: tensor<f32>) -> tensor<3xf32> {
  // expected-error @+1 {{zero point must be an integer}}
  %0 = nn.dequantize %x, %s, %z : (tensor<3xi8>, tensor<f32>, tensor<f32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @extend_unsigned_narrows(%x: tensor<3xi32>) -> tensor<3xi8> {
  // expected-error @+1 {{widens a signless integer to a wider one}}
  %0 = nn.extend_unsigned %x : (tensor<3xi32>) -> tensor<3xi8>
  return %0 : tensor<3xi8>
}

// -----

func.func @requantize_bounds(%a: tensor<3xi32>, %m: tensor<i32>) -> tensor<3xui8> {
  // expected-error @+1 {{bounds [-1, 255] must be ordered and within 'ui8'}}
  %0 = nn.requantize %a, %m, %m, %m {max = 255 : i64, min = -1 : i64} : (tensor<3xi32>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<3xui8>
  return %0 : tensor<3xui8>
}

// -----

// nn.fake_quantize: a scale along more than one axis, and zero points that
// do not match the scales, are refused.
func.func @two_axes(%x: tensor<2x3xf32>, %s: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{scale must be 1 along every axis but one channel axis}}
  %y = nn.fake_quantize %x, %s {qmax = 127 : i64, qmin = -128 : i64, zero_point = array<i64: 0, 0, 0, 0, 0, 0>} : tensor<2x3xf32>, tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @fake_quantize_zero_points(%x: tensor<2x3xf32>, %s: tensor<1x3xf32>) -> tensor<2x3xf32> {
  // expected-error@+1 {{needs one zero point per scale (3)}}
  %y = nn.fake_quantize %x, %s {qmax = 127 : i64, qmin = -128 : i64, zero_point = array<i64: 0>} : tensor<2x3xf32>, tensor<1x3xf32>
  return %y : tensor<2x3xf32>
}
