// RUN: strata-opt %s --strata-materialize-parallel-launches | FileCheck %s

// The launch declaration left by strata-outline-parallel-loops (after
// conversion to LLVM) is defined: captures go into a stack struct, the
// runtime's strata_parallel_for runs the thunk, which unpacks them and calls
// the body. All three become internal.

// CHECK: llvm.func internal @__strata_par_0(%{{.+}}: i64, %{{.+}}: i64, %{{.+}}: !llvm.ptr, %{{.+}}: f32)
llvm.func @__strata_par_0(%lo: i64, %hi: i64, %p: !llvm.ptr, %f: f32) {
  llvm.return
}

// CHECK: llvm.func internal @__strata_par_0_launch(%[[N:.+]]: i64, %[[P:.+]]: !llvm.ptr, %[[F:.+]]: f32)
// CHECK: %[[CTX:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, f32)>
// CHECK: %[[P0:.+]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK: llvm.store %[[P]], %[[P0]]
// CHECK: %[[P1:.+]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK: llvm.store %[[F]], %[[P1]]
// CHECK: %[[T:.+]] = llvm.mlir.addressof @__strata_par_0_thunk
// CHECK: llvm.call @strata_parallel_for(%[[T]], %[[CTX]], %[[N]])
llvm.func @__strata_par_0_launch(i64, !llvm.ptr, f32)

// CHECK: llvm.func internal @__strata_par_0_thunk(%[[C:.+]]: !llvm.ptr, %[[LO:.+]]: i64, %[[HI:.+]]: i64)
// CHECK: %[[A:.+]] = llvm.load
// CHECK: %[[B:.+]] = llvm.load
// CHECK: llvm.call @__strata_par_0(%[[LO]], %[[HI]], %[[A]], %[[B]])

// CHECK: llvm.func @strata_parallel_for(!llvm.ptr, !llvm.ptr, i64)

llvm.func @main(%p: !llvm.ptr) {
  %n = llvm.mlir.constant(8 : i64) : i64
  %f = llvm.mlir.constant(1.0 : f32) : f32
  llvm.call @__strata_par_0_launch(%n, %p, %f) : (i64, !llvm.ptr, f32) -> ()
  llvm.return
}
