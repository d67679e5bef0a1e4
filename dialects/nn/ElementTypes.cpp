//===- ElementTypes.cpp - which element types a contraction takes ---------===//

#include "dialects/nn/ElementTypes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace strata::nn {

bool isInt8(Type t) { return t.isInteger(8); }

Type defaultAccumulatorType(Type operand) {
  if (isInt8(operand))
    return IntegerType::get(operand.getContext(), 32);
  if (operand.isBF16() || operand.isF16())
    return Float32Type::get(operand.getContext());
  return operand;
}

std::string contractionTypeError(Type lhs, Type rhs, Type result) {
  if (lhs == rhs && rhs == result)
    return "";
  if (isInt8(lhs) && isInt8(rhs) && result.isSignlessInteger(32))
    return "";
  if (lhs == rhs && (lhs.isBF16() || lhs.isF16()) && result.isF32())
    return "";
  std::string message;
  llvm::raw_string_ostream os(message);
  os << "cannot multiply " << lhs << " by " << rhs << " into " << result
     << " (operands and result share one type, or i8/u8 x i8/u8 -> i32, "
        "bf16 x bf16 -> f32, f16 x f16 -> f32)";
  return message;
}

static Type elementTypeOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

LogicalResult verifyContractionTypes(Operation *op, Value lhs, Value rhs, Value result,
                                     ValueRange accumulatorTyped) {
  Type out = elementTypeOf(result);
  std::string error = contractionTypeError(elementTypeOf(lhs), elementTypeOf(rhs), out);
  if (!error.empty())
    return op->emitOpError() << error;
  for (Value v : accumulatorTyped)
    if (v && elementTypeOf(v) != out)
      return op->emitOpError() << "element types differ: the result is " << out
                               << " but an accumulator operand (bias, C or sum) is "
                               << elementTypeOf(v);
  return success();
}

} // namespace strata::nn
