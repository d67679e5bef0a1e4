//===- OneDnnConvs.cpp - convolutions to oneDNN in a blocked layout -------===//
//
// The kernel and layout choice for convolutions on the CPU. A 2-D f32
// convolution that oneDNN runs well (plain or depthwise, output channels a
// multiple of the target's channel block B, CpuTarget::channelBlock) becomes
// onednn.conv; its activations move to oneDNN's channel-blocked layout
// nChw<B>c (N x C/B x H x W x B), where its kernels are fastest. The layout then spreads forward through what works on
// it unchanged: elementwise ops (same-shape operands) and 2-D max pooling
// (onednn.pool). Everything else reads NCHW, so the reorders
// (a reshape and a transpose each, generated code) are inserted only at the
// edges of these regions, once per value. Finally, a convolution's single
// consumer that oneDNN can apply as a post-op (relu, clip, a residual add)
// is fused into it.
//
// Other convolutions (1-D/3-D, grouped, narrow outputs, other types) stay
// nn.conv for the generated im2col + matmul path. Large fully connected
// layers at small batch become onednn.inner_product (see the rule below).
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "compiler/cpu/OneDnnPoolPads.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"
#include "passes/Passes.h"
#include "runtime/include/strata/onednn_calls.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace strata {
#define GEN_PASS_DEF_ONEDNNCONVS
#include "passes/Passes.h.inc"
} // namespace strata

using namespace mlir;
namespace nn = strata::nn;
namespace onednn = strata::onednn;
using strata::cpu::recordDeclined;
using strata::cpu::recordKernel;

