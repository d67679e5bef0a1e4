// RUN: strata-opt %s --strata-gpu-device-arena --split-input-file --verify-diagnostics | FileCheck %s

// The planned arena, @main's last argument, is device memory given by the
// runtime; its size becomes a module attribute the object emitter reads.
// CHECK: module attributes {strata.gpu_arena_bytes = 128 : i64}
// CHECK: func.func @main(%arg0: memref<4xf32>, %[[ARENA:.*]]: memref<128xi8> {strata.arena})
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<128xi8> to memref<4xf32>
module {
  func.func @main(%out: memref<4xf32>, %arena: memref<128xi8> {strata.arena}) {
    %c64 = arith.constant 64 : index
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
