// RUN: strata-opt %s --split-input-file --strata-sparse-weights=vector-bits=512 --canonicalize --cse | FileCheck %s
// RUN: strata-opt %s --split-input-file --strata-sparse-weights=vector-bits=256 --canonicalize --cse | FileCheck %s --check-prefix=AVX2
// RUN: strata-opt %s --split-input-file "--strata-sparse-weights=vector-bits=256 force=true" --canonicalize --cse | FileCheck %s --check-prefix=FORCED

// A fully connected layer of one row whose weight is 75% zeros, on an
// AVX-512 target: the 6 nonzeros of its 3 output rows become one slice of
// 16 rows in 32-wide input windows (window 0 holds inputs 0-31, window 32
// inputs 32-63); each window's columns pick their inputs from two registers
// (the extract chain strata-lower-vectors turns into vpermi2ps), byte
// indices, and multiply them into the slice's accumulator. Rows are taken
// by falling nonzero count (1, 0, 2); a last generic puts them back in
// order and adds the bias. The dense weight is gone.
// CHECK-LABEL: func @gemm_one_row
// CHECK-NOT: nn.gemm
// CHECK-DAG: %[[SLOTS:.+]] = nn.constant dense<[1, 0, 2]> : tensor<3xi32>
// CHECK-DAG: nn.constant dense<[0, 32]> : tensor<2xi32>
// CHECK-DAG: nn.constant dense<[0, 1, 3]> : tensor<3xi32>
// CHECK-DAG: nn.constant dense_resource<fc.sparse_indices> : tensor<48xi8>
// CHECK-DAG: nn.constant dense_resource<fc.sparse_values> : tensor<48xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read %arg0{{.+}} : tensor<1x40xf32>, vector<16xf32>
// CHECK: vector.shuffle
// CHECK: scf.for
// CHECK: arith.extui {{.+}} : vector<16xi8> to vector<16xi32>
// CHECK-COUNT-16: vector.extractelement
// CHECK: vector.from_elements
// CHECK: vector.fma
// CHECK: linalg.generic {{.+}} ins(%arg1 : tensor<3xf32>) outs(%{{.+}} : tensor<1x3x1xf32>)
// CHECK: %[[R:.+]] = linalg.index 1
// CHECK: tensor.extract %[[SLOTS]][%[[R]]]
// CHECK: arith.addf
func.func @gemm_one_row(%x: tensor<1x40xf32>, %b: tensor<3xf32>) -> tensor<1x3xf32> {
  %w = nn.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
                          [0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                          [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0, 0.0]]> : tensor<3x40xf32>
  %y = nn.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<1x40xf32>, tensor<3x40xf32>, tensor<3xf32>) -> tensor<1x3xf32> loc("fc")
  return %y : tensor<1x3xf32>
}

// On AVX2 the rule keeps every layer dense (the gather kernel measured no
// faster); --sparse=on (force) gathers each column's inputs.
// AVX2-LABEL: func @gemm_one_row
// AVX2: nn.gemm
// FORCED-LABEL: func @gemm_one_row
// FORCED-NOT: nn.gemm
// (3 rows: slices of 4 lanes; columns of input indices.)
// FORCED: nn.constant dense<[1, 0, 36, 0, 33, 39, 0, 0, 34, 0, 0, 0]> : tensor<12xi32>
// FORCED: vector.gather %arg0{{.+}} : tensor<1x40xf32>, vector<4xi32>, vector<4xi1>, vector<4xf32> into vector<4xf32>

// -----

// With more rows the rule asks for 85% zeros: 75% stays dense.
// CHECK-LABEL: func @gemm_rows
// CHECK: nn.gemm
func.func @gemm_rows(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
  %w = nn.constant dense<[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0]]> : tensor<2x8xf32>
  %y = nn.gemm %x, %w {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// A forced sparse convolution (stride 2, padding 1) reads its taps at
// offsets into the zero-padded input (c*Hp*Wp + ky*Wp + kx, here 1x6x6)
// from each output position's base (oh*2*6 + ow*2), and its [n, slice,
// position, lane] result is transposed to NCHW. Under the rule,
// convolutions stay dense.
// FORCED-LABEL: func @conv
// FORCED-NOT: nn.conv
// FORCED: nn.constant dense<[7, 0, 0, 0, 14, 0, 0, 0]> : tensor<8xi32>
// FORCED: tensor.pad
// FORCED: arith.divui
// FORCED: arith.muli {{.+}}, %c12
// FORCED: vector.gather
// FORCED: linalg.transpose
// CHECK-LABEL: func @conv
// CHECK: nn.conv
func.func @conv(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w = nn.constant dense<[[[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]],
                          [[[0.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]]]> : tensor<2x1x3x3xf32>
  %y = nn.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x2x2xf32> loc("conv")
  return %y : tensor<1x2x2x2xf32>
}
