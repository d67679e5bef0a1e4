//===- Passes.td - strata's passes -----------------------------*- tablegen -*-===//
//
// Every strata pass is declared here; flags carry the `strata-` prefix.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES
#define STRATA_PASSES

include "mlir/Pass/PassBase.td"

def GraphFold : Pass<"strata-graph-fold"> {
  let summary = "Fold nn ops on constants, drop algebraic identities and dead ops";
  let description = [{
    Runs the `nn` folders to a fixed point: elementwise math on small `dense`
    constants, `x + 0`, `x * 1`, reshape-of-reshape, identity transposes and
    casts; then removes ops whose results are unused. Unlike `canonicalize`
    it applies no other dialect's patterns, so it is safe to run right after
    import. `dense_resource` weights are never expanded.
    Lit test: test/lit/passes/graph/graph-fold.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def QuantizedOps : Pass<"strata-quantized-ops"> {
  let summary = "Compute QDQ-quantized layers in integers";
  let description = [{
    `quantize(act?(conv|matmul|gemm(dequantize(xq), dequantize(wq), bias)))`
    with constant per-tensor activation quantization and symmetric int8
    weights (per tensor or per output channel) becomes an integer
    contraction of `xq` by `wq` into i32 plus an i32 bias (the float bias
    quantized with x_scale * w_scale, the input's zero point folded in as
    `-zx * sum(w)`, a convolution's input padded with `zx`), then
    `nn.requantize` with the factor x_scale * w_scale / y_scale in fixed
    point; a Relu or Clip in between narrows the saturation bounds.
    `quantize(relu|max-pool(dequantize(xq)))` with equal scale and zero
    point becomes the op on `xq`. What does not fit stays in float.
    Lit test: test/lit/passes/compress/quantized-ops.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def FakeQuantize : Pass<"strata-fake-quantize"> {
  let summary = "QDQ pairs of float values as nn.fake_quantize (quantization-aware training)";
  let description = [{
    `dequantize(quantize(x))` of a float `x` with constant, equal scales and
    zero points becomes `nn.fake_quantize`: the same float result, and a
    straight-through gradient (nn.quantize has none: its result is an
    integer). `strata train --qat` runs it on the QDQ model it trains,
    before the training step is built.
    Lit test: test/lit/passes/train/fake-quantize.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def MixedPrecision : Pass<"strata-mixed-precision", "mlir::ModuleOp"> {
  let summary = "Convolutions, matmuls and Gemms read bf16/fp16 operands and accumulate in f32";
  let description = [{
    `--precision=bf16|fp16` of strata compile, run and bench. Each f32
    `nn.conv`, `nn.matmul` and `nn.gemm` whose ONNX node no `keep-fp32` glob
    matches reads its two operands in the 16-bit type (constant weights
    converted once, rounded to nearest even; an activation through one
    `nn.cast` per value) and keeps its f32 result (and f32 bias): the
    contraction accumulates in f32. Every other op stays f32 -- the allow
    list is the contractions, so softmax, reductions, normalizations,
    exp/log and losses never see 16-bit values. The backend runs what its
    target has kernels for in 16 bits and the rest in f32 on the rounded
    values. Lit test: test/lit/passes/graph/mixed-precision.mlir.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"bf16\"",
           "The contractions' operand type: bf16, fp16 (or fp32: nothing changes)">,
    ListOption<"keepFp32", "keep-fp32", "std::string",
               "ONNX node names (globs) whose contractions stay f32">
  ];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def CheckConstantIndices : Pass<"strata-check-constant-indices"> {
  let summary = "Refuse constant gather indices outside their axis";
  let description = [{
    `nn.gather` and `nn.gather_elements` whose indices are constants (in the
    model, or after `strata-graph-fold`) must stay within [-n, n) of the
    data's axis, as ONNX defines them; otherwise the pass fails with an error
    at the op naming the index and the range. Indices computed at run time
    are checked by the generated code instead (strata-lower-nn-to-linalg).
    Lit test: test/lit/passes/graph/check-constant-indices.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def FoldBatchNorm : Pass<"strata-fold-batch-norm"> {
  let summary = "Fold inference batch normalization into the preceding convolution";
  let description = [{
    `nn.batch_norm(nn.conv(x, W, b), gamma, beta, mean, var)` with constant
    weights and statistics becomes `nn.conv(x, W * s, (b - mean) * s + beta)`
    with `s = gamma / sqrt(var + epsilon)` per output channel, computed at
    compile time in double precision. The convolution must have no other
    user. Batch norms elsewhere are left for the elementwise lowering.
    Lit test: test/lit/passes/graph/fold-batch-norm.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def PruneWeights : Pass<"strata-prune-weights", "mlir::ModuleOp"> {
  let summary = "Magnitude pruning: zero the smallest weights of chosen layers";
  let description = [{
    Han et al., "Learning both Weights and Connections for Efficient Neural
    Networks" (NIPS 2015), stage 1 of Deep Compression. The weights are the
    constant initializers (`onnx.initializer`) a convolution, Gemm or MatMul
    multiplies by (biases and other constants are never pruned). By default
    every such weight but the first layer's (which the paper finds the most
    sensitive) is pruned; `weights` names them by glob instead (the first
    layer too, if it matches). Per weight, either the `sparsity` fraction
    of smallest magnitudes (ties broken by position) becomes zero, or, with
    `quality`, every weight below quality x the layer's standard deviation
    (the paper's rule). Weights already zero count as pruned, so repeated
    pruning with rising sparsity is iterative pruning. The new constant
    keeps its name and carries `strata.pruned` (its mask is its nonzeros:
    `strata-build-training-step` keeps pruned weights at zero) and
    `strata.sparsity`, the fraction of zeros.
    Lit test: test/lit/passes/compress/prune-weights.mlir.
  }];
  let options = [
    Option<"sparsity", "sparsity", "double", /*default=*/"-1.0",
           "Fraction of each pruned weight to zero, in [0, 1)">,
    Option<"quality", "quality", "double", /*default=*/"-1.0",
           "Instead of sparsity: prune |w| < quality x std(w) (Han's rule)">,
    ListOption<"weights", "weights", "std::string",
               "Globs of initializer names to prune (default: all but the first layer's)">
  ];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def ShareWeights : Pass<"strata-share-weights", "mlir::ModuleOp"> {
  let summary = "Weight sharing: a layer's nonzero weights become k-means centroids";
  let description = [{
    Stage 2 of Deep Compression (Han, Mao and Dally, ICLR 2016). For each
    chosen layer weight (by default every convolution, Gemm and MatMul
    weight, the first layer's too; `weights` names them by glob), the
    nonzero values are clustered by 1-D k-means into at most 2^bits
    centroids, started linearly between the smallest and largest value (the
    paper's best initialization), until no value changes cluster; each
    nonzero becomes its centroid, zeros (pruned connections) stay zero and
    outside the clusters. Bits: `conv-bits` for convolution weights
    (default 8) and `fc-bits` for the others (default 5), as in the paper.
    The constant keeps its name and attributes and gets `strata.shared_bits`
    and `strata.codebook` (the centroids, ascending).
    Lit test: test/lit/passes/compress/share-weights.mlir.
  }];
  let options = [
    Option<"convBits", "conv-bits", "int64_t", /*default=*/"8",
           "Bits per index (2^bits centroids) of convolution weights, 1..16">,
    Option<"fcBits", "fc-bits", "int64_t", /*default=*/"5",
           "Bits per index of fully connected (Gemm, MatMul) weights, 1..16">,
    ListOption<"weights", "weights", "std::string",
               "Globs of initializer names to share (default: every layer weight)">
  ];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def OneDnnConvs : Pass<"strata-onednn-convs", "mlir::ModuleOp"> {
  let summary = "Give 2-D convolutions to oneDNN in a blocked layout, with fused post-ops";
  let description = [{
    The CPU's kernel and layout choice for convolutions. A 2-D f32 `nn.conv`
    (plain, or depthwise) whose output channels are a multiple of 8 becomes
    `onednn.conv` writing oneDNN's channel-blocked layout nChw<B>c (a 5-d
    tensor N x C/B x H x W x B), B the target's channel block
    (`channel-block`: 8, or 16 with AVX-512) or, in a region whose channels
    are not all multiples of B, 8: one block per region. The layout spreads to elementwise ops with
    same-shape operands and to 2-D max pooling (`onednn.pool`); reorders
    (reshape + transpose) are inserted once per value at the edges, where an
    NCHW op reads. Then a convolution's only consumer that is a relu, a
    two-sided clip or a same-shape add becomes a post-op of the convolution
    (`post_ops = ["sum", "relu"]` for a ResNet block's end). Other
    convolutions stay `nn.conv` for the generated im2col + matmul path.
    A Gemm with transB and a constant weight of at least 2^20 elements, at
    most 16 rows (a large fully connected layer at small batch) becomes
    `onednn.inner_product`, with a following relu or clip fused.
    Lit test: test/lit/compiler/cpu/onednn-convs.mlir, onednn-convs-blocks.mlir (the
    choice per node: test/lit/cli/explain.test; one width: test/lit/cli/vector-width.test).
  }];
  let options = [
    Option<"channelBlock", "channel-block", "int64_t", /*default=*/"8",
           "Channels per block of the blocked layout, nChw<block>c (CpuTarget)">,
    Option<"bf16Kernels", "bf16-kernels", "bool", /*default=*/"false",
           "oneDNN has bf16 kernels on the target (AVX512_BF16 or AMX): bf16 x bf16 "
           "-> f32 convolutions and inner products (strata-mixed-precision) go to it">
  ];
  let dependentDialects = ["::strata::nn::NNDialect", "::strata::onednn::OneDnnDialect"];
}

def Autodiff : Pass<"strata-autodiff", "mlir::ModuleOp"> {
  let summary = "Append the gradients of each function's loss to its results";
  let description = [{
    Reverse-mode automatic differentiation over nn ops: for every function,
    the first result is the loss (a floating-point tensor; its gradient
    starts as ones) and the gradients with respect to every floating-point
    argument are appended to the results, in argument order. Each op builds
    its own backward ops through `DifferentiableOpInterface`; an op on the
    path without a rule is an error naming it. `strata train` uses the same
    walk (passes/train/Autodiff.h) with the trainable weights as arguments.
    Lit test: test/lit/passes/train/autodiff.mlir, autodiff-errors.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def BuildTrainingStep : Pass<"strata-build-training-step", "mlir::ModuleOp"> {
  let summary = "Turn @main (a forward graph) into one compiled training step";
  let description = [{
    What `strata train` compiles: @main's float initializers (constants
    tagged `onnx.initializer`) become leading arguments, a loss on the first
    result is added (softmax cross-entropy against i64 labels, or mean
    squared error against float targets, each weighted by a 0/1 `mask` per
    sample), the gradients are built by reverse-mode autodiff, and the
    optimizer's update is appended. The new signature is
    `(params..., state..., inputs..., labels, mask) -> (loss, params'...,
    state'...)`. Batch-norm statistics and `freeze`-matching initializers
    stay constants.
    Lit test: test/lit/passes/train/build-training-step.mlir.
  }];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"cross-entropy\"",
           "cross-entropy or mse">,
    Option<"optimizer", "optimizer", "std::string",
           /*default=*/"\"sgd(lr=0.05,momentum=0.9)\"",
           "sgd(lr=,momentum=,nesterov=,weight_decay=) or adam(lr=,beta1=,beta2=,eps=,weight_decay=)">,
    ListOption<"freeze", "freeze", "std::string",
               "Globs of initializer names to keep constant">,
    Option<"gradientsOnly", "gradients-only", "bool", /*default=*/"false",
           "Return (loss, gradients...) instead of updating the parameters">
  ];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def LowerNNToLinalg : Pass<"strata-lower-nn-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower nn ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Elementwise ops become broadcasting `linalg.generic`s (fused later by
    `linalg-fuse-elementwise-ops`), 2-D matmul `linalg.matmul`, and gemm,
    batched matmul, convolution (any rank, groups, strides, dilations) and
    pooling `linalg.generic` contractions and window reductions; constants
    become `arith.constant` (weights stay `dense_resource`). Shapes must be
    static: an op with a dynamic dimension is reported with the advice to
    compile with `--batch=N`.

    Gathers read at indices known only at run time: an index outside its
    axis reads element 0 instead of memory outside the tensor, and with
    `run-time-checks` the first such index of a run is reported through
    `strata_index_out_of_range(context, node, index, size)` (the run context
    comes from `@strata_run_context()`, which strata-materialize-run-context
    binds to @main's context argument; `node` is the address of a constant
    string naming the ONNX node), so the run fails with that message.
    Lit tests: test/lit/compiler/lowering/nn-to-linalg.mlir,
    test/lit/compiler/lowering/gather-checks.mlir.
  }];
  let options = [
    Option<"runTimeChecks", "run-time-checks", "bool", /*default=*/"false",
           "Report gather indices out of range at run time (CPU modules)">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::func::FuncDialect"
  ];
}

def SignlessIntegers : Pass<"strata-signless-integers", "mlir::ModuleOp"> {
  let summary = "Store unsigned 8-bit tensors as signless bits, widening where values matter";
  let description = [{
    The code generators (arith, LLVM) compute on signless integers only.
    This pass, the first of the lowering, retypes every `ui8` tensor (block
    arguments, results, constants) to `i8` with the same bits. Ops that only
    move bits (reshape, transpose, concat, slice, gather, broadcast, tile,
    where, return) keep working on the bits; every other op that read a
    `ui8` operand reads it zero-extended to `i32` (`nn.extend_unsigned`, or
    a constant widened at compile time), and one that produced `ui8`
    produces `i32` and is truncated back (`nn.cast`), a quantize to `ui8`
    first clipped to [0, 255]. So unsigned arithmetic, comparisons and
    conversions keep their unsigned meaning, and quantized `ui8`
    activations reach kernels as the bytes they are. The model's signature
    (dtypes of inputs and outputs) is read before this pass and keeps `ui8`.
    Lit test: test/lit/compiler/lowering/signless-integers.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def OneDnnInt8 : Pass<"strata-onednn-int8", "mlir::ModuleOp"> {
  let summary = "Give int8 convolutions and matmuls to oneDNN's int8 kernels (CPU)";
  let description = [{
    `nn.conv` (2-D) of u8/s8 by constant s8 weights into i32 becomes
    `onednn.conv` in the channels-last layout (`nhwc`) oneDNN's int8 kernels
    read, between transposes; a `nn.requantize` that is its only reader
    runs in channels-last too (its per-channel factors reshaped), so the
    reorder back moves bytes. A 2-D `nn.matmul` by constant s8 weights
    becomes `onednn.inner_product` with the weights transposed at compile
    time. oneDNN picks VNNI's `vpdpbusd` or the `vpmaddubsw` sequence by the
    ISA the program is capped to (`--cpu`).
    Lit test: test/lit/compiler/cpu/onednn-int8.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect", "::strata::onednn::OneDnnDialect"];
}

def ApproximateTanh : Pass<"strata-approximate-tanh"> {
  let summary = "f32 math.tanh as a rational approximation that vectorizes (CPU)";
  let description = [{
    Rewrites `math.tanh` on f32 (scalars and vectors) into MLIR's polynomial
    approximation (clamped rational function), so loops applying tanh
    vectorize instead of calling libm's `tanhf` per element. Other types
    and other math functions are left alone.
    Lit test: test/lit/compiler/cpu/approximate-tanh.mlir.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def OneDnnMatmuls : Pass<"strata-onednn-matmuls", "mlir::ModuleOp"> {
  let summary = "Give batched f32 matmuls to oneDNN's batched matmul (CPU)";
  let description = [{
    An f32 `nn.matmul` of static operands of rank 3 or more with equal batch
    dimensions (attention's per-head products) becomes `onednn.batch_matmul`
    on `[G, M, K] x [G, K, N]` views, between free reshapes. Products by a 2-D
    right operand lower to one 2-D matmul instead; broadcast batch
    dimensions keep the generic lowering.
    Lit test: test/lit/compiler/cpu/onednn-matmuls.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect", "::strata::onednn::OneDnnDialect"];
}

def WidenHalfContractions : Pass<"strata-widen-half-contractions", "mlir::ModuleOp"> {
  let summary = "Contractions with bf16/fp16 operands that no 16-bit kernel took compute in f32";
  let description = [{
    After strata-onednn-convs: every `nn.conv`, `nn.matmul` and `nn.gemm`
    still reading bf16 or fp16 operands into f32 (a target without bf16
    kernels, fp16, shapes oneDNN does not take) reads them widened to f32
    (exactly: constant weights once, activations by a cast back after their
    rounding), so the f32 kernels (Winograd, direct, tiled matmul) take it
    and compute the products the 16-bit kernels would. Lit test:
    test/lit/compiler/cpu/widen-half-contractions.mlir.
  }];
  let dependentDialects = ["::strata::nn::NNDialect"];
}

def WinogradConvs : Pass<"strata-winograd-convs"> {
  let summary = "3x3 convolutions as Winograd transforms around a batched matmul (CPU)";
  let description = [{
    An `onednn.conv` with a 3x3 kernel, stride 1, dilation 1, padding 1,
    one group, constant weights and blocked (nChw8c) input and output whose
    output splits into at least 32 tiles of 4x4 (or else of 2x2; a partial
    last tile is computed from zeros and cropped) becomes Winograd's minimal
    filtering F(4x4, 3x3) (F(2x2, 3x3)):
    the weights are transformed at compile time into U = G g G^T (36 or 16
    matrices C x K); an `scf.forall` over (n, input channel block, tile row)
    transforms 6x6 (4x4) input tiles, 8 channels per vector, into
    V = B^T d B, written as 36 (16) row-major T x C matrices;
    `onednn.batch_matmul` forms M = V U; and an `scf.forall` over (n,
    output channel block, tile row) maps each tile back with A^T M A and
    applies the bias and the convolution's post-ops (sum, relu, clip) in
    registers before writing nChw8c. F(4x4, 3x3) needs 4x fewer
    multiplications than the direct convolution, F(2x2, 3x3) 2.25x.
    Runs after `strata-onednn-convs` in the CPU pipeline.
    Lit test: test/lit/compiler/cpu/winograd-convs.mlir.
  }];
  let dependentDialects = ["::strata::onednn::OneDnnDialect", "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

def DirectConv : Pass<"strata-direct-conv"> {
  let summary = "Small convolutions and their gradients straight from the input rows (CPU)";
  let description = [{
    Stride-1, dilation-1 2-D convolutions without a patch matrix:
    `nn.conv` with at most 8 output channels and output rows of at most 32
    (with its only user `nn.relu` folded in) becomes an `scf.forall` over
    output rows (n, oh) in which each shifted input row is read once as a
    vector and multiplied into a register tile of output channels with
    broadcast weights (`vector.fma`). `nn.conv_filter_grad` with at most 16
    output channels becomes an `scf.forall` over (batch part, channel
    pair, input channel, ky) whose items accumulate 2 x KW vectors of
    output-gradient rows times shifted input rows in registers, reduce
    them, and are summed over the batch parts (`linalg.reduce`).
    `nn.conv_input_grad` with at most 16 input channels and input rows of at
    most 32 becomes an `scf.forall` over input rows (n, h): per channel
    tile, KW accumulators per channel sum the output-gradient rows h - ky
    that exist times broadcast weights over (o, ky), and the input row is
    their sum shifted by kx (`vector.insert_strided_slice`); no column
    matrix, no col2im. Padding is a zero-padded copy of the input (its
    gradient is cropped). Runs before
    `strata-lower-nn-to-linalg` in the CPU pipeline only.
    Lit test: test/lit/compiler/cpu/direct-conv.mlir.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the target's vector registers in bits (CpuTarget)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def SparseWeights : Pass<"strata-sparse-weights"> {
  let summary = "Sparse-times-dense kernels for layers whose constant weights are mostly zeros (CPU)";
  let description = [{
    `nn.gemm` (A not transposed, C absent or one value per output),
    `nn.matmul` of a 2-D input by a 2-D constant, and `nn.conv` (group 1,
    2-D) whose f32 constant weight is mostly exact zeros compute only the
    nonzeros. Rows (output features or channels) are taken in slices of
    one vector; each slice lists its nonzeros as columns of (input index,
    value), padded with zero values. On AVX-512 targets the input is read in
    32-wide windows held in two registers and each column picks its lanes
    with one permute (vpermi2ps; byte indices); elsewhere each column
    gathers its inputs (`vector.gather`). A convolution reads its taps at
    each output position's offset in a zero-padded copy of the input. The
    dense weight is dropped: storage shrinks to the nonzeros, their indices
    and the padding.

    Without `force`, the measured rule (bench/RESULTS.md, "Sparse kernels"):
    fully connected layers on AVX-512 targets, from 60% zeros for a batch
    of 1 row and from 85% for more rows; convolutions and the gather kernel
    stay dense (slower at any sparsity measured). Runs first in the CPU's
    kernel selection. Lit test: test/lit/compiler/cpu/sparse-weights.mlir.
  }];
  let options = [
    Option<"force", "force", "bool", /*default=*/"false",
           "Every eligible constant weight, however dense (--sparse=on)">,
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the target's vector registers in bits (CpuTarget)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def VectorizeReductions : Pass<"strata-vectorize-reductions"> {
  let summary = "Sums over contiguous rows accumulated in vector registers (CPU)";
  let description = [{
    Rewrites `nn.reduce sum` (f32, static) whose axes include the innermost
    one and that sums at least 64 elements per result (a convolution's
    bias gradient) into an `scf.forall` over the kept indices: each item
    adds its rows into a vector accumulator (full vectors, then a masked
    tail) and reduces it once. The generic lowering adds one element at a
    time into the result in memory, a load-add-store chain LLVM cannot
    keep in a register. Runs before `strata-lower-nn-to-linalg` in the CPU
    pipeline only.
    Lit test: test/lit/compiler/cpu/vectorize-reductions.mlir.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the target's vector registers in bits (CpuTarget)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

def VectorizePooling : Pass<"strata-vectorize-pooling"> {
  let summary = "Max pooling whose windows tile the input, its gradient, and blocked max pooling as vector code (CPU)";
  let description = [{
    Rewrites `nn.pool max` and `nn.pool_grad max` with 2-D windows that tile
    the input (kernel == stride, no padding or dilation, the input exactly
    OH*KH x OW*KW, rows of at most 256 floats; the gradient for KW <= 2)
    into an `scf.forall` over (N, C, OH) output rows: the KH input rows are
    read as vectors and combined, and `vector.shuffle` splits them into
    their KW interleaved lanes. The gradient recomputes each window's first
    maximum (ordered `>`, as the generic argmax) in registers and writes the
    routed rows back interleaved, instead of materializing an i64 argmax
    and routing each input position with a division. Also `onednn.pool`
    in the blocked nChw8c layout whose every window holds an input position
    (ResNet's 3x3 stride 2 pad 1): an `scf.forall` over (N, C/8, OH) output
    rows, each output the max of its window's 8-channel vectors, padded
    positions read at the nearest input index (same window, same max);
    2-3x faster than oneDNN's AVX2 kernel here. Runs before
    `strata-lower-nn-to-linalg` in the CPU pipeline only.
    Lit test: test/lit/compiler/cpu/vectorize-pooling.mlir.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

def FuseElementwise : Pass<"strata-fuse-elementwise"> {
  let summary = "Fuse elementwise linalg ops and reshapes, keeping matmuls named";
  let description = [{
    MLIR's `linalg-fuse-elementwise-ops` with one difference: a reshape is
    never folded into a `linalg.matmul` (which would turn it into a generic
    contraction that `strata-tile-and-vectorize-matmul` no longer sees).
    Convolutions lowered through a patch matrix are matmuls between two
    reshapes, so this keeps them on the fast path. Elementwise producers and
    consumers (bias, activation, residual add) still fuse into one loop.
    Lit test: test/lit/compiler/lowering/fused-transpose.mlir, shared-patches.mlir.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def TileAndVectorizeMatmul : Pass<"strata-tile-and-vectorize-matmul", "mlir::func::FuncOp"> {
  let summary = "Tile linalg.matmul for caches and registers, vectorize the register tile";
  let description = [{
    Two levels of tiling on tensors: cache blocks (m, n, k) and, inside
    them, a register tile of `mr x nr x kr` with nr two vectors wide. The
    register tile becomes a `vector.contract`, which `strata-lower-vectors`
    turns into broadcast-FMA outer products after bufferization. Tile sizes
    are chosen to divide the matmul exactly, so every tile is static; a
    matmul with no fitting sizes is left for the scalar path.
    Lit test: test/lit/compiler/cpu/tile-and-vectorize-matmul.mlir.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the target's vector registers (256 for AVX2, 512 for AVX-512)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect", "::mlir::affine::AffineDialect"
  ];
}

def CopyReturnedViews : Pass<"strata-copy-returned-views", "mlir::func::FuncOp"> {
  let summary = "Give each function result a buffer of its own before bufferization";
  let description = [{
    Marks every tensor argument `bufferization.writable = false`: inputs
    belong to the caller and are never computed into. Results become
    caller-owned out-parameters that the function computes into directly. That needs every returned tensor to be a fresh
    allocation; arguments returned as they are (Identity), constants,
    reshape views and duplicated results are copied with linalg.copy first.
    Lit test: test/lit/compiler/cpu/copy-returned-views.mlir.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def LowerVectors : Pass<"strata-lower-vectors", "mlir::func::FuncOp"> {
  let summary = "Hoist accumulators out of k loops and lower vector ops for LLVM";
  let description = [{
    After bufferization: moves loop-invariant transfer_read/transfer_write
    pairs (the matmul accumulator) out of the reduction loop, lowers
    vector.contract to outer products and FMAs, and transfers to loads and
    stores, leaving only what convert-vector-to-llvm handles.
    Lit test: test/lit/compiler/cpu/lower-vectors.mlir.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def PlanMemory : Pass<"strata-plan-memory", "mlir::ModuleOp"> {
  let summary = "Place @main's intermediate buffers in one arena by liveness";
  let description = [{
    After bufferization and deallocation: each statically shaped
    `memref.alloc` in @main's entry block lives from its allocation to the
    last top-level operation using it (or a view of it). Buffers are placed
    largest first at the lowest 64-byte aligned offset that no buffer with
    an overlapping live range occupies, and become `memref.view`s of one
    arena, which @main takes as a new last argument `memref<Nxi8>` marked
    `strata.arena` and `llvm.noalias`: the caller (the runtime's context)
    owns it, so each context runs with its own and several run at once.
    Their deallocations are removed. The module gets `strata.arena_bytes`
    (the plan's peak), `strata.arena_buffers` and `strata.unshared_bytes`
    (what separate buffers would take), which `strata inspect --memory`
    reports. Buffers that escape (returned) or have dynamic shapes keep their
    allocation. Lit test: test/lit/passes/memory/plan-memory.mlir.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def MaterializeRunContext : Pass<"strata-materialize-run-context", "mlir::ModuleOp"> {
  let summary = "Give @main its run context argument and bind the code that uses it";
  let description = [{
    After `strata-plan-memory`: @main takes a new last argument of type
    `index` marked `strata.run_context`, the address of the caller's
    `strata_run_context` (runtime/include/strata/module_abi.h), and every
    `func.call @strata_run_context()` in @main becomes that argument. The
    generated `strata_model_run` passes it and reads its `failed` word after
    the run. A call outside @main is an error. Lit test:
    test/lit/compiler/cpu/materialize-run-context.mlir.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def LowerOneDnnCalls : Pass<"strata-lower-onednn-calls", "mlir::ModuleOp"> {
  let summary = "Bind oneDNN call sites to the runtime's C functions";
  let description = [{
    After `strata-materialize-run-context`: each call of a per-site
    declaration that the oneDNN bufferization made (`strata.onednn_kernel`,
    `strata.onednn_desc`, `strata.onednn_node`) becomes a call of
    `strata_onednn_conv`, `_inner_product`, `_batch_matmul` or `_pool`
    (runtime/src/onednn.c) with @main's run context, a zeroed per-site state
    global (the runtime keeps the oneDNN primitive, shared by all contexts,
    there), constant globals for the descriptor and the node name, and the
    buffers' addresses. The module gets `strata.uses_onednn`, which makes the
    driver link oneDNN. With `max-isa` (a strata_onednn_isa value,
    strata/onednn_calls.h, from the target CPU), @strata_onednn_prepare_sites
    first caps oneDNN's instruction set there. Lit test:
    test/lit/compiler/cpu/onednn-bufferize.mlir.
  }];
  let options = [
    Option<"maxIsa", "max-isa", "int64_t", /*default=*/"0",
           "The widest ISA oneDNN may use (0: no cap)">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def OutlineParallelLoops : Pass<"strata-outline-parallel-loops", "mlir::ModuleOp"> {
  let summary = "Turn outermost scf.parallel loops into work items for the thread pool";
  let description = [{
    After bufferization, each outermost `scf.parallel` with constant bounds
    and enough work (`min-work` estimated loop-body operations) is moved
    into a private function `@__strata_par_N(%lo, %hi, captures...)` that
    runs iterations [lo, hi) of the loop's leading dimensions (linearized;
    the inner dimensions stay a loop inside each iteration, so the
    innermost loop is still contiguous for the vectorizer; when the leading
    dimensions are too few to share out, the innermost one is cut into
    contiguous chunks of at least 16 iterations rather than split into
    single elements). The loop is
    replaced by a call to `@__strata_par_N_launch(%count, captures...)`,
    which `strata-materialize-parallel-launches` defines after conversion to
    the LLVM dialect. Constants and globals are cloned into the body rather
    than captured. Every iteration computes the same values whichever
    thread runs it, so results do not depend on the thread count. A loop
    whose captures cannot be passed as bare pointers (dynamic shapes or
    strides) stays sequential.
    Lit test: test/lit/compiler/cpu/outline-parallel-loops.mlir.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "Loops estimated to execute fewer operations stay sequential">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def MaterializeParallelLaunches : Pass<"strata-materialize-parallel-launches", "mlir::ModuleOp"> {
  let summary = "Define the launch functions of outlined parallel loops (LLVM dialect)";
  let description = [{
    For each declaration `@__strata_par_N_launch(i64 count, captures...)`
    left by `strata-outline-parallel-loops`, stores the captures in a stack
    struct and calls the runtime's `strata_parallel_for(thunk, ctx, count)`;
    the thunk `@__strata_par_N_thunk(ctx, lo, hi)` loads them back and calls
    the body. Launch, thunk and body become internal to the module.
    Lit test: test/lit/compiler/cpu/materialize-parallel-launches.mlir.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

//===----------------------------------------------------------------------===//
// GPU (compiler/gpu): bufferized @main to gpu.launch kernels
//===----------------------------------------------------------------------===//

def GpuMaterializeConstants : Pass<"strata-gpu-materialize-constants", "mlir::func::FuncOp"> {
  let summary = "Splat and boolean tensor constants as computed fills (no host globals)";
  let description = [{
    Before bufferization on the CUDA path: a splat `arith.constant` of tensor
    type becomes `linalg.fill` of a `tensor.empty`, and a non-splat boolean
    constant becomes an i8 constant compared with zero, so that every
    remaining tensor constant is one of @main's weights (moved to device
    memory by the runtime) and no kernel reads a host `memref.global`.
    Lit test: test/lit/compiler/gpu/materialize-constants.mlir.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def GpuDeviceArena : Pass<"strata-gpu-device-arena", "mlir::ModuleOp"> {
  let summary = "Check that @main reaches no host memory; record the device arena's size";
  let description = [{
    After `strata-plan-memory`, whose arena is @main's last argument: the
    module gets `strata.gpu_arena_bytes`, and the CUDA runtime backend
    allocates the arena once per module in device memory. Fails, naming the
    op, if @main still allocates or reads a host global (neither could be
    reached from a kernel). Lit test: test/lit/compiler/gpu/device-arena.mlir.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def MapLoopsToGpu : Pass<"strata-map-loops-to-gpu", "mlir::func::FuncOp"> {
  let summary = "Each top-level loop nest of a function becomes one gpu.launch";
  let description = [{
    After `convert-linalg-to-parallel-loops`: an `scf.parallel` with
    constant bounds becomes a `gpu.launch` of ceil(N / block-size) blocks of
    `block-size` threads over its N linearized iterations (the innermost
    dimension varies fastest across threads, so neighbouring threads touch
    neighbouring elements); each thread delinearizes its index, guards the
    tail and runs the loop body (reduction dimensions stay a sequential loop
    per thread). Existing launches (tiled matmuls, warp reductions) are kept.
    Every other top-level operation that reads or writes memory, or uses a
    value such an operation computed (a scalar read and the arithmetic on
    it), joins a group that runs as one single-thread kernel, so the host
    never touches device memory. A value the host itself would need (a
    function result) is an error naming the op.
    Lit test: test/lit/compiler/gpu/map-loops-to-gpu.mlir.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def MergeGpuKernels : Pass<"strata-merge-gpu-kernels", "mlir::ModuleOp"> {
  let summary = "All kernels in one gpu.module, each named after its ops";
  let description = [{
    After `gpu-kernel-outlining`, which puts every kernel of @main in its
    own module and calls each `main_kernel`: moves the kernels into the
    first module (one PTX file, one module load at run time) and names each
    `k<N>` plus up to two ONNX node names from its location, e.g.
    `k3_conv1_relu1`, so the PTX, profiles and the runtime's CUDA error
    messages say which part of the model a kernel computes. Launches are
    updated.
    Lit test: test/lit/compiler/gpu/merge-gpu-kernels.mlir.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // STRATA_PASSES
