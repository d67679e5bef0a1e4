// RUN: strata-opt %s --strata-gpu-device-arena --split-input-file --verify-diagnostics | FileCheck %s

// The planned arena becomes @main's last argument (device memory, given by
// the runtime), and its size a module attribute the object emitter reads.
// CHECK: module attributes {strata.gpu_arena_bytes = 128 : i64}
// CHECK-NOT: memref.global
// CHECK: func.func @main(%arg0: memref<4xf32>, %[[ARENA:.*]]: memref<128xi8>)
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<128xi8> to memref<4xf32>
module {
  memref.global "private" @__strata_arena : memref<128xi8> = uninitialized
  func.func @main(%out: memref<4xf32>) {
    %c64 = arith.constant 64 : index
    %arena = memref.get_global @__strata_arena : memref<128xi8>
    %v = memref.view %arena[%c64][] : memref<128xi8> to memref<4xf32>
    linalg.copy ins(%v : memref<4xf32>) outs(%out : memref<4xf32>)
    return
  }
}

// -----

// A buffer outside the plan would be host memory: refused, naming the op.
module {
  func.func @main(%out: memref<4xf32>) {
    // expected-error @below {{'memref.alloc' in @main cannot run on the GPU}}
    %b = memref.alloc() : memref<4xf32>
    linalg.copy ins(%b : memref<4xf32>) outs(%out : memref<4xf32>)
    return
  }
}
