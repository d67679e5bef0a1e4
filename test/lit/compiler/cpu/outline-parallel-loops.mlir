// RUN: strata-opt %s --split-input-file --strata-outline-parallel-loops --cse | FileCheck %s

// A 2-D elementwise loop: the 64 rows are shared out as work items, each row
// stays an inner loop (contiguous for the vectorizer). Captured buffers become
// arguments; constants and globals are cloned into the body.
// CHECK-LABEL: func @rows
// CHECK-SAME: (%[[X:.+]]: memref<64x1024xf32>, %[[Y:.+]]: memref<64x1024xf32>)
// CHECK: %[[N:.+]] = arith.constant 64 : index
// CHECK: call @__strata_par_0_launch(%[[N]], %[[X]], %[[Y]]) : (index, memref<64x1024xf32>, memref<64x1024xf32>) -> ()
// CHECK-NOT: scf.parallel
// CHECK: return
// CHECK: func.func private @__strata_par_0(%[[LO:.+]]: index, %[[HI:.+]]: index, %[[A:.+]]: memref<64x1024xf32>, %[[B:.+]]: memref<64x1024xf32>)
// CHECK: %[[G:.+]] = memref.get_global @bias
// CHECK: scf.for %[[I:.+]] = %[[LO]] to %[[HI]]
// CHECK: scf.parallel (%[[J:.+]]) =
// CHECK: memref.load %[[A]][%{{.+}}, %[[J]]]
// CHECK: memref.load %[[G]][%[[J]]]
// CHECK: memref.store {{.*}}, %[[B]]
// CHECK: func.func private @__strata_par_0_launch(index, memref<64x1024xf32>, memref<64x1024xf32>)
memref.global "private" constant @bias : memref<1024xf32> = dense<1.0>
func.func @rows(%x: memref<64x1024xf32>, %y: memref<64x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  %g = memref.get_global @bias : memref<1024xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c1024) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<64x1024xf32>
    %b = memref.load %g[%j] : memref<1024xf32>
    %s = arith.addf %v, %b : f32
    memref.store %s, %y[%i, %j] : memref<64x1024xf32>
    scf.reduce
  }
  return
}

// -----

// A stepped loop (tiles) with a leading unit dimension: the split goes on
// to the next dimension until there are enough work items, and the item
// index is delinearized back into the loop's induction values.
// CHECK-LABEL: func @tiles
// CHECK: %[[N:.+]] = arith.constant 128 : index
// CHECK: call @__strata_par_0_launch(%[[N]]
// CHECK: func.func private @__strata_par_0
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK: arith.remui %[[I]], %{{.+}}
// CHECK: arith.divui %[[I]], %{{.+}}
// CHECK: arith.muli
func.func @tiles(%x: memref<1x128x4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c4096 = arith.constant 4096 : index
  %f = arith.constant 2.0 : f32
  scf.parallel (%n, %c, %w) = (%c0, %c0, %c0) to (%c1, %c128, %c4096) step (%c1, %c1, %c16) {
    memref.store %f, %x[%n, %c, %w] : memref<1x128x4096xf32>
    scf.reduce
  }
  return
}

// -----

// Too little work to pay for waking threads: stays inline.
// CHECK-LABEL: func @small
// CHECK: scf.parallel
// CHECK-NOT: call
func.func @small(%x: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f = arith.constant 2.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    memref.store %f, %x[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// A capture with a dynamic offset cannot be passed as a bare pointer: the
// loop stays sequential rather than being miscompiled.
// CHECK-LABEL: func @dynamic_view
// CHECK: scf.parallel
// CHECK-NOT: call
func.func @dynamic_view(%x: memref<65536xf32>, %o: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4096 = arith.constant 4096 : index
  %f = arith.constant 2.0 : f32
  %v = memref.subview %x[%o] [4096] [1] : memref<65536xf32> to memref<4096xf32, strided<[1], offset: ?>>
  scf.parallel (%i) = (%c0) to (%c4096) step (%c1) {
    memref.store %f, %v[%i] : memref<4096xf32, strided<[1], offset: ?>>
    scf.reduce
  }
  return
}

// -----

// Six rows are too few to share out, and splitting the 36864 columns too
// would make each work item one element (a division per element, nothing
// to vectorize): the columns are cut into 12 contiguous chunks of 3072
// instead, 72 items in all, each an inner loop over its chunk.
// CHECK-LABEL: func @short_rows
// CHECK: %[[N:.+]] = arith.constant 72 : index
// CHECK: call @__strata_par_0_launch(%[[N]]
// CHECK: func.func private @__strata_par_0
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK: arith.remui %[[I]]
// CHECK: arith.divui %[[I]]
// CHECK: %[[END:.+]] = arith.addi %[[START:.+]], %c3072
// CHECK: scf.for %[[J:.+]] = %[[START]] to %[[END]] step
// CHECK: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %[[J]]]
func.func @short_rows(%b: memref<6xf32>, %y: memref<6x36864xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %cn = arith.constant 36864 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %cn) step (%c1, %c1) {
    %v = memref.load %b[%i] : memref<6xf32>
    memref.store %v, %y[%i, %j] : memref<6x36864xf32>
    scf.reduce
  }
  return
}
