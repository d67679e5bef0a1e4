// RUN: strata-opt %s --strata-map-loops-to-gpu --split-input-file --verify-diagnostics | FileCheck %s

// A 3x100 parallel nest: 300 iterations in 2 blocks of 256 threads, the
// last 212 threads guarded off; the innermost dimension varies fastest.
// CHECK-LABEL: func.func @elementwise
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C2]], {{.*}} threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]],
// CHECK: %[[MUL:.*]] = arith.muli %[[BX]], %{{.*}}
// CHECK: %[[ID:.*]] = arith.addi %[[MUL]], %[[TX]]
// CHECK: %[[C300:.*]] = arith.constant 300 : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ID]], %[[C300]]
// CHECK: scf.if %[[IN]] {
// CHECK: arith.remui %[[ID]], %{{.*}}
// CHECK: arith.divui %[[ID]], %{{.*}}
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}]
// CHECK: math.exp
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @elementwise(%in: memref<3x100xf32>, %out: memref<3x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c100) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<3x100xf32>
    %y = math.exp %x : f32
    memref.store %y, %out[%i, %j] : memref<3x100xf32>
    scf.reduce
  }
  return
}

// -----

// A scalar read and the arithmetic on it stay together on the device: one
// single-thread kernel holds the load, the division and the store.
// CHECK-LABEL: func.func @scalar_tail
// CHECK: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} threads({{.*}}) in ({{.*}} = %{{.*}},
// CHECK-NEXT: memref.load
// CHECK-NEXT: arith.divf
// CHECK-NEXT: memref.store
// CHECK-NEXT: gpu.terminator
// CHECK: return
func.func @scalar_tail(%in: memref<1xf32>, %out: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4.0 : f32
  %x = memref.load %in[%c0] : memref<1xf32>
  %y = arith.divf %x, %c4 : f32
  memref.store %y, %out[%c0] : memref<1xf32>
  return
}

// -----

func.func @host_uses_device_value(%in: memref<1xindex>) -> index {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'memref.load' produces a value the host would use; it cannot run on the GPU}}
  %x = memref.load %in[%c0] : memref<1xindex>
  return %x : index
}