namespace {


RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The "block" of a region laid out channels last (NHWC) instead: where
/// bf16 convolutions run, oneDNN's fast bf16 kernels (brgconv, AMX) read
/// and write NHWC only; its nChw16c bf16 kernel is slower than f32
/// (measured: 2.8 ms against 0.47 ms for a 64-channel 3x3 layer at 56x56).
constexpr int64_t kChannelsLast = STRATA_ONEDNN_NHWC;

/// The nChw<block>c type standing for an NCHW type (C a multiple of block),
/// or the NHWC one for kChannelsLast.
RankedTensorType blockedType(RankedTensorType nchw, int64_t block) {
  ArrayRef<int64_t> s = nchw.getShape();
  if (block == kChannelsLast)
    return RankedTensorType::get({s[0], s[2], s[3], s[1]}, nchw.getElementType());
  return RankedTensorType::get({s[0], s[1] / block, s[2], s[3], block},
                               nchw.getElementType());
}

/// The smallest channel block (AVX2's 8 floats; the target's if smaller).
int64_t minBlock(int64_t block) { return std::min<int64_t>(block, 8); }

/// Whether an NCHW value may be blocked at all: static, 4-d, of a type the
/// kernels take, channels a multiple of the smallest block.
bool blockable(Type t, int64_t block) {
  auto type = dyn_cast<RankedTensorType>(t);
  return type && type.hasStaticShape() && type.getRank() == 4 &&
         strata::cpu::generatedKernelsTake(type.getElementType()) &&
         type.getDimSize(1) % minBlock(block) == 0;
}

std::string layoutName(int64_t block) {
  return block == kChannelsLast ? "nhwc" : "nChw" + std::to_string(block) + "c";
}

/// The f32 value a bf16 operand was rounded from (strata-mixed-precision's
/// nn.cast), or null. The layout is planned on it: the rounding happens on
/// the blocked value, right before the convolution reads it.
Value castSource(Value v) {
  auto cast = v.getDefiningOp<nn::CastOp>();
  if (!cast || !tensorType(v).getElementType().isBF16() ||
      !tensorType(cast.getInput()).getElementType().isF32())
    return {};
  return cast.getInput();
}

/// What a convolution's layout is planned on: its input, or the f32 value
/// its bf16 input was rounded from.
Value layoutInput(nn::ConvOp conv) {
  Value from = castSource(conv.getInput());
  return from ? from : conv.getInput();
}

/// Whether oneDNN computes a contraction of these element types here: f32,
/// and bf16 x bf16 into f32 where the target has bf16 kernels (AVX512_BF16
/// or AMX; `bf16Kernels`).
bool oneDnnComputes(Type lhs, Type rhs, Type result, bool bf16Kernels) {
  if (strata::cpu::oneDnnTakes(lhs, rhs, result))
    return true;
  return bf16Kernels && lhs.isBF16() && rhs.isBF16() && result.isF32();
}

/// The cost rule: which convolutions oneDNN runs (faster than the generated
/// path on these shapes, measured in bench/). `rule` says why, either way
/// (strata compile --explain).
bool useOneDnn(nn::ConvOp conv, int64_t srcBlock, int64_t dstBlock, bool bf16Kernels,
               std::string &rule) {
  auto in = tensorType(conv.getInput()), w = tensorType(conv.getWeight()),
       out = tensorType(conv.getOutput());
  if (in.getRank() != 4 || !in.hasStaticShape() || !w.hasStaticShape() ||
      !out.hasStaticShape() ||
      !oneDnnComputes(in.getElementType(), w.getElementType(), out.getElementType(),
                      bf16Kernels)) {
    rule = bf16Kernels ? "not a static 2-D f32 or bf16 convolution: oneDNN takes only those"
                       : "not a static 2-D f32 convolution: oneDNN takes only those";
    return false;
  }
  // A bf16 input must be one strata rounded from f32 (its layout follows
  // that value's).
  if (in.getElementType().isBF16() && !castSource(conv.getInput())) {
    rule = "a bf16 input that is not rounded from f32 here";
    return false;
  }
  int64_t c = in.getDimSize(1), m = out.getDimSize(1), g = conv.getGroup();
  if (dstBlock == 0) {
    rule = llvm::formatv("{0} output channels, not a multiple of the 8-channel block", m);
    return false;
  }
  if (dstBlock == kChannelsLast) {
    if (srcBlock == 0) {
      rule = llvm::formatv("{0} input channels read as NCHW: oneDNN's bf16 kernels read "
                           "channels last", c);
      return false;
    }
    if (g != 1 && !(g == c && g == m)) {
      rule = llvm::formatv("{0} groups of {1} channels: grouped, not depthwise", g, c / g);
      return false;
    }
    rule = llvm::formatv("{0}, {1} -> {2} channels, channels last (oneDNN's bf16 kernels)",
                         g == 1 ? "dense" : "depthwise", c, m);
    return true;
  }
  if (g == 1) {
    // A first layer reads NCHW (its channels do not fill a block); oneDNN's
    // kernel for that covers ResNet's 7x7 stride 2 but not, e.g., AlexNet's
    // 11x11 stride 4, nor more channels than one block holds (MobileNetV2's
    // 24-channel 1x1 convolutions in 16-channel blocks): those would run its
    // reference code (3.5 s instead of milliseconds, 138 ms instead of 0.1;
    // measured).
    if (srcBlock == 0) {
      bool small = w.getDimSize(2) <= 7 && w.getDimSize(3) <= 7 &&
                   llvm::all_of(conv.getStrides(), [](int64_t s) { return s <= 2; });
      rule = llvm::formatv(
          "{0} input channels read as NCHW: {1}", c,
          c >= dstBlock ? llvm::formatv("oneDNN has only its reference kernel for {0} or "
                                        "more (a block's worth)", dstBlock)
                              .str()
          : small    ? std::string("oneDNN has a fast kernel for kernels up to 7x7, strides "
                                   "up to 2")
                     : std::string("oneDNN has only its reference kernel beyond 7x7 or "
                                   "stride 2"));
      return small && c < dstBlock;
    }
    rule = llvm::formatv("dense, {0} -> {1} channels in {2}-channel blocks", c, m, dstBlock);
    return true;
  }
  // Depthwise: one input and one output channel per group.
  if (g == c && g == m) {
    rule = "depthwise (one channel per group)";
    return true;
  }
  rule = llvm::formatv("{0} groups of {1} channels: grouped, not depthwise", g, c / g);
  return false;
}

/// Fully connected layers (Gemm with transB, as PyTorch's Linear exports)
/// with large constant weights and few rows: at batch 1 they stream their
/// weights from memory once, which oneDNN's inner product (weights reordered
/// once into its blocked layout) does at about twice the generated
/// matmul's rate (AlexNet's 9216 x 4096 layer; measured). Small layers and
/// many rows stay on the generated tiled matmul, which is as fast there.
bool useOneDnn(nn::GemmOp gemm, bool bf16Kernels, std::string &rule) {
  auto a = tensorType(gemm.getA()), b = tensorType(gemm.getB()),
       y = tensorType(gemm.getOutput());
  if (!a.hasStaticShape() || !b.hasStaticShape() ||
      !oneDnnComputes(a.getElementType(), b.getElementType(), y.getElementType(),
                      bf16Kernels) ||
      gemm.getTransA() || !gemm.getTransB() ||
      gemm.getAlpha().convertToFloat() != 1.0f ||
      !gemm.getB().getDefiningOp<nn::ConstantOp>())
    return false;
  if (Value c = gemm.getC()) {
    auto ct = tensorType(c);
    if (gemm.getBeta().convertToFloat() != 1.0f || ct.getRank() != 1 ||
        ct.getDimSize(0) != y.getDimSize(1))
      return false;
  }
  constexpr int64_t kMinWeights = 1 << 20, kMaxRows = 16;
  bool large = b.getNumElements() >= kMinWeights && a.getDimSize(0) <= kMaxRows;
  rule = llvm::formatv("{0} weights at {1} rows: {2}", b.getNumElements(), a.getDimSize(0),
                       large ? "at least 2^20 weights, at most 16 rows"
                             : "below 2^20 weights or over 16 rows");
  return large;
}

bool isElementwiseUnary(Operation *op) {
  return isa<nn::ReluOp, nn::ClipOp, nn::LeakyReluOp, nn::SigmoidOp,
             nn::TanhOp, nn::NegOp, nn::AbsOp, nn::ExpOp, nn::SqrtOp,
             nn::ErfOp>(op);
}

bool isElementwiseBinary(Operation *op) {
  return isa<nn::AddOp, nn::SubOp, nn::MulOp, nn::DivOp, nn::MaxOp,
             nn::MinOp>(op);
}

/// Rewrites one function's ops in order, keeping for each NCHW value that
/// has a blocked twin the twin.
class LayoutRewriter {
public:
  LayoutRewriter(MLIRContext *ctx, int64_t block, bool bf16Kernels)
      : b(ctx), block(block), bf16Kernels(bf16Kernels) {}

