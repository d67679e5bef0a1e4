// RUN: strata-opt %s --strata-build-training-step | FileCheck %s
// RUN: strata-opt %s --strata-build-training-step="optimizer=adam(lr=0.001) loss=mse" | FileCheck %s --check-prefix=ADAM
// RUN: strata-opt %s --strata-build-training-step="freeze=fc.bias optimizer=sgd(lr=0.1)" | FileCheck %s --check-prefix=FREEZE
// RUN: strata-opt %s --strata-build-training-step="gradients-only=true" | FileCheck %s --check-prefix=GRADS
// RUN: not strata-opt %s --strata-build-training-step="optimizer=sgd(lr=0.1,momentun=0.9)" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: strata-opt %s --strata-prune-weights="sparsity=0.5 weights=fc.weight" --strata-build-training-step | FileCheck %s --check-prefix=PRUNED

// Initializers become leading arguments; momentum state follows them; then
// the model's input, the labels and the per-sample mask. Results: the loss,
// the new weights and the new state.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[W:.+]]: tensor<3x4xf32> {onnx.name = "fc.weight"}, %[[B:.+]]: tensor<3xf32> {onnx.name = "fc.bias"},
// CHECK-SAME: %[[VW:.+]]: tensor<3x4xf32> {onnx.name = "fc.weight.momentum"}, %[[VB:.+]]: tensor<3xf32> {onnx.name = "fc.bias.momentum"},
// CHECK-SAME: %[[X:.+]]: tensor<2x4xf32> {onnx.name = "input"}, %[[L:.+]]: tensor<2xi64> {onnx.name = "labels"}, %[[M:.+]]: tensor<2xf32> {onnx.name = "mask"})
// CHECK-SAME: -> (tensor<f32> {onnx.name = "loss"}, tensor<3x4xf32> {onnx.name = "fc.weight"}, tensor<3xf32> {onnx.name = "fc.bias"}, tensor<3x4xf32> {onnx.name = "fc.weight.momentum"}, tensor<3xf32> {onnx.name = "fc.bias.momentum"})
// CHECK: %[[Y:.+]] = nn.gemm %[[X]], %[[W]], %[[B]]
// Softmax cross-entropy as log_softmax times a one-hot of the labels.
// CHECK: nn.log_softmax %[[Y]] {axis = 1 : i64}
// CHECK: nn.compare  eq
// CHECK: nn.reduce  sum {{.*}}%[[M]]
// SGD with momentum 0.9 and lr 0.05: v' = 0.9 v + g; w' = w - 0.05 v'.
// CHECK: %[[VS:.+]] = nn.mul %[[VW]], %{{.+}}
// CHECK: %[[V2:.+]] = nn.add %[[VS]], %{{.+}}
// CHECK: %[[STEP:.+]] = nn.mul %[[V2]], %{{.+}}
// CHECK: %[[W2:.+]] = nn.sub %[[W]], %[[STEP]]
// CHECK: return %{{.+}}, %[[W2]], %{{.+}}, %[[V2]], %{{.+}}

// ADAM: func.func @main(%{{.+}}: tensor<3x4xf32> {onnx.name = "fc.weight"}, %{{.+}}: tensor<3xf32> {onnx.name = "fc.bias"}, %[[T:.+]]: tensor<f32> {onnx.name = "adam.step"}, %{{.+}} {onnx.name = "fc.weight.adam_m"}, %{{.+}} {onnx.name = "fc.weight.adam_v"}, %{{.+}} {onnx.name = "fc.bias.adam_m"}, %{{.+}} {onnx.name = "fc.bias.adam_v"}, %{{.+}}: tensor<2x4xf32> {onnx.name = "input"}, %{{.+}}: tensor<2x3xf32> {onnx.name = "labels"}
// Bias corrections use beta^t with t = step + 1.
// ADAM: %[[T2:.+]] = nn.add %[[T]], %{{.+}} : (tensor<f32>, tensor<f32>) -> tensor<f32>
// ADAM: nn.pow %{{.+}}, %[[T2]]
// ADAM: nn.sqrt

// FREEZE: func.func @main(%{{.+}}: tensor<3x4xf32> {onnx.name = "fc.weight"}, %{{.+}}: tensor<2x4xf32> {onnx.name = "input"}
// FREEZE: nn.constant {{.*}}onnx.initializer = "fc.bias"

// GRADS: -> (tensor<f32> {onnx.name = "loss"}, tensor<3x4xf32> {onnx.name = "fc.weight.grad"}, tensor<3xf32> {onnx.name = "fc.bias.grad"})

// A pruned weight (strata-prune-weights: the first half of a splat, ties
// by position) is trained under its mask: the gradient is masked before
// momentum sees it, and the new weight again, so pruned entries stay 0.
// PRUNED: func.func @main(%[[W:[^:]+]]: tensor<3x4xf32> {onnx.name = "fc.weight"}
// PRUNED: %[[MASK:.+]] = nn.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 1.000000e+00, 1.000000e+00], [1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00]]> : tensor<3x4xf32>
// PRUNED: %[[G:.+]] = nn.mul %{{.+}}, %[[MASK]] : (tensor<3x4xf32>, tensor<3x4xf32>)
// PRUNED: nn.add %{{.+}}, %[[G]]
// PRUNED: %[[NEXT:.+]] = nn.sub %[[W]], %{{.+}}
// PRUNED: %[[W2:.+]] = nn.mul %[[NEXT]], %[[MASK]]
// PRUNED: return %{{.+}}, %[[W2]],

// BAD: unknown argument 'momentun' for sgd (lr, momentum, nesterov, weight_decay)
module {
  func.func @main(%x: tensor<2x4xf32> {onnx.name = "input"}) -> (tensor<2x3xf32> {onnx.name = "logits"}) {
    %w = nn.constant dense<0.5> : tensor<3x4xf32> {onnx.initializer = "fc.weight"}
    %b = nn.constant dense<0.1> : tensor<3xf32> {onnx.initializer = "fc.bias"}
    %y = nn.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
        : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}
