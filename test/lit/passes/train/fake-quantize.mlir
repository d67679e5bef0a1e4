// RUN: strata-opt %s --split-input-file --strata-fake-quantize | FileCheck %s
// RUN: strata-opt %s --split-input-file --strata-fake-quantize --strata-lower-nn-to-linalg | FileCheck %s --check-prefix=LOWER

// A QDQ pair on a weight (per channel along axis 0, int8) and one on an
// activation (per tensor, uint8) become nn.fake_quantize: the scale stays
// an operand (training learns it), the zero points and the types' ranges
// become attributes.
// CHECK-LABEL: func @qdq_pairs
func.func @qdq_pairs(%x: tensor<2x3xf32>) -> tensor<2x2xf32> {
  %w = nn.constant dense<[[0.5, -1.0, 0.25], [2.0, 0.0, -0.75]]> : tensor<2x3xf32>
  %ws = nn.constant dense<[[0.01], [0.02]]> : tensor<2x1xf32>
  %wz = nn.constant dense<0> : tensor<2x1xi8>
  %xs = nn.constant dense<0.05> : tensor<f32>
  %xz = nn.constant dense<128> : tensor<ui8>
  // CHECK: %[[WS:.+]] = nn.constant dense<{{\[\[}}0.00999{{[0-9]*}}], [2.0{{0*}}e-02]]> : tensor<2x1xf32>
  // CHECK: %[[XS:.+]] = nn.constant dense<5.0{{0*}}e-02> : tensor<f32>
  // CHECK: %[[X:.+]] = nn.fake_quantize %arg0, %[[XS]] {qmax = 255 : i64, qmin = 0 : i64, zero_point = array<i64: 128>} : tensor<2x3xf32>, tensor<f32>
  // CHECK: %[[W:.+]] = nn.fake_quantize %{{.+}}, %[[WS]] {qmax = 127 : i64, qmin = -128 : i64, zero_point = array<i64: 0, 0>} : tensor<2x3xf32>, tensor<2x1xf32>
  // CHECK: nn.gemm %[[X]], %[[W]]
  // CHECK-NOT: nn.quantize
  %xq = nn.quantize %x, %xs, %xz : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
  %xd = nn.dequantize %xq, %xs, %xz : (tensor<2x3xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x3xf32>
  %wq = nn.quantize %w, %ws, %wz : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xi8>) -> tensor<2x3xi8>
  %wd = nn.dequantize %wq, %ws, %wz : (tensor<2x3xi8>, tensor<2x1xf32>, tensor<2x1xi8>) -> tensor<2x3xf32>
  %y = nn.gemm %xd, %wd {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// LOWER-LABEL: func @qdq_pairs
// LOWER: linalg.generic
// LOWER: arith.divf
// LOWER: math.roundeven
// LOWER: arith.maxnumf
// LOWER: arith.minnumf
// LOWER: arith.subf
// LOWER: arith.mulf

// -----

// A per-axis scale given as a vector ([C], broadcast from the right) takes
// the input's rank first.
// CHECK-LABEL: func @vector_scale
// CHECK: %[[S:.+]] = nn.reshape %{{.+}} : (tensor<3xf32>) -> tensor<1x3xf32>
// CHECK: nn.fake_quantize %arg0, %[[S]] {qmax = 127 : i64, qmin = -128 : i64, zero_point = array<i64: 0, 0, 0>} : tensor<2x3xf32>, tensor<1x3xf32>
func.func @vector_scale(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = nn.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %z = nn.constant dense<0> : tensor<3xi8>
  %q = nn.quantize %x, %s, %z : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xi8>
  %d = nn.dequantize %q, %s, %z : (tensor<2x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// A pair whose scales differ is not a fake quantization: it stays.
// CHECK-LABEL: func @different_scales
func.func @different_scales(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s1 = nn.constant dense<0.1> : tensor<f32>
  %s2 = nn.constant dense<0.2> : tensor<f32>
  %z = nn.constant dense<0> : tensor<i8>
  // CHECK: nn.quantize
  // CHECK: nn.dequantize
  %q = nn.quantize %x, %s1, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xi8>
  %d = nn.dequantize %q, %s2, %z : (tensor<4xi8>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}
