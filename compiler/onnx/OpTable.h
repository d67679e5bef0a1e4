//===- OpTable.h - which function imports which ONNX op ---------*- C++ -*-===//
//
// ONNX ops change between opsets (Softmax's axis rule at 13, Clip's bounds at
// 11, ...). The table maps an op type to importers keyed by the first opset
// they handle; lookup picks the newest one not newer than the model's opset.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_OPTABLE_H
#define STRATA_COMPILER_ONNX_OPTABLE_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strata::onnx_import {

class NodeContext;
using OpImporter = void (*)(NodeContext &);

class OpTable {
public:
  /// The table with every op strata imports.
  static const OpTable &get();

  void add(const std::string &opType, int64_t sinceOpset, OpImporter fn);
  /// Null if the op (at this opset) is not supported.
  OpImporter lookup(const std::string &opType, int64_t opset) const;
  std::vector<std::string> supportedOps() const;

private:
  std::map<std::string, std::map<int64_t, OpImporter>> table;
};

// Each family registers its importers (ops/*.cpp).
void registerElementwiseImporters(OpTable &table);
void registerNeuralImporters(OpTable &table);
void registerLossImporters(OpTable &table);
void registerTrainingImporters(OpTable &table);
void registerTensorImporters(OpTable &table);
void registerReductionImporters(OpTable &table);
void registerQuantizationImporters(OpTable &table);
void registerRecurrentImporters(OpTable &table);
void registerResizeImporters(OpTable &table);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_OPTABLE_H
