// RUN: strata-opt %s --strata-merge-gpu-kernels | FileCheck %s

// Two outlined kernels end up in one module, named k<N> plus the ONNX node
// names of their locations; the launches follow.
// CHECK: gpu.launch_func @main_kernel::@k0_conv1_relu1
// CHECK: gpu.launch_func @main_kernel::@k1_fc
// CHECK: gpu.module @main_kernel
// CHECK: gpu.func @k0_conv1_relu1
// CHECK: gpu.func @k1_fc
// CHECK-NOT: gpu.module
module attributes {gpu.container_module} {
  func.func @main(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @main_kernel::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @main_kernel_0::@main_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
  gpu.module @main_kernel {
    gpu.func @main_kernel(%x: memref<4xf32>) kernel {
      gpu.return
    } loc(fused["conv1", "relu1", "conv1"])
  }
  gpu.module @main_kernel_0 {
    gpu.func @main_kernel(%x: memref<4xf32>) kernel {
      gpu.return
    } loc("fc")
  }
}
