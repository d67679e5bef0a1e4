//===- NNInterfaces.td - interfaces of nn ops ----------------*- tablegen -*-===//
//
// The gradient interface: each differentiable op builds its own backward
// ops, so reverse-mode autodiff (passes/train/Autodiff.cpp) is one generic
// walk over any graph, and a new op brings its rule with it.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_NN_INTERFACES
#define STRATA_NN_INTERFACES

include "mlir/IR/OpBase.td"

def NN_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::strata::nn";
  let description = [{
    An op whose operands' gradients can be written as nn ops of its
    operands, results and the gradients of its results (vector-Jacobian
    products). Used by `strata-autodiff` and the training-step builder.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds d(loss)/d(operand) for every operand, given d(loss)/d(result)
        in `resultGrads` (one per result, same type as the result; a null
        value means that result does not reach the loss). Appends one value
        per operand to `operandGrads`, of the operand's type, or a null
        value where the operand has no gradient (indices, integer
        operands) or where the gradient is zero everywhere. The builder's
        insertion point is after the op. Fails (with a diagnostic on the op)
        for configurations the rule does not cover.
      }],
      "::mlir::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // STRATA_NN_INTERFACES
