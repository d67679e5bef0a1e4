// RUN: strata-opt %s --split-input-file --strata-quantized-ops | FileCheck %s

// A QDQ convolution with a uint8 input (zero point 2), per-channel int8
// weights and an int32 bias: the input is padded with its zero point, the
// convolution runs on the integers into i32 with the bias
// round(b / (sx * sw)) - zx * sum(w), and the factor sx * sw / sy is a
// fixed-point multiplier and shift per channel. Here sx = 0.5, sw = [0.25,
// 0.5], sy = 1: factors 0.125 = 2^30 * 2^-33 and 0.25 = 2^30 * 2^-32; the
// weights sum to 9 and 18, the biases are 4 and -4 in accumulator units:
// 4 - 2 * 9 = -14, -4 - 2 * 18 = -40. The Relu narrows the bounds to
// [zy, 255] = [3, 255].
// CHECK-LABEL: func @conv_relu
func.func @conv_relu(%x: tensor<1x1x4x4xui8>) -> tensor<1x2x4x4xui8> {
  %sx = nn.constant dense<0.5> : tensor<f32>
  %zx = nn.constant dense<2> : tensor<ui8>
  %w = nn.constant dense<[[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]], [[[2, 2, 2], [2, 2, 2], [2, 2, 2]]]]> : tensor<2x1x3x3xi8>
  %sw = nn.constant dense<[[[[0.25]]], [[[0.5]]]]> : tensor<2x1x1x1xf32>
  %zw = nn.constant dense<0> : tensor<2x1x1x1xi8>
  %b = nn.constant dense<[4, -4]> : tensor<2xi32>
  %sb = nn.constant dense<[0.125, 0.25]> : tensor<2xf32>
  %zb = nn.constant dense<0> : tensor<2xi32>
  %sy = nn.constant dense<1.0> : tensor<f32>
  %zy = nn.constant dense<3> : tensor<ui8>
  // CHECK-DAG: %[[BIAS:.+]] = nn.constant dense<[-14, -40]> : tensor<2xi32>
  // CHECK-DAG: %[[M:.+]] = nn.constant dense<1073741824> : tensor<1x2x1x1xi32>
  // CHECK-DAG: %[[S:.+]] = nn.constant dense<{{\[\[\[\[}}33]], {{\[\[}}32]]]]> : tensor<1x2x1x1xi32>
  // CHECK-DAG: %[[ZY:.+]] = nn.constant dense<3> : tensor<i32>
  // CHECK: %[[P:.+]] = nn.pad  constant %arg0 {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 2.000000e+00 : f64} : (tensor<1x1x4x4xui8>) -> tensor<1x1x6x6xui8>
  // CHECK: %[[ACC:.+]] = nn.conv %[[P]], %{{.+}}, %[[BIAS]] {{{.*}}pads = array<i64: 0, 0, 0, 0>{{.*}}} : (tensor<1x1x6x6xui8>, tensor<2x1x3x3xi8>, tensor<2xi32>) -> tensor<1x2x4x4xi32>
  // CHECK: %[[Q:.+]] = nn.requantize %[[ACC]], %[[M]], %[[S]], %[[ZY]] {max = 255 : i64, min = 3 : i64}
  // CHECK-NOT: nn.dequantize
  // CHECK: return %[[Q]]
  %xd = nn.dequantize %x, %sx, %zx : (tensor<1x1x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x1x4x4xf32>
  %wd = nn.dequantize %w, %sw, %zw : (tensor<2x1x3x3xi8>, tensor<2x1x1x1xf32>, tensor<2x1x1x1xi8>) -> tensor<2x1x3x3xf32>
  %bd = nn.dequantize %b, %sb, %zb : (tensor<2xi32>, tensor<2xf32>, tensor<2xi32>) -> tensor<2xf32>
  %y = nn.conv %xd, %wd, %bd {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %r = nn.relu %y : tensor<1x2x4x4xf32>
  %q = nn.quantize %r, %sy, %zy : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
  return %q : tensor<1x2x4x4xui8>
}

// -----

// Gemm with transB and a float bias: the weight is transposed to [K, N]
// (folded: it is a constant),
// the bias is quantized (0.3 / (0.1 * 0.5) = 6), and one factor for all
// channels (0.1 * 0.5 / 0.2 = 0.25) is a scalar; the int8 Clip(-1, 1) with
// sy = 0.2 narrows the bounds to [-5, 5].
// CHECK-LABEL: func @gemm_clip
func.func @gemm_clip(%x: tensor<2x3xi8>) -> tensor<2x4xi8> {
  %sx = nn.constant dense<0.1> : tensor<f32>
  %z8 = nn.constant dense<0> : tensor<i8>
  %w = nn.constant dense<1> : tensor<4x3xi8>
  %sw = nn.constant dense<0.5> : tensor<f32>
  %b = nn.constant dense<0.3> : tensor<4xf32>
  %sy = nn.constant dense<0.2> : tensor<f32>
  // CHECK-DAG: %[[B:.+]] = nn.constant dense<6> : tensor<4xi32>
  // CHECK-DAG: %[[M:.+]] = nn.constant dense<1073741824> : tensor<i32>
  // CHECK-DAG: %[[S:.+]] = nn.constant dense<32> : tensor<i32>
  // CHECK-DAG: %[[WT:.+]] = nn.constant dense<1> : tensor<3x4xi8>
  // CHECK: %[[MM:.+]] = nn.matmul %arg0, %[[WT]] : (tensor<2x3xi8>, tensor<3x4xi8>) -> tensor<2x4xi32>
  // CHECK: %[[ACC:.+]] = nn.add %[[MM]], %[[B]]
  // CHECK: nn.requantize %[[ACC]], %[[M]], %[[S]], %{{.+}} {max = 5 : i64, min = -5 : i64} : {{.+}} -> tensor<2x4xi8>
  %xd = nn.dequantize %x, %sx, %z8 : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  %wd = nn.dequantize %w, %sw, %z8 : (tensor<4x3xi8>, tensor<f32>, tensor<i8>) -> tensor<4x3xf32>
  %y = nn.gemm %xd, %wd, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %c = nn.clip %y {max = 1.0 : f64, min = -1.0 : f64} : tensor<2x4xf32>
  %q = nn.quantize %c, %sy, %z8 : (tensor<2x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x4xi8>
  return %q : tensor<2x4xi8>
}

// -----

// Max pooling and reshapes between equal quantizations run on the integers.
// CHECK-LABEL: func @pool_reshape
func.func @pool_reshape(%x: tensor<1x2x4x4xui8>) -> tensor<1x8xui8> {
  %s = nn.constant dense<0.1> : tensor<f32>
  %z = nn.constant dense<7> : tensor<ui8>
  // CHECK: %[[P:.+]] = nn.pool  max %arg0 {{.+}} : (tensor<1x2x4x4xui8>) -> tensor<1x2x2x2xui8>
  // CHECK: %[[R:.+]] = nn.reshape %[[P]] : (tensor<1x2x2x2xui8>) -> tensor<1x8xui8>
  // CHECK: return %[[R]]
  %d = nn.dequantize %x, %s, %z : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %p = nn.pool max %d {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  %q = nn.quantize %p, %s, %z : (tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x2x2xui8>
  %d2 = nn.dequantize %q, %s, %z : (tensor<1x2x2x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x2x2xf32>
  %r = nn.reshape %d2 : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %q2 = nn.quantize %r, %s, %z : (tensor<1x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x8xui8>
  return %q2 : tensor<1x8xui8>
}

// -----

// Asymmetric weights (a nonzero weight zero point) stay in float.
// CHECK-LABEL: func @asymmetric_weights
func.func @asymmetric_weights(%x: tensor<2x3xi8>) -> tensor<2x4xi8> {
  %s = nn.constant dense<0.1> : tensor<f32>
  %z = nn.constant dense<0> : tensor<i8>
  %zw = nn.constant dense<1> : tensor<i8>
  %w = nn.constant dense<1> : tensor<3x4xi8>
  // CHECK: nn.matmul {{.+}} -> tensor<2x4xf32>
  // CHECK: nn.quantize
  %xd = nn.dequantize %x, %s, %z : (tensor<2x3xi8>, tensor<f32>, tensor<i8>) -> tensor<2x3xf32>
  %wd = nn.dequantize %w, %s, %zw : (tensor<3x4xi8>, tensor<f32>, tensor<i8>) -> tensor<3x4xf32>
  %y = nn.matmul %xd, %wd : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %q = nn.quantize %y, %s, %z : (tensor<2x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x4xi8>
  return %q : tensor<2x4xi8>
}

// -----

// A residual add between quantizations: both inputs centred and scaled by
// their ratio to the output scale in s bits (0.5 / 0.25 = 2 and
// 0.25 / 0.25 = 1, so s = 21: 2^22 and 2^21), summed in i32, and divided by
// 2^21 with one rounding (multiplier 2^30, shift 51); Relu narrows to
// [zy, 255].
// CHECK-LABEL: func @residual_add
func.func @residual_add(%a: tensor<1x4xui8>, %b: tensor<1x4xui8>) -> tensor<1x4xui8> {
  %sa = nn.constant dense<0.5> : tensor<f32>
  %sb = nn.constant dense<0.25> : tensor<f32>
  %z = nn.constant dense<10> : tensor<ui8>
  %z0 = nn.constant dense<0> : tensor<ui8>
  // CHECK-DAG: %[[KA:.+]] = nn.constant dense<4194304> : tensor<i32>
  // CHECK-DAG: %[[KB:.+]] = nn.constant dense<2097152> : tensor<i32>
  // CHECK-DAG: %[[SHIFT:.+]] = nn.constant dense<51> : tensor<i32>
  // CHECK: %[[A:.+]] = nn.cast %arg0 : (tensor<1x4xui8>) -> tensor<1x4xi32>
  // CHECK: %[[AC:.+]] = nn.sub %[[A]], %{{.+}} : (tensor<1x4xi32>, tensor<i32>) -> tensor<1x4xi32>
  // CHECK: %[[AS:.+]] = nn.mul %[[AC]], %[[KA]]
  // CHECK: %[[B:.+]] = nn.cast %arg1 : (tensor<1x4xui8>) -> tensor<1x4xi32>
  // CHECK: %[[BS:.+]] = nn.mul %[[B]], %[[KB]]
  // CHECK: %[[S:.+]] = nn.add %[[AS]], %[[BS]]
  // CHECK: nn.requantize %[[S]], %{{.+}}, %[[SHIFT]], %{{.+}} {max = 255 : i64, min = 10 : i64}
  %da = nn.dequantize %a, %sa, %z : (tensor<1x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4xf32>
  %db = nn.dequantize %b, %sb, %z0 : (tensor<1x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x4xf32>
  %s = nn.add %da, %db : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %r = nn.relu %s : tensor<1x4xf32>
  %q = nn.quantize %r, %sb, %z : (tensor<1x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x4xui8>
  return %q : tensor<1x4xui8>
}

// -----

// Global average pooling: the i32 sum of x - zx over the 4 x 4 window,
// requantized by sx / (16 * sy) = 0.5 / (16 * 0.25) = 0.125 = 2^30 * 2^-33.
// CHECK-LABEL: func @global_average
func.func @global_average(%x: tensor<1x2x4x4xui8>) -> tensor<1x2x1x1xui8> {
  %sx = nn.constant dense<0.5> : tensor<f32>
  %sy = nn.constant dense<0.25> : tensor<f32>
  %z = nn.constant dense<3> : tensor<ui8>
  // CHECK-DAG: %[[M:.+]] = nn.constant dense<1073741824> : tensor<i32>
  // CHECK-DAG: %[[S:.+]] = nn.constant dense<33> : tensor<i32>
  // CHECK: %[[C:.+]] = nn.sub
  // CHECK: %[[SUM:.+]] = nn.reduce  sum %[[C]] {axes = array<i64: 2, 3>, keepdims = true} : (tensor<1x2x4x4xi32>) -> tensor<1x2x1x1xi32>
  // CHECK: nn.requantize %[[SUM]], %[[M]], %[[S]], %{{.+}} {max = 255 : i64, min = 0 : i64}
  %d = nn.dequantize %x, %sx, %z : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %m = nn.reduce mean %d {axes = array<i64: 2, 3>, keepdims = true} : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
  %q = nn.quantize %m, %sy, %z : (tensor<1x2x1x1xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x1x1xui8>
  return %q : tensor<1x2x1x1xui8>
}

// -----

// A 3x3 average pool with padding, padded positions not counted: the i32
// window sums of x - 10 (a depthwise convolution with ones, group = 2) and
// a multiplier and shift per output position, 0.1 / (count * 0.05) for 4
// positions in a corner window (2^30 / 2^31), 6 on an edge, 9 inside.
// CHECK-LABEL: func @average_pool
// CHECK-DAG: %[[M:.+]] = nn.constant dense<{{\[\[\[\[}}1073741824, 1431655765, 1431655765, 1073741824], [1431655765, 1908874354, 1908874354, 1431655765]{{.*}} : tensor<1x1x4x4xi32>
// CHECK-DAG: %[[S:.+]] = nn.constant dense<{{\[\[\[\[}}31, 32, 32, 31], [32, 33, 33, 32]{{.*}} : tensor<1x1x4x4xi32>
// CHECK-DAG: %[[ONES:.+]] = nn.constant dense_resource<quantized> : tensor<2x1x3x3xi32>
// CHECK: %[[X:.+]] = nn.sub
// CHECK: %[[SUM:.+]] = nn.conv %[[X]], %[[ONES]] {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
// CHECK: nn.requantize %[[SUM]], %[[M]], %[[S]], %{{.+}} {max = 255 : i64, min = 0 : i64}
// CHECK-NOT: nn.pool
func.func @average_pool(%x: tensor<1x2x4x4xui8>) -> tensor<1x2x4x4xui8> {
  %s = nn.constant dense<0.1> : tensor<f32>
  %z = nn.constant dense<10> : tensor<ui8>
  %s2 = nn.constant dense<0.05> : tensor<f32>
  %z2 = nn.constant dense<3> : tensor<ui8>
  %d = nn.dequantize %x, %s, %z : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %p = nn.pool average %d {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %q = nn.quantize %p, %s2, %z2 : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
  return %q : tensor<1x2x4x4xui8>
}

// -----

// Counting the padding (and a window without it) gives one factor for every
// position: 0.1 / (4 * 0.05) = 2^30 / 2^31. ceil_mode stays float.
// CHECK-LABEL: func @average_pool_uniform
// CHECK: nn.requantize %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {max = 255 : i64, min = 0 : i64} : (tensor<1x2x2x2xi32>, tensor<i32>, tensor<i32>, tensor<i32>) -> tensor<1x2x2x2xui8>
// CHECK-LABEL: func @average_pool_ceil
// CHECK: nn.pool average
func.func @average_pool_uniform(%x: tensor<1x2x4x4xui8>) -> tensor<1x2x2x2xui8> {
  %s = nn.constant dense<0.1> : tensor<f32>
  %z = nn.constant dense<10> : tensor<ui8>
  %s2 = nn.constant dense<0.05> : tensor<f32>
  %z2 = nn.constant dense<3> : tensor<ui8>
  %d = nn.dequantize %x, %s, %z : (tensor<1x2x4x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xf32>
  %p = nn.pool average %d {ceil_mode = false, count_include_pad = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
  %q = nn.quantize %p, %s2, %z2 : (tensor<1x2x2x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x2x2xui8>
  return %q : tensor<1x2x2x2xui8>
}
func.func @average_pool_ceil(%x: tensor<1x2x5x5xui8>) -> tensor<1x2x3x3xui8> {
  %s = nn.constant dense<0.1> : tensor<f32>
  %z = nn.constant dense<10> : tensor<ui8>
  %s2 = nn.constant dense<0.05> : tensor<f32>
  %z2 = nn.constant dense<3> : tensor<ui8>
  %d = nn.dequantize %x, %s, %z : (tensor<1x2x5x5xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x5x5xf32>
  %p = nn.pool average %d {ceil_mode = true, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  %q = nn.quantize %p, %s2, %z2 : (tensor<1x2x3x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x3x3xui8>
  return %q : tensor<1x2x3x3xui8>
}
