//===- OneDnnBufferization.cpp - oneDNN ops to per-site calls -------------===//
//
// onednn.conv, onednn.pool, onednn.inner_product and
// onednn.batch_matmul bufferize into `func.call`s of private
// declarations, one per op, that carry what the runtime needs to build the
// oneDNN primitive: a descriptor (shapes, strides, pads, layouts, post-ops,
// as the i64 list runtime/src/onednn.c reads) and the ONNX node's name for
// error messages. The result is written into a fresh buffer, or, with a
// "sum" post-op, into the sum operand's buffer (which one-shot analysis
// copies first when the value is still needed elsewhere). oneDNN needs dense
// buffers, so a strided view is copied into one first.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/OneDnnBufferization.h"
#include "runtime/include/strata/onednn_calls.h"
#include "runtime/include/strata/runtime.h"
#include "dialects/nn/ElementTypes.h"
#include "dialects/nn/NodeLocation.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <cstring>

using namespace mlir;
using namespace mlir::bufferization;
namespace nn = strata::nn;
namespace onednn = strata::onednn;

namespace {

/// The channel block of a layout attribute ("nChw8c" -> 8), 0 for "nchw",
/// STRATA_ONEDNN_NHWC for "nhwc".
int64_t channelBlock(StringRef layout) {
  if (layout == "nhwc")
    return STRATA_ONEDNN_NHWC;
  int64_t block = 0;
  if (layout.consume_front("nChw") && layout.consume_back("c"))
    layout.getAsInteger(10, block);
  return block;
}

/// The strata_dtype of a value's element type (runtime/include/strata/runtime.h).
/// Operands that were ui8 before strata-signless-integers stored them as i8
/// bits are listed on the op (kUnsignedOperandsAttr): oneDNN reads them as u8.
int64_t dtypeOf(Value v) {
  Type t = cast<ShapedType>(v.getType()).getElementType();
  if (t.isSignlessInteger(8))
    for (OpOperand &use : v.getUses())
      if (auto list = use.getOwner()->getAttrOfType<DenseI64ArrayAttr>(
              strata::nn::kUnsignedOperandsAttr))
        if (llvm::is_contained(list.asArrayRef(), (int64_t)use.getOperandNumber()) &&
            isa<onednn::OneDnnDialect>(use.getOwner()->getDialect()))
          return STRATA_UINT8;
  if (t.isF32())
    return STRATA_FLOAT;
  if (t.isBF16())
    return STRATA_BFLOAT16;
  if (t.isF16())
    return STRATA_FLOAT16;
  if (t.isSignlessInteger(8) || t.isSignedInteger(8))
    return STRATA_INT8;
  if (t.isUnsignedInteger(8))
    return STRATA_UINT8;
  if (t.isInteger(32))
    return STRATA_INT32;
  return 0; // the runtime refuses it at prepare, naming the node
}

int64_t floatBits(float f) {
  int32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

/// NCHW dims of a tensor in `layout`.
SmallVector<int64_t> logicalDims(Value v, StringRef layout) {
  ArrayRef<int64_t> s = cast<RankedTensorType>(v.getType()).getShape();
  if (layout == "nhwc")
    return {s[0], s[3], s[1], s[2]};
  if (channelBlock(layout))
    return {s[0], s[1] * s[4], s[2], s[3]};
  return SmallVector<int64_t>(s);
}

void appendPostOps(SmallVector<int64_t> &desc, ArrayAttr postOps,
                   std::optional<APFloat> lo, std::optional<APFloat> hi);

SmallVector<int64_t> convDescriptor(onednn::ConvOp op) {
  SmallVector<int64_t> in = logicalDims(op.getInput(), op.getSrcLayout());
  SmallVector<int64_t> out = logicalDims(op.getOutput(), op.getDstLayout());
  auto w = cast<RankedTensorType>(op.getWeight().getType()).getShape();
  ArrayRef<int64_t> s = op.getStrides(), p = op.getPads(), d = op.getDilations();
  SmallVector<int64_t> desc{STRATA_ONEDNN_CONV, in[0], in[1], in[2], in[3], out[1],
                            out[2], out[3], w[2], w[3], s[0], s[1], p[0], p[1],
                            p[2], p[3], d[0], d[1], int64_t(op.getGroup()),
                            channelBlock(op.getSrcLayout()),
                            channelBlock(op.getDstLayout()), dtypeOf(op.getInput()),
                            dtypeOf(op.getWeight()), dtypeOf(op.getOutput()),
                            op.getBias() != nullptr, op.getWeightsConstant(),
                            int64_t(op.getPostOps().size())};
  assert(desc.size() == STRATA_CONV_POST && "descriptor fields out of order");
  appendPostOps(desc, op.getPostOps(), op.getClipMin(), op.getClipMax());
  return desc;
}

/// The post-ops as (kind, alpha bits, beta bits) triples.
void appendPostOps(SmallVector<int64_t> &desc, ArrayAttr postOps,
                   std::optional<APFloat> lo, std::optional<APFloat> hi) {
  for (StringRef post : postOps.getAsValueRange<StringAttr>()) {
    if (post == "sum")
      desc.append({STRATA_ONEDNN_POST_SUM, 0, 0});
    else if (post == "relu")
      desc.append({STRATA_ONEDNN_POST_RELU, 0, 0});
    else
      desc.append({STRATA_ONEDNN_POST_CLIP, floatBits(lo->convertToFloat()),
                   floatBits(hi->convertToFloat())});
  }
}

SmallVector<int64_t> innerProductDescriptor(onednn::InnerProductOp op) {
  auto in = cast<RankedTensorType>(op.getInput().getType()).getShape();
  auto w = cast<RankedTensorType>(op.getWeight().getType()).getShape();
  SmallVector<int64_t> desc{STRATA_ONEDNN_INNER_PRODUCT, in[0], in[1], w[0],
                            dtypeOf(op.getInput()), dtypeOf(op.getWeight()),
                            dtypeOf(op.getOutput()), op.getBias() != nullptr,
                            op.getWeightsConstant(), int64_t(op.getPostOps().size())};
  assert(desc.size() == STRATA_IP_POST && "descriptor fields out of order");
  appendPostOps(desc, op.getPostOps(), op.getClipMin(), op.getClipMax());
  return desc;
}

SmallVector<int64_t> batchMatmulDescriptor(onednn::BatchMatmulOp op) {
  auto a = cast<RankedTensorType>(op.getLhs().getType()).getShape();
  auto b = cast<RankedTensorType>(op.getRhs().getType()).getShape();
  SmallVector<int64_t> desc{STRATA_ONEDNN_BATCH_MATMUL, a[0], a[1], a[2], b[2],
                            dtypeOf(op.getLhs()), dtypeOf(op.getRhs()),
                            dtypeOf(op.getOutput()), op.getWeightsConstant()};
  assert(desc.size() == STRATA_BMM_WEIGHTS_CONST + 1 && "descriptor fields out of order");
  return desc;
}

SmallVector<int64_t> poolDescriptor(onednn::PoolOp op) {
  SmallVector<int64_t> in = logicalDims(op.getInput(), op.getLayout());
  SmallVector<int64_t> out = logicalDims(op.getOutput(), op.getLayout());
  ArrayRef<int64_t> k = op.getKernelShape(), s = op.getStrides(), p = op.getPads();
  SmallVector<int64_t> desc{STRATA_ONEDNN_POOL, in[0], in[1], in[2], in[3], out[2],
                            out[3], k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3],
                            channelBlock(op.getLayout()), dtypeOf(op.getInput())};
  assert(desc.size() == STRATA_POOL_TYPE + 1 && "descriptor fields out of order");
  return desc;
}

/// A dense (identity-layout) buffer holding `tensor`.
FailureOr<Value> denseBuffer(RewriterBase &rw, Location loc, Value tensor,
                             const BufferizationOptions &options) {
  FailureOr<Value> buffer = getBuffer(rw, tensor, options);
  if (failed(buffer))
    return failure();
  auto type = cast<MemRefType>(buffer->getType());
  if (type.getLayout().isIdentity())
    return buffer;
  auto dense = MemRefType::get(type.getShape(), type.getElementType());
  FailureOr<Value> copy = options.createAlloc(rw, loc, dense, {});
  if (failed(copy) || failed(options.createMemCpy(rw, loc, *buffer, *copy)))
    return failure();
  return copy;
}

/// Declares this site's function (after the module's existing ones) and
/// calls it.
void callSite(RewriterBase &rw, Operation *op, StringRef kernel,
              ArrayRef<int64_t> desc, ValueRange buffers) {
  auto module = op->getParentOfType<ModuleOp>();
  SymbolTable symbols(module);
  std::string name;
  for (int i = 0;; ++i) {
    name = ("__strata_onednn_" + kernel + "_" + Twine(i)).str();
    if (!symbols.lookup(name))
      break;
  }
  OpBuilder mb(module.getBodyRegion());
  mb.setInsertionPointToStart(module.getBody());
  auto decl = mb.create<func::FuncOp>(
      op->getLoc(), name, mb.getFunctionType(TypeRange(buffers), {}));
  decl.setPrivate();
  decl->setAttr("strata.onednn_kernel", mb.getStringAttr(kernel));
  decl->setAttr("strata.onednn_desc", mb.getDenseI64ArrayAttr(desc));
  decl->setAttr("strata.onednn_node", mb.getStringAttr(strata::nn::nodeNameOf(op->getLoc())));
  rw.create<func::CallOp>(op->getLoc(), decl, buffers);
}

template <typename OpTy>
struct OneDnnOpModel
    : BufferizableOpInterface::ExternalModel<OneDnnOpModel<OpTy>, OpTy> {
  static bool isSum(Operation *op, OpOperand &operand) {
    if constexpr (std::is_same_v<OpTy, onednn::ConvOp>)
      return cast<OpTy>(op).getSum() &&
             operand.get() == cast<OpTy>(op).getSum() &&
             operand.getOperandNumber() == op->getNumOperands() - 1;
    return false;
  }
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *op, OpOperand &operand,
                               const AnalysisState &) const {
    return isSum(op, operand);
  }
  AliasingValueList getAliasingValues(Operation *op, OpOperand &operand,
                                      const AnalysisState &) const {
    if (isSum(op, operand))
      return {{op->getResult(0), BufferRelation::Equivalent}};
    return {};
  }
  bool bufferizesToAllocation(Operation *op, Value) const {
    if constexpr (std::is_same_v<OpTy, onednn::ConvOp>)
      return !cast<OpTy>(op).getSum();
    return true;
  }

