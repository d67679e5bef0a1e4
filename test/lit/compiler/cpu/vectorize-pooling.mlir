// RUN: strata-opt %s --split-input-file --strata-vectorize-pooling | FileCheck %s

// 2x2 stride-2 max pooling over 8x8: one work item per output row, whose
// two input rows are read as vectors, combined, and split into even and odd
// lanes.
// CHECK-LABEL: func @pool
// CHECK: scf.forall (%[[N:.+]], %[[C:.+]], %[[OH:.+]]) in (2, 3, 4) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x3x4x4xf32>)
// CHECK: %[[R0:.+]] = vector.transfer_read %arg0[%[[N]], %[[C]], %{{.+}}, %{{.+}}]{{.*}} : tensor<2x3x8x8xf32>, vector<8xf32>
// CHECK: %[[R1:.+]] = vector.transfer_read %arg0[%[[N]], %[[C]], %{{.+}}, %{{.+}}]{{.*}} : tensor<2x3x8x8xf32>, vector<8xf32>
// CHECK: %[[M:.+]] = arith.maximumf %[[R0]], %[[R1]] : vector<8xf32>
// CHECK: %[[EVEN:.+]] = vector.shuffle %[[M]], %[[M]] [0, 2, 4, 6]
// CHECK: %[[ODD:.+]] = vector.shuffle %[[M]], %[[M]] [1, 3, 5, 7]
// CHECK: %[[Y:.+]] = arith.maximumf %[[EVEN]], %[[ODD]] : vector<4xf32>
// CHECK: %[[S:.+]] = tensor.extract_slice %[[OUT]][%[[N]], %[[C]], %[[OH]], 0] [1, 1, 1, 4]
// CHECK: %[[W:.+]] = vector.transfer_write %[[Y]], %[[S]]
// CHECK: tensor.parallel_insert_slice %[[W]] into %[[OUT]][%[[N]], %[[C]], %[[OH]], 0] [1, 1, 1, 4]
func.func @pool(%x: tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32> {
  %p = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  return %p : tensor<2x3x4x4xf32>
}

// -----

// The gradient: each window's first maximum in window order (ordered `>`,
// so ties go to the earlier position, as PyTorch does), then per input row
// the gradient routed to the even and the odd lanes, interleaved back.
// CHECK-LABEL: func @pool_grad
// CHECK: scf.forall ({{.+}}) in (2, 3, 4) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x3x8x8xf32>)
// CHECK-COUNT-3: arith.cmpf ogt
// CHECK-NOT: arith.cmpf
// CHECK: %[[G:.+]] = vector.transfer_read %arg1{{.*}} : tensor<2x3x4x4xf32>, vector<4xf32>
// CHECK: %[[S:.+]] = tensor.extract_slice %[[OUT]]{{.*}} [1, 1, 2, 8] [1, 1, 1, 1] : tensor<2x3x8x8xf32> to tensor<2x8xf32>
// CHECK: %[[A:.+]] = arith.select %{{.+}}, %[[G]], %{{.+}} : vector<4xi1>, vector<4xf32>
// CHECK: %[[B:.+]] = arith.select %{{.+}}, %[[G]], %{{.+}} : vector<4xi1>, vector<4xf32>
// CHECK: %[[ROW0:.+]] = vector.shuffle %[[A]], %[[B]] [0, 4, 1, 5, 2, 6, 3, 7]
// CHECK: %[[W0:.+]] = vector.transfer_write %[[ROW0]], %[[S]][%{{.+}}, %{{.+}}]
// CHECK: %[[ROW1:.+]] = vector.shuffle
// CHECK: %[[W1:.+]] = vector.transfer_write %[[ROW1]], %[[W0]]
// CHECK: tensor.parallel_insert_slice %[[W1]] into %[[OUT]]
func.func @pool_grad(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x3x4x4xf32>) -> tensor<2x3x8x8xf32> {
  %g = nn.pool_grad max %x, %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>) -> tensor<2x3x8x8xf32>
  return %g : tensor<2x3x8x8xf32>
}

// -----

// Left to the generic lowering: overlapping windows (3x3 stride 2), a
// 9x9 input that 2x2 windows do not cover exactly (floor mode drops a row
// and a column), padding, and average pooling.
// CHECK-LABEL: func @stays_generic
// CHECK-NOT: scf.forall
// CHECK-COUNT-4: nn.pool
// CHECK-NOT: scf.forall
func.func @stays_generic(%x: tensor<1x2x9x9xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x5x5xf32>, tensor<1x2x4x4xf32>) {
  %a = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x9x9xf32>) -> tensor<1x2x4x4xf32>
  %b = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x9x9xf32>) -> tensor<1x2x4x4xf32>
  %c = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x9x9xf32>) -> tensor<1x2x5x5xf32>
  %d = nn.pool average %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x9x9xf32>) -> tensor<1x2x4x4xf32>
  return %a, %b, %c, %d : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x5x5xf32>, tensor<1x2x4x4xf32>
}

// -----

// Blocked (nChw8c) 3x3 stride-2 pad-1 max pooling, ResNet's: one work item
// per output row (n, channel block, oh); the three input rows and each
// column are clamped into the input (a padded position's nearest input
// position is in the same window), and each output is the max of nine
// 8-channel vectors. No oneDNN pooling is left.
// CHECK-LABEL: func @blocked
// CHECK: scf.forall (%[[N:.+]], %[[CB:.+]], %[[OH:.+]]) in (1, 2, 4) shared_outs({{.+}}) -> (tensor<1x2x4x4x8xf32>)
// CHECK-COUNT-3: arith.minsi
// CHECK: scf.for %[[OW:.+]] =
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: vector.transfer_read %arg0[%[[N]], %[[CB]], %{{.+}}, %{{.+}}, %{{.+}}]{{.*}} : tensor<1x2x8x8x8xf32>, vector<8xf32>
// CHECK-COUNT-8: arith.maximumf
// CHECK: vector.transfer_write {{.+}} : vector<8xf32>, tensor<4x8xf32>
// CHECK-NOT: onednn.pool
func.func @blocked(%x: tensor<1x2x8x8x8xf32>) -> tensor<1x2x4x4x8xf32> {
  %y = onednn.pool %x {kernel_shape = array<i64: 3, 3>, layout = "nChw8c", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x2x8x8x8xf32>) -> tensor<1x2x4x4x8xf32>
  return %y : tensor<1x2x4x4x8xf32>
}

// -----

// NCHW oneDNN pooling (outside a blocked region) stays a oneDNN call.
// CHECK-LABEL: func @nchw
// CHECK: onednn.pool
func.func @nchw(%x: tensor<1x16x8x8xf32>) -> tensor<1x16x4x4xf32> {
  %y = onednn.pool %x {kernel_shape = array<i64: 3, 3>, layout = "nchw", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x16x8x8xf32>) -> tensor<1x16x4x4xf32>
  return %y : tensor<1x16x4x4xf32>
}
