//===- TensorGradients.cpp - gradient rules of data movement and reductions ===//
//
// Data movement moves gradients back the way the data came (reshape back,
// inverse permutation, slices of a concatenation, zero padding around a
// slice); reductions broadcast the result's gradient over the reduced axes.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"

using namespace mlir;

namespace strata::nn {
namespace {

bool isFloat(Value v) { return isa<FloatType>(NNBuilder::elementOf(v)); }

ArrayRef<int64_t> shapeOf(Value v) { return NNBuilder::typeOf(v).getShape(); }

} // namespace

LogicalResult ReshapeOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                        SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  grads.push_back(isFloat(getInput()) ? b.reshape(dys[0], shapeOf(getInput())) : Value());
  return success();
}

LogicalResult TransposeOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                          SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = i;
  grads.push_back(isFloat(getInput()) ? b.transpose(dys[0], inverse) : Value());
  return success();
}

LogicalResult BroadcastToOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                            SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  grads.push_back(isFloat(getInput()) ? b.sumToShape(dys[0], shapeOf(getInput()))
                                      : Value());
  return success();
}

LogicalResult ConcatOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                       SmallVectorImpl<Value> &grads) {
  NNBuilder b(builder, getLoc());
  int64_t axis = getAxis(), offset = 0;
  ArrayRef<int64_t> out = shapeOf(getOutput());
  for (Value in : getInputs()) {
    SmallVector<int64_t> starts(out.size(), 0), ends(out), steps(out.size(), 1);
    int64_t size = shapeOf(in)[axis];
    starts[axis] = offset;
    ends[axis] = offset + size;
    offset += size;
    grads.push_back(isFloat(in) ? b.slice(dys[0], starts, ends, steps) : Value());
  }
  return success();
}

LogicalResult SliceOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                      SmallVectorImpl<Value> &grads) {
  if (!isFloat(getInput())) {
    grads.push_back(Value());
    return success();
  }
  NNBuilder b(builder, getLoc());
  ArrayRef<int64_t> in = shapeOf(getInput()), out = shapeOf(getOutput());
  int64_t r = in.size();
  Value dy = dys[0];
  // Undo reversals first, then put the slice back in zeros.
  SmallVector<int64_t> starts(r), ends(r), steps(r, 1), pads(2 * r, 0);
  bool reversed = false;
  for (int64_t d = 0; d < r; ++d) {
    int64_t step = getSteps()[d];
    if (step != 1 && step != -1)
      return emitOpError() << "has no gradient rule for step " << step
                           << " (only steps of 1 and -1)";
    int64_t first = step > 0 ? getStarts()[d] : getStarts()[d] - (out[d] - 1);
    if (out[d] == 0)
      first = 0;
    starts[d] = out[d] - 1;
    ends[d] = -1;
    if (step < 0) {
      reversed = true;
      steps[d] = -1;
    } else {
      starts[d] = 0;
      ends[d] = out[d];
    }
    pads[d] = first;
    pads[d + r] = in[d] - first - out[d];
  }
  if (reversed)
    dy = b.slice(dy, starts, ends, steps);
  grads.push_back(b.padOrCrop(dy, pads));
  return success();
}

LogicalResult PadOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloat(getInput())) {
    grads.push_back(Value());
    return success();
  }
  if (getMode() != PadMode::constant)
    return emitOpError() << "has no gradient rule for reflect or edge padding";
  NNBuilder b(builder, getLoc());
  ArrayRef<int64_t> pads = getPads();
  SmallVector<int64_t> crop;
  for (int64_t p : pads)
    crop.push_back(-p);
  grads.push_back(b.padOrCrop(dys[0], crop));
  return success();
}

