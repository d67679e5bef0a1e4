// RUN: strata-opt %s --split-input-file --strata-lower-nn-to-linalg | FileCheck %s

// Broadcasting elementwise ops become one linalg.generic whose map reads the
// smaller operand at the aligned dimensions.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @add_broadcast
func.func @add_broadcast(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
  // CHECK: arith.addf
  %0 = nn.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A size-1 dimension broadcasts by reading index 0.
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @relu_mul
func.func @relu_mul(%a: tensor<4x8xf32>, %b: tensor<4x1xf32>) -> tensor<4x8xf32> {
  // CHECK: arith.maximumf
  %r = nn.relu %a : tensor<4x8xf32>
  // CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[COL]], #{{.+}}]
  // CHECK: arith.mulf
  %m = nn.mul %r, %b : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %m : tensor<4x8xf32>
}

// -----

// 2-D matmul uses linalg.matmul on a zero-filled accumulator.
// CHECK-LABEL: func @matmul
func.func @matmul(%a: tensor<4x5xf32>, %b: tensor<5x6xf32>) -> tensor<4x6xf32> {
  // CHECK: %[[Z:.+]] = linalg.fill
  // CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x5xf32>, tensor<5x6xf32>) outs(%[[Z]] : tensor<4x6xf32>)
  %0 = nn.matmul %a, %b : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// A Linear layer on a sequence ([B, T, K] x [K, N]): the leading dimensions
// are rows of one 2-D linalg.matmul (which the tiler takes), not a loop nest.
// CHECK-LABEL: func @matmul_rows
func.func @matmul_rows(%a: tensor<2x7x5xf32>, %b: tensor<5x6xf32>) -> tensor<2x7x6xf32> {
  // CHECK: %[[A:.+]] = tensor.expand_shape %{{.+}} output_shape [14, 5] : tensor<70xf32> into tensor<14x5xf32>
  // CHECK: %[[MM:.+]] = linalg.matmul ins(%[[A]], %arg1 : tensor<14x5xf32>, tensor<5x6xf32>)
  // CHECK: tensor.collapse_shape %[[MM]]
  // CHECK: tensor.expand_shape %{{.+}} output_shape [2, 7, 6]
  // CHECK-NOT: linalg.generic
  %0 = nn.matmul %a, %b : (tensor<2x7x5xf32>, tensor<5x6xf32>) -> tensor<2x7x6xf32>
  return %0 : tensor<2x7x6xf32>
}

// -----

// Gemm with trans_b and a B that is not a constant (training passes weights
// as values): B is transposed by a copy so the product is a linalg.matmul
// the tiler vectorizes; C is added in an elementwise epilogue.
// CHECK-LABEL: func @gemm
func.func @gemm(%a: tensor<2x8xf32>, %b: tensor<3x8xf32>, %c: tensor<3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[BT:.+]] = linalg.transpose ins(%arg1 : tensor<3x8xf32>) outs(%{{.+}} : tensor<8x3xf32>) permutation = [1, 0]
  // CHECK: %[[MM:.+]] = linalg.matmul ins(%arg0, %[[BT]] : tensor<2x8xf32>, tensor<8x3xf32>)
  // CHECK: linalg.generic {{.*}} ins(%[[MM]], %arg2 : tensor<2x3xf32>, tensor<3xf32>)
  // CHECK: arith.addf
  %0 = nn.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<2x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Convolution: padded input, group-split operands, strided window in the map,
// and the result collapsed back to N x M x H x W.
// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 * 2 + d7)>
// CHECK-LABEL: func @conv
func.func @conv(%x: tensor<1x4x8x8xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32> {
  // CHECK: tensor.pad
  // CHECK: tensor.expand_shape {{.*}} into tensor<1x2x2x10x10xf32>
  // CHECK: tensor.expand_shape {{.*}} into tensor<2x3x2x3x3xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[X]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
  // CHECK: tensor.collapse_shape {{.*}} into tensor<1x6x4x4xf32>
  %0 = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
  return %0 : tensor<1x6x4x4xf32>
}

// -----

// Small strided windows: one operand per window offset (maps with constant
// offsets), all loops parallel, the maximum over the operands.
// CHECK-DAG: #[[K00:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2, d3 * 2)>
// CHECK-DAG: #[[K11:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2 + 1, d3 * 2 + 1)>
// CHECK-LABEL: func @maxpool
func.func @maxpool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[K00]], #{{.+}}, #{{.+}}, #[[K11]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %arg0, %arg0, %arg0
  // CHECK-COUNT-3: arith.maximumf
  %0 = nn.pool max %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// Softmax: max-reduce, exp(x - max), sum-reduce, divide.
// CHECK-LABEL: func @softmax
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  // CHECK: arith.maximumf
  // CHECK: math.exp
  // CHECK: arith.addf
  // CHECK: arith.divf
  %0 = nn.softmax %x {axis = 1 : i64} : tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Negative slice steps: an ascending strided extract_slice, then a reversal.
// CHECK-DAG: #[[REV:.+]] = affine_map<(d0, d1) -> (-d0 + 3, d1)>
// CHECK-LABEL: func @slice_reverse
func.func @slice_reverse(%x: tensor<4x10xf32>) -> tensor<4x3xf32> {
  // CHECK: tensor.extract_slice %{{.*}}[0, 1] [4, 3] [1, 3]
  // CHECK: linalg.generic {indexing_maps = [#[[REV]]
  %0 = nn.slice %x {ends = array<i64: -1, 10>, starts = array<i64: 3, 1>, steps = array<i64: -1, 3>} : (tensor<4x10xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Weights stay dense_resource through lowering.
// CHECK-LABEL: func @constant
func.func @constant() -> tensor<4xf32> {
  // CHECK: arith.constant dense_resource<w> : tensor<4xf32>
  %w = nn.constant dense_resource<w> : tensor<4xf32>
  return %w : tensor<4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F000000400000404000008040"
    }
  }
#-}

// -----

// Max pooling's gradient with windows that tile the input: the argmax of
// each window (first maximum over the window's operands), then one pass over the input
// positions, each taking its window's gradient if it is that window's
// first maximum.
// CHECK-LABEL: func @pool_grad_tiling
// CHECK: %[[ARG:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %arg0, %arg0, %arg0
// CHECK-COUNT-3: arith.cmpf ogt
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK: arith.divui
// CHECK: tensor.extract %arg1
// CHECK: tensor.extract %[[ARG]]
func.func @pool_grad_tiling(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32> {
  %0 = nn.pool_grad max %x, %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>,
                                 kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// -----

// im2col pads the input and reads every window with one generic over
// (c, kh, kw, n, oh, ow); the forward convolution's lowering builds the same
// ops, so CSE keeps one copy of the patches.
// CHECK-DAG: #[[READ:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d4 * 2 + d1, d5 * 2 + d2)>
// CHECK-LABEL: func @im2col
// CHECK: %[[PAD:.+]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: %[[COLS:.+]] = linalg.generic {indexing_maps = [#[[READ]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[PAD]] : tensor<2x3x7x7xf32>) outs(%{{.+}} : tensor<3x3x3x2x3x3xf32>)
// CHECK: return %[[COLS]]
func.func @im2col(%x: tensor<2x3x5x5xf32>) -> tensor<3x3x3x2x3x3xf32> {
  %0 = nn.im2col %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<2x3x5x5xf32>) -> tensor<3x3x3x2x3x3xf32>
  return %0 : tensor<3x3x3x2x3x3xf32>
}

// -----

// col2im is a conflict-free scatter: a zeroed image gets, per kernel offset,
// the columns of that offset (read transposed to N x C x o) added to the
// strided window the offset read; elementwise loops that vectorize.
// CHECK-LABEL: func @col2im
// CHECK: %[[ZERO:.+]] = linalg.fill {{.*}} -> tensor<1x2x5x5xf32>
// CHECK: %[[C0:.+]] = tensor.extract_slice %arg0[0, 0, 0, 0, 0, 0] [2, 1, 1, 1, 2, 2] [1, 1, 1, 1, 1, 1] : tensor<2x3x3x1x2x2xf32> to tensor<2x1x2x2xf32>
// CHECK: %[[W0:.+]] = tensor.extract_slice %[[ZERO]][0, 0, 0, 0] [1, 2, 2, 2] [1, 1, 2, 2]
// CHECK: %[[S0:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[C0]] : {{.*}}) outs(%[[W0]] :
// CHECK: arith.addf
// CHECK: %[[I0:.+]] = tensor.insert_slice %[[S0]] into %[[ZERO]][0, 0, 0, 0] [1, 2, 2, 2] [1, 1, 2, 2]
// CHECK: tensor.extract_slice %arg0[0, 0, 1, 0, 0, 0]
// CHECK: tensor.extract_slice %[[I0]][0, 0, 0, 1] [1, 2, 2, 2] [1, 1, 2, 2]
// The ninth and last offset (2, 2) writes the window starting at (2, 2).
// CHECK: tensor.extract_slice %arg0[0, 2, 2, 0, 0, 0]
// CHECK: %[[LAST:.+]] = tensor.insert_slice {{.*}}[0, 0, 2, 2] [1, 2, 2, 2] [1, 1, 2, 2]
// CHECK: return %[[LAST]]
func.func @col2im(%cols: tensor<2x3x3x1x2x2xf32>) -> tensor<1x2x5x5xf32> {
  %0 = nn.col2im %cols {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<2x3x3x1x2x2xf32>) -> tensor<1x2x5x5xf32>
  return %0 : tensor<1x2x5x5xf32>
}

// -----

// Padding: the image is padded, and the input's positions cropped from it.
// CHECK-LABEL: func @col2im_padded
// CHECK: linalg.fill {{.*}} -> tensor<1x2x5x5xf32>
// CHECK-COUNT-4: tensor.insert_slice {{.*}} [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x4xf32> into tensor<1x2x5x5xf32>
// CHECK: %[[OUT:.+]] = tensor.extract_slice {{.*}}[0, 0, 1, 1] [1, 2, 3, 3] [1, 1, 1, 1] : tensor<1x2x5x5xf32> to tensor<1x2x3x3xf32>
// CHECK: return %[[OUT]]
func.func @col2im_padded(%cols: tensor<2x2x2x1x4x4xf32>) -> tensor<1x2x3x3xf32> {
  %0 = nn.col2im %cols {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
      : (tensor<2x2x2x1x4x4xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// segment_sum is a loop over the data adding into an accumulator one
// longer than the result: ids are clamped (unsigned) to that extra last
// segment, so -1 and ids >= 2 add nowhere, and it is cut off.
// CHECK-LABEL: func.func @segment_sum
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<3xf32>)
// CHECK: %[[LOOP:.+]] = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A:.+]] = %[[ACC]]) -> (tensor<3xf32>)
// CHECK:   %[[RAW:.+]] = tensor.extract %{{.+}}[%[[I]]] : tensor<6xi32>
// CHECK:   %[[ID:.+]] = arith.index_cast %[[RAW]]
// CHECK:   %[[CLAMPED:.+]] = arith.minui %[[ID]], %{{.+}} : index
// CHECK:   %[[V:.+]] = tensor.extract %{{.+}}[%[[I]]] : tensor<6xf32>
// CHECK:   %[[OLD:.+]] = tensor.extract %[[A]][%[[CLAMPED]]]
// CHECK:   %[[SUM:.+]] = arith.addf %[[OLD]], %[[V]]
// CHECK:   %[[NEW:.+]] = tensor.insert %[[SUM]] into %[[A]][%[[CLAMPED]]]
// CHECK:   scf.yield %[[NEW]]
// CHECK: tensor.extract_slice %[[LOOP]][0] [2] [1] : tensor<3xf32> to tensor<2xf32>
func.func @segment_sum(%g: tensor<6xf32>, %ids: tensor<6xi32>) -> tensor<2xf32> {
  %0 = nn.segment_sum %g, %ids : (tensor<6xf32>, tensor<6xi32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A bf16 convolution into f32 (the contraction rule's pair): not the
// im2col matmul (which reshapes its operands as f32 and once built a
// mistyped reshape that crashed the folder), but the generic loop nest,
// whose body widens both operands to the accumulator's f32 (a bf16 product
// is exact in f32).
// CHECK-LABEL: func @conv_bf16
// CHECK-NOT: linalg.matmul
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:.+]]: bf16, %[[W:.+]]: bf16, %[[ACC:.+]]: f32):
// CHECK: %[[XF:.+]] = arith.extf %[[X]] : bf16 to f32
// CHECK: %[[WF:.+]] = arith.extf %[[W]] : bf16 to f32
// CHECK: %[[P:.+]] = arith.mulf %[[XF]], %[[WF]] : f32
// CHECK: arith.addf %[[ACC]], %[[P]] : f32
func.func @conv_bf16(%x: tensor<1x2x4x4xbf16>, %w: tensor<3x2x3x3xbf16>) -> tensor<1x3x4x4xf32> {
  %y = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xbf16>, tensor<3x2x3x3xbf16>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}
