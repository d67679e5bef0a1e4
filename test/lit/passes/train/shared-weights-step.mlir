// Centroid fine-tuning (Deep Compression's trained quantization): a weight
// shared by strata-share-weights trains its codebook, not its values.
// RUN: strata-opt %s --strata-share-weights=fc-bits=1 --strata-build-training-step | FileCheck %s
// RUN: strata-opt %s --strata-share-weights=fc-bits=1 --strata-build-training-step=gradients-only=true | FileCheck %s --check-prefix=GRADS
// RUN: strata-opt %s --strata-prune-weights="sparsity=0.5 weights=fc.weight" --strata-share-weights=fc-bits=1 --strata-build-training-step | FileCheck %s --check-prefix=PRUNED

// The codebook (two centroids: the means of -0.4,-0.3,-0.2 and 0.2,0.3,0.4)
// is the parameter and so has the optimizer's state; the weight is gathered
// from it with one fixed index per value.
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[C:[^:]+]]: tensor<2xf32> {onnx.name = "fc.weight.codebook"}, %{{.+}}: tensor<2xf32> {onnx.name = "fc.bias"},
// CHECK-SAME: %[[V:[^:]+]]: tensor<2xf32> {onnx.name = "fc.weight.codebook.momentum"}
// CHECK-SAME: -> (tensor<f32> {onnx.name = "loss"}, tensor<2xf32> {onnx.name = "fc.weight.codebook"}
// CHECK: %[[TABLE:.+]] = nn.concat %[[C]], %{{.+}} {axis = 0 : i64} : (tensor<2xf32>, tensor<1xf32>) -> tensor<3xf32>
// CHECK: %[[IDX:.+]] = nn.constant dense<[0, 0, 0, 1, 1, 1]> : tensor<6xi32>
// CHECK: %[[FLAT:.+]] = nn.gather %[[TABLE]], %[[IDX]] {axis = 0 : i64}
// CHECK: %[[W:.+]] = nn.reshape %[[FLAT]] : (tensor<6xf32>) -> tensor<2x3xf32>
// CHECK: nn.gemm %{{.+}}, %[[W]]
// The weight's gradient, summed per centroid by the weights' indices.
// CHECK: %[[GW:.+]] = nn.gemm %{{.+}}, %{{.+}} {{{.*}}trans_a = true{{.*}}} : (tensor<2x2xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[IDX2:.+]] = nn.constant dense<[0, 0, 0, 1, 1, 1]> : tensor<6xi32>
// CHECK: %[[G:.+]] = nn.reshape %[[GW]] : (tensor<2x3xf32>) -> tensor<6xf32>
// CHECK: %[[GC:.+]] = nn.segment_sum %[[G]], %[[IDX2]] : (tensor<6xf32>, tensor<6xi32>) -> tensor<2xf32>
// SGD with momentum updates the centroids.
// CHECK: %[[VS:.+]] = nn.mul %[[V]], %{{.+}}
// CHECK: %[[V2:.+]] = nn.add %[[VS]], %[[GC]]
// CHECK: %[[STEP:.+]] = nn.mul %[[V2]], %{{.+}}
// CHECK: %[[C2:.+]] = nn.sub %[[C]], %[[STEP]] : (tensor<2xf32>, tensor<2xf32>)
// CHECK: return %{{.+}}, %[[C2]], %{{.+}}, %[[V2]]

// GRADS: -> (tensor<f32> {onnx.name = "loss"}, tensor<2xf32> {onnx.name = "fc.weight.codebook.grad"}, tensor<2xf32> {onnx.name = "fc.bias.grad"})

// Pruning keeps -0.4, 0.3 and 0.4. Pruned zeros index the appended zero
// (entry 2) and no centroid (-1): they stay
// zero, and their gradients reach no centroid.
// PRUNED: nn.constant dense<[0, 2, 2, 2, 1, 1]> : tensor<6xi32>
// PRUNED: nn.constant dense<[0, -1, -1, -1, 1, 1]> : tensor<6xi32>
// PRUNED: nn.segment_sum

module {
  func.func @main(%x: tensor<2x3xf32> {onnx.name = "input"}) -> (tensor<2x2xf32> {onnx.name = "logits"}) {
    %w = nn.constant dense<[[-0.4, -0.3, -0.2], [0.2, 0.3, 0.4]]> : tensor<2x3xf32> {onnx.initializer = "fc.weight"}
    %b = nn.constant dense<0.1> : tensor<2xf32> {onnx.initializer = "fc.bias"}
    %y = nn.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
        : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x2xf32>
    return %y : tensor<2x2xf32>
  }
}
