//===- TensorOps.cpp - import data movement, reductions, constants --------===//

#include "compiler/onnx/NodeContext.h"
#include "compiler/onnx/GraphImporter.h"
#include "compiler/onnx/OpTable.h"
#include "compiler/onnx/TensorConversion.h"
#include "compiler/onnx/ops/Composites.h"
#include "dialects/nn/NNOps.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace strata::onnx_import {
namespace {

/// Reshape, Flatten, Squeeze and Unsqueeze only change the shape, and shape
/// inference has already computed it, so they all become nn.reshape.
void importReshapeLike(NodeContext &n) {
  for (const char *attr : {"allowzero", "axis", "axes"})
    n.ignoreAttr(attr); // their effect is in the inferred result type
  Value x = n.input(0);
  RankedTensorType result = n.resultType();
  n.setResult(0, n.builder().create<nn::ReshapeOp>(n.loc(), result, x));
}

void importTranspose(NodeContext &n) {
  Value x = n.input(0);
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  std::vector<int64_t> reversed;
  for (int64_t d = rank - 1; d >= 0; --d)
    reversed.push_back(d);
  std::vector<int64_t> perm = n.attrInts("perm", reversed);
  n.setResult(0, n.builder().create<nn::TransposeOp>(
                     n.loc(), n.resultType(), x,
                     n.builder().getDenseI64ArrayAttr(perm)));
}

void importConcat(NodeContext &n) {
  SmallVector<Value> inputs;
  for (int i = 0; i < n.numInputs(); ++i)
    inputs.push_back(n.input(i));
  int64_t rank = cast<RankedTensorType>(inputs.front().getType()).getRank();
  if (!n.hasAttr("axis"))
    n.fail("attribute 'axis' is required");
  int64_t axis = n.normalizeAxis(n.attrInt("axis", 0), rank, "axis");
  n.setResult(0, n.builder().create<nn::ConcatOp>(
                     n.loc(), n.resultType(), inputs,
                     n.builder().getI64IntegerAttr(axis)));
}

/// Clamps ONNX slice bounds into a per-dimension (start, end, step) triple.
void buildSlice(NodeContext &n, std::vector<int64_t> starts,
                std::vector<int64_t> ends, std::vector<int64_t> axes,
                std::vector<int64_t> steps) {
  Value x = n.input(0);
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    n.fail("starts, ends, axes and steps differ in length");

  std::vector<int64_t> allStarts(rank, 0), allSteps(rank, 1), allEnds(rank);
  for (int64_t d = 0; d < rank; ++d)
    // A dynamic dimension that is not sliced runs to its (unknown) end.
    allEnds[d] = type.isDynamicDim(d) ? std::numeric_limits<int64_t>::max()
                                      : type.getDimSize(d);
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = n.normalizeAxis(axes[i], rank, "slice axis");
    if (seen[axis])
      n.fail("axis " + std::to_string(axis) + " is sliced twice");
    seen[axis] = true;
    if (type.isDynamicDim(axis))
      n.fail("slicing dynamic dimension " + std::to_string(axis) +
             " is not supported");
    int64_t dim = type.getDimSize(axis), step = steps[i];
    if (step == 0)
      n.fail("slice step is 0");
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? std::max<int64_t>(ends[i], -dim - 1) + dim
                              : ends[i];
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    allStarts[axis] = start;
    allEnds[axis] = end;
    allSteps[axis] = step;
  }
  OpBuilder &b = n.builder();
  n.setResult(0, b.create<nn::SliceOp>(n.loc(), n.resultType(), x,
                                       b.getDenseI64ArrayAttr(allStarts),
                                       b.getDenseI64ArrayAttr(allEnds),
                                       b.getDenseI64ArrayAttr(allSteps)));
}

/// Opset 1-9: bounds are attributes.
void importSliceAttrs(NodeContext &n) {
  buildSlice(n, n.attrInts("starts", {}), n.attrInts("ends", {}),
             n.attrInts("axes", {}), {});
}

/// Opset 10+: bounds are (constant) inputs.
void importSliceInputs(NodeContext &n) {
  buildSlice(n, n.constantInts(1, "Slice's starts"),
             n.constantInts(2, "Slice's ends"),
             n.hasInput(3) ? n.constantInts(3, "Slice's axes")
                           : std::vector<int64_t>{},
             n.hasInput(4) ? n.constantInts(4, "Slice's steps")
                           : std::vector<int64_t>{});
}

