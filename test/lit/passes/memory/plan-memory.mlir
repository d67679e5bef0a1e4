// RUN: strata-opt %s --split-input-file --strata-plan-memory | FileCheck %s

// Three buffers in a chain: %a dies when %c is written, so %c reuses %a's
// bytes; %b overlaps both. Views of a buffer keep it alive. The arena is a
// new last argument of @main that the caller owns (one per context, never
// aliasing a tensor the caller passes); deallocations go.
// CHECK: module attributes {strata.arena_buffers = 3 : i64, strata.arena_bytes = 8192 : i64, strata.unshared_bytes = 12288 : i64}
// CHECK-NOT: memref.global
// CHECK-LABEL: func @main
// CHECK-SAME: %[[ARENA:[^:]+]]: memref<8192xi8> {llvm.noalias, strata.arena}
// CHECK: %[[A:.+]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[B:.+]] = memref.view %[[ARENA]][%c4096{{.*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[C:.+]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK: return
module {
func.func @main(%x: memref<1024xf32>, %y: memref<1024xf32>) {
  %a = memref.alloc() : memref<1024xf32>
  memref.copy %x, %a : memref<1024xf32> to memref<1024xf32>
  %b = memref.alloc() : memref<1024xf32>
  %av = memref.subview %a[0] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1]>>
  %bv = memref.subview %b[0] [512] [1] : memref<1024xf32> to memref<512xf32, strided<[1]>>
  memref.copy %av, %bv : memref<512xf32, strided<[1]>> to memref<512xf32, strided<[1]>>
  %c = memref.alloc() : memref<1024xf32>
  memref.copy %b, %c : memref<1024xf32> to memref<1024xf32>
  memref.copy %c, %y : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %a : memref<1024xf32>
  memref.dealloc %b : memref<1024xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}
}

// -----

// A buffer used inside a loop lives until that loop ends; a dynamic one
// keeps its allocation.
// CHECK: module attributes {strata.arena_buffers = 2 : i64, strata.arena_bytes = 512 : i64
// CHECK-LABEL: func @main
// CHECK: memref.view
// CHECK: memref.view
// CHECK: memref.alloc(%{{.+}}) : memref<?xf32>
module {
func.func @main(%x: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %a = memref.alloc() : memref<64xf32>
  %b = memref.alloc() : memref<64xf32>
  scf.for %i = %c0 to %c64 step %c1 {
    %v = memref.load %a[%i] : memref<64xf32>
    memref.store %v, %b[%i] : memref<64xf32>
  }
  memref.copy %b, %x : memref<64xf32> to memref<64xf32>
  %d = memref.alloc(%n) : memref<?xf32>
  memref.dealloc %d : memref<?xf32>
  return
}
}

// -----

// A deallocation through a view of the buffer is removed too: nothing may
// free arena memory.
// CHECK-LABEL: func @main
// CHECK: memref.view
// CHECK: memref.cast
// CHECK-NOT: memref.dealloc
// CHECK: return
module {
func.func @main(%x: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %v = memref.cast %a : memref<16xf32> to memref<?xf32>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32>
  memref.dealloc %v : memref<?xf32>
  return
}
}

// -----

// Booleans take a byte each in memory, not a bit: 108 of them need 108
// bytes (rounded to 128), not 14.
// CHECK: module attributes {strata.arena_buffers = 1 : i64, strata.arena_bytes = 128 : i64
// CHECK-LABEL: func @main
// CHECK-SAME: memref<128xi8>
module {
func.func @main(%x: memref<3x6x6xi1>, %y: memref<3x6x6xi1>) {
  %a = memref.alloc() : memref<3x6x6xi1>
  memref.copy %x, %a : memref<3x6x6xi1> to memref<3x6x6xi1>
  memref.copy %a, %y : memref<3x6x6xi1> to memref<3x6x6xi1>
  memref.dealloc %a : memref<3x6x6xi1>
  return
}
}
