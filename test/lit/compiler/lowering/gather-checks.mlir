// RUN: strata-opt %s --split-input-file --strata-lower-nn-to-linalg="run-time-checks=true" | FileCheck %s --check-prefix=REPORT
// RUN: strata-opt %s --split-input-file --strata-lower-nn-to-linalg | FileCheck %s --check-prefix=CLAMP

// A gather whose indices are known only at run time never reads outside its
// data: negative indices count from the end, and an index outside [-n, n)
// reads position 0. With run-time checks (the CPU) the first such index of a
// run is reported to the run context, with a constant string naming the node.
// REPORT: memref.global "private" constant @__strata_node : memref<{{[0-9]+}}xi8>
// REPORT-LABEL: func.func @gather
// REPORT: %[[CTX:.+]] = call @strata_run_context() : () -> index
// REPORT: %[[NAME:.+]] = memref.get_global @__strata_node
// REPORT: %[[NODE:.+]] = memref.extract_aligned_pointer_as_index %[[NAME]]
// REPORT: linalg.generic
// REPORT: ^bb0(%[[RAW:.+]]: i64, %{{.+}}: f32):
// REPORT: %[[I:.+]] = arith.index_cast %[[RAW]] : i64 to index
// REPORT: %[[INSIDE:.+]] = arith.cmpi ult, %{{.+}}, %c5
// REPORT: %[[OUTSIDE:.+]] = arith.xori %[[INSIDE]], %true
// REPORT: scf.if %[[OUTSIDE]] {
// REPORT:   func.call @strata_index_out_of_range(%[[CTX]], %[[NODE]], %[[RAW]], %c5_i64)
// REPORT: %[[SAFE:.+]] = arith.select %[[INSIDE]], %{{.+}}, %c0
// REPORT: tensor.extract %{{.+}}[%[[SAFE]], %{{.+}}]
// REPORT: func.func private @strata_index_out_of_range(index, index, i64, i64)
// CLAMP-LABEL: func.func @gather
// CLAMP-NOT: call
// CLAMP: %[[INSIDE:.+]] = arith.cmpi ult
// CLAMP: %[[SAFE:.+]] = arith.select %[[INSIDE]], %{{.+}}, %c0
// CLAMP: tensor.extract %{{.+}}[%[[SAFE]], %{{.+}}]
func.func @gather(%x: tensor<5x3xf32>, %i: tensor<2xi64>) -> tensor<2x3xf32> {
  %g = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32> loc("pick"("Gather"))
  return %g : tensor<2x3xf32>
}

// -----

// GatherElements with 32-bit indices: the index is widened for the report.
// REPORT-LABEL: func.func @elements
// REPORT: scf.if
// REPORT: %[[WIDE:.+]] = arith.extsi %{{.+}} : i32 to i64
// REPORT: func.call @strata_index_out_of_range(%{{.+}}, %{{.+}}, %[[WIDE]], %c3_i64)
func.func @elements(%x: tensor<5x3xf32>, %i: tensor<5x2xi32>) -> tensor<5x2xf32> {
  %g = nn.gather_elements %x, %i {axis = 1 : i64} : (tensor<5x3xf32>, tensor<5x2xi32>) -> tensor<5x2xf32>
  return %g : tensor<5x2xf32>
}

// -----

// Constant indices were judged at compile time (strata-check-constant-indices):
// no run-time report.
// REPORT-LABEL: func.func @constant
// REPORT-NOT: strata_index_out_of_range
func.func @constant(%x: tensor<5x3xf32>) -> tensor<2x3xf32> {
  %i = nn.constant dense<[1, -1]> : tensor<2xi64>
  %g = nn.gather %x, %i {axis = 0 : i64} : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}
