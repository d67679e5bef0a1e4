//===- NeuralGradients.cpp - gradient rules of matmul, conv, pool, norm ---===//
//
// Contractions differentiate into contractions: the gradients of a matmul
// are matmuls and those of a convolution are convolutions (of the dilated,
// padded output gradient with the flipped weights for the input; of the
// input with the output gradient for the weights), so the backward pass
// rides the same fast lowering (conv as a tiled matmul) as the forward one.
//
//===----------------------------------------------------------------------===//

#include "dialects/nn/NNBuilder.h"
#include "dialects/nn/NNOps.h"

using namespace mlir;

namespace strata::nn {
namespace {

bool isFloat(Value v) { return isa<FloatType>(NNBuilder::elementOf(v)); }

SmallVector<int64_t> shapeOf(Value v) {
  auto s = NNBuilder::typeOf(v).getShape();
  return SmallVector<int64_t>(s.begin(), s.end());
}

SmallVector<int64_t> iota(int64_t n) {
  SmallVector<int64_t> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back(i);
  return v;
}

/// Inserts `stride - 1` zeros between elements of each spatial dimension of
/// `dy` (N x C x spatial...): reshape to (..., o, 1, ...), pad the 1 to
/// `stride`, merge, drop the trailing zeros.
Value dilateSpatial(NNBuilder &b, Value dy, ArrayRef<int64_t> strides) {
  bool any = false;
  for (int64_t s : strides)
    any |= s != 1;
  if (!any)
    return dy;
  SmallVector<int64_t> shape = shapeOf(dy), split{shape[0], shape[1]};
  int64_t s = strides.size();
  for (int64_t i = 0; i < s; ++i) {
    split.push_back(shape[2 + i]);
    split.push_back(1);
  }
  SmallVector<int64_t> pads(2 * split.size(), 0);
  for (int64_t i = 0; i < s; ++i)
    pads[split.size() + 3 + 2 * i] = strides[i] - 1;
  Value x = b.padOrCrop(b.reshape(dy, split), pads);
  SmallVector<int64_t> merged{shape[0], shape[1]}, starts(2 + s, 0), steps(2 + s, 1);
  for (int64_t i = 0; i < s; ++i)
    merged.push_back(shape[2 + i] * strides[i]);
  SmallVector<int64_t> ends(merged);
  for (int64_t i = 0; i < s; ++i)
    ends[2 + i] = (shape[2 + i] - 1) * strides[i] + 1;
  return b.slice(b.reshape(x, merged), starts, ends, steps);
}

} // namespace

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                       SmallVectorImpl<Value> &grads) {
  if (!isFloat(getLhs())) {
    grads.append(2, Value());
    return success();
  }
  NNBuilder b(builder, getLoc());
  Value a = getLhs(), w = getRhs(), dy = dys[0];
  SmallVector<int64_t> as = shapeOf(a), ws = shapeOf(w);
  // Promote 1-D operands as ONNX does, so both rules are 2-D or batched.
  SmallVector<int64_t> dyShape = shapeOf(dy);
  if (as.size() == 1) {
    a = b.reshape(a, {1, as[0]});
    dyShape.insert(dyShape.end() - (ws.size() == 1 ? 0 : 1), 1);
  }
  if (ws.size() == 1) {
    w = b.reshape(w, {ws[0], 1});
    dyShape.push_back(1);
  }
  dy = b.reshape(dy, dyShape);
  Value da = b.matmul(dy, b.transposeLast2(w));
  Value dw = b.matmul(b.transposeLast2(a), dy);
  grads.push_back(b.reshape(b.sumToShape(da, shapeOf(a)), as));
  grads.push_back(b.reshape(b.sumToShape(dw, shapeOf(w)), ws));
  return success();
}

