// RUN: strata-opt %s | strata-opt | FileCheck %s
// RUN: strata-opt %s --mlir-print-op-generic | strata-opt | FileCheck %s

// Every nn op survives a print/parse round trip, in custom and generic form.

// CHECK-LABEL: func @cnn
func.func @cnn(%x: tensor<?x3x32x32xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>,
               %s: tensor<16xf32>) -> tensor<?x16x16x16xf32> {
  // CHECK: nn.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %c = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<?x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<?x16x32x32xf32>
  // CHECK: nn.batch_norm {{.*}} {epsilon = 9.99999974E-6 : f32}
  %n = nn.batch_norm %c, %s, %s, %s, %s {epsilon = 1.0e-05 : f32}
      : (tensor<?x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16x32x32xf32>
  // CHECK: nn.relu %{{.*}} : tensor<?x16x32x32xf32>
  %r = nn.relu %n : tensor<?x16x32x32xf32>
  // CHECK: nn.pool max
  %p = nn.pool max %r {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>,
                       kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<?x16x32x32xf32>) -> tensor<?x16x16x16xf32>
  // CHECK: nn.pool average
  %a = nn.pool average %p {ceil_mode = true, count_include_pad = true, dilations = array<i64: 1, 1>,
                           kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<?x16x16x16xf32>) -> tensor<?x16x16x16xf32>
  return %a : tensor<?x16x16x16xf32>
}

// CHECK-LABEL: func @mlp
func.func @mlp(%x: tensor<8x784xf32>, %w: tensor<300x784xf32>, %b: tensor<300xf32>) -> tensor<8x300xf32> {
  // CHECK: nn.gemm {{.*}} {alpha = 1.000000e+00 : f32, beta = 1.000000e+00 : f32, trans_a = false, trans_b = true}
  %g = nn.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<8x784xf32>, tensor<300x784xf32>, tensor<300xf32>) -> tensor<8x300xf32>
  // CHECK: nn.leaky_relu %{{.*}} {alpha = 0.00999999977 : f32}
  %l = nn.leaky_relu %g {alpha = 0.01 : f32} : tensor<8x300xf32>
  // CHECK: nn.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
  %c = nn.clip %l {min = 0.0 : f64, max = 6.0 : f64} : tensor<8x300xf32>
  // CHECK: nn.softmax %{{.*}} {axis = 1 : i64}
  %s = nn.softmax %c {axis = 1 : i64} : tensor<8x300xf32>
  // CHECK: nn.log_softmax
  %ls = nn.log_softmax %s {axis = 1 : i64} : tensor<8x300xf32>
  return %ls : tensor<8x300xf32>
}

// CHECK-LABEL: func @elementwise
func.func @elementwise(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: nn.add
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.sub
  %1 = nn.sub %0, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.mul
  %2 = nn.mul %1, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.div
  %3 = nn.div %2, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.pow
  %4 = nn.pow %3, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: nn.sqrt
  %5 = nn.sqrt %4 : tensor<2x3xf32>
  // CHECK: nn.exp
  %6 = nn.exp %5 : tensor<2x3xf32>
  // CHECK: nn.log
  %7 = nn.log %6 : tensor<2x3xf32>
  // CHECK: nn.neg
  %8 = nn.neg %7 : tensor<2x3xf32>
  // CHECK: nn.abs
  %9 = nn.abs %8 : tensor<2x3xf32>
  // CHECK: nn.sigmoid
  %10 = nn.sigmoid %9 : tensor<2x3xf32>
  // CHECK: nn.tanh
  %11 = nn.tanh %10 : tensor<2x3xf32>
  return %11 : tensor<2x3xf32>
}

