// RUN: strata-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// Contractions take operand and accumulator types separately
// (dialects/nn/ElementTypes.h): int8 operands accumulate into i32, bf16/f16
// into f32, in nn's ops and in the CPU backend's onednn kernel forms alike.

// CHECK-LABEL: func @int8_into_i32
func.func @int8_into_i32(%a: tensor<4x8xui8>, %b: tensor<8x3xi8>, %x: tensor<1x3x6x6xi8>,
                         %w: tensor<4x3x3x3xi8>, %bias: tensor<4xi32>)
    -> (tensor<4x3xi32>, tensor<1x4x4x4xi32>) {
  // CHECK: nn.matmul {{.*}} -> tensor<4x3xi32>
  %0 = nn.matmul %a, %b : (tensor<4x8xui8>, tensor<8x3xi8>) -> tensor<4x3xi32>
  // CHECK: nn.conv {{.*}} -> tensor<1x4x4x4xi32>
  %1 = nn.conv %x, %w, %bias {dilations = array<i64: 1, 1>, group = 1 : i64,
                              pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x6x6xi8>, tensor<4x3x3x3xi8>, tensor<4xi32>) -> tensor<1x4x4x4xi32>
  return %0, %1 : tensor<4x3xi32>, tensor<1x4x4x4xi32>
}

// CHECK-LABEL: func @half_into_f32
func.func @half_into_f32(%a: tensor<2x8xbf16>, %b: tensor<3x8xbf16>, %c: tensor<3xf32>,
                         %h: tensor<2x8xf16>, %g: tensor<8x3xf16>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf16>) {
  // CHECK: nn.gemm {{.*}} -> tensor<2x3xf32>
  %0 = nn.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<2x8xbf16>, tensor<3x8xbf16>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.matmul {{.*}} -> tensor<2x3xf32>
  %1 = nn.matmul %h, %g : (tensor<2x8xf16>, tensor<8x3xf16>) -> tensor<2x3xf32>
  // CHECK: nn.matmul {{.*}} -> tensor<2x3xf16>
  %2 = nn.matmul %h, %g : (tensor<2x8xf16>, tensor<8x3xf16>) -> tensor<2x3xf16>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf16>
}

// CHECK-LABEL: func @onednn_kernel_forms
func.func @onednn_kernel_forms(%x: tensor<1x2x4x4x8xui8>, %w: tensor<16x16x1x1xi8>,
                               %b: tensor<16xi32>, %p: tensor<4x64xbf16>, %q: tensor<10x64xbf16>)
    -> (tensor<1x2x4x4x8xi32>, tensor<4x10xf32>) {
  // CHECK: onednn.conv {{.*}} -> tensor<1x2x4x4x8xi32>
  %0 = onednn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64,
         pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, src_layout = "nChw8c",
         dst_layout = "nChw8c", post_ops = [], weights_constant = true}
      : (tensor<1x2x4x4x8xui8>, tensor<16x16x1x1xi8>, tensor<16xi32>) -> tensor<1x2x4x4x8xi32>
  // CHECK: onednn.inner_product {{.*}} -> tensor<4x10xf32>
  %1 = onednn.inner_product %p, %q {post_ops = [], weights_constant = true}
      : (tensor<4x64xbf16>, tensor<10x64xbf16>) -> tensor<4x10xf32>
  return %0, %1 : tensor<1x2x4x4x8xi32>, tensor<4x10xf32>
}

// -----

func.func @mixed_halves(%a: tensor<2x8xf16>, %b: tensor<8x3xbf16>) -> tensor<2x3xf32> {
  // expected-error @+1 {{cannot multiply f16 by bf16 into f32}}
  %0 = nn.matmul %a, %b : (tensor<2x8xf16>, tensor<8x3xbf16>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @narrowing(%a: tensor<2x8xf32>, %b: tensor<8x3xf32>) -> tensor<2x3xbf16> {
  // expected-error @+1 {{cannot multiply f32 by f32 into bf16}}
  %0 = nn.matmul %a, %b : (tensor<2x8xf32>, tensor<8x3xf32>) -> tensor<2x3xbf16>
  return %0 : tensor<2x3xbf16>
}

// -----

func.func @int8_bias_not_i32(%x: tensor<1x3x6x6xi8>, %w: tensor<4x3x3x3xi8>, %bias: tensor<4xi8>)
    -> tensor<1x4x4x4xi32> {
  // expected-error @+1 {{the result is 'i32' but an accumulator operand (bias, C or sum) is 'i8'}}
  %0 = nn.conv %x, %w, %bias {dilations = array<i64: 1, 1>, group = 1 : i64,
                              pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x6x6xi8>, tensor<4x3x3x3xi8>, tensor<4xi8>) -> tensor<1x4x4x4xi32>
  return %0 : tensor<1x4x4x4xi32>
}

// -----

func.func @int8_into_f32(%p: tensor<4x64xi8>, %q: tensor<10x64xi8>) -> tensor<4x10xf32> {
  // expected-error @+1 {{cannot multiply i8 by i8 into f32}}
  %0 = onednn.inner_product %p, %q {post_ops = [], weights_constant = true}
      : (tensor<4x64xi8>, tensor<10x64xi8>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

func.func @pool_changes_type(%x: tensor<1x1x4x4x8xf32>) -> tensor<1x1x2x2x8xbf16> {
  // expected-error @+1 {{pooling keeps the element type}}
  %0 = onednn.pool %x {kernel_shape = array<i64: 2, 2>, layout = "nChw8c",
                       pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x1x4x4x8xf32>) -> tensor<1x1x2x2x8xbf16>
  return %0 : tensor<1x1x2x2x8xbf16>
}