  void run(func::FuncOp func) {
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (op->getParentOp() == func.getOperation())
        ops.push_back(op);
    });
    planBlocks(ops);
    for (Operation *op : ops) {
      std::string rule;
      if (auto conv = dyn_cast<nn::ConvOp>(op)) {
        bool bf16 = tensorType(conv.getInput()).getElementType().isBF16();
        if (useOneDnn(conv, blockOf(layoutInput(conv)), blockOf(conv.getOutput()), bf16Kernels,
                      rule))
          recordKernel(rewriteConv(conv), bf16 ? "oneDNN convolution, bf16" : "oneDNN convolution",
                       rule);
        else
          recordDeclined(conv, rule);
      } else if (auto gemm = dyn_cast<nn::GemmOp>(op)) {
        bool bf16 = tensorType(gemm.getA()).getElementType().isBF16();
        if (useOneDnn(gemm, bf16Kernels, rule))
          recordKernel(rewriteGemm(gemm),
                       bf16 ? "oneDNN inner product, bf16" : "oneDNN inner product", rule);
        else if (gemm.getTransB() && gemm.getB().getDefiningOp<nn::ConstantOp>())
          recordDeclined(gemm, rule);
      } else if (auto pool = dyn_cast<nn::PoolOp>(op)) {
        rewritePool(pool);
      } else if (isElementwiseUnary(op)) {
        if (twin.count(op->getOperand(0)))
          rewriteElementwise(op);
      } else if (isElementwiseBinary(op)) {
        Value l = op->getOperand(0), r = op->getOperand(1);
        if (l.getType() == op->getResult(0).getType() &&
            r.getType() == l.getType() && blockOf(l) &&
            (twin.count(l) || twin.count(r)))
          rewriteElementwise(op);
      }
    }
    // Reorders back to NCHW that nothing reads, and roundings to bf16 that
    // moved onto blocked values.
    for (Operation *op : llvm::reverse(edges))
      if (op->use_empty())
        op->erase();
    for (Operation *op : roundings)
      if (op->use_empty())
        op->erase();
  }

