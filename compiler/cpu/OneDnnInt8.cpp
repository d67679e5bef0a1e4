//===- OneDnnInt8.cpp - int8 contractions to oneDNN -----------------------===//
//
// The kernel choice for the integer layers strata-quantized-ops leaves: a
// 2-D convolution of u8/s8 by constant s8 weights into s32 runs as oneDNN's
// int8 convolution (VNNI's vpdpbusd where the CPU has it, vpmaddubsw
// otherwise; oneDNN picks by the ISA the program is capped to), in the
// channels-last layout its int8 kernels take; a 2-D matmul by constant s8
// weights runs as its int8 inner product. The i32 result goes on to the
// generated fixed-point nn.requantize; a requantize that is the
// convolution's only reader runs in channels-last too, so the reorder back
// to NCHW moves bytes, not int32s.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/OneDnnPoolPads.h"
#include "dialects/nn/ElementTypes.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"
#include "passes/Passes.h"
#include "passes/graph/ConstantValues.h"

#include "llvm/Support/FormatVariadic.h"

namespace strata {
#define GEN_PASS_DEF_ONEDNNINT8
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;
namespace onednn = strata::onednn;

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// u8/s8 by s8 into s32, static shapes.
bool isInt8Contraction(Value x, Value w, Value y) {
  auto xt = typeOf(x), wt = typeOf(w), yt = typeOf(y);
  return xt.hasStaticShape() && wt.hasStaticShape() && yt.hasStaticShape() &&
         nn::isInt8(xt.getElementType()) && wt.getElementType().isSignlessInteger(8) &&
         yt.getElementType().isInteger(32);
}

/// The [N, K] constant of a matmul's [K, N] weight: the transposed
/// constant itself (Gemm's transB, as strata-quantized-ops leaves it), or
/// nothing if the weight is not constant.
Value innerProductWeight(OpBuilder &b, nn::MatMulOp mm) {
  Value rhs = mm.getRhs();
  if (auto t = rhs.getDefiningOp<nn::TransposeOp>())
    if (t.getInput().getDefiningOp<nn::ConstantOp>())
      return t.getInput();
  auto values = strata::constantValues<int8_t>(rhs);
  if (!values)
    return {};
  auto w = typeOf(rhs);
  int64_t k = w.getDimSize(0), n = w.getDimSize(1);
  std::vector<int8_t> transposed(values->size());
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      transposed[j * k + i] = (*values)[i * n + j];
  return strata::makeConstant<int8_t>(b, mm.getLoc(), RankedTensorType::get({n, k}, w.getElementType()),
                                      transposed, "int8_weights");
}

/// [N, C, H, W] -> [N, H, W, C] of `nchw`, or, when `nchw` is itself the
/// reorder back from channels-last, the value it reorders (the pair cancels).
Value toChannelsLast(OpBuilder &b, Location loc, Value nchw) {
  if (auto t = nchw.getDefiningOp<nn::TransposeOp>())
    if (t.getPerm() == ArrayRef<int64_t>{0, 3, 1, 2})
      return t.getInput();
  auto s = typeOf(nchw).getShape();
  auto type = RankedTensorType::get({s[0], s[2], s[3], s[1]}, typeOf(nchw).getElementType());
  return b.create<nn::TransposeOp>(strata::cpu::reorderLoc(loc), type, nchw,
                                   b.getDenseI64ArrayAttr({0, 2, 3, 1}));
}

Value toChannelsFirst(OpBuilder &b, Location loc, Value nhwc) {
  auto s = typeOf(nhwc).getShape();
  auto type = RankedTensorType::get({s[0], s[3], s[1], s[2]}, typeOf(nhwc).getElementType());
  return b.create<nn::TransposeOp>(strata::cpu::reorderLoc(loc), type, nhwc,
                                   b.getDenseI64ArrayAttr({0, 3, 1, 2}));
}

/// Whether `v` is the reorder back to NCHW of a channels-last value.
bool isChannelsFirstOfNhwc(Value v) {
  auto t = v.getDefiningOp<nn::TransposeOp>();
  return t && t.getPerm() == ArrayRef<int64_t>{0, 3, 1, 2};
}

/// A per-channel operand [1, C, 1, 1] (or a scalar) of a requantize, as
/// channels-last [1, 1, 1, C].
Value channelsLastFactor(OpBuilder &b, Location loc, Value v) {
  auto t = typeOf(v);
  if (t.getRank() != 4)
    return v;
  auto type = RankedTensorType::get({1, 1, 1, t.getDimSize(1)}, t.getElementType());
  return b.create<nn::ReshapeOp>(loc, type, v);
}

/// A per-channel or scalar operand ([1, C, 1, 1], [1, 1, 1, 1], rank < 4).
bool isFactor(Value v) {
  auto s = typeOf(v).getShape();
  return s.size() < 4 || (s.size() == 4 && s[0] == 1 && s[2] == 1 && s[3] == 1);
}

/// Ops that compute each element from the same position of their operands
/// (plus per-channel factors): they run in whatever layout their inputs
/// have. Keeping the int8 region channels-last spares a reorder per layer.
bool isLayoutFree(Operation *op) {
  return isa<nn::QuantizeOp, nn::DequantizeOp, nn::RequantizeOp, nn::AddOp, nn::SubOp,
             nn::MulOp, nn::MaxOp, nn::MinOp, nn::ReluOp, nn::ClipOp, nn::CastOp,
             nn::ExtendUnsignedOp>(op);
}

/// Runs a layout-free op on the channels-last values under its operands'
/// reorders, when every full-size operand has one; its readers get one
/// reorder back.
void sinkReorder(Operation *op) {
  if (op->getNumResults() != 1 || typeOf(op->getResult(0)).getRank() != 4)
    return;
  bool any = false;
  for (Value v : op->getOperands()) {
    if (isChannelsFirstOfNhwc(v))
      any = true;
    else if (!isFactor(v))
      return;
  }
  if (!any)
    return;
  OpBuilder b(op);
  SmallVector<Value> operands;
  for (Value v : op->getOperands())
    operands.push_back(isChannelsFirstOfNhwc(v) ? toChannelsLast(b, op->getLoc(), v)
                                                : channelsLastFactor(b, op->getLoc(), v));
  Operation *clone = b.clone(*op);
  clone->setOperands(operands);
  auto s = typeOf(op->getResult(0)).getShape();
  clone->getResult(0).setType(RankedTensorType::get(
      {s[0], s[2], s[3], s[1]}, typeOf(op->getResult(0)).getElementType()));
  op->getResult(0).replaceAllUsesWith(toChannelsFirst(b, op->getLoc(), clone->getResult(0)));
  op->erase();
}

/// Max pooling of a channels-last int8 value: oneDNN's, in place.
void rewritePool(nn::PoolOp pool) {
  Value in = pool.getInput();
  auto inType = typeOf(in), out = typeOf(pool.getOutput());
  if (pool.getKind() != nn::PoolKind::max || !isChannelsFirstOfNhwc(in) ||
      !nn::isInt8(inType.getElementType()) || pool.getKernelShape().size() != 2 ||
      llvm::any_of(pool.getDilations(), [](int64_t d) { return d != 1; }))
    return;
  SmallVector<int64_t> pads = strata::cpu::oneDnnPoolPads(pool);
  OpBuilder b(pool);
  auto s = out.getShape();
  auto y = b.create<onednn::PoolOp>(
      pool.getLoc(), RankedTensorType::get({s[0], s[2], s[3], s[1]}, out.getElementType()),
      toChannelsLast(b, pool.getLoc(), in), pool.getKernelShapeAttr(), pool.getStridesAttr(),
      b.getDenseI64ArrayAttr(pads), b.getStringAttr("nhwc"));
  strata::cpu::recordKernel(y, "oneDNN int8 max pooling", "reads a channels-last int8 value");
  pool.replaceAllUsesWith(toChannelsFirst(b, pool.getLoc(), y));
  pool.erase();
}

void rewriteConv(nn::ConvOp conv) {
  OpBuilder b(conv);
  Location loc = conv.getLoc();
  Value src = toChannelsLast(b, loc, conv.getInput());
  auto out = typeOf(conv.getOutput()).getShape();
  auto dstType = RankedTensorType::get({out[0], out[2], out[3], out[1]}, b.getI32Type());
  auto y = b.create<onednn::ConvOp>(
      loc, dstType, src, conv.getWeight(), conv.getBias(), /*sum=*/Value(),
      conv.getStridesAttr(), conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr(),
      b.getStringAttr("nhwc"), b.getStringAttr("nhwc"), b.getStrArrayAttr({}), FloatAttr(),
      FloatAttr(), b.getBoolAttr(true));
  strata::cpu::recordKernel(
      y, "oneDNN int8 convolution",
      llvm::formatv("{0} x s8 -> s32, channels last", nn::isInt8(typeOf(conv.getInput()).getElementType()) &&
                                                          typeOf(conv.getInput()).getElementType().isUnsignedInteger()
                                                      ? "u8"
                                                      : "s8"));
  // Readers that are layout-free follow into channels-last (sinkReorder).
  Value result = y;
  conv.replaceAllUsesWith(toChannelsFirst(b, loc, result));
  conv.erase();
}

/// [M, K] x [K, N] constant -> oneDNN's inner product with the weight as
/// [N, K].
void rewriteMatMul(nn::MatMulOp mm) {
  OpBuilder b(mm);
  Value wt = innerProductWeight(b, mm);
  if (!wt)
    return;
  auto ip = b.create<onednn::InnerProductOp>(mm.getLoc(), mm.getType(), mm.getLhs(), wt, Value(),
                                             b.getStrArrayAttr({}), FloatAttr(), FloatAttr(),
                                             b.getBoolAttr(true));
  strata::cpu::recordKernel(ip, "oneDNN int8 inner product", "8-bit by constant s8 -> s32");
  mm.replaceAllUsesWith(ip.getResult());
  mm.erase();
}

struct OneDnnInt8Pass : strata::impl::OneDnnInt8Base<OneDnnInt8Pass> {
  void runOnOperation() override {
    // In program order, so each op sees its operands' final layout.
    getOperation()->walk([&](func::FuncOp func) {
      SmallVector<Operation *> ops;
      func.walk([&](Operation *op) { ops.push_back(op); });
      for (Operation *op : ops) {
        if (auto conv = dyn_cast<nn::ConvOp>(op)) {
          if (typeOf(conv.getInput()).getRank() == 4 &&
              conv.getWeight().getDefiningOp<nn::ConstantOp>() &&
              isInt8Contraction(conv.getInput(), conv.getWeight(), conv.getOutput()))
            rewriteConv(conv);
        } else if (auto mm = dyn_cast<nn::MatMulOp>(op)) {
          if (typeOf(mm.getLhs()).getRank() == 2 && typeOf(mm.getRhs()).getRank() == 2 &&
              isInt8Contraction(mm.getLhs(), mm.getRhs(), mm.getOutput()))
            rewriteMatMul(mm);
        } else if (auto pool = dyn_cast<nn::PoolOp>(op)) {
          rewritePool(pool);
        } else if (isLayoutFree(op)) {
          sinkReorder(op);
        }
      }
    });
    // Reorders that nothing reads any more.
    getOperation()->walk([&](nn::TransposeOp t) {
      if (t->use_empty())
        t->erase();
    });
  }
};

} // namespace
