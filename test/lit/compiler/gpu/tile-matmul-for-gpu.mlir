// RUN: strata-opt %s --split-input-file --strata-tile-matmul-for-gpu | FileCheck %s

// Tiles divide 256x256x64: 2x2 blocks of 256 threads, A and B tiles in
// workgroup memory, 16-deep K steps with barriers, fused multiply-adds,
// plain (unclamped) loads and unguarded stores.
// CHECK-LABEL: func.func @exact
// CHECK-NOT: linalg.matmul
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[AT:.*]] : memref<16x128xf32, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<16x128xf32, #gpu.address_space<workgroup>>)
// CHECK: memref.assume_alignment
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[AT]]
// CHECK: gpu.barrier
// CHECK: math.fma
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-NOT: arith.minui
// CHECK-NOT: scf.if
// CHECK: memref.store %{{.*}}, %arg2
// CHECK: gpu.terminator
func.func @exact(%a: memref<256x64xf32>, %b: memref<64x256xf32>, %c: memref<256x256xf32>) {
  linalg.matmul ins(%a, %b : memref<256x64xf32>, memref<64x256xf32>) outs(%c : memref<256x256xf32>)
  return
}

// -----

// 50x70 outputs over K = 30: 64-row tiles, clamped loads zeroed outside
// the matrices, guarded stores.
// CHECK-LABEL: func.func @edges
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.*}} : memref<16x64xf32, #gpu.address_space<workgroup>>
// CHECK: arith.minui
// CHECK: arith.select
// CHECK: scf.for
// CHECK: math.fma
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg2
func.func @edges(%a: memref<50x30xf32>, %b: memref<30x70xf32>, %c: memref<50x70xf32>) {
  linalg.matmul ins(%a, %b : memref<50x30xf32>, memref<30x70xf32>) outs(%c : memref<50x70xf32>)
  return
}

// -----

// Only f32 gets the tiled kernel; others keep the generic mapping.
// CHECK-LABEL: func.func @f64
// CHECK: linalg.matmul
func.func @f64(%a: memref<8x8xf64>, %b: memref<8x8xf64>, %c: memref<8x8xf64>) {
  linalg.matmul ins(%a, %b : memref<8x8xf64>, memref<8x8xf64>) outs(%c : memref<8x8xf64>)
  return
}