private:
  /// The values a blocked region would join (a convolution's input and
  /// output, a pool's, an elementwise op's operands and result) share one
  /// block: the target's if every channel count in the region is a multiple
  /// of it, else 8. oneDNN has no fast kernel converting between blocks
  /// inside a convolution (MobileNetV2's 24-channel layers in 8-channel
  /// blocks between 16-channel ones ran its reference code), so a region
  /// is one vector width: AVX-512's for ResNet-18 and AlexNet, AVX2's for
  /// MobileNetV2 (its 24-channel layers leaving oneDNN measured slower).
  void planBlocks(ArrayRef<Operation *> ops) {
    llvm::EquivalenceClasses<void *> regions;
    auto join = [&](Value a, Value b) {
      if (blockable(a.getType(), block) && blockable(b.getType(), block))
        regions.unionSets(a.getAsOpaquePointer(), b.getAsOpaquePointer());
    };
    for (Operation *op : ops) {
      if (auto conv = dyn_cast<nn::ConvOp>(op)) {
        join(layoutInput(conv), conv.getOutput());
        if (bf16Kernels && layoutInput(conv) != conv.getInput())
          halfRegion.insert(conv.getOutput());
      }
      else if (isa<nn::PoolOp>(op) || isElementwiseUnary(op))
        join(op->getOperand(0), op->getResult(0));
      else if (isElementwiseBinary(op)) {
        join(op->getOperand(0), op->getResult(0));
        join(op->getOperand(1), op->getResult(0));
      }
      for (Value v : op->getResults())
        if (blockable(v.getType(), block))
          regions.insert(v.getAsOpaquePointer());
      for (Value v : op->getOperands())
        if (blockable(v.getType(), block))
          regions.insert(v.getAsOpaquePointer());
    }
    for (auto it = regions.begin(); it != regions.end(); ++it) {
      if (!it->isLeader())
        continue;
      int64_t regionBlock = block;
      for (auto m = regions.member_begin(it); m != regions.member_end(); ++m)
        if (tensorType(Value::getFromOpaquePointer(*m)).getDimSize(1) % block != 0)
          regionBlock = minBlock(block);
      // A region with a bf16 convolution is channels last (kChannelsLast).
      for (auto m = regions.member_begin(it); m != regions.member_end(); ++m)
        if (halfRegion.contains(Value::getFromOpaquePointer(*m)))
          regionBlock = kChannelsLast;
      for (auto m = regions.member_begin(it); m != regions.member_end(); ++m)
        regionOf[Value::getFromOpaquePointer(*m)] = regionBlock;
    }
  }

  /// The block `v` gets if blocked (planBlocks), 0 if it stays NCHW.
  int64_t blockOf(Value v) const { return regionOf.lookup(v); }

  /// The blocked twin of `nchw`, made after its definition if needed.
  Value toBlocked(Value nchw) {
    if (Value t = twin.lookup(nchw))
      return t;
    OpBuilder::InsertionGuard guard(b);
    if (Operation *def = nchw.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(nchw).getOwner());
    auto type = tensorType(nchw);
    ArrayRef<int64_t> s = type.getShape();
    int64_t blk = blockOf(nchw);
    Location loc = strata::cpu::reorderLoc(nchw.getLoc());
    if (blk == kChannelsLast) {
      Value t = b.create<nn::TransposeOp>(loc, blockedType(type, blk), nchw,
                                          b.getDenseI64ArrayAttr({0, 2, 3, 1}));
      twin[nchw] = t;
      return t;
    }
    auto split = RankedTensorType::get({s[0], s[1] / blk, blk, s[2], s[3]},
                                       type.getElementType());
    Value r = b.create<nn::ReshapeOp>(loc, split, nchw);
    Value t = b.create<nn::TransposeOp>(loc, blockedType(type, blk), r,
                                        b.getDenseI64ArrayAttr({0, 1, 3, 4, 2}));
    twin[nchw] = t;
    return t;
  }

  /// Replaces `old` (NCHW) by the blocked `value`: NCHW readers get a
  /// reorder back, which is dropped if none remains.
  void replaceWithBlocked(Value old, Value value) {
    auto type = tensorType(old);
    ArrayRef<int64_t> s = type.getShape();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfter(value.getDefiningOp());
    Location loc = strata::cpu::reorderLoc(value.getLoc());
    if (tensorType(value).getRank() == 4) { // channels last
      auto t = b.create<nn::TransposeOp>(loc, type, value, b.getDenseI64ArrayAttr({0, 3, 1, 2}));
      edges.push_back(t);
      old.replaceAllUsesWith(t.getResult());
      twin[t.getResult()] = value;
      regionOf[t.getResult()] = kChannelsLast;
      return;
    }
    int64_t blk = tensorType(value).getDimSize(4);
    auto split = RankedTensorType::get({s[0], s[1] / blk, blk, s[2], s[3]},
                                       type.getElementType());
    auto t = b.create<nn::TransposeOp>(loc, split, value,
                                       b.getDenseI64ArrayAttr({0, 1, 4, 2, 3}));
    auto r = b.create<nn::ReshapeOp>(loc, type, t.getResult());
    edges.push_back(t);
    edges.push_back(r); // visited first when unused reorders are dropped
    old.replaceAllUsesWith(r.getResult());
    twin[r.getResult()] = value;
    regionOf[r.getResult()] = blk; // stands for `old` from now on
  }

  Operation *rewriteConv(nn::ConvOp conv) {
    b.setInsertionPoint(conv);
    Value in = layoutInput(conv);
    // The first layer (3 channels) reads NCHW; oneDNN has kernels for that.
    int64_t srcBlock = blockOf(in);
    Value src = srcBlock ? toBlocked(in) : in;
    b.setInsertionPoint(conv);
    if (in != conv.getInput()) {
      // Rounded to bf16 in the layout the convolution reads, once per value
      // however many convolutions read it.
      if (Operation *rounding = conv.getInput().getDefiningOp())
        roundings.insert(rounding);
      Value &rounded = roundedTwin[src];
      if (!rounded) {
        OpBuilder::InsertionGuard guard(b);
        if (Operation *def = src.getDefiningOp())
          b.setInsertionPointAfter(def);
        else
          b.setInsertionPointToStart(cast<BlockArgument>(src).getOwner());
        // Marked as a layout helper, so --explain does not report it as the
        // node whose value it rounds.
        rounded = b.create<nn::CastOp>(strata::cpu::reorderLoc(conv.getInput().getLoc()),
                                       tensorType(src).clone(b.getBF16Type()), src);
      }
      src = rounded;
    }
    auto nchw = tensorType(conv.getOutput());
    int64_t dstBlock = blockOf(conv.getOutput());
    bool constantWeights = bool(conv.getWeight().getDefiningOp<nn::ConstantOp>());
    auto y = b.create<onednn::ConvOp>(
        conv.getLoc(), blockedType(nchw, dstBlock), src, conv.getWeight(), conv.getBias(),
        /*sum=*/Value(), conv.getStridesAttr(), conv.getPadsAttr(),
        conv.getDilationsAttr(), conv.getGroupAttr(),
        b.getStringAttr(srcBlock ? layoutName(srcBlock) : "nchw"),
        b.getStringAttr(layoutName(dstBlock)), b.getStrArrayAttr({}), FloatAttr(),
        FloatAttr(), b.getBoolAttr(constantWeights));
    replaceWithBlocked(conv.getOutput(), y);
    conv.erase();
    return y;
  }

  Operation *rewriteGemm(nn::GemmOp gemm) {
    b.setInsertionPoint(gemm);
    auto y = b.create<onednn::InnerProductOp>(
        gemm.getLoc(), gemm.getType(), gemm.getA(), gemm.getB(), gemm.getC(),
        b.getStrArrayAttr({}), FloatAttr(), FloatAttr(), b.getBoolAttr(true));
    gemm.replaceAllUsesWith(y.getResult());
    gemm.erase();
    return y;
  }

  void rewritePool(nn::PoolOp pool) {
    Value in = pool.getInput();
    if (pool.getKind() != nn::PoolKind::max || !twin.count(in) ||
        pool.getKernelShape().size() != 2 ||
        llvm::any_of(pool.getDilations(), [](int64_t d) { return d != 1; }))
      return;
    auto out = tensorType(pool.getOutput());
    SmallVector<int64_t> pads = strata::cpu::oneDnnPoolPads(pool);
    b.setInsertionPoint(pool);
    auto twinType = tensorType(twin.lookup(in));
    int64_t blk = twinType.getRank() == 4 ? kChannelsLast : twinType.getDimSize(4);
    auto y = b.create<onednn::PoolOp>(
        pool.getLoc(), blockedType(out, blk), twin.lookup(in),
        pool.getKernelShapeAttr(), pool.getStridesAttr(),
        b.getDenseI64ArrayAttr(pads), b.getStringAttr(layoutName(blk)));
    recordKernel(y, "oneDNN max pooling", "reads a blocked convolution's output");
    replaceWithBlocked(pool.getOutput(), y);
    pool.erase();
  }

  void rewriteElementwise(Operation *op) {
    SmallVector<Value> operands;
    for (Value v : op->getOperands())
      operands.push_back(toBlocked(v));
    b.setInsertionPoint(op);
    Operation *clone = b.clone(*op);
    clone->setOperands(operands);
    Value old = op->getResult(0);
    clone->getResult(0).setType(blockedType(tensorType(old), blockOf(old)));
    replaceWithBlocked(old, clone->getResult(0));
    op->erase();
  }

  OpBuilder b;
  int64_t block; ///< channels per block (the target's)
  bool bf16Kernels; ///< oneDNN has bf16 kernels on the target
  llvm::SetVector<Operation *> roundings; ///< NCHW casts to bf16 replaced by blocked ones
  DenseMap<Value, Value> roundedTwin;    ///< a layout twin's bf16 rounding
  llvm::DenseSet<Value> halfRegion;   ///< outputs of bf16 convolutions (planBlocks)
  DenseMap<Value, int64_t> regionOf; ///< each blockable value's block (planBlocks)
  DenseMap<Value, Value> twin;
  SmallVector<Operation *> edges;
};

