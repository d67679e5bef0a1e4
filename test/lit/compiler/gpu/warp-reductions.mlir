// RUN: strata-opt %s --strata-gpu-warp-reductions | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// 1000 iterations per output: one warp per row, lanes striding by 32 from
// the identity (-inf for max), five xor shuffles, lane 0 folds into %m.
// CHECK-LABEL: func.func @row_max
// CHECK: gpu.launch
// CHECK: %[[LANE:.*]] = arith.remui
// CHECK: scf.if
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PARTIAL:.*]] = scf.for %{{.*}} = %[[LANE]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[NEGINF]]) -> (f32)
// CHECK: math.exp
// CHECK: arith.maximumf
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: arith.cmpi eq, %[[LANE]]
// CHECK: memref.load %arg1
// CHECK: arith.maximumf
// CHECK: memref.store
// CHECK-NOT: linalg.generic
func.func @row_max(%x: memref<4x1000xf32>, %m: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1000xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %e = math.exp %a : f32
    %r = arith.maximumf %e, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// Short reductions (9 per output, as a 3x3 window) stay one thread each.
// CHECK-LABEL: func.func @short
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
func.func @short(%x: memref<4x9xf32>, %m: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x9xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// A body that is not a plain combination with the accumulator stays too.
// CHECK-LABEL: func.func @not_a_combiner
// CHECK-NOT: gpu.launch
func.func @not_a_combiner(%x: memref<4x100xf32>, %m: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x100xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.subf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}
