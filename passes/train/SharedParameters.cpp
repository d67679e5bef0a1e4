//===- SharedParameters.cpp - training a shared weight through its codebook ===//

#include "passes/train/SharedParameters.h"
#include "passes/compress/WeightSharing.h"
#include "passes/graph/ConstantValues.h"

using namespace mlir;

namespace strata::train {

std::string codebookName(llvm::StringRef weight) { return weight.str() + ".codebook"; }

bool findSharedParameters(func::FuncOp main, std::vector<SharedParameter> &out,
                          std::string &error) {
  out.clear();
  for (auto c : main.getOps<nn::ConstantOp>()) {
    auto name = c->getAttrOfType<StringAttr>("onnx.initializer");
    auto codebook = c->getAttrOfType<DenseElementsAttr>(kCodebookAttr);
    if (!name || !codebook || c.use_empty())
      continue;
    std::vector<float> centroids(codebook.getValues<float>().begin(),
                                 codebook.getValues<float>().end());
    std::optional<std::vector<float>> values = f32Values(c);
    std::optional<Codebook> indexed =
        values ? indexByCodebook(*values, centroids) : std::nullopt;
    if (!indexed) {
      error = "shared weight '" + name.str() + "' has values outside its codebook";
      return false;
    }
    auto type = cast<RankedTensorType>(c.getType());
    out.push_back({name.str(), {type.getShape().begin(), type.getShape().end()},
                   std::move(indexed->index), std::move(centroids)});
  }
  return true;
}

SmallVector<Value> expandSharedWeights(func::FuncOp main, ArrayRef<SharedParameter> shared) {
  SmallVector<Value> expanded;
  for (const SharedParameter &p : shared) {
    nn::ConstantOp weight;
    for (auto c : main.getOps<nn::ConstantOp>())
      if (auto a = c->getAttrOfType<StringAttr>("onnx.initializer"); a && a.getValue() == p.weight)
        weight = c;
    OpBuilder builder(weight);
    Location loc = weight.getLoc();
    nn::NNBuilder b(builder, loc);
    int64_t k = static_cast<int64_t>(p.centroids.size()), n = static_cast<int64_t>(p.index.size());
    Type f32 = builder.getF32Type();
    Value codebook = makeConstant<float>(builder, loc, RankedTensorType::get({k}, f32),
                                         p.centroids, codebookName(p.weight));
    codebook.getDefiningOp()->setAttr("onnx.initializer",
                                      builder.getStringAttr(codebookName(p.weight)));
    // Pruned zeros read entry k, a zero appended to the codebook.
    Value zero = b.splat(RankedTensorType::get({1}, f32), 0.0);
    Value table = builder.create<nn::ConcatOp>(loc, RankedTensorType::get({k + 1}, f32),
                                               ValueRange{codebook, zero},
                                               builder.getI64IntegerAttr(0));
    std::vector<int32_t> index(p.index);
    for (int32_t &i : index)
      if (i < 0)
        i = static_cast<int32_t>(k);
    Value indices = makeConstant<int32_t>(
        builder, loc, RankedTensorType::get({n}, builder.getI32Type()), index,
        p.weight + ".index");
    Value flat = builder.create<nn::GatherOp>(loc, RankedTensorType::get({n}, f32), table,
                                              indices, builder.getI64IntegerAttr(0));
    Value w = b.reshape(flat, p.shape);
    weight.getResult().replaceAllUsesWith(w);
    weight->erase();
    expanded.push_back(w);
  }
  return expanded;
}

Value centroidGradient(nn::NNBuilder &b, Value weightGradient, const SharedParameter &shared) {
  // Pruned weights (index -1) add to no centroid.
  int64_t k = static_cast<int64_t>(shared.centroids.size()), n = static_cast<int64_t>(shared.index.size());
  OpBuilder &builder = b.builder();
  Value indices = makeConstant<int32_t>(
      builder, b.location(), RankedTensorType::get({n}, builder.getI32Type()), shared.index,
      shared.weight + ".index");
  return builder.create<nn::SegmentSumOp>(b.location(),
                                          RankedTensorType::get({k}, builder.getF32Type()),
                                          b.reshape(weightGradient, {n}), indices);
}

std::vector<float> expandWeight(const SharedParameter &shared, const std::vector<float> &codebook) {
  std::vector<float> out(shared.index.size(), 0.0f);
  for (size_t i = 0; i < out.size(); ++i)
    if (shared.index[i] >= 0)
      out[i] = codebook[shared.index[i]];
  return out;
}

} // namespace strata::train