/// Appends `post` to `conv`'s post-ops, replacing `consumer`.
void fuse(PatternRewriter &rw, onednn::ConvOp conv, Operation *consumer,
          StringRef post, Value sum = {}, FloatAttr lo = {}, FloatAttr hi = {}) {
  SmallVector<Attribute> posts(conv.getPostOps().begin(), conv.getPostOps().end());
  posts.push_back(rw.getStringAttr(post));
  rw.setInsertionPoint(consumer);
  auto fused = rw.create<onednn::ConvOp>(
      rw.getFusedLoc({conv.getLoc(), consumer->getLoc()}), conv.getType(), conv.getInput(), conv.getWeight(),
      conv.getBias(), sum ? sum : conv.getSum(), conv.getStridesAttr(),
      conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr(),
      conv.getSrcLayoutAttr(), conv.getDstLayoutAttr(), rw.getArrayAttr(posts),
      lo ? lo : conv.getClipMinAttr(), hi ? hi : conv.getClipMaxAttr(),
      conv.getWeightsConstantAttr());
  fused->setDiscardableAttrs(conv->getDiscardableAttrDictionary());
  rw.replaceOp(consumer, fused.getResult());
  rw.eraseOp(conv);
}

/// relu / clip / add of a convolution's only use become its post-ops.
struct FusePostOp : OpRewritePattern<onednn::ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onednn::ConvOp conv,
                                PatternRewriter &rw) const override {
    if (!conv->hasOneUse())
      return rw.notifyMatchFailure(conv, "the result has several uses");
    Operation *user = *conv->getUsers().begin();
    auto posts = conv.getPostOps().getAsValueRange<StringAttr>();
    bool hasClip = llvm::is_contained(posts, "clip");
    bool hasSum = llvm::is_contained(posts, "sum");
    if (isa<nn::ReluOp>(user)) {
      fuse(rw, conv, user, "relu");
      return success();
    }
    if (auto clip = dyn_cast<nn::ClipOp>(user)) {
      if (hasClip || !clip.getMin() || !clip.getMax())
        return rw.notifyMatchFailure(conv, "clip needs both bounds, once");
      fuse(rw, conv, user, "clip", {},
           rw.getF32FloatAttr(clip.getMin()->convertToDouble()),
           rw.getF32FloatAttr(clip.getMax()->convertToDouble()));
      return success();
    }
    if (auto add = dyn_cast<nn::AddOp>(user)) {
      Value other = add.getLhs() == conv.getResult() ? add.getRhs() : add.getLhs();
      if (hasSum || other.getType() != conv.getType() ||
          other == conv.getResult())
        return rw.notifyMatchFailure(conv, "not a same-shape residual add");
      fuse(rw, conv, user, "sum", other);
      return success();
    }
    return rw.notifyMatchFailure(conv, "no post-op to fuse");
  }
};

