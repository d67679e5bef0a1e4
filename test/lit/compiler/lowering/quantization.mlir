// RUN: strata-opt %s --split-input-file --strata-lower-nn-to-linalg | FileCheck %s

// Quantize: divide (not multiply by a reciprocal: ties round differently),
// round half to even, add the zero point, saturate to i8 with NaN going to
// the lowest value, convert.
// CHECK-LABEL: func @quantize_per_axis
func.func @quantize_per_axis(%x: tensor<2x3xf32>, %s: tensor<1x3xf32>, %z: tensor<1x3xi8>) -> tensor<2x3xi8> {
  // CHECK-DAG: %[[LO:.+]] = arith.constant -1.280000e+02 : f32
  // CHECK-DAG: %[[HI:.+]] = arith.constant 1.270000e+02 : f32
  // CHECK: linalg.generic
  // CHECK: ^bb0(%[[X:.+]]: f32, %[[S:.+]]: f32, %[[Z:.+]]: i8, %{{.+}}: i8):
  // CHECK: %[[D:.+]] = arith.divf %[[X]], %[[S]] : f32
  // CHECK: %[[R:.+]] = math.roundeven %[[D]] : f32
  // CHECK: %[[Z32:.+]] = arith.extsi %[[Z]] : i8 to i32
  // CHECK: %[[ZF:.+]] = arith.sitofp %[[Z32]] : i32 to f32
  // CHECK: %[[V:.+]] = arith.addf %[[R]], %[[ZF]] : f32
  // CHECK: %[[M:.+]] = arith.maxnumf %[[V]], %[[LO]] : f32
  // CHECK: %[[N:.+]] = arith.minnumf %[[M]], %[[HI]] : f32
  // CHECK: arith.fptosi %[[N]] : f32 to i8
  %q = nn.quantize %x, %s, %z : (tensor<2x3xf32>, tensor<1x3xf32>, tensor<1x3xi8>) -> tensor<2x3xi8>
  return %q : tensor<2x3xi8>
}

// -----

// Dequantize subtracts in i32 (exact), then scales.
// CHECK-LABEL: func @dequantize
func.func @dequantize(%x: tensor<4xi8>, %s: tensor<f32>, %z: tensor<i32>) -> tensor<4xf32> {
  // CHECK: ^bb0(%[[X:.+]]: i8, %[[S:.+]]: f32, %[[Z:.+]]: i32, %{{.+}}: f32):
  // CHECK: %[[X32:.+]] = arith.extsi %[[X]] : i8 to i32
  // CHECK: %[[D:.+]] = arith.subi %[[X32]], %[[Z]] : i32
  // CHECK: %[[F:.+]] = arith.sitofp %[[D]] : i32 to f32
  // CHECK: arith.mulf %[[F]], %[[S]] : f32
  %d = nn.dequantize %x, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<i32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @extend_unsigned
func.func @extend_unsigned(%x: tensor<4xi8>) -> tensor<4xi32> {
  // CHECK: arith.extui %{{.+}} : i8 to i32
  %w = nn.extend_unsigned %x : (tensor<4xi8>) -> tensor<4xi32>
  return %w : tensor<4xi32>
}

// -----

// Requantize: a 64-bit product, a shift rounding half to even without
// compares (half - 1 plus the floor's low bit added before the shift), the
// zero point, the bounds, the narrow type. No float anywhere.
// CHECK-LABEL: func @requantize
func.func @requantize(%acc: tensor<4x8xi32>, %m: tensor<8xi32>, %s: tensor<8xi32>, %z: tensor<i32>) -> tensor<4x8xi8> {
  // CHECK: ^bb0(%[[A:.+]]: i32, %[[M:.+]]: i32, %[[S:.+]]: i32, %[[Z:.+]]: i32, %{{.+}}: i8):
  // CHECK-NOT: f32
  // CHECK: %[[A64:.+]] = arith.extsi %[[A]] : i32 to i64
  // CHECK: %[[M64:.+]] = arith.extsi %[[M]] : i32 to i64
  // CHECK: %[[P:.+]] = arith.muli %[[A64]], %[[M64]] : i64
  // CHECK: %[[S64:.+]] = arith.extsi %[[S]] : i32 to i64
  // CHECK: %[[FLOOR:.+]] = arith.shrsi %[[P]], %[[S64]] : i64
  // CHECK: %[[ODD:.+]] = arith.andi %[[FLOOR]], %{{.+}} : i64
  // CHECK: %[[HALF:.+]] = arith.shli %{{.+}}, %{{.+}} : i64
  // CHECK: %[[HM1:.+]] = arith.subi %[[HALF]], %{{.+}} : i64
  // CHECK: %[[BIAS:.+]] = arith.addi %[[HM1]], %[[ODD]] : i64
  // CHECK: %[[PB:.+]] = arith.addi %[[P]], %[[BIAS]] : i64
  // CHECK: %[[Q:.+]] = arith.shrsi %[[PB]], %[[S64]] : i64
  // CHECK-NOT: arith.cmpi
  // CHECK: arith.maxsi %{{.+}}, %{{.+}} : i64
  // CHECK: arith.minsi %{{.+}}, %{{.+}} : i64
  // CHECK: arith.trunci %{{.+}} : i64 to i8
  // CHECK-NOT: f32
  %q = nn.requantize %acc, %m, %s, %z {max = 100 : i64, min = -3 : i64} : (tensor<4x8xi32>, tensor<8xi32>, tensor<8xi32>, tensor<i32>) -> tensor<4x8xi8>
  return %q : tensor<4x8xi8>
}
