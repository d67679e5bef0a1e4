// RUN: strata-opt %s --strata-nn-to-linalg-pipeline | FileCheck %s
// RUN: strata-opt %s --strata-nn-to-linalg-pipeline --strata-linalg-to-llvm-pipeline | FileCheck %s --check-prefix=LLVM

// Contractions with narrow operands and a wide accumulator
// (dialects/nn/ElementTypes.h) pass the CPU's kernel selection. bf16 x bf16
// -> f32 with no 16-bit kernel for it (these operands are arguments, not
// values rounded from f32 that oneDNN could read; strata-onednn-convs) is
// widened to f32 by strata-widen-half-contractions for the f32 kernels
// (the tiled matmul); i8 x i8 -> i32 takes the generic lowering: linalg
// ops that widen each operand before multiplying, down to LLVM.

// CHECK-LABEL: func @main
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x3xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xi8>, tensor<8x3xi8>) outs(%{{.*}} : tensor<4x3xi32>)
// CHECK-NOT: onednn.
// LLVM: llvm.func @main
// LLVM-DAG: llvm.sext %{{.*}} : i8 to i32
// LLVM-DAG: llvm.mul %{{.*}} : i32
func.func @main(%a: tensor<4x8xbf16>, %b: tensor<8x3xbf16>, %x: tensor<4x8xi8>, %y: tensor<8x3xi8>)
    -> (tensor<4x3xf32>, tensor<4x3xi32>) {
  %0 = nn.matmul %a, %b : (tensor<4x8xbf16>, tensor<8x3xbf16>) -> tensor<4x3xf32>
  %1 = nn.matmul %x, %y : (tensor<4x8xi8>, tensor<8x3xi8>) -> tensor<4x3xi32>
  return %0, %1 : tensor<4x3xf32>, tensor<4x3xi32>
}
