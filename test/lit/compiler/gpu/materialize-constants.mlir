// RUN: strata-opt %s --strata-gpu-materialize-constants | FileCheck %s

// Splats become fills computed on the device; a boolean constant becomes
// an i8 constant (a weight the driver moves to device memory) compared
// with zero; other constants are weights already and stay.
// CHECK-LABEL: func.func @main
// CHECK: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<3xf32>
// CHECK: linalg.fill ins(%[[TWO]] : f32) outs(%[[EMPTY]] : tensor<3xf32>)
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: %[[BYTES:.*]] = arith.constant dense<[1, 0, 1]> : tensor<3xi8>
// CHECK: linalg.generic {{.*}} ins(%[[BYTES]] : tensor<3xi8>)
// CHECK: arith.cmpi ne
// CHECK-NOT: dense<true
func.func @main(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xi1>) {
  %splat = arith.constant dense<2.0> : tensor<3xf32>
  %weights = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %mask = arith.constant dense<[true, false, true]> : tensor<3xi1>
  return %splat, %weights, %mask : tensor<3xf32>, tensor<3xf32>, tensor<3xi1>
}
