// RUN: strata-opt %s --split-input-file --strata-approximate-tanh | FileCheck %s

// f32 tanh, scalar or vector, becomes arithmetic (a clamped rational
// function) that vectorizes; no call remains.
// CHECK-LABEL: func @tanh_f32
// CHECK-NOT: math.tanh
// CHECK: arith.divf
// CHECK: return
func.func @tanh_f32(%x: f32, %v: vector<16xf32>) -> (f32, vector<16xf32>) {
  %a = math.tanh %x : f32
  %b = math.tanh %v : vector<16xf32>
  return %a, %b : f32, vector<16xf32>
}

// -----

// f64 keeps libm's tanh, and other functions are left alone.
// CHECK-LABEL: func @others_kept
// CHECK: math.tanh %{{.+}} : f64
// CHECK: math.exp %{{.+}} : f32
func.func @others_kept(%x: f64, %y: f32) -> (f64, f32) {
  %a = math.tanh %x : f64
  %b = math.exp %y : f32
  return %a, %b : f64, f32
}
