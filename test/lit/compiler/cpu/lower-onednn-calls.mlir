// RUN: strata-opt %s --strata-lower-onednn-calls | FileCheck %s

// A call site becomes a call of the runtime's C function with @main's run
// context, then addresses: per-site state (zeroed, writable), descriptor and
// node name (constants), then the buffers. A view into the arena (@main's
// argument) is the arena's address plus the view's byte shift, also through
// a reshape of the view; a missing bias is a null address. The site
// declaration is gone and the module is tagged.
// CHECK: module attributes {strata.uses_onednn}
// CHECK: memref.global "private" @__strata_onednn_conv_0_state : memref<1xi64> = dense<0>
// CHECK: memref.global "private" constant @__strata_onednn_conv_0_desc : memref<30xi64> = dense<[1, 1, 16, 4, 4,
// CHECK: memref.global "private" constant @__strata_onednn_conv_0_node : memref<6xi8> = dense<[99, 111, 110, 118, 49, 0]>
// CHECK: func.func private @strata_onednn_conv(index, index, index, index, index, index, index, index)
// CHECK-NOT: __strata_onednn_conv_0(
// CHECK-LABEL: func @main
// CHECK-SAME: (%[[W:.+]]: memref<16x16x3x3xf32>, %[[ARENA:.+]]: memref<4096xi8> {strata.arena}, %[[CTX:.+]]: index {strata.run_context})
// CHECK: %[[STATE:.+]] = memref.extract_aligned_pointer_as_index %{{.+}} : memref<1xi64> -> index
// CHECK: %[[DESC:.+]] = memref.extract_aligned_pointer_as_index %{{.+}} : memref<30xi64> -> index
// CHECK: %[[NODE:.+]] = memref.extract_aligned_pointer_as_index %{{.+}} : memref<6xi8> -> index
// CHECK: %[[BASE1:.+]] = memref.extract_aligned_pointer_as_index %[[ARENA]]
// CHECK: %[[SRC:.+]] = arith.addi %[[BASE1]], %c2048
// CHECK: %[[WP:.+]] = memref.extract_aligned_pointer_as_index %[[W]]
// CHECK: %[[NOBIAS:.+]] = arith.constant 0 : index
// CHECK: %[[BASE2:.+]] = memref.extract_aligned_pointer_as_index %[[ARENA]]
// CHECK: %[[DST:.+]] = arith.addi %[[BASE2]], %c0
// CHECK: call @strata_onednn_conv(%[[CTX]], %[[STATE]], %[[DESC]], %[[NODE]], %[[SRC]], %[[WP]], %[[NOBIAS]], %[[DST]])
module {
  func.func private @__strata_onednn_conv_0(memref<1x2x8x4x4xf32>, memref<16x16x3x3xf32>, memref<1x2x4x4x8xf32>) attributes {strata.onednn_desc = array<i64: 1, 1, 16, 4, 4, 16, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8, 1, 1, 1, 0, 1, 1, 2, 0, 0>, strata.onednn_kernel = "conv", strata.onednn_node = "conv1"}
  func.func @main(%w: memref<16x16x3x3xf32>, %arena: memref<4096xi8> {strata.arena}, %ctx: index {strata.run_context}) {
    %c0 = arith.constant 0 : index
    %c2048 = arith.constant 2048 : index
    %flat = memref.view %arena[%c2048][] : memref<4096xi8> to memref<1x16x4x4xf32>
    %src = memref.expand_shape %flat [[0], [1, 2], [3], [4]] output_shape [1, 2, 8, 4, 4] : memref<1x16x4x4xf32> into memref<1x2x8x4x4xf32>
    %dst = memref.view %arena[%c0][] : memref<4096xi8> to memref<1x2x4x4x8xf32>
    call @__strata_onednn_conv_0(%src, %w, %dst) : (memref<1x2x8x4x4xf32>, memref<16x16x3x3xf32>, memref<1x2x4x4x8xf32>) -> ()
    return
  }
}