// CHECK-LABEL: func @data_movement
func.func @data_movement(%x: tensor<2x3x4xf32>, %i: tensor<5xi64>) -> tensor<4x5x3xf16> {
  // CHECK: nn.reduce sum %{{.*}} {axes = array<i64: 0, 2>, keepdims = true}
  %r = nn.reduce sum %x {axes = array<i64: 0, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<1x3x1xf32>
  // CHECK: nn.reshape %{{.*}} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %f = nn.reshape %x : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // CHECK: nn.transpose %{{.*}} {perm = array<i64: 1, 0>}
  %t = nn.transpose %f {perm = array<i64: 1, 0>} : (tensor<6x4xf32>) -> tensor<4x6xf32>
  // CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64}
  %c = nn.concat %t, %t {axis = 1 : i64} : (tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x12xf32>
  // CHECK: nn.slice %{{.*}} {ends = array<i64: 4, 12>, starts = array<i64: 0, 0>, steps = array<i64: 1, 4>}
  %s = nn.slice %c {starts = array<i64: 0, 0>, ends = array<i64: 4, 12>, steps = array<i64: 1, 4>} : (tensor<4x12xf32>) -> tensor<4x3xf32>
  // CHECK: nn.pad edge %{{.*}} {pads = array<i64: 0, 1, 0, 1>, value = 0.000000e+00 : f64}
  %p = nn.pad edge %s {pads = array<i64: 0, 1, 0, 1>, value = 0.0 : f64} : (tensor<4x3xf32>) -> tensor<4x5xf32>
  // CHECK: nn.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<4x5xf32>, tensor<5xi64>) -> tensor<4x5xf32>
  %g = nn.gather %p, %i {axis = 1 : i64} : (tensor<4x5xf32>, tensor<5xi64>) -> tensor<4x5xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} : (tensor<4x5xf32>, tensor<2x5x3xf32>) -> tensor<2x4x3xf32>
  %w = nn.constant dense<1.0> : tensor<2x5x3xf32>
  %m = nn.matmul %g, %w : (tensor<4x5xf32>, tensor<2x5x3xf32>) -> tensor<2x4x3xf32>
  %mt = nn.transpose %m {perm = array<i64: 1, 0, 2>} : (tensor<2x4x3xf32>) -> tensor<4x2x3xf32>
  %q = nn.pad constant %mt {pads = array<i64: 0, 0, 0, 0, 3, 0>, value = 0.0 : f64} : (tensor<4x2x3xf32>) -> tensor<4x5x3xf32>
  // CHECK: nn.cast %{{.*}} : (tensor<4x5x3xf32>) -> tensor<4x5x3xf16>
  %h = nn.cast %q : (tensor<4x5x3xf32>) -> tensor<4x5x3xf16>
  return %h : tensor<4x5x3xf16>
}

// All element types of the dialect are accepted.
// CHECK-LABEL: func @element_types
func.func @element_types(%a: tensor<2xbf16>, %b: tensor<2xf16>, %c: tensor<2xi8>, %d: tensor<2xui8>,
                         %e: tensor<2xi32>, %f: tensor<2xi64>, %g: tensor<2xf64>, %h: tensor<2xi1>) -> tensor<2xf32> {
  // CHECK: nn.add %{{.*}} : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<2xbf16>
  %0 = nn.add %a, %a : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<2xbf16>
  %1 = nn.add %b, %b : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf16>
  %2 = nn.add %c, %c : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %3 = nn.add %d, %d : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %4 = nn.add %e, %e : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %5 = nn.add %f, %f : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %6 = nn.add %g, %g : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  // CHECK: nn.cast %{{.*}} : (tensor<2xi1>) -> tensor<2xf32>
  %7 = nn.cast %h : (tensor<2xi1>) -> tensor<2xf32>
  return %7 : tensor<2xf32>
}

// Blocked layouts of 8 and 16 channels (AVX2 and AVX-512 vector widths).
// CHECK-LABEL: func @onednn_blocked_layouts
func.func @onednn_blocked_layouts(%x: tensor<1x2x4x4x8xf32>, %w: tensor<32x16x1x1xf32>) -> tensor<1x2x4x4x16xf32> {
  // CHECK: onednn.conv {{.*}}dst_layout = "nChw16c"{{.*}}src_layout = "nChw8c"
  %0 = onednn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, src_layout = "nChw8c", dst_layout = "nChw16c", post_ops = [], weights_constant = true}
      : (tensor<1x2x4x4x8xf32>, tensor<32x16x1x1xf32>) -> tensor<1x2x4x4x16xf32>
  return %0 : tensor<1x2x4x4x16xf32>
}
