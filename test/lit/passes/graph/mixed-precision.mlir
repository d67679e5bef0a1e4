// RUN: strata-opt %s --split-input-file --strata-mixed-precision --mlir-elide-resource-strings-if-larger=8 | FileCheck %s
// RUN: strata-opt %s --split-input-file --strata-mixed-precision="keep-fp32=fc*" --mlir-elide-resource-strings-if-larger=8 | FileCheck %s --check-prefix=KEEP
// RUN: strata-opt %s --split-input-file --strata-mixed-precision="precision=fp16" --mlir-elide-resource-strings-if-larger=8 | FileCheck %s --check-prefix=HALF
// RUN: not strata-opt %s --split-input-file --strata-mixed-precision="precision=int4" 2>&1 | FileCheck %s --check-prefix=BAD

// The contractions read bf16 operands and keep f32 results and biases: the
// input through one cast (shared by both convolutions that read it), the
// constant weights converted here; relu, the reshape and softmax stay f32.
// CHECK-LABEL: func @net
// CHECK: %[[X:.+]] = nn.cast %arg0 : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xbf16>
// CHECK: %[[W:.+]] = nn.constant dense_resource<{{.+}}> : tensor<4x3x3x3xbf16>
// CHECK: %[[B:.+]] = nn.constant dense<1.000000e-01> : tensor<4xf32>
// CHECK: nn.conv %[[X]], %[[W]], %[[B]] {{.*}} : (tensor<1x3x8x8xbf16>, tensor<4x3x3x3xbf16>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
// CHECK: nn.conv %[[X]], %[[W]], %[[B]] {{.*}} -> tensor<1x4x8x8xf32>
// CHECK: nn.relu %{{.+}} : tensor<1x4x8x8xf32>
// CHECK: %[[F:.+]] = nn.cast %{{.+}} : (tensor<1x256xf32>) -> tensor<1x256xbf16>
// CHECK: nn.gemm %[[F]], %{{.+}}, %{{.+}} {{.*}} : (tensor<1x256xbf16>, tensor<10x256xbf16>, tensor<10xf32>) -> tensor<1x10xf32>
// CHECK: nn.softmax %{{.+}} {axis = 1 : i64} : tensor<1x10xf32>
// CHECK-NOT: xf32> = nn.constant dense<2.5{{0*}}e-01>

// keep-fp32 globs match ONNX node names: the Gemm "fc" stays f32.
// KEEP-LABEL: func @net
// KEEP: nn.conv {{.*}} : (tensor<1x3x8x8xbf16>, tensor<4x3x3x3xbf16>, tensor<4xf32>)
// KEEP: nn.gemm {{.*}} : (tensor<1x256xf32>, tensor<10x256xf32>, tensor<10xf32>) -> tensor<1x10xf32>

// HALF-LABEL: func @net
// HALF: nn.conv {{.*}} : (tensor<1x3x8x8xf16>, tensor<4x3x3x3xf16>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
// HALF: nn.gemm {{.*}} : (tensor<1x256xf16>, tensor<10x256xf16>, tensor<10xf32>) -> tensor<1x10xf32>

// BAD: unknown precision 'int4' (fp32, bf16 or fp16)
func.func @net(%x: tensor<1x3x8x8xf32>) -> (tensor<1x10xf32>, tensor<1x4x8x8xf32>) {
  %w = nn.constant dense<0.5> : tensor<4x3x3x3xf32>
  %b = nn.constant dense<0.1> : tensor<4xf32>
  %c = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc("conv1")
  %c2 = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc("conv2")
  %r = nn.relu %c : tensor<1x4x8x8xf32>
  %f = nn.reshape %r : (tensor<1x4x8x8xf32>) -> tensor<1x256xf32>
  %fw = nn.constant dense<0.25> : tensor<10x256xf32>
  %fb = nn.constant dense<0.0> : tensor<10xf32>
  %y = nn.gemm %f, %fw, %fb {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true} : (tensor<1x256xf32>, tensor<10x256xf32>, tensor<10xf32>) -> tensor<1x10xf32> loc("fc")
  %s = nn.softmax %y {axis = 1 : i64} : tensor<1x10xf32>
  return %s, %c2 : tensor<1x10xf32>, tensor<1x4x8x8xf32>
}
