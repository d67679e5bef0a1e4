//===- NNOps.td - nn dialect operations ----------------------*- tablegen -*-===//
//
// Every op states its result type; verifiers check it against the shape rule
// in ShapeRules.cpp (the same rules the importer relies on), so a malformed
// graph is rejected at the op that is wrong rather than deep in lowering.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_NN_OPS
#define STRATA_NN_OPS

include "dialects/nn/NNBase.td"
include "dialects/nn/NNInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, !listconcat([Pure], traits)>;

// Ops with a gradient rule (dialects/nn/gradients/).
defvar Differentiable = DeclareOpInterfaceMethods<NN_DifferentiableOpInterface>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def NN_ConstantOp : NN_Op<"constant",
    [ConstantLike, AllTypesMatch<["value", "output"]>]> {
  let summary = "A constant tensor (weights, biases, shape operands)";
  let description = [{
    Holds a tensor value. Large weights use `dense_resource` blobs, which the
    importer fills without copying the data of the ONNX file again; small
    values use `dense` so that folders can compute with them.

    ```mlir
    %w = nn.constant dense_resource<fc1.weight> : tensor<300x784xf32>
    %s = nn.constant dense<[1, 784]> : tensor<2xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops with ONNX (NumPy) multidirectional broadcasting
//===----------------------------------------------------------------------===//

// `foldExpr` computes one element from doubles `a` and `b` when both operands
// are constants of the result's shape; `rightIdentity` is the splat constant
// that makes `x op c` equal `x` (folded away when the types agree).
class NN_BinaryOp<string mnemonic, string foldExpr, string rightIdentity>
    : NN_Op<mnemonic, [Differentiable]> {
  let description = [{
    Elementwise `}] # mnemonic # [{` with ONNX multidirectional broadcasting:
    shapes are aligned at the right, and each pair of dimensions must be
    equal or one of them 1.

    ```mlir
    %r = nn.}] # mnemonic # [{ %a, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$lhs, NN_NumericTensor:$rhs);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return verifyBroadcastOp(getOperation());
    }
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldBinary(getOperation(), adaptor.getLhs(), adaptor.getRhs(),
                        [](double a, double b) { return }] # foldExpr # [{; },
                        }] # rightIdentity # [{);
    }
  }];
}

def NN_AddOp : NN_BinaryOp<"add", "a + b", "0.0"> { let summary = "Elementwise addition"; }
def NN_SubOp : NN_BinaryOp<"sub", "a - b", "0.0"> { let summary = "Elementwise subtraction"; }
def NN_MulOp : NN_BinaryOp<"mul", "a * b", "1.0"> { let summary = "Elementwise multiplication"; }
def NN_DivOp : NN_BinaryOp<"div", "a / b", "1.0"> { let summary = "Elementwise division"; }
def NN_PowOp : NN_BinaryOp<"pow", "std::pow(a, b)", "1.0"> { let summary = "Elementwise power"; }
def NN_MaxOp : NN_BinaryOp<"max", "std::fmax(a, b)", "-HUGE_VAL"> { let summary = "Elementwise maximum"; }
def NN_MinOp : NN_BinaryOp<"min", "std::fmin(a, b)", "HUGE_VAL"> { let summary = "Elementwise minimum"; }

def NN_ModOp : NN_Op<"mod"> {
  let summary = "Elementwise remainder (ONNX Mod), broadcasting";
  let description = [{
    With `fmod` the result has the dividend's sign (C fmod); without it,
    integers follow Python: the result has the divisor's sign.

    ```mlir
    %r = nn.mod %a, %b {fmod = false} : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$lhs, NN_NumericTensor:$rhs, BoolAttr:$fmod);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return verifyBroadcastOp(getOperation());
    }
  }];
}

