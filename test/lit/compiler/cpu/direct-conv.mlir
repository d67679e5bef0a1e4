// RUN: strata-opt %s --split-input-file --strata-direct-conv --canonicalize --cse | FileCheck %s
// RUN: strata-opt %s --split-input-file --strata-direct-conv=vector-bits=512 --canonicalize --cse | FileCheck %s --check-prefix=AVX512

// On an AVX-512 target a weight gradient takes 16-lane vectors where they
// divide the rows (32), and 8-lane ones where only those do (24): no
// register is half masked.
// AVX512-LABEL: func @filter_grad(
// AVX512-NOT: vector<16xf32>
// AVX512: vector.transfer_read %arg1{{.+}} : tensor<4x6x24x24xf32>, vector<8xf32>
// AVX512-LABEL: func @filter_grad_rows_of_32
// AVX512-NOT: vector<8xf32>
// AVX512: vector.transfer_read %arg1{{.+}} {in_bounds = [true]} : tensor<2x4x32x32xf32>, vector<16xf32>
// AVX512-NOT: vector<8xf32>

// A convolution with few output channels and its relu: one work item per
// output row (n, oh); each shifted input row is read once and multiplied
// into all six channels with broadcast weights; bias and relu in registers.
// CHECK-LABEL: func @conv_relu
// CHECK-NOT: nn.
// CHECK: scf.forall (%[[N:.+]], %[[OH:.+]]) in (2, 8)
// CHECK: tensor.extract_slice %{{.+}}[%[[N]], 0, %[[OH]], 0] [1, 6, 1, 8] [1, 1, 1, 1] : tensor<2x6x8x8xf32> to tensor<6x8xf32>
// CHECK: %[[ROW:.+]] = vector.transfer_read %arg0[%[[N]], %{{.+}}, %[[OH]], %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<2x1x12x12xf32>, vector<8xf32>
// CHECK: %[[W:.+]] = tensor.extract %arg1
// CHECK: %[[SPLAT:.+]] = vector.broadcast %[[W]] : f32 to vector<8xf32>
// CHECK: vector.fma %[[ROW]], %[[SPLAT]], %{{.+}} : vector<8xf32>
// CHECK-COUNT-6: arith.maximumf
// CHECK: tensor.parallel_insert_slice
func.func @conv_relu(%x: tensor<2x1x12x12xf32>, %w: tensor<6x1x5x5xf32>, %b: tensor<6xf32>) -> tensor<2x6x8x8xf32> {
  %0 = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x1x12x12xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>) -> tensor<2x6x8x8xf32>
  %1 = nn.relu %0 : tensor<2x6x8x8xf32>
  return %1 : tensor<2x6x8x8xf32>
}

// -----

// Padding is a padded copy of the input; rows of 11 are one vector<11>
// (two registers), so all 5 channels fit one tile of accumulators; without
// a relu nothing is clamped.
// CHECK-LABEL: func @conv_padded
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: scf.forall (%{{.+}}) in (9)
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<11xf32>, vector<11xf32>, vector<11xf32>, vector<11xf32>, vector<11xf32>)
// CHECK: vector.transfer_read %{{.+}}[%{{.+}}, %[[C]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<1x3x11x13xf32>, vector<11xf32>
// CHECK-NOT: arith.maximumf
// CHECK: tensor.parallel_insert_slice
func.func @conv_padded(%x: tensor<1x3x9x11xf32>, %w: tensor<5x3x3x3xf32>) -> tensor<1x5x9x11xf32> {
  %0 = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<1x3x9x11xf32>, tensor<5x3x3x3xf32>) -> tensor<1x5x9x11xf32>
  return %0 : tensor<1x5x9x11xf32>
}

// -----

// The weight gradient: items over (channel pair, input channel, ky) keep
// 2 x 5 vector accumulators over every row of the batch, then reduce them.
// Too few items (15) for one batch part: the batch is split in four, and
// the parts are summed at the end. (Unit dimensions fold away.)
// CHECK-LABEL: func @filter_grad
// CHECK: scf.forall (%[[P:.+]], %[[T:.+]], %[[KY:.+]]) in (4, 3, 5)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: scf.for
// CHECK: vector.transfer_read %arg1{{.+}} {in_bounds = [true]} : tensor<4x6x24x24xf32>, vector<8xf32>
// CHECK: vector.fma
// CHECK-COUNT-10: vector.reduction <add>
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[P]], %{{.+}}, 0, %[[KY]], 0] [1, 2, 1, 1, 5]
// CHECK: linalg.reduce ins(%{{.+}} : tensor<4x6x1x5x5xf32>) outs(%{{.+}} : tensor<6x1x5x5xf32>) dimensions = [0]
func.func @filter_grad(%x: tensor<4x1x28x28xf32>, %dy: tensor<4x6x24x24xf32>) -> tensor<6x1x5x5xf32> {
  %0 = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<4x1x28x28xf32>, tensor<4x6x24x24xf32>) -> tensor<6x1x5x5xf32>
  return %0 : tensor<6x1x5x5xf32>
}

// -----