/// relu / clip of a fully connected layer's only use become its post-ops.
struct FuseInnerProductPostOp : OpRewritePattern<onednn::InnerProductOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(onednn::InnerProductOp ip,
                                PatternRewriter &rw) const override {
    if (!ip->hasOneUse())
      return rw.notifyMatchFailure(ip, "the result has several uses");
    Operation *user = *ip->getUsers().begin();
    SmallVector<Attribute> posts(ip.getPostOps().begin(), ip.getPostOps().end());
    FloatAttr lo = ip.getClipMinAttr(), hi = ip.getClipMaxAttr();
    if (isa<nn::ReluOp>(user)) {
      posts.push_back(rw.getStringAttr("relu"));
    } else if (auto clip = dyn_cast<nn::ClipOp>(user);
               clip && clip.getMin() && clip.getMax() && !lo) {
      posts.push_back(rw.getStringAttr("clip"));
      lo = rw.getF32FloatAttr(clip.getMin()->convertToDouble());
      hi = rw.getF32FloatAttr(clip.getMax()->convertToDouble());
    } else {
      return rw.notifyMatchFailure(ip, "no post-op to fuse");
    }
    rw.setInsertionPoint(user);
    auto fused = rw.create<onednn::InnerProductOp>(
        rw.getFusedLoc({ip.getLoc(), user->getLoc()}), ip.getType(), ip.getInput(), ip.getWeight(), ip.getBias(),
        rw.getArrayAttr(posts), lo, hi, ip.getWeightsConstantAttr());
    fused->setDiscardableAttrs(ip->getDiscardableAttrDictionary());
    rw.replaceOp(user, fused.getResult());
    rw.eraseOp(ip);
    return success();
  }
};

struct OneDnnConvsPass : strata::impl::OneDnnConvsBase<OneDnnConvsPass> {
  using OneDnnConvsBase::OneDnnConvsBase;

  void runOnOperation() override {
    getOperation()->walk([&](func::FuncOp func) {
      LayoutRewriter(&getContext(), channelBlock, bf16Kernels).run(func);
    });
    RewritePatternSet patterns(&getContext());
    patterns.add<FusePostOp, FuseInnerProductPostOp>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