def NN_CompareOp : NN_Op<"compare"> {
  let summary = "Elementwise comparison with broadcasting, giving i1";
  let description = [{
    ONNX Equal, Less, LessOrEqual, Greater, GreaterOrEqual.

    ```mlir
    %m = nn.compare lt %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins NN_ComparePredicateAttr:$predicate, NN_Tensor:$lhs,
                   NN_Tensor:$rhs);
  let results = (outs NN_BoolTensor:$output);
  let assemblyFormat =
      "$predicate $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

class NN_LogicalOp<string mnemonic> : NN_Op<mnemonic> {
  let summary = "Elementwise logical " # mnemonic # " of i1 tensors, broadcasting";
  let arguments = (ins NN_BoolTensor:$lhs, NN_BoolTensor:$rhs);
  let results = (outs NN_BoolTensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return verifyBroadcastOp(getOperation());
    }
  }];
}
def NN_AndOp : NN_LogicalOp<"and">;
def NN_OrOp : NN_LogicalOp<"or">;
def NN_XorOp : NN_LogicalOp<"xor">;

def NN_NotOp : NN_Op<"not", [SameOperandsAndResultType]> {
  let summary = "Elementwise logical not";
  let arguments = (ins NN_BoolTensor:$input);
  let results = (outs NN_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasFolder = 1;
}

def NN_WhereOp : NN_Op<"where", [Differentiable]> {
  let summary = "Elementwise select: condition ? x : y, broadcasting all three";
  let description = [{
    ```mlir
    %r = nn.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins NN_BoolTensor:$condition, NN_Tensor:$x, NN_Tensor:$y);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat =
      "$condition `,` $x `,` $y attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops (math and activations)
//===----------------------------------------------------------------------===//

// `foldExpr` computes one element from double `x` when the operand is a
// floating-point constant.
class NN_UnaryOp<string mnemonic, string foldExpr, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat([SameOperandsAndResultType, Differentiable], traits)> {
  let description = [{
    Elementwise `}] # mnemonic # [{` of a tensor; the result has the operand's type.

    ```mlir
    %r = nn.}] # mnemonic # [{ %x : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$input);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldUnary(getOperation(), adaptor.getInput(),
                       [](double x) { return }] # foldExpr # [{; });
    }
  }];
}

def NN_SqrtOp : NN_UnaryOp<"sqrt", "std::sqrt(x)"> { let summary = "Square root"; }
def NN_ExpOp : NN_UnaryOp<"exp", "std::exp(x)"> { let summary = "Exponential"; }
def NN_LogOp : NN_UnaryOp<"log", "std::log(x)"> { let summary = "Natural logarithm"; }
def NN_NegOp : NN_UnaryOp<"neg", "-x"> { let summary = "Negation"; }
def NN_AbsOp : NN_UnaryOp<"abs", "std::fabs(x)"> { let summary = "Absolute value"; }
def NN_ReluOp : NN_UnaryOp<"relu", "x > 0.0 ? x : 0.0"> { let summary = "max(x, 0)"; }
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "1.0 / (1.0 + std::exp(-x))"> {
  let summary = "Logistic sigmoid 1 / (1 + exp(-x))";
}
def NN_TanhOp : NN_UnaryOp<"tanh", "std::tanh(x)"> { let summary = "Hyperbolic tangent"; }
def NN_FloorOp : NN_UnaryOp<"floor", "std::floor(x)"> { let summary = "Round down"; }
def NN_CeilOp : NN_UnaryOp<"ceil", "std::ceil(x)"> { let summary = "Round up"; }
def NN_RoundOp : NN_UnaryOp<"round", "std::nearbyint(x)"> { let summary = "Round half to even"; }
def NN_SignOp : NN_UnaryOp<"sign", "x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0)"> { let summary = "-1, 0 or 1"; }
def NN_ReciprocalOp : NN_UnaryOp<"reciprocal", "1.0 / x"> { let summary = "1 / x"; }
def NN_ErfOp : NN_UnaryOp<"erf", "std::erf(x)"> { let summary = "Error function"; }
def NN_SinOp : NN_UnaryOp<"sin", "std::sin(x)"> { let summary = "Sine"; }
def NN_CosOp : NN_UnaryOp<"cos", "std::cos(x)"> { let summary = "Cosine"; }
def NN_TanOp : NN_UnaryOp<"tan", "std::tan(x)"> { let summary = "Tangent"; }
def NN_AsinOp : NN_UnaryOp<"asin", "std::asin(x)"> { let summary = "Arcsine"; }
def NN_AcosOp : NN_UnaryOp<"acos", "std::acos(x)"> { let summary = "Arccosine"; }
def NN_AtanOp : NN_UnaryOp<"atan", "std::atan(x)"> { let summary = "Arctangent"; }
def NN_SinhOp : NN_UnaryOp<"sinh", "std::sinh(x)"> { let summary = "Hyperbolic sine"; }
def NN_CoshOp : NN_UnaryOp<"cosh", "std::cosh(x)"> { let summary = "Hyperbolic cosine"; }
def NN_AsinhOp : NN_UnaryOp<"asinh", "std::asinh(x)"> { let summary = "Inverse hyperbolic sine"; }
def NN_AcoshOp : NN_UnaryOp<"acosh", "std::acosh(x)"> { let summary = "Inverse hyperbolic cosine"; }
def NN_AtanhOp : NN_UnaryOp<"atanh", "std::atanh(x)"> { let summary = "Inverse hyperbolic tangent"; }

def NN_LeakyReluOp : NN_Op<"leaky_relu", [SameOperandsAndResultType, Differentiable]> {
  let summary = "x for x >= 0, alpha * x otherwise";
  let description = [{
    ```mlir
    %r = nn.leaky_relu %x {alpha = 0.01 : f32} : tensor<4xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, F32Attr:$alpha);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def NN_ClipOp : NN_Op<"clip", [SameOperandsAndResultType, Differentiable]> {
  let summary = "Clamp to [min, max]; a missing bound does not clamp";
  let description = [{
    ONNX `Clip` with its bounds (inputs since opset 11) resolved to attributes.

    ```mlir
    %r = nn.clip %x {max = 6.0 : f64, min = 0.0 : f64} : tensor<4xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$input,
                   OptionalAttr<F64Attr>:$min, OptionalAttr<F64Attr>:$max);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

class NN_SoftmaxLikeOp<string mnemonic> : NN_Op<mnemonic, [SameOperandsAndResultType, Differentiable]> {
  let description = [{
    Normalizes along one `axis` (non-negative), i.e. ONNX opset-13 semantics;
    the importer rewrites older opsets' "flatten to 2-D" rule into reshapes.

    ```mlir
    %p = nn.}] # mnemonic # [{ %logits {axis = 1 : i64} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, I64Attr:$axis);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}
def NN_SoftmaxOp : NN_SoftmaxLikeOp<"softmax"> { let summary = "exp(x) / sum(exp(x)) along an axis"; }
def NN_LogSoftmaxOp : NN_SoftmaxLikeOp<"log_softmax"> { let summary = "log(softmax(x)) along an axis"; }

//===----------------------------------------------------------------------===//
// Linear algebra and convolution
//===----------------------------------------------------------------------===//

def NN_MatMulOp : NN_Op<"matmul", [Differentiable]> {
  let summary = "Matrix product with NumPy batching (ONNX MatMul)";
  let description = [{
    1-D operands are promoted (a leading or trailing 1 is added, then removed
    from the result); leading batch dimensions broadcast.

    ```mlir
    %y = nn.matmul %x, %w : (tensor<64x784xf32>, tensor<784x300xf32>) -> tensor<64x300xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$lhs, NN_NumericTensor:$rhs);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_GemmOp : NN_Op<"gemm", [Differentiable]> {
  let summary = "alpha * op(A) * op(B) + beta * C (ONNX Gemm)";
  let description = [{
    A and B are 2-D; `trans_a`/`trans_b` transpose them first. C is
    optional and broadcasts to the M x N result.

    ```mlir
    %y = nn.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = true}
        : (tensor<1x784xf32>, tensor<300x784xf32>, tensor<300xf32>) -> tensor<1x300xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$a, NN_NumericTensor:$b,
                   Optional<NN_NumericTensor>:$c,
                   F32Attr:$alpha, F32Attr:$beta,
                   BoolAttr:$trans_a, BoolAttr:$trans_b);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ConvOp : NN_Op<"conv", [Differentiable]> {
  let summary = "N-d convolution, NCHW layout, grouped (ONNX Conv)";
  let description = [{
    Input `N x C x D1 x ... x Dn`, weight `M x C/group x k1 x ... x kn`,
    optional bias of size M. `pads` holds all begin pads then all end pads
    (ONNX order); `auto_pad` has been resolved into them.

    ```mlir
    %y = nn.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64,
                             pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
        : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x32x32xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$input, NN_NumericTensor:$weight,
                   Optional<NN_NumericTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_Im2ColOp : NN_Op<"im2col"> {
  let summary = "Patch columns of a convolution's input (what each window reads)";
  let description = [{
    Built by nn.conv's gradient rule: for every input channel c, kernel
    offset k and output position (n, o), the value the convolution reads,
    input[n, c, o * stride + k * dilation - pad] (zero in the padding).
    The result is `[C, k..., N, o...]`; viewed as a (C*k) x (N*o) matrix it
    is the patch matrix the forward convolution multiplies its weights
    with, so the lowering builds it the same way and the forward pass and
    the weight gradient share one copy.

    ```mlir
    %cols = nn.im2col %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 5, 5>,
                          pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
        : (tensor<64x1x28x28xf32>) -> tensor<1x5x5x64x24x24xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations);
  let results = (outs NN_FloatTensor:$columns);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_Col2ImOp : NN_Op<"col2im"> {
  let summary = "Sum patch columns back into image positions (adjoint of im2col)";
  let description = [{
    Built by nn.conv's gradient rule: `columns` holds, for every input
    channel c, kernel offset k and output position (n, o), the value that
    the convolution read from input position o * stride + k * dilation -
    pad. Positions read by several windows receive the sum; padding is
    dropped. The result has the convolution input's shape N x C x spatial.

    ```mlir
    %dx = nn.col2im %cols {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
                           strides = array<i64: 1, 1>}
        : (tensor<6x5x5x64x8x8xf32>) -> tensor<64x6x12x12xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$columns, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$columns attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ConvFilterGradOp : NN_Op<"conv_filter_grad"> {
  let summary = "Gradient of an ungrouped nn.conv with respect to its weights";
  let description = [{
    Built by nn.conv's gradient rule: for the convolution's `input` and the
    gradient of its output, dW[o, c, k...] = sum over (n, positions p) of
    output_grad[n, o, p] * input[n, c, p * stride + k * dilation - pad]
    (zero in the padding). The result has the weight's shape, which gives
    the kernel size. The generic lowering is the input's patch columns
    (nn.im2col, shared with the forward convolution's) times the output
    gradient with positions as rows; the CPU pipeline computes small ones
    directly from the input rows instead (strata-direct-conv).

    ```mlir
    %dw = nn.conv_filter_grad %x, %dy {dilations = array<i64: 1, 1>,
                                       pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
        : (tensor<64x1x28x28xf32>, tensor<64x6x24x24xf32>) -> tensor<6x1x5x5xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$output_grad,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations);
  let results = (outs NN_FloatTensor:$weight_grad);
  let assemblyFormat = "$input `,` $output_grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ConvInputGradOp : NN_Op<"conv_input_grad"> {
  let summary = "Gradient of an ungrouped nn.conv with respect to its input";
  let description = [{
    Built by nn.conv's gradient rule: from the gradient of the
    convolution's output and its weights, dX[n, c, i] = sum over (o, k)
    of output_grad[n, o, p] * weight[o, c, k] for every output position p
    that read input position i = p * stride + k * dilation - pad. The
    result has the convolution input's type. The generic lowering is the
    columns W^T dY (a matmul) summed back into input positions by
    nn.col2im; the CPU pipeline computes small ones directly
    (strata-direct-conv).

    ```mlir
    %dx = nn.conv_input_grad %dy, %w {dilations = array<i64: 1, 1>,
                                      pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
        : (tensor<64x16x8x8xf32>, tensor<16x6x5x5xf32>) -> tensor<64x6x12x12xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$output_grad, NN_FloatTensor:$weight,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations);
  let results = (outs NN_FloatTensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_PoolOp : NN_Op<"pool", [Differentiable]> {
  let summary = "Max or average pooling over spatial windows";
  let description = [{
    ONNX `MaxPool`/`AveragePool` with explicit pads. `count_include_pad`
    matters for average pooling only. Global pooling is imported as
    `nn.reduce` over the spatial axes.

    ```mlir
    %y = nn.pool max %x {ceil_mode = false, count_include_pad = false,
                         dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>,
                         pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
        : (tensor<1x6x28x28xf32>) -> tensor<1x6x14x14xf32>
    ```
  }];
  let arguments = (ins NN_PoolKindAttr:$kind, NN_NumericTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   BoolAttr:$ceil_mode, BoolAttr:$count_include_pad);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$kind $input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_PoolGradOp : NN_Op<"pool_grad"> {
  let summary = "Gradient of nn.pool with respect to its input";
  let description = [{
    Built by nn.pool's gradient rule. Max pooling routes each window's
    gradient to the first position holding the window's maximum (PyTorch's
    choice on ties); average pooling spreads it evenly over the positions
    the window counted. Attributes are those of the forward pool.

    ```mlir
    %dx = nn.pool_grad max %x, %dy {ceil_mode = false, count_include_pad = false,
                                    dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>,
                                    pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
        : (tensor<1x6x28x28xf32>, tensor<1x6x14x14xf32>) -> tensor<1x6x28x28xf32>
    ```
  }];
  let arguments = (ins NN_PoolKindAttr:$kind, NN_FloatTensor:$input,
                   NN_FloatTensor:$output_grad,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   BoolAttr:$ceil_mode, BoolAttr:$count_include_pad);
  let results = (outs NN_FloatTensor:$input_grad);
  let assemblyFormat =
      "$kind $input `,` $output_grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_BatchNormOp : NN_Op<"batch_norm", [Differentiable]> {
  let summary = "Batch normalization with stored statistics (inference)";
  let description = [{
    `y = scale * (x - mean) / sqrt(variance + epsilon) + bias`, per channel
    (dimension 1).

    ```mlir
    %y = nn.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f32}
        : (tensor<1x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
        -> tensor<1x16x8x8xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$scale,
                   NN_FloatTensor:$bias, NN_FloatTensor:$mean,
                   NN_FloatTensor:$variance, F32Attr:$epsilon);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

def NN_ReduceOp : NN_Op<"reduce", [Differentiable]> {
  let summary = "Sum, mean, max or min over a set of axes";
  let description = [{
    `axes` are non-negative, sorted and unique; ONNX's "no axes means all
    axes" has been made explicit.

    ```mlir
    %y = nn.reduce mean %x {axes = array<i64: 2, 3>, keepdims = true}
        : (tensor<1x512x7x7xf32>) -> tensor<1x512x1x1xf32>
    ```
  }];
  let arguments = (ins NN_ReduceKindAttr:$kind, NN_NumericTensor:$input,
                   DenseI64ArrayAttr:$axes, BoolAttr:$keepdims);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$kind $input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def NN_ReshapeOp : NN_Op<"reshape", [Differentiable]> {
  let summary = "Same elements, new shape (Reshape, Flatten, Squeeze, Unsqueeze)";
  let description = [{
    The result type is the new shape; element count and type are unchanged.

    ```mlir
    %y = nn.reshape %x : (tensor<1x16x4x4xf32>) -> tensor<1x256xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_TransposeOp : NN_Op<"transpose", [Differentiable]> {
  let summary = "Permute dimensions";
  let description = [{
    Result dimension i is input dimension `perm[i]`.

    ```mlir
    %y = nn.transpose %x {perm = array<i64: 1, 0>} : (tensor<3x5xf32>) -> tensor<5x3xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_ConcatOp : NN_Op<"concat", [Differentiable]> {
  let summary = "Join tensors along one axis";
  let description = [{
    ```mlir
    %y = nn.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_SliceOp : NN_Op<"slice", [Differentiable]> {
  let summary = "Strided slice with one (start, end, step) per dimension";
  let description = [{
    ONNX `Slice` with constant starts/ends/axes/steps, normalized to every
    dimension: starts clamped into range, ends clamped (-1 marks "before the
    first element" for negative steps), steps non-zero.

    ```mlir
    %y = nn.slice %x {ends = array<i64: 4, 8>, starts = array<i64: 0, 2>, steps = array<i64: 1, 2>}
        : (tensor<4x8xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_GatherOp : NN_Op<"gather", [Differentiable]> {
  let summary = "Take entries along an axis by index (ONNX Gather)";
  let description = [{
    The result shape is `data.shape[:axis] + indices.shape + data.shape[axis+1:]`.
    Negative indices count from the end.

    ```mlir
    %y = nn.gather %emb, %ids {axis = 0 : i64} : (tensor<1000x64xf32>, tensor<8xi64>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$data, NN_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def NN_PadOp : NN_Op<"pad", [Differentiable]> {
  let summary = "Pad with a constant, the reflection, or the edge value";
  let description = [{
    `pads` holds all begin pads then all end pads (ONNX order), non-negative.

    ```mlir
    %y = nn.pad constant %x {pads = array<i64: 0, 1, 0, 1>, value = 0.0 : f64}
        : (tensor<2x3xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins NN_PadModeAttr:$mode, NN_Tensor:$input,
                   DenseI64ArrayAttr:$pads, F64Attr:$value);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$mode $input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_CastOp : NN_Op<"cast", [Differentiable]> {
  let summary = "Convert the element type (ONNX Cast)";
  let description = [{
    ```mlir
    %y = nn.cast %x : (tensor<4xf32>) -> tensor<4xf16>
    ```
  }];
  let arguments = (ins NN_Tensor:$input);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Quantization: integers with a scale and zero point
//===----------------------------------------------------------------------===//

// Scale and zero point broadcast to the input (ONNX rules): a per-tensor
// scale is a scalar, a per-axis one is reshaped by the importer to
// [1, C, 1, 1] and so on, so both ops are plain broadcasting elementwise ops
// with no axis attribute.

def NN_QuantizeOp : NN_Op<"quantize"> {
  let summary = "saturate(round_half_even(x / scale) + zero_point) (QuantizeLinear)";
  let description = [{
    The result's integer type sets the saturation range (ui8 [0, 255],
    i8 [-128, 127], i32); signless integers are signed. NaN becomes the
    lowest value. The zero point may be any integer type (the signless
    rewrite widens unsigned ones).

    ```mlir
    %q = nn.quantize %x, %s, %z : (tensor<2x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3xui8>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$scale,
                   NN_NumericTensor:$zero_point);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat =
      "$input `,` $scale `,` $zero_point attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_DequantizeOp : NN_Op<"dequantize"> {
  let summary = "(x - zero_point) * scale (DequantizeLinear)";
  let description = [{
    The difference is exact in 32-bit integers before it is converted.

    ```mlir
    %x = nn.dequantize %q, %s, %z : (tensor<2x3xi8>, tensor<3x1xf32>, tensor<3x1xi8>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$input, NN_FloatTensor:$scale,
                   NN_NumericTensor:$zero_point);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat =
      "$input `,` $scale `,` $zero_point attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_RequantizeOp : NN_Op<"requantize"> {
  let summary = "An i32 accumulator to 8 bits in fixed point (no float)";
  let description = [{
    `clamp(round(input * multiplier / 2^shift) + zero_point, min, max)`,
    the product exact in 64 bits and rounded half to even, so the result is
    ONNX's float definition `round(acc * M) + zero_point` for the real
    factor `M = multiplier * 2^-shift` (multiplier in [2^30, 2^31), shift in
    [1, 62]). `min` and `max` lie within the result type and narrow it for
    a fused Relu or Clip. Multiplier and shift broadcast (per-channel
    factors of a convolution are [1, C, 1, 1]).

    ```mlir
    %q = nn.requantize %acc, %m, %s, %z {max = 255 : i64, min = 0 : i64}
        : (tensor<1x8x4x4xi32>, tensor<1x8x1x1xi32>, tensor<1x8x1x1xi32>, tensor<i32>) -> tensor<1x8x4x4xui8>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$input, NN_NumericTensor:$multiplier,
                   NN_NumericTensor:$shift, NN_NumericTensor:$zero_point,
                   I64Attr:$min, I64Attr:$max);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat = [{
    $input `,` $multiplier `,` $shift `,` $zero_point attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_FakeQuantizeOp : NN_Op<"fake_quantize",
    [AllTypesMatch<["input", "output"]>, Differentiable]> {
  let summary = "Quantize and dequantize in float, for training (learned scale, straight-through gradient)";
  let description = [{
    `(clamp(round_half_even(x / s) + z, qmin, qmax) - z) * s` with the scale
    `s` an operand shaped to broadcast against the input (`[]` per tensor,
    `[1, .., C, .., 1]` per channel) and the zero points `z` constant, one
    per scale: what a QDQ pair computes, kept in float so that
    quantization-aware training can differentiate it. Built by
    strata-fake-quantize from dequantize(quantize(x)).

    Gradients, as PyTorch's learnable fake quantization (LSQ, Esser et al.
    2020) computes them: `dx` is straight-through, `dy` where
    `round(x / s) + z` falls within [qmin, qmax] and zero where it
    saturates; `ds` sums, over the elements each scale covers,
    `dy * (round(x / s) - x / s)` inside the range and `dy * (qmin - z)` or
    `dy * (qmax - z)` where it saturates, times the gradient scale
    `1 / sqrt(numel(x) * qmax)`, so that the scale, trained like any other
    parameter, learns the range.

    ```mlir
    %y = nn.fake_quantize %w, %s {qmax = 127 : i64, qmin = -128 : i64, zero_point = array<i64: 0, 0>}
        : tensor<2x3xf32>, tensor<2x1xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$input, NN_FloatTensor:$scale,
                   DenseI64ArrayAttr:$zero_point, I64Attr:$qmin, I64Attr:$qmax);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Per-channel values (one per scale) of the input's element type, in
    /// the scale's shape: the zero points or bounds the lowering and the
    /// gradient rule need as tensors.
    ::mlir::DenseElementsAttr channelConstant(::llvm::ArrayRef<double> values);
    /// LSQ's gradient scale, 1 / sqrt(numel(x) * qmax).
    double gradientScale();
  }];
}

def NN_ExtendUnsignedOp : NN_Op<"extend_unsigned"> {
  let summary = "Zero-extend integers to a wider type";
  let description = [{
    The code generators compute on signless integers: the signless rewrite
    (strata-signless-integers) stores ui8 as i8 bits and widens them with
    this op wherever their value, not just their bits, matters.

    ```mlir
    %w = nn.extend_unsigned %x : (tensor<4xi8>) -> tensor<4xi32>
    ```
  }];
  let arguments = (ins NN_NumericTensor:$input);
  let results = (outs NN_NumericTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Index-producing and indexing ops
//===----------------------------------------------------------------------===//

def NN_ArgReduceOp : NN_Op<"arg_reduce"> {
  let summary = "Index of the maximum or minimum along an axis (ArgMax/ArgMin)";
  let description = [{
    Ties take the first index, or the last with `select_last_index`.

    ```mlir
    %i = nn.arg_reduce argmax %x {axis = 1 : i64, keepdims = false, select_last_index = false}
        : (tensor<2x10xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins NN_ArgKindAttr:$kind, NN_NumericTensor:$input,
                   I64Attr:$axis, BoolAttr:$keepdims, BoolAttr:$select_last_index);
  let results = (outs NN_I64Tensor:$output);
  let assemblyFormat = "$kind $input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_GatherElementsOp : NN_Op<"gather_elements", [Differentiable]> {
  let summary = "out[i] = data[i with i[axis] replaced by indices[i]]";
  let description = [{
    ```mlir
    %y = nn.gather_elements %x, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$data, NN_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_SegmentSumOp : NN_Op<"segment_sum"> {
  let summary = "out[s] = sum of data[i] over the i with segment_ids[i] == s";
  let description = [{
    Ids outside [0, num_segments) (the result's length) add to no segment.
    The gradient of a shared weight's codebook (strata's trained
    quantization): one pass over the data, not a one-hot of it.

    ```mlir
    %g = nn.segment_sum %grad, %ids : (tensor<6xf32>, tensor<6xi32>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins NN_FloatTensor:$data, NN_IndexTensor:$segment_ids);
  let results = (outs NN_FloatTensor:$output);
  let assemblyFormat = "$data `,` $segment_ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_BroadcastToOp : NN_Op<"broadcast_to", [Differentiable]> {
  let summary = "Broadcast to the result's shape (ONNX Expand)";
  let description = [{
    ```mlir
    %y = nn.broadcast_to %x : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_TileOp : NN_Op<"tile"> {
  let summary = "Repeat the input `repeats[i]` times along dimension i";
  let description = [{
    ```mlir
    %y = nn.tile %x {repeats = array<i64: 2, 1>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_TriluOp : NN_Op<"trilu"> {
  let summary = "Keep the upper or lower triangle of the last two dims (Trilu)";
  let description = [{
    Upper keeps `j - i >= k`, lower keeps `j - i <= k`; the rest is zero.
    `k` is the attribute, or the 0-d `k_value` operand when it is computed.

    ```mlir
    %y = nn.trilu %x {k = 0 : i64, upper = true} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins NN_Tensor:$input, Optional<NN_I64Tensor>:$k_value,
                   BoolAttr:$upper, I64Attr:$k);
  let results = (outs NN_Tensor:$output);
  let assemblyFormat =
      "$input (`,` $k_value^)? attr-dict `:` functional-type(operands, results)";
}


#endif // STRATA_NN_OPS
