// RUN: strata-opt %s --split-input-file --strata-lower-vectors | FileCheck %s

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

// -----

// strata-sparse-weights' lane picks (16 of the 32 lanes of two registers,
// by an index vector) become one vpermi2ps; left as extracts, LLVM spills
// the 32 values to the stack.
// CHECK-LABEL: func @lane_picks
// CHECK-NOT: vector.extractelement
// CHECK: %[[P:.+]] = llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.ps.512"(%arg0, %arg2, %arg1) : (vector<16xf32>, vector<16xi32>, vector<16xf32>) -> vector<16xf32>
// CHECK: return %[[P]]
func.func @lane_picks(%lo: vector<16xf32>, %hi: vector<16xf32>, %idx: vector<16xi32>) -> vector<16xf32> {
  %both = vector.shuffle %lo, %hi [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xf32>, vector<16xf32>
  %c0 = arith.constant 0 : i32
  %i0 = vector.extractelement %idx[%c0 : i32] : vector<16xi32>
  %v0 = vector.extractelement %both[%i0 : i32] : vector<32xf32>
  %c1 = arith.constant 1 : i32
  %i1 = vector.extractelement %idx[%c1 : i32] : vector<16xi32>
  %v1 = vector.extractelement %both[%i1 : i32] : vector<32xf32>
  %c2 = arith.constant 2 : i32
  %i2 = vector.extractelement %idx[%c2 : i32] : vector<16xi32>
  %v2 = vector.extractelement %both[%i2 : i32] : vector<32xf32>
  %c3 = arith.constant 3 : i32
  %i3 = vector.extractelement %idx[%c3 : i32] : vector<16xi32>
  %v3 = vector.extractelement %both[%i3 : i32] : vector<32xf32>
  %c4 = arith.constant 4 : i32
  %i4 = vector.extractelement %idx[%c4 : i32] : vector<16xi32>
  %v4 = vector.extractelement %both[%i4 : i32] : vector<32xf32>
  %c5 = arith.constant 5 : i32
  %i5 = vector.extractelement %idx[%c5 : i32] : vector<16xi32>
  %v5 = vector.extractelement %both[%i5 : i32] : vector<32xf32>
  %c6 = arith.constant 6 : i32
  %i6 = vector.extractelement %idx[%c6 : i32] : vector<16xi32>
  %v6 = vector.extractelement %both[%i6 : i32] : vector<32xf32>
  %c7 = arith.constant 7 : i32
  %i7 = vector.extractelement %idx[%c7 : i32] : vector<16xi32>
  %v7 = vector.extractelement %both[%i7 : i32] : vector<32xf32>
  %c8 = arith.constant 8 : i32
  %i8 = vector.extractelement %idx[%c8 : i32] : vector<16xi32>
  %v8 = vector.extractelement %both[%i8 : i32] : vector<32xf32>
  %c9 = arith.constant 9 : i32
  %i9 = vector.extractelement %idx[%c9 : i32] : vector<16xi32>
  %v9 = vector.extractelement %both[%i9 : i32] : vector<32xf32>
  %c10 = arith.constant 10 : i32
  %i10 = vector.extractelement %idx[%c10 : i32] : vector<16xi32>
  %v10 = vector.extractelement %both[%i10 : i32] : vector<32xf32>
  %c11 = arith.constant 11 : i32
  %i11 = vector.extractelement %idx[%c11 : i32] : vector<16xi32>
  %v11 = vector.extractelement %both[%i11 : i32] : vector<32xf32>
  %c12 = arith.constant 12 : i32
  %i12 = vector.extractelement %idx[%c12 : i32] : vector<16xi32>
  %v12 = vector.extractelement %both[%i12 : i32] : vector<32xf32>
  %c13 = arith.constant 13 : i32
  %i13 = vector.extractelement %idx[%c13 : i32] : vector<16xi32>
  %v13 = vector.extractelement %both[%i13 : i32] : vector<32xf32>
  %c14 = arith.constant 14 : i32
  %i14 = vector.extractelement %idx[%c14 : i32] : vector<16xi32>
  %v14 = vector.extractelement %both[%i14 : i32] : vector<32xf32>
  %c15 = arith.constant 15 : i32
  %i15 = vector.extractelement %idx[%c15 : i32] : vector<16xi32>
  %v15 = vector.extractelement %both[%i15 : i32] : vector<32xf32>
  %r = vector.from_elements %v0, %v1, %v2, %v3, %v4, %v5, %v6, %v7, %v8, %v9, %v10, %v11, %v12, %v13, %v14, %v15 : vector<16xf32>
  return %r : vector<16xf32>
}