  static StringRef kernelName() {
    if constexpr (std::is_same_v<OpTy, onednn::ConvOp>)
      return "conv";
    else if constexpr (std::is_same_v<OpTy, onednn::InnerProductOp>)
      return "inner_product";
    else if constexpr (std::is_same_v<OpTy, onednn::BatchMatmulOp>)
      return "batch_matmul";
    else
      return "pool";
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rw,
                          const BufferizationOptions &options) const {
    auto typed = cast<OpTy>(op);
    Location loc = op->getLoc();
    rw.setInsertionPoint(op);
    // Every operand but a "sum" destination is read from a dense buffer.
    Value sum;
    if constexpr (std::is_same_v<OpTy, onednn::ConvOp>)
      sum = typed.getSum();
    SmallVector<Value> buffers;
    for (OpOperand &operand : op->getOpOperands()) {
      if (isSum(op, operand))
        continue;
      FailureOr<Value> b = denseBuffer(rw, loc, operand.get(), options);
      if (failed(b))
        return failure();
      buffers.push_back(*b);
    }
    SmallVector<int64_t> desc;
    if constexpr (std::is_same_v<OpTy, onednn::ConvOp>)
      desc = convDescriptor(typed);
    else if constexpr (std::is_same_v<OpTy, onednn::InnerProductOp>)
      desc = innerProductDescriptor(typed);
    else if constexpr (std::is_same_v<OpTy, onednn::BatchMatmulOp>)
      desc = batchMatmulDescriptor(typed);
    else
      desc = poolDescriptor(typed);
    Value dst;
    if (sum) {
      // Accumulate into the sum's buffer (a dense copy of a strided one).
      FailureOr<Value> b = denseBuffer(rw, loc, sum, options);
      if (failed(b))
        return failure();
      dst = *b;
    } else {
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      FailureOr<Value> alloc = options.createAlloc(
          rw, loc, MemRefType::get(type.getShape(), type.getElementType()), {});
      if (failed(alloc))
        return failure();
      dst = *alloc;
    }
    buffers.push_back(dst);
    callSite(rw, op, kernelName(), desc, buffers);
    replaceOpWithBufferizedValues(rw, op, dst);
    return success();
  }
};

} // namespace

void strata::cpu::registerOneDnnBufferization(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, onednn::OneDnnDialect *) {
    onednn::ConvOp::attachInterface<OneDnnOpModel<onednn::ConvOp>>(*ctx);
    onednn::PoolOp::attachInterface<OneDnnOpModel<onednn::PoolOp>>(*ctx);
    onednn::InnerProductOp::attachInterface<
        OneDnnOpModel<onednn::InnerProductOp>>(*ctx);
    onednn::BatchMatmulOp::attachInterface<
        OneDnnOpModel<onednn::BatchMatmulOp>>(*ctx);
  });
}
