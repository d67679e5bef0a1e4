//===- NNBase.td - nn dialect, types and enums ---------------*- tablegen -*-===//
//
// The `nn` dialect holds tensor-level network operations with ONNX-compatible
// semantics, normalized so that each concept has one op and every attribute
// is explicit (defaults filled in, negative axes resolved, auto_pad turned into
// explicit pads). Later stages (autodiff, quantization, lowering) therefore
// never re-derive ONNX's defaulting rules.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_NN_BASE
#define STRATA_NN_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::strata::nn";
  let summary = "Tensor-level neural-network operations with ONNX semantics";
  let description = [{
    Network operations on ranked tensors. Broadcasting follows ONNX's
    multidirectional (NumPy) rules, and every op states its result type.
    Constants may carry `dense_resource` blobs so that large weights are
    never copied into the IR's attribute storage.
  }];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
}

// Element types strata handles from the start: training and quantization
// passes need the low-precision and integer ones.
def NN_AnyElement : AnyTypeOf<[F32, F16, BF16, F64, I1, I8, UI8, I32, I64]>;
def NN_Tensor : RankedTensorOf<[F32, F16, BF16, F64, I1, I8, UI8, I32, I64]>;
def NN_FloatTensor : RankedTensorOf<[F32, F16, BF16, F64]>;
def NN_NumericTensor : RankedTensorOf<[F32, F16, BF16, F64, I8, UI8, I32, I64]>;
def NN_IndexTensor : RankedTensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def NN_PoolKind : I32EnumAttr<"PoolKind", "kind of window pooling", [
    I32EnumAttrCase<"max", 0>,
    I32EnumAttrCase<"average", 1>]> {
  let cppNamespace = "::strata::nn";
  let genSpecializedAttr = 0;
}
def NN_PoolKindAttr : EnumAttr<NN_Dialect, NN_PoolKind, "pool_kind">;

def NN_ReduceKind : I32EnumAttr<"ReduceKind", "kind of reduction", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>,
    I32EnumAttrCase<"min", 3>,
    I32EnumAttrCase<"prod", 4>]> {
  let cppNamespace = "::strata::nn";
  let genSpecializedAttr = 0;
}
def NN_ReduceKindAttr : EnumAttr<NN_Dialect, NN_ReduceKind, "reduce_kind">;

def NN_PadMode : I32EnumAttr<"PadMode", "how padding values are chosen", [
    I32EnumAttrCase<"constant", 0>,
    I32EnumAttrCase<"reflect", 1>,
    I32EnumAttrCase<"edge", 2>]> {
  let cppNamespace = "::strata::nn";
  let genSpecializedAttr = 0;
}
def NN_PadModeAttr : EnumAttr<NN_Dialect, NN_PadMode, "pad_mode">;

def NN_ComparePredicate : I32EnumAttr<"ComparePredicate", "elementwise comparison", [
    I32EnumAttrCase<"eq", 0>,
    I32EnumAttrCase<"lt", 1>,
    I32EnumAttrCase<"le", 2>,
    I32EnumAttrCase<"gt", 3>,
    I32EnumAttrCase<"ge", 4>]> {
  let cppNamespace = "::strata::nn";
  let genSpecializedAttr = 0;
}
def NN_ComparePredicateAttr : EnumAttr<NN_Dialect, NN_ComparePredicate, "compare_predicate">;

def NN_ArgKind : I32EnumAttr<"ArgKind", "index of the extreme value", [
    I32EnumAttrCase<"argmax", 0>,
    I32EnumAttrCase<"argmin", 1>]> {
  let cppNamespace = "::strata::nn";
  let genSpecializedAttr = 0;
}
def NN_ArgKindAttr : EnumAttr<NN_Dialect, NN_ArgKind, "arg_kind">;

def NN_BoolTensor : RankedTensorOf<[I1]>;
def NN_I64Tensor : RankedTensorOf<[I64]>;

#endif // STRATA_NN_BASE