// Rows of 11: one full vector per row, then a masked tail read.
// CHECK-LABEL: func @filter_grad_tail
// CHECK: vector.transfer_read %arg1{{.+}} {in_bounds = [true]} : tensor<2x3x6x11xf32>, vector<8xf32>
// CHECK: vector.transfer_read %arg1[{{.+}}], %{{.+}} : tensor<2x3x6x11xf32>, vector<8xf32>
func.func @filter_grad_tail(%x: tensor<2x2x8x13xf32>, %dy: tensor<2x3x6x11xf32>) -> tensor<3x2x3x3xf32> {
  %0 = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x2x8x13xf32>, tensor<2x3x6x11xf32>) -> tensor<3x2x3x3xf32>
  return %0 : tensor<3x2x3x3xf32>
}

// -----

// The input gradient: one item per input row (n, h); per channel pair,
// 2 x 5 accumulators sum dY rows h - ky (ky limited to the rows that
// exist) times broadcast weights over (o, ky); the dX row of 12 is the sum
// of accumulator kx shifted by kx.
// CHECK-LABEL: func @input_grad
// CHECK: scf.forall (%[[N:.+]], %[[H:.+]]) in (4, 12)
// CHECK: %[[FIRST:.+]] = arith.maxsi
// CHECK: %[[END:.+]] = arith.minsi
// CHECK: scf.for %[[O:[a-z0-9]+]] = {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: scf.for %[[KY:[a-z0-9]+]] = %[[FIRST]] to %[[END]]
// CHECK: vector.transfer_read %arg0[%[[N]], %[[O]], %{{.+}}, %{{.+}}], %{{.+}} {in_bounds = [true]} : tensor<4x16x8x8xf32>, vector<8xf32>
// CHECK: tensor.extract %arg1[%[[O]], %{{.+}}, %[[KY]], %{{.+}}]
// CHECK: vector.fma
// CHECK: vector.insert_strided_slice %{{.+}}, %{{.+}} {offsets = [4], strides = [1]} : vector<8xf32> into vector<12xf32>
// CHECK: vector.transfer_write %{{.+}} {in_bounds = [true]} : vector<12xf32>, tensor<6x12xf32>
func.func @input_grad(%dy: tensor<4x16x8x8xf32>, %w: tensor<16x6x5x5xf32>) -> tensor<4x6x12x12xf32> {
  %0 = nn.conv_input_grad %dy, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<4x16x8x8xf32>, tensor<16x6x5x5xf32>) -> tensor<4x6x12x12xf32>
  return %0 : tensor<4x6x12x12xf32>
}

// -----

// With padding, the padded input's gradient is cropped.
// CHECK-LABEL: func @input_grad_padded
// CHECK: scf.forall (%{{.+}}, %{{.+}}) in (2, 9)
// CHECK: tensor.extract_slice %{{.+}}[0, 0, 1, 1] [2, 3, 7, 9] [1, 1, 1, 1] : tensor<2x3x9x11xf32> to tensor<2x3x7x9xf32>
func.func @input_grad_padded(%dy: tensor<2x4x7x9xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x7x9xf32> {
  %0 = nn.conv_input_grad %dy, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x4x7x9xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x7x9xf32>
  return %0 : tensor<2x3x7x9xf32>
}

// -----

// Left to the generic lowering: strides, many output channels.
// CHECK-LABEL: func @left_alone
// CHECK: nn.conv %arg0, %arg1 {{.+}}strides = array<i64: 2, 2>
// CHECK: nn.conv %arg0, %arg2
// CHECK: nn.conv_filter_grad %arg0, %arg3
// CHECK: nn.conv_input_grad %arg4, %arg1 {{.+}}strides = array<i64: 2, 2>
func.func @left_alone(%x: tensor<1x3x9x9xf32>, %w: tensor<4x3x3x3xf32>, %wide: tensor<32x3x3x3xf32>,
                      %dy: tensor<1x32x7x7xf32>, %dys: tensor<1x4x4x4xf32>)
    -> (tensor<1x4x4x4xf32>, tensor<1x32x7x7xf32>, tensor<32x3x3x3xf32>, tensor<1x3x9x9xf32>) {
  %0 = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  %1 = nn.conv %x, %wide {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x9x9xf32>, tensor<32x3x3x3xf32>) -> tensor<1x32x7x7xf32>
  %2 = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x3x9x9xf32>, tensor<1x32x7x7xf32>) -> tensor<32x3x3x3xf32>
  %3 = nn.conv_input_grad %dys, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x3x9x9xf32>
  return %0, %1, %2, %3 : tensor<1x4x4x4xf32>, tensor<1x32x7x7xf32>, tensor<32x3x3x3xf32>, tensor<1x3x9x9xf32>
}

// -----

// Rows of 32: 8-lane vectors on the default (AVX2) target.
// CHECK-LABEL: func @filter_grad_rows_of_32
// CHECK: vector.transfer_read %arg1{{.+}} {in_bounds = [true]} : tensor<2x4x32x32xf32>, vector<8xf32>
func.func @filter_grad_rows_of_32(%x: tensor<2x1x36x36xf32>, %dy: tensor<2x4x32x32xf32>) -> tensor<4x1x5x5xf32> {
  %0 = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<2x1x36x36xf32>, tensor<2x4x32x32xf32>) -> tensor<4x1x5x5xf32>
  return %0 : tensor<4x1x5x5xf32>
}
