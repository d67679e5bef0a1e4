//===- OpTable.cpp - which function imports which ONNX op -----------------===//

#include "compiler/onnx/OpTable.h"

namespace strata::onnx_import {

const OpTable &OpTable::get() {
  static const OpTable instance = [] {
    OpTable t;
    registerElementwiseImporters(t);
    registerNeuralImporters(t);
    registerLossImporters(t);
    registerTrainingImporters(t);
    registerTensorImporters(t);
    registerReductionImporters(t);
    registerQuantizationImporters(t);
    registerRecurrentImporters(t);
    registerResizeImporters(t);
    return t;
  }();
  return instance;
}

void OpTable::add(const std::string &opType, int64_t sinceOpset,
                  OpImporter fn) {
  table[opType][sinceOpset] = fn;
}

OpImporter OpTable::lookup(const std::string &opType, int64_t opset) const {
  auto it = table.find(opType);
  if (it == table.end())
    return nullptr;
  // The newest importer whose first opset is <= the model's.
  auto version = it->second.upper_bound(opset);
  if (version == it->second.begin())
    return nullptr;
  return std::prev(version)->second;
}

std::vector<std::string> OpTable::supportedOps() const {
  std::vector<std::string> ops;
  for (const auto &entry : table)
    ops.push_back(entry.first);
  return ops;
}

} // namespace strata::onnx_import