void importGather(NodeContext &n) {
  Value data = n.input(0), indices = n.input(1);
  int64_t rank = cast<RankedTensorType>(data.getType()).getRank();
  int64_t axis = n.normalizeAxis(n.attrInt("axis", 0), rank, "axis");
  n.setResult(0, n.builder().create<nn::GatherOp>(
                     n.loc(), n.resultType(), data, indices,
                     n.builder().getI64IntegerAttr(axis)));
}

void buildPad(NodeContext &n, std::vector<int64_t> pads, double value) {
  OpBuilder &b = n.builder();
  std::string modeName = n.attrString("mode", "constant");
  std::optional<nn::PadMode> mode = nn::symbolizePadMode(modeName);
  if (!mode)
    n.fail("pad mode '" + modeName + "' is not supported (constant, reflect, "
           "edge)");
  for (int64_t p : pads)
    if (p < 0)
      n.fail("negative pads (cropping) are not supported");
  n.setResult(0, b.create<nn::PadOp>(n.loc(), n.resultType(),
                                     nn::PadModeAttr::get(b.getContext(), *mode),
                                     n.input(0), b.getDenseI64ArrayAttr(pads),
                                     b.getF64FloatAttr(value)));
}

void importPadAttrs(NodeContext &n) {
  std::vector<int64_t> pads = n.attrInts("pads", {});
  buildPad(n, pads, n.attrFloat("value", 0.0f));
}

void importPadInputs(NodeContext &n) {
  std::vector<int64_t> pads = n.constantInts(1, "Pad's pads");
  double value = 0.0;
  if (n.hasInput(2)) {
    std::vector<double> v = n.constantDoubles(2, "Pad's constant_value");
    if (v.size() != 1)
      n.fail("constant_value must be a scalar");
    value = v[0];
  }
  if (n.hasInput(3))
    n.fail("Pad's axes input is not supported");
  buildPad(n, pads, value);
}

void importCast(NodeContext &n) {
  n.attrInt("to", 0); // the inferred result type already carries it
  n.setResult(0, n.builder().create<nn::CastOp>(n.loc(), n.resultType(),
                                                n.input(0)));
}

void importConstant(NodeContext &n) {
  OpBuilder &b = n.builder();
  RankedTensorType type = n.resultType();
  ElementsAttr value;
  if (ElementsAttr v = n.attrTensorValue("value")) {
    value = v;
  } else if (n.hasAttr("value_float")) {
    value = DenseElementsAttr::get(type, b.getF32FloatAttr(n.attrFloat("value_float", 0)));
  } else if (n.hasAttr("value_floats")) {
    std::vector<float> v = n.attrFloats("value_floats");
    value = DenseElementsAttr::get(type, ArrayRef<float>(v));
  } else if (n.hasAttr("value_int")) {
    value = DenseElementsAttr::get(type, b.getI64IntegerAttr(n.attrInt("value_int", 0)));
  } else if (n.hasAttr("value_ints")) {
    std::vector<int64_t> v = n.attrInts("value_ints", {});
    value = DenseElementsAttr::get(type, ArrayRef<int64_t>(v));
  } else {
    n.fail("only tensor, float(s) and int(s) constants are supported");
  }
  n.setResult(0, b.create<nn::ConstantOp>(n.loc(), value));
}

/// Identity and inference-mode Dropout forward their input unchanged.
void importIdentity(NodeContext &n) { n.setResult(0, n.input(0)); }

void importDropout(NodeContext &n) {
  n.ignoreAttr("seed");
  n.ignoreAttr("ratio"); // no effect at inference
  n.ignoreAttr("is_test");
  if (n.hasInput(2)) {
    std::vector<int64_t> training = n.constantInts(2, "Dropout's training_mode");
    if (!training.empty() && training[0] != 0)
      n.fail("training_mode=true is not supported for inference import");
  }
  n.setResult(0, n.input(0));
  // At inference nothing is dropped: the mask is all true.
  if (n.proto().output_size() > 1 && !n.proto().output(1).empty()) {
    RankedTensorType maskType = n.resultType(1);
    n.setResult(1, n.builder().create<nn::ConstantOp>(
                       n.loc(), DenseElementsAttr::get(maskType, true)));
  }
}

