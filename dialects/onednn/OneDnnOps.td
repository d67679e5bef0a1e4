//===- OneDnnOps.td - the CPU backend's oneDNN kernel ops ----*- tablegen -*-===//
//
// Convolutions, max pooling, fully connected layers and batched matrix products
// that the CPU backend's kernel selection (compiler/cpu/OneDnnConvs.cpp,
// compiler/cpu/WinogradConvs.cpp) gives to oneDNN instead of generated code.
// They are a backend dialect of their own: the framework-level `nn` dialect
// says what a network computes, these say which library kernel and which
// memory layout computes it on this CPU, so only compiler/cpu creates them.
// They stay on tensors like every nn op; bufferization turns each into a call
// of the runtime's oneDNN glue (runtime/src/onednn.c, descriptor in
// strata/onednn_calls.h), which creates the primitive once and reuses it.
// Activations may be in oneDNN's channel-blocked layout "nChw<b>c" (b = the
// target's channel block), written here as a 5-d tensor N x C/b x H x W x b.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_ONEDNN_OPS
#define STRATA_ONEDNN_OPS

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def OneDnn_Dialect : Dialect {
  let name = "onednn";
  let cppNamespace = "::strata::onednn";
  let summary = "The CPU backend's kernel ops: calls of oneDNN primitives";
  let description = [{
    Made only by the CPU backend's kernel selection; lowered by
    bufferization into calls of the runtime's oneDNN glue.
  }];
}

// Element types of the kernel forms: oneDNN's f32, bf16/f16 (accumulating
// into f32) and int8 (u8/i8 into i32) convolutions and products; the pairs
// allowed are nn's contraction rule (dialects/nn/ElementTypes.h).
def OneDnn_Tensor : RankedTensorOf<[F32, BF16, F16, I8, UI8, I32]>;

class OneDnn_Op<string mnemonic, list<Trait> traits = []>
    : Op<OneDnn_Dialect, mnemonic, !listconcat([Pure], traits)>;


def OneDnn_ConvOp : OneDnn_Op<"conv", [AttrSizedOperandSegments]> {
  let summary = "2-D convolution run by oneDNN, with fused post-ops";
  let description = [{
    `input` is NCHW (`src_layout = "nchw"`, 4-d) or blocked (`"nChw8c"`,
    N x C/8 x H x W x 8); the result is in `dst_layout`. `weight` and `bias`
    are as for `nn.conv` (M x C/group x kh x kw, M). `post_ops` apply in
    order to the convolution's value: `"sum"` adds `sum` (same type as the
    result), `"relu"` is max(x, 0), `"clip"` clamps to [clip_min, clip_max].
    `weights_constant` lets the runtime reorder the weights once.

    ```mlir
    %y = onednn.conv %x, %w, %b sum %skip {dilations = array<i64: 1, 1>, group = 1 : i64,
           pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>,
           src_layout = "nChw8c", dst_layout = "nChw8c", post_ops = ["sum", "relu"],
           weights_constant = true}
        : (tensor<1x8x56x56x8xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>,
           tensor<1x8x56x56x8xf32>) -> tensor<1x8x56x56x8xf32>
    ```
  }];
  let arguments = (ins OneDnn_Tensor:$input, OneDnn_Tensor:$weight,
                   Optional<OneDnn_Tensor>:$bias, Optional<OneDnn_Tensor>:$sum,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group,
                   StrAttr:$src_layout, StrAttr:$dst_layout,
                   StrArrayAttr:$post_ops, OptionalAttr<F32Attr>:$clip_min,
                   OptionalAttr<F32Attr>:$clip_max, BoolAttr:$weights_constant);
  let results = (outs OneDnn_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`sum` $sum^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def OneDnn_PoolOp : OneDnn_Op<"pool"> {
  let summary = "2-D max pooling run by oneDNN (or, blocked, by generated code)";
  let description = [{
    Max pooling of an NCHW (`layout = "nchw"`) or blocked (`"nChw8c"`)
    tensor; the result has the same layout. `pads` are the begin pads then
    the end pads, and the result size follows from them by flooring (for
    ONNX's ceil_mode the end pads are widened; max pooling never reads
    padding).

    ```mlir
    %y = onednn.pool %x {kernel_shape = array<i64: 3, 3>, layout = "nChw8c",
                            pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
        : (tensor<1x8x112x112x8xf32>) -> tensor<1x8x56x56x8xf32>
    ```
  }];
  let arguments = (ins OneDnn_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   StrAttr:$layout);
  let results = (outs OneDnn_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def OneDnn_InnerProductOp : OneDnn_Op<"inner_product"> {
  let summary = "fully connected layer run by oneDNN, with fused post-ops";
  let description = [{
    `output[m, n] = sum_k input[m, k] * weight[n, k] + bias[n]` (ONNX Gemm
    with transB = 1, alpha = beta = 1: PyTorch's Linear), then `post_ops`
    (`"relu"`, or `"clip"` to [clip_min, clip_max]).

    ```mlir
    %y = onednn.inner_product %x, %w, %b {post_ops = ["relu"], weights_constant = true}
        : (tensor<1x9216xf32>, tensor<4096x9216xf32>, tensor<4096xf32>) -> tensor<1x4096xf32>
    ```
  }];
  let arguments = (ins OneDnn_Tensor:$input, OneDnn_Tensor:$weight,
                   Optional<OneDnn_Tensor>:$bias, StrArrayAttr:$post_ops,
                   OptionalAttr<F32Attr>:$clip_min, OptionalAttr<F32Attr>:$clip_max,
                   BoolAttr:$weights_constant);
  let results = (outs OneDnn_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def OneDnn_BatchMatmulOp : OneDnn_Op<"batch_matmul"> {
  let summary = "batched matrix product run by oneDNN";
  let description = [{
    `output[g, m, n] = sum_k lhs[g, m, k] * rhs[g, k, n]`, all row-major.
    Winograd convolutions (compiler/cpu/WinogradConvs.cpp) multiply their
    transformed input tiles by the transformed weights this way, one matrix
    per point of the transform. `weights_constant` lets the runtime reorder
    `rhs` once into oneDNN's preferred layout.

    ```mlir
    %m = onednn.batch_matmul %v, %u {weights_constant = true}
        : (tensor<36x196x64xf32>, tensor<36x64x64xf32>) -> tensor<36x196x64xf32>
    ```
  }];
  let arguments = (ins OneDnn_Tensor:$lhs, OneDnn_Tensor:$rhs, BoolAttr:$weights_constant);
  let results = (outs OneDnn_Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // STRATA_ONEDNN_OPS