LogicalResult ReduceOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                       SmallVectorImpl<Value> &grads) {
  if (!isFloat(getInput())) {
    grads.push_back(Value());
    return success();
  }
  NNBuilder b(builder, getLoc());
  ArrayRef<int64_t> in = shapeOf(getInput());
  SmallVector<int64_t> kept(in);
  int64_t count = 1;
  for (int64_t a : getAxes()) {
    kept[a] = 1;
    count *= in[a];
  }
  Value dy = b.broadcastTo(b.reshape(dys[0], kept), in);
  switch (getKind()) {
  case ReduceKind::sum:
    grads.push_back(dy);
    break;
  case ReduceKind::mean:
    grads.push_back(b.mulScalar(dy, 1.0 / (double)count));
    break;
  case ReduceKind::max:
  case ReduceKind::min: {
    // Every position equal to the extreme value receives the gradient.
    Value y = b.reshape(getOutput(), kept);
    grads.push_back(b.select(b.compare(ComparePredicate::eq, getInput(), y), dy));
    break;
  }
  case ReduceKind::prod:
    grads.push_back(b.div(b.mul(dy, b.reshape(getOutput(), kept)), getInput()));
    break;
  }
  return success();
}

LogicalResult GatherOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                       SmallVectorImpl<Value> &grads) {
  grads.append(2, Value());
  if (!isFloat(getData()))
    return success();
  // dData[a, c, b] = sum over index positions i of dY[a, i, b] * (idx[i] == c):
  // the one-hot of the indices, transposed, times dY (a batched matmul).
  NNBuilder b(builder, getLoc());
  ArrayRef<int64_t> data = shapeOf(getData()), idx = shapeOf(getIndices());
  int64_t axis = getAxis(), before = 1, after = 1, count = 1, classes = data[axis];
  for (int64_t i = 0; i < axis; ++i)
    before *= data[i];
  for (size_t i = axis + 1; i < data.size(); ++i)
    after *= data[i];
  for (int64_t d : idx)
    count *= d;
  Type et = NNBuilder::elementOf(getData());
  Value oneHotT = b.transposeLast2(
      b.reshape(b.oneHot(getIndices(), classes, et), {count, classes}));
  Value dy = b.reshape(dys[0], {before, count, after});
  grads[0] = b.reshape(b.matmul(oneHotT, dy), data);
  return success();
}

LogicalResult GatherElementsOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                               SmallVectorImpl<Value> &grads) {
  grads.append(2, Value());
  if (!isFloat(getData()))
    return success();
  // dData[p, c, q] = sum over j of dY[p, j, q] * (idx[p, j, q] == c): one-hot
  // along a new axis after `axis`, then a sum over `axis`.
  NNBuilder b(builder, getLoc());
  ArrayRef<int64_t> data = shapeOf(getData()), idx = shapeOf(getIndices());
  int64_t axis = getAxis(), r = data.size(), classes = data[axis];
  Type et = NNBuilder::elementOf(getData());
  Value hot = b.oneHot(getIndices(), classes, et); // idx + [C]
  SmallVector<int64_t> perm, hotShape;
  for (int64_t i = 0; i <= axis; ++i)
    perm.push_back(i);
  perm.push_back(r);
  for (int64_t i = axis + 1; i < r; ++i)
    perm.push_back(i);
  hot = b.transpose(hot, perm); // idx[:axis+1] + [C] + idx[axis+1:]
  SmallVector<int64_t> dyShape(idx);
  dyShape.insert(dyShape.begin() + axis + 1, 1);
  Value summed = b.reduce(ReduceKind::sum, b.mul(b.reshape(dys[0], dyShape), hot),
                          {axis}, /*keepDims=*/false); // idx with C at axis
  // Index shapes may be smaller than the data's off the axis: pad with zeros.
  SmallVector<int64_t> pads(2 * r, 0);
  for (int64_t i = 0; i < r; ++i)
    if (i != axis)
      pads[r + i] = data[i] - idx[i];
  grads[0] = b.padOrCrop(summed, pads);
  return success();
}

} // namespace strata::nn
