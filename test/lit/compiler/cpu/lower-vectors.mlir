// RUN: strata-opt %s --strata-lower-vectors | FileCheck %s

// A register tile's accumulator (a subview of C, read and written at the same
// place in every k step) is read once before the k loop, carried as an
// iter_arg and written once after it.
// CHECK-LABEL: func @tile
// CHECK: %[[ACC:.+]] = memref.subview %arg2
// CHECK: %[[INIT:.+]] = vector.transfer_read %[[ACC]]
// CHECK: %[[R:.+]] = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %[[INIT]]) -> (vector<4x16xf32>)
// CHECK-NOT: vector.transfer_read %[[ACC]][
// CHECK: vector.fma
// CHECK-NOT: vector.transfer_write
// CHECK: scf.yield
// CHECK: vector.transfer_write %[[R]], %[[ACC]][
func.func @tile(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>, %i: index, %j: index) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %acc = memref.subview %c[%i, %j] [4, 16] [1, 1] : memref<64x64xf32> to memref<4x16xf32, strided<[64, 1], offset: ?>>
  scf.for %k = %c0 to %c64 step %c4 {
    %av = memref.subview %a[%i, %k] [4, 4] [1, 1] : memref<64x64xf32> to memref<4x4xf32, strided<[64, 1], offset: ?>>
    %bv = memref.subview %b[%k, %j] [4, 16] [1, 1] : memref<64x64xf32> to memref<4x16xf32, strided<[64, 1], offset: ?>>
    %x = vector.transfer_read %av[%c0, %c0], %zero {in_bounds = [true, true]} : memref<4x4xf32, strided<[64, 1], offset: ?>>, vector<4x4xf32>
    %y = vector.transfer_read %bv[%c0, %c0], %zero {in_bounds = [true, true]} : memref<4x16xf32, strided<[64, 1], offset: ?>>, vector<4x16xf32>
    %z = vector.transfer_read %acc[%c0, %c0], %zero {in_bounds = [true, true]} : memref<4x16xf32, strided<[64, 1], offset: ?>>, vector<4x16xf32>
    %r = vector.contract {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
                          iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>}
         %x, %y, %z : vector<4x4xf32>, vector<4x16xf32> into vector<4x16xf32>
    vector.transfer_write %r, %acc[%c0, %c0] {in_bounds = [true, true]} : vector<4x16xf32>, memref<4x16xf32, strided<[64, 1], offset: ?>>
  }
  return
}