LogicalResult GemmOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                     SmallVectorImpl<Value> &grads) {
  if (!isFloat(getA())) {
    grads.append(getC() ? 3 : 2, Value());
    return success();
  }
  NNBuilder b(builder, getLoc());
  Value a = getA(), w = getB(), dy = dys[0];
  double alpha = getAlpha().convertToDouble();
  bool ta = getTransA(), tb = getTransB();
  // y = alpha * op(A) op(B): d op(A) = alpha dy op(B)^T, d op(B) = alpha op(A)^T dy.
  grads.push_back(ta ? b.gemm(w, dy, alpha, tb, true) : b.gemm(dy, w, alpha, false, !tb));
  grads.push_back(tb ? b.gemm(dy, a, alpha, true, ta) : b.gemm(a, dy, alpha, !ta, false));
  if (getC()) {
    Value dc = b.sumToShape(dy, shapeOf(getC()));
    double beta = getBeta().convertToDouble();
    grads.push_back(beta == 1.0 ? dc : b.mulScalar(dc, beta));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                     SmallVectorImpl<Value> &grads) {
  if (!isFloat(getInput())) {
    grads.append(getBias() ? 3 : 2, Value());
    return success();
  }
  NNBuilder b(builder, getLoc());
  Value x = getInput(), w = getWeight(), dy = dys[0];
  SmallVector<int64_t> xs = shapeOf(x), ws = shapeOf(w), ys = shapeOf(dy);
  int64_t s = xs.size() - 2, g = getGroup();
  int64_t n = xs[0], c = xs[1], o = ws[0], cg = c / g, og = o / g;
  ArrayRef<int64_t> st = getStrides(), dl = getDilations(), pads = getPads();
  SmallVector<int64_t> ones(s, 1), zeros(2 * s, 0), swapChannels{1, 0};
  for (int64_t i = 0; i < s; ++i)
    swapChannels.push_back(2 + i);

  // Input, ungrouped: one op, so that a backend can compute small ones
  // directly; the generic lowering is W^T dY summed back by col2im.
  if (g == 1) {
    grads.push_back(builder.create<ConvInputGradOp>(getLoc(), x.getType(), dy, w,
                                                    getStridesAttr(), getPadsAttr(),
                                                    getDilationsAttr()));
  } else {
  // Grouped: a stride-1 convolution of the dilated, padded output gradient
  // with the spatially flipped weights whose in/out channels are swapped
  // within each group.
    SmallVector<int64_t> starts(s + 2, 0), ends(ws), steps(s + 2, 1);
    for (int64_t i = 0; i < s; ++i) {
      starts[2 + i] = ws[2 + i] - 1;
      ends[2 + i] = -1;
      steps[2 + i] = -1;
    }
    Value flipped = b.slice(w, starts, ends, steps);
    SmallVector<int64_t> grouped{g, og, cg}, perm{0, 2, 1}, swapped{c, og};
    for (int64_t i = 0; i < s; ++i) {
      grouped.push_back(ws[2 + i]);
      perm.push_back(3 + i);
      swapped.push_back(ws[2 + i]);
    }
    Value wt = b.reshape(b.transpose(b.reshape(flipped, grouped), perm), swapped);
    SmallVector<int64_t> padded(2 * (s + 2), 0);
    for (int64_t i = 0; i < s; ++i) {
      int64_t effK = (ws[2 + i] - 1) * dl[i] + 1;
      int64_t dilated = (ys[2 + i] - 1) * st[i] + 1;
      padded[2 + i] = effK - 1 - pads[i];
      padded[s + 4 + i] = xs[2 + i] - dilated + pads[i];
    }
    Value dyp = b.padOrCrop(dilateSpatial(b, dy, st), padded);
    grads.push_back(b.conv(dyp, wt, ones, zeros, dl, g));
  }

  // Weights, ungrouped: one op, so that a backend can compute small ones
  // directly; the generic lowering is the patch columns times dY.
  if (g == 1) {
    grads.push_back(builder.create<ConvFilterGradOp>(getLoc(), w.getType(), x, dy,
                                                     getStridesAttr(), getPadsAttr(),
                                                     getDilationsAttr()));
  } else {
  // Grouped: a convolution over the batch. The padded input, channels made
  // the batch ([C/g, g*N, ...]), is convolved with the output gradient as
  // weights ([O, N, ...]), stride and dilation exchanging roles.
    SmallVector<int64_t> crop(2 * (s + 2), 0);
    for (int64_t i = 0; i < s; ++i) {
      int64_t used = (ys[2 + i] - 1) * st[i] + (ws[2 + i] - 1) * dl[i] + 1;
      crop[2 + i] = pads[i];
      crop[s + 4 + i] = used - xs[2 + i] - pads[i];
    }
    Value xp = b.padOrCrop(x, crop);
    SmallVector<int64_t> xps = shapeOf(xp);
    SmallVector<int64_t> xSplit{n, g, cg}, xPerm{2, 1, 0}, xBatch{cg, g * n};
    SmallVector<int64_t> ySplit{n, g, og}, yPerm{1, 2, 0}, yWeights{o, n};
    for (int64_t i = 0; i < s; ++i) {
      xSplit.push_back(xps[2 + i]);
      xPerm.push_back(3 + i);
      xBatch.push_back(xps[2 + i]);
      ySplit.push_back(ys[2 + i]);
      yPerm.push_back(3 + i);
      yWeights.push_back(ys[2 + i]);
    }
    Value xin = b.reshape(b.transpose(b.reshape(xp, xSplit), xPerm), xBatch);
    Value yw = b.reshape(b.transpose(b.reshape(dy, ySplit), yPerm), yWeights);
    Value dwT = b.conv(xin, yw, dl, zeros, st, g); // [C/g, O, k...]
    grads.push_back(b.transpose(dwT, swapChannels));
  }

  if (getBias()) {
    SmallVector<int64_t> axes{0};
    for (int64_t i = 0; i < s; ++i)
      axes.push_back(2 + i);
    grads.push_back(b.reduce(ReduceKind::sum, dy, axes, /*keepDims=*/false));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling and batch normalization
//===----------------------------------------------------------------------===//

LogicalResult PoolOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                     SmallVectorImpl<Value> &grads) {
  if (!isFloat(getInput())) {
    grads.push_back(Value());
    return success();
  }
  grads.push_back(builder.create<PoolGradOp>(
      getLoc(), getInput().getType(), getKindAttr(), getInput(), dys[0],
      getKernelShapeAttr(), getStridesAttr(), getPadsAttr(), getDilationsAttr(),
      getCeilModeAttr(), getCountIncludePadAttr()));
  return success();
}

LogicalResult BatchNormOp::buildGradients(OpBuilder &builder, ValueRange dys,
                                          SmallVectorImpl<Value> &grads) {
  // y = scale * (x - mean) * r + bias with r = (var + eps)^-1/2, per channel.
  NNBuilder b(builder, getLoc());
  SmallVector<int64_t> xs = shapeOf(getInput()), perChannel(xs.size(), 1);
  perChannel[1] = xs[1];
  SmallVector<int64_t> axes{0};
  for (size_t i = 2; i < xs.size(); ++i)
    axes.push_back(i);
  Type et = NNBuilder::elementOf(getInput());
  auto channelSum = [&](Value v) {
    return b.reduce(ReduceKind::sum, v, axes, /*keepDims=*/false);
  };
  Value r = b.div(b.scalar(et, 1.0),
                  b.sqrt(b.add(getVariance(), b.scalar(et, getEpsilon().convertToDouble()))));
  Value dy = dys[0];
  Value centered = b.sub(getInput(), b.reshape(getMean(), perChannel));
  Value sr = b.mul(getScale(), r); // [C]
  Value dyCentered = channelSum(b.mul(dy, centered));
  grads.push_back(b.mul(dy, b.reshape(sr, perChannel)));
  grads.push_back(b.mul(dyCentered, r));
  grads.push_back(channelSum(dy));
  grads.push_back(b.neg(b.mul(channelSum(dy), sr)));
  // d r / d var = -r^3 / 2
  grads.push_back(b.mul(b.mul(dyCentered, getScale()),
                        b.mulScalar(b.mul(r, b.mul(r, r)), -0.5)));
  return success();
}

} // namespace strata::nn
