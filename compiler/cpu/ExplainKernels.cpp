//===- ExplainKernels.cpp - strata compile --explain ----------------------===//
//
// One line per ONNX node left after the model stage: the kernel and layout
// the CPU backend chose and the rule that chose it, read from the records
// the selection passes leave (KernelChoice.h). Nodes a pass fused into
// another's kernel (a relu as a oneDNN post-op) say whose. The grouping by
// node (explainNodes) serves the CUDA backend's --explain too.
//
//===----------------------------------------------------------------------===//

#include "compiler/cpu/KernelChoice.h"
#include "dialects/nn/NNOps.h"
#include "dialects/onednn/OneDnnOps.h"
#include "dialects/nn/NodeLocation.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <map>

using namespace mlir;

namespace strata::cpu {
namespace {

using nn::OnnxNode;

/// A layout change OneDnnConvs inserted at the edge of a blocked region
/// (reorderLoc): it carries the location of the value it reorders.
bool isReorder(Operation *op) {
  auto fused = dyn_cast<FusedLoc>(op->getLoc());
  auto tag = fused ? dyn_cast_or_null<StringAttr>(fused.getMetadata()) : StringAttr();
  return tag && tag.getValue() == "strata.reorder";
}

/// The blocked layout a 5-d activation stands for (nChw<block>c; the
/// target's block, or 8 where channels do not fill the target's blocks).
std::string layoutOf(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (t && t.getRank() == 5)
    return "nChw" + std::to_string(t.getDimSize(4)) + "c";
  return "";
}

/// The kernel of an op no selection pass took: the generic lowering's.
std::string genericKernel(Operation *op) {
  if (auto conv = dyn_cast<nn::ConvOp>(op)) {
    auto w = cast<RankedTensorType>(conv.getWeight().getType());
    if (conv.getGroup() == 1 && w.getRank() == 4)
      return "generated im2col + tiled matmul";
    return "generated loop nest (linalg.generic)";
  }
  if (isa<nn::MatMulOp, nn::GemmOp>(op))
    return "generated tiled matmul";
  return "generated (linalg, elementwise chains fused)";
}

std::string describe(Operation *op, const CpuTarget &target) {
  std::string text;
  if (auto kernel = op->getAttrOfType<StringAttr>(kKernelAttr))
    text = kernel.str();
  else
    text = genericKernel(op);
  if (auto conv = dyn_cast<onednn::ConvOp>(op)) {
    text += ", " + conv.getSrcLayout().str() + " -> " + conv.getDstLayout().str();
    if (!conv.getPostOps().empty())
      text += ", post-ops " +
              llvm::join(conv.getPostOps().getAsValueRange<StringAttr>(), "+");
  } else if (auto ip = dyn_cast<onednn::InnerProductOp>(op)) {
    if (!ip.getPostOps().empty())
      text += ", post-ops " +
              llvm::join(ip.getPostOps().getAsValueRange<StringAttr>(), "+");
  } else if (op->getNumResults() == 1) {
    if (std::string layout = layoutOf(op->getResult(0).getType()); !layout.empty())
      text += ", " + layout;
  }
  if (auto rule = op->getAttrOfType<StringAttr>(kRuleAttr))
    text += "  [" + rule.str() + "]";
  return text;
}

} // namespace

void explainKernels(ModuleOp module, const CpuTarget &target, llvm::raw_ostream &os) {
  explainNodes(
      module, "strata: kernels for " + target.summary(),
      [](Operation *op) { return op->hasAttr(kKernelAttr) ? 2 : isReorder(op) ? 0 : 1; },
      [&](Operation *op) { return describe(op, target); }, os);
}

void explainNodes(ModuleOp module, const std::string &header,
                  llvm::function_ref<int(Operation *)> rank,
                  llvm::function_ref<std::string(Operation *)> describe,
                  llvm::raw_ostream &os) {
  os << header << "\n";
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return;
  // Each node's op: the one with a record, else the first that is not a
  // reorder; and the nodes fused into another's op.
  std::map<std::string, std::pair<Operation *, OnnxNode>> primary;
  std::vector<OnnxNode> order;
  llvm::StringMap<std::string> fusedInto;
  for (Operation &op : main.getBody().front()) {
    if (isa<nn::ConstantOp, func::ReturnOp>(op))
      continue;
    SmallVector<OnnxNode> nodes;
    nn::collectOnnxNodes(op.getLoc(), nodes);
    if (nodes.empty())
      continue;
    const OnnxNode &first = nodes.front();
    if (!primary.count(first.name))
      order.push_back(first);
    auto &[chosen, node] = primary[first.name];
    bool better = !chosen || rank(&op) > rank(chosen);
    if (better) {
      chosen = &op;
      node = first;
    }
    for (const OnnxNode &other : llvm::drop_begin(nodes))
      if (!fusedInto.count(other.name)) {
        fusedInto[other.name] = first.name;
        order.push_back(other);
      }
  }
  llvm::StringSet<> printed;
  for (const OnnxNode &node : order) {
    if (!printed.insert(node.name).second)
      continue;
    os << "  " << node.name;
    if (!node.opType.empty())
      os << " (" << node.opType << ")";
    os << ": ";
    auto it = primary.find(node.name);
    if (it != primary.end() && !isReorder(it->second.first))
      os << describe(it->second.first);
    else if (fusedInto.count(node.name))
      os << "fused into " << fusedInto[node.name] << "'s kernel";
    else
      os << "layout change only";
    os << "\n";
  }
}

} // namespace strata::cpu
