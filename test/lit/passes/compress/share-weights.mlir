// RUN: strata-opt %s --strata-share-weights="conv-bits=1 fc-bits=2" | FileCheck %s
// RUN: strata-opt %s --strata-share-weights="fc-bits=2 weights=fc.weight" | FileCheck %s --check-prefix=GLOB
// RUN: not strata-opt %s --strata-share-weights="fc-bits=0" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not strata-opt %s --strata-share-weights="conv-bits=17" 2>&1 | FileCheck %s --check-prefix=BITS17
// RUN: not strata-opt %s --strata-share-weights="weights=conv9*" 2>&1 | FileCheck %s --check-prefix=NOMATCH

// The convolution's weight with 1 bit: centroids start at its min and max
// (1, 8); 1 and 2 go to the first, 6 and 8 to the second; their means
// (1.5, 7) move no value, so they are the codebook.
// The fully connected weight with 2 bits: 4 centroids start at 1, 3.33,
// 5.67, 8; after one update they are 1.25, 4, 5, 7.5 and no value changes
// cluster. Its zeros (pruned) stay zero and its attributes stay.
// CHECK-LABEL: func @main
// CHECK: nn.constant dense<{{\[\[\[\[}}1.500000e+00, 1.500000e+00], [7.000000e+00, 7.000000e+00]]]]> : tensor<1x1x2x2xf32> {onnx.initializer = "conv.weight", strata.codebook = dense<[1.500000e+00, 7.000000e+00]> : tensor<2xf32>, strata.shared_bits = 1 : i64}
// CHECK: nn.constant dense<{{\[\[}}1.250000e+00, 1.250000e+00, 0.000000e+00, 7.500000e+00], [0.000000e+00, 4.000000e+00, 5.000000e+00, 7.500000e+00]]> : tensor<2x4xf32> {onnx.initializer = "fc.weight", strata.codebook = dense<[1.250000e+00, 4.000000e+00, 5.000000e+00, 7.500000e+00]> : tensor<4xf32>, strata.pruned, strata.shared_bits = 2 : i64, strata.sparsity = 2.500000e-01 : f64}
// Biases are not shared.
// CHECK: nn.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32> {onnx.initializer = "fc.bias"}

// Only the named weight: the convolution keeps its values (the default of
// 8 bits would have kept them too: 4 distinct values).
// GLOB: nn.constant dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00], [6.000000e+00, 8.000000e+00]]]]> : tensor<1x1x2x2xf32> {onnx.initializer = "conv.weight"}
// GLOB: strata.shared_bits = 2 : i64

// BITS: bits per weight must be in 1..16, not 0
// BITS17: bits per weight must be in 1..16, not 17
// NOMATCH: weight conv9* matches no layer weight (conv.weight, fc.weight)
func.func @main(%x: tensor<1x1x3x3xf32> {onnx.name = "input"}) -> (tensor<1x2xf32> {onnx.name = "logits"}) {
  %wc = nn.constant dense<[[[[1.0, 2.0], [6.0, 8.0]]]]> : tensor<1x1x2x2xf32> {onnx.initializer = "conv.weight"}
  %c = nn.conv %x, %wc {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x1x3x3xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %f = nn.reshape %c : (tensor<1x1x2x2xf32>) -> tensor<1x4xf32>
  %w = nn.constant dense<[[1.0, 1.5, 0.0, 8.0], [0.0, 4.0, 5.0, 7.0]]> : tensor<2x4xf32> {onnx.initializer = "fc.weight", strata.pruned, strata.sparsity = 2.500000e-01 : f64}
  %b = nn.constant dense<[0.5, 0.25]> : tensor<2xf32> {onnx.initializer = "fc.bias"}
  %y = nn.gemm %f, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