/// Shape and Size of statically shaped tensors are constants.
RankedTensorType staticInput(NodeContext &n, int i, const char *op) {
  RankedTensorType t = n.inputType(i);
  if (!t.hasStaticShape())
    n.fail(std::string(op) + " of a tensor with dynamic dimensions is not "
           "supported; compile with --batch=N");
  return t;
}

void importShape(NodeContext &n) {
  RankedTensorType t = staticInput(n, 0, "Shape");
  int64_t rank = t.getRank();
  auto clampIndex = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t start = clampIndex(n.attrInt("start", 0));
  int64_t end = clampIndex(n.attrInt("end", rank));
  std::vector<int64_t> dims;
  for (int64_t d = start; d < end; ++d)
    dims.push_back(t.getDimSize(d));
  n.setResult(0, n.builder().create<nn::ConstantOp>(
                     n.loc(), DenseElementsAttr::get(n.resultType(), ArrayRef<int64_t>(dims))));
}

void importSize(NodeContext &n) {
  RankedTensorType t = staticInput(n, 0, "Size");
  n.setResult(0, n.builder().create<nn::ConstantOp>(
                     n.loc(), DenseElementsAttr::get(n.resultType(), t.getNumElements())));
}

/// A constant splat of the shape given by the (constant) input.
void importConstantOfShape(NodeContext &n) {
  RankedTensorType type = n.resultType();
  if (!type.hasStaticShape())
    n.fail("the shape input must be a constant");
  n.input(0);
  OpBuilder &b = n.builder();
  Attribute value = isa<FloatType>(type.getElementType())
                        ? Attribute(b.getFloatAttr(type.getElementType(), 0.0))
                        : Attribute(b.getIntegerAttr(type.getElementType(), 0));
  if (ElementsAttr v = n.attrTensorValue("value")) {
    auto dense = dyn_cast<DenseElementsAttr>(v);
    if (!dense || dense.getNumElements() != 1)
      n.fail("value must hold one element");
    value = *dense.getValues<Attribute>().begin();
  }
  n.setResult(0, b.create<nn::ConstantOp>(n.loc(), DenseElementsAttr::get(type, value)));
}

/// EyeLike depends only on the (static) shape: a constant.
void importEyeLike(NodeContext &n) {
  staticInput(n, 0, "EyeLike");
  RankedTensorType type = n.resultType();
  if (type.getRank() != 2)
    n.fail("EyeLike needs a 2-D input");
  n.ignoreAttr("dtype"); // the result type carries it
  int64_t k = n.attrInt("k", 0), rows = type.getDimSize(0), cols = type.getDimSize(1);
  OpBuilder &b = n.builder();
  Type et = type.getElementType();
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double v = j - i == k ? 1.0 : 0.0;
      values.push_back(isa<FloatType>(et) ? Attribute(b.getFloatAttr(et, v))
                                          : Attribute(b.getIntegerAttr(et, (int64_t)v)));
    }
  n.setResult(0, b.create<nn::ConstantOp>(n.loc(), DenseElementsAttr::get(type, values)));
}

void importExpand(NodeContext &n) {
  Value x = n.input(0);
  n.constantInts(1, "Expand's shape"); // the result type already has it
  RankedTensorType type = n.resultType();
  n.setResult(0, type == x.getType()
                     ? x
                     : n.builder().create<nn::BroadcastToOp>(n.loc(), type, x).getResult());
}

void importTile(NodeContext &n) {
  Value x = n.input(0);
  std::vector<int64_t> repeats = n.constantInts(1, "Tile's repeats");
  n.setResult(0, n.builder().create<nn::TileOp>(n.loc(), n.resultType(), x,
                                                n.builder().getDenseI64ArrayAttr(repeats)));
}

