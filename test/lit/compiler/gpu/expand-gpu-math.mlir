// RUN: strata-opt %s --strata-expand-gpu-math | FileCheck %s

// What convert-gpu-to-nvvm cannot lower, in terms of what it can.
// CHECK-LABEL: func.func @inverse_trig
// CHECK-NOT: math.asin
// CHECK-NOT: math.acos
// CHECK-NOT: math.sinh
// CHECK: math.sqrt
// CHECK: math.atan2
// CHECK: math.atan2
// CHECK: math.exp
func.func @inverse_trig(%x: f32) -> (f32, f32, f32) {
  %a = math.asin %x : f32
  %b = math.acos %x : f32
  %c = math.sinh %x : f32
  return %a, %b, %c : f32, f32, f32
}
