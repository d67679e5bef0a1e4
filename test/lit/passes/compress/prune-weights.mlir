// RUN: strata-opt %s --split-input-file --strata-prune-weights="sparsity=0.5" | FileCheck %s
// RUN: strata-opt %s --split-input-file --strata-prune-weights="sparsity=0.75 weights=fc1.weight,fc2.*" | FileCheck %s --check-prefix=GLOB
// RUN: strata-opt %s --split-input-file --strata-prune-weights="quality=1.0" | FileCheck %s --check-prefix=HAN
// RUN: not strata-opt %s --split-input-file --strata-prune-weights="sparsity=1.0" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not strata-opt %s --split-input-file --strata-prune-weights="sparsity=0.5 weights=conv*" 2>&1 | FileCheck %s --check-prefix=NOMATCH
// RUN: not strata-opt %s --split-input-file --strata-prune-weights 2>&1 | FileCheck %s --check-prefix=NEITHER

// Two fully connected layers. By default the first layer stays dense; the
// second loses the half of its weights with the smallest magnitudes (ties:
// the earlier position; its zero counts), keeping its name and saying what
// it is. Biases are never pruned.
// CHECK-LABEL: func @main
// CHECK: nn.constant dense<{{\[\[}}1.000000e-01, -2.000000e-01, 3.000000e-01, -4.000000e-01], [5.000000e-01, -6.000000e-01, 0.699999988, -8.000000e-01]]> : tensor<2x4xf32> {onnx.initializer = "fc1.weight"}
// CHECK: nn.constant dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32> {onnx.initializer = "fc1.bias"}
// CHECK: nn.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 2.000000e+00, -2.000000e+00], [4.000000e+00, 0.000000e+00, 3.000000e+00, 0.000000e+00]]> : tensor<2x4xf32> {onnx.initializer = "fc2.weight", strata.pruned, strata.sparsity = 5.000000e-01 : f64}

// Named layers, the first included; 75% of each.
// GLOB-DAG: nn.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.699999988, -8.000000e-01]]> : tensor<2x4xf32> {onnx.initializer = "fc1.weight", strata.pruned, strata.sparsity = 7.500000e-01 : f64}
// GLOB-DAG: nn.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [4.000000e+00, 0.000000e+00, 3.000000e+00, 0.000000e+00]]> : tensor<2x4xf32> {onnx.initializer = "fc2.weight", strata.pruned, strata.sparsity = 7.500000e-01 : f64}

// Han's rule: |w| < 1.0 x std. fc2's weights have std 1.82, so 2, -2, 4 and
// 3 stay.
// HAN: nn.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 2.000000e+00, -2.000000e+00], [4.000000e+00, 0.000000e+00, 3.000000e+00, 0.000000e+00]]> : tensor<2x4xf32> {onnx.initializer = "fc2.weight", strata.pruned, strata.sparsity = 5.000000e-01 : f64}

// RANGE: sparsity {{.*}} is outside [0, 1): a layer needs a weight left
// NOMATCH: weight conv* matches no layer weight (fc1.weight, fc2.weight)
// NEITHER: strata-prune-weights needs exactly one of sparsity and quality
func.func @main(%x: tensor<1x4xf32> {onnx.name = "input"}) -> (tensor<1x4xf32> {onnx.name = "logits"}) {
  %w1 = nn.constant dense<[[0.1, -0.2, 0.3, -0.4], [0.5, -0.6, 0.7, -0.8]]> : tensor<2x4xf32> {onnx.initializer = "fc1.weight"}
  %b1 = nn.constant dense<[0.1, 0.2]> : tensor<2xf32> {onnx.initializer = "fc1.bias"}
  %w2 = nn.constant dense<[[0.5, -0.5, 2.0, -2.0], [4.0, 0.0, 3.0, 1.0]]> : tensor<2x4xf32> {onnx.initializer = "fc2.weight"}
  %h = nn.gemm %x, %w1, %b1 {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
      : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %r = nn.relu %h : tensor<1x2xf32>
  %y = nn.matmul %r, %w2 : (tensor<1x2xf32>, tensor<2x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
