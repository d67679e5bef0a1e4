// RUN: strata-opt %s --split-input-file --strata-signless-integers | FileCheck %s

// ui8 arguments, results and constants become i8 bits; arithmetic reads
// them zero-extended and truncates its i32 result back to the bits.
// CHECK-LABEL: func @add_unsigned
// CHECK-SAME: (%[[A:.+]]: tensor<4xi8>, %[[B:.+]]: tensor<4xi8>) -> tensor<4xi8>
func.func @add_unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  // CHECK: %[[WA:.+]] = nn.extend_unsigned %[[A]] : (tensor<4xi8>) -> tensor<4xi32>
  // CHECK: %[[WB:.+]] = nn.extend_unsigned %[[B]] : (tensor<4xi8>) -> tensor<4xi32>
  // CHECK: %[[S:.+]] = nn.add %[[WA]], %[[WB]] : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  // CHECK: %[[N:.+]] = nn.cast %[[S]] : (tensor<4xi32>) -> tensor<4xi8>
  // CHECK: return %[[N]]
  %0 = nn.add %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// Ops that only move elements keep the bits; a constant keeps its bits
// (200 is -56 as i8) and, read by arithmetic, widens at compile time.
// CHECK-LABEL: func @move_and_constant
func.func @move_and_constant(%a: tensor<2x2xui8>) -> (tensor<4xui8>, tensor<4xi1>) {
  // CHECK: %[[C:.+]] = nn.constant dense<-56> : tensor<i8>
  // CHECK: %[[R:.+]] = nn.reshape %{{.+}} : (tensor<2x2xi8>) -> tensor<4xi8>
  // CHECK: %[[W:.+]] = nn.extend_unsigned %[[R]]
  // CHECK: %[[C32:.+]] = nn.constant dense<200> : tensor<i32>
  // CHECK: nn.compare  gt %[[W]], %[[C32]] : (tensor<4xi32>, tensor<i32>) -> tensor<4xi1>
  %c = nn.constant dense<200> : tensor<ui8>
  %r = nn.reshape %a : (tensor<2x2xui8>) -> tensor<4xui8>
  %g = nn.compare gt %r, %c : (tensor<4xui8>, tensor<ui8>) -> tensor<4xi1>
  return %r, %g : tensor<4xui8>, tensor<4xi1>
}

// -----

// Quantizing to ui8 quantizes to i32, saturates to [0, 255], keeps the bits.
// CHECK-LABEL: func @quantize_unsigned
func.func @quantize_unsigned(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>) -> tensor<4xui8> {
  // CHECK: %[[Z:.+]] = nn.extend_unsigned %{{.+}} : (tensor<i8>) -> tensor<i32>
  // CHECK: %[[Q:.+]] = nn.quantize %{{.+}}, %{{.+}}, %[[Z]] : (tensor<4xf32>, tensor<f32>, tensor<i32>) -> tensor<4xi32>
  // CHECK: %[[C:.+]] = nn.clip %[[Q]] {max = 2.550000e+02 : f64, min = 0.000000e+00 : f64} : tensor<4xi32>
  // CHECK: nn.cast %[[C]] : (tensor<4xi32>) -> tensor<4xi8>
  %q = nn.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  return %q : tensor<4xui8>
}

// -----

// A contraction of ui8 by i8 widens both operands to i32.
// CHECK-LABEL: func @matmul_unsigned_by_signed
func.func @matmul_unsigned_by_signed(%a: tensor<2x3xui8>, %b: tensor<3x4xi8>) -> tensor<2x4xi32> {
  // CHECK: %[[A:.+]] = nn.extend_unsigned %{{.+}} : (tensor<2x3xi8>) -> tensor<2x3xi32>
  // CHECK: %[[B:.+]] = nn.cast %{{.+}} : (tensor<3x4xi8>) -> tensor<3x4xi32>
  // CHECK: nn.matmul %[[A]], %[[B]] : (tensor<2x3xi32>, tensor<3x4xi32>) -> tensor<2x4xi32>
  %0 = nn.matmul %a, %b : (tensor<2x3xui8>, tensor<3x4xi8>) -> tensor<2x4xi32>
  return %0 : tensor<2x4xi32>
}
