// RUN: strata-opt %s --split-input-file --verify-diagnostics --strata-materialize-run-context | FileCheck %s

// @main gets the run context as its last argument, and every request for it
// (here inside a loop, as a gather's check would be) becomes that argument.
// CHECK-NOT: func.func private @strata_run_context
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.+}}: memref<4xf32>, %[[CTX:.+]]: index {strata.run_context})
// CHECK: scf.for
// CHECK: call @report(%[[CTX]])
// CHECK-NOT: @strata_run_context
module {
  func.func private @strata_run_context() -> index
  func.func private @report(index)
  func.func @main(%x: memref<4xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    scf.for %i = %c0 to %c4 step %c1 {
      %ctx = func.call @strata_run_context() : () -> index
      func.call @report(%ctx) : (index) -> ()
    }
    return
  }
}

// -----

// A module that never asks for it still gets the argument: the generated
// entry point always passes one.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.+}}: memref<4xf32>, %{{.+}}: index {strata.run_context})
module {
  func.func @main(%x: memref<4xf32>) {
    return
  }
}

// -----

// Only @main has a run context.
module {
  func.func private @strata_run_context() -> index
  func.func @helper() -> index {
    // expected-error @+1 {{@strata_run_context is only defined inside @main}}
    %ctx = func.call @strata_run_context() : () -> index
    return %ctx : index
  }
  func.func @main() {
    return
  }
}