/// Split into nn.slice ops; sizes from the attribute (< 13), the input
/// (>= 13), or equal parts.
void importSplit(NodeContext &n) {
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  RankedTensorType t = cast<RankedTensorType>(x.getType());
  int64_t rank = t.getRank();
  int64_t axis = n.normalizeAxis(n.attrInt("axis", 0), rank, "axis");
  if (t.isDynamicDim(axis))
    n.fail("splitting a dynamic dimension is not supported");
  std::vector<int64_t> sizes = n.opset() < 13 ? n.attrInts("split", {})
                               : n.hasInput(1) ? n.constantInts(1, "Split's split")
                                               : std::vector<int64_t>{};
  int outputs = n.proto().output_size();
  if (sizes.empty()) {
    int64_t dim = t.getDimSize(axis), each = (dim + outputs - 1) / outputs;
    for (int i = 0; i < outputs; ++i)
      sizes.push_back(std::min<int64_t>(each, dim - each * i));
  }
  if ((int)sizes.size() != outputs)
    n.fail("split sizes do not match the number of outputs");
  int64_t offset = 0;
  for (int i = 0; i < outputs; ++i) {
    std::vector<int64_t> starts(rank, 0), ends(t.getShape().begin(), t.getShape().end()),
        steps(rank, 1);
    starts[axis] = offset;
    ends[axis] = offset + sizes[i];
    offset += sizes[i];
    if (n.proto().output(i).empty())
      continue;
    n.setResult(i, b.create<nn::SliceOp>(n.loc(), n.resultType(i), x,
                                         b.getDenseI64ArrayAttr(starts),
                                         b.getDenseI64ArrayAttr(ends),
                                         b.getDenseI64ArrayAttr(steps)));
  }
}

void importGatherElements(NodeContext &n) {
  Value data = n.input(0), indices = n.input(1);
  int64_t rank = cast<RankedTensorType>(data.getType()).getRank();
  int64_t axis = n.normalizeAxis(n.attrInt("axis", 0), rank, "axis");
  n.setResult(0, n.builder().create<nn::GatherElementsOp>(
                     n.loc(), n.resultType(), data, indices,
                     n.builder().getI64IntegerAttr(axis)));
}

void importTrilu(NodeContext &n) {
  Value x = n.input(0);
  int64_t k = 0;
  Value kValue;
  if (n.hasInput(1)) {
    if (n.input(1).getDefiningOp<nn::ConstantOp>()) {
      std::vector<int64_t> v = n.constantInts(1, "Trilu's k");
      if (v.size() != 1)
        n.fail("k must be a scalar");
      k = v[0];
    } else {
      kValue = n.input(1);
      if (composite::typeOf(kValue).getRank() != 0)
        kValue = n.builder().create<nn::ReshapeOp>(
            n.loc(), RankedTensorType::get({}, n.builder().getI64Type()), kValue);
    }
  }
  bool upper = n.attrInt("upper", 1) != 0;
  n.setResult(0, n.builder().create<nn::TriluOp>(n.loc(), n.resultType(), x, kValue,
                                                 n.builder().getBoolAttr(upper),
                                                 n.builder().getI64IntegerAttr(k)));
}

} // namespace

void registerTensorImporters(OpTable &t) {
  t.add("Reshape", 5, importReshapeLike);
  t.add("Flatten", 1, importReshapeLike);
  t.add("Squeeze", 1, importReshapeLike);
  t.add("Unsqueeze", 1, importReshapeLike);
  t.add("Transpose", 1, importTranspose);
  t.add("Concat", 4, importConcat);
  t.add("Slice", 1, importSliceAttrs);
  t.add("Slice", 10, importSliceInputs);
  t.add("Gather", 1, importGather);
  t.add("Pad", 2, importPadAttrs);
  t.add("Pad", 11, importPadInputs);
  t.add("Cast", 6, importCast);
  t.add("Constant", 1, importConstant);
  t.add("Identity", 1, importIdentity);
  t.add("Dropout", 7, importDropout);
  t.add("Shape", 1, importShape);
  t.add("Size", 1, importSize);
  t.add("ConstantOfShape", 9, importConstantOfShape);
  t.add("Expand", 8, importExpand);
  t.add("EyeLike", 9, importEyeLike);
  t.add("Tile", 6, importTile);
  t.add("Split", 2, importSplit);
  t.add("GatherElements", 11, importGatherElements);
  t.add("Trilu", 14, importTrilu);
}

} // namespace strata::onnx_import
