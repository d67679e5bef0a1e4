//===- ModelLoader.h - read, check and shape-infer an ONNX model -*- C++ -*-===//
//
// Everything libonnx does for us happens here: protobuf parsing, the model
// checker and shape inference. What comes out is a model whose every value
// has a known element type and rank, or an ImportError.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_MODELLOADER_H
#define STRATA_COMPILER_ONNX_MODELLOADER_H

#include "onnx/onnx_pb.h"

#include <string>
#include <vector>

namespace strata::onnx_import {

/// The opsets of the default ONNX domain that strata imports.
constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 17;

/// ONNX's training operators (Adam, Momentum, Adagrad, Gradient), version 1.
constexpr const char *kTrainingDomain = "ai.onnx.preview.training";

struct LoadedModel {
  onnx::ModelProto model;
  std::string path;     ///< as the user gave it, for messages
  std::string modelDir; ///< where external data files are looked up
  int64_t opset = 0;    ///< version of the default domain
  int64_t trainingOpset = 0; ///< version of ai.onnx.preview.training, 0 if absent
};

/// Parses `path` (binary protobuf). Throws ImportError for a missing,
/// unreadable, truncated or non-ONNX file.
LoadedModel readModelFile(const std::string &path);

/// The same for a model already in memory (`name` for messages, external
/// data looked up in `modelDir`): the fuzzing entry point (test/fuzz).
LoadedModel parseModelBytes(const void *bytes, size_t size, const std::string &name,
                            const std::string &modelDir);

/// Checks the opset range, runs libonnx's checker and its shape inference
/// (strict mode, with data propagation). Throws ImportError.
void checkAndInferShapes(LoadedModel &loaded);

/// Gives every symbolic or unknown dimension of the graph inputs the value
/// `size`, so that shape inference makes the whole graph static. Returns one
/// note per dimension fixed ("input 'x' dimension 0 ('batch') = 1").
std::vector<std::string> fixSymbolicDims(LoadedModel &loaded, int64_t size);

/// Reads, optionally fixes symbolic input dimensions (symbolicDim > 0),
/// checks and infers shapes.
LoadedModel loadModel(const std::string &path, int64_t symbolicDim = 0,
                      std::vector<std::string> *notes = nullptr);

/// "ai.onnx" for the default domain, else the domain itself.
std::string domainName(const std::string &domain);

/// "model.onnx: node 3 'conv1' (op Conv, domain ai.onnx, opset 13)": how
/// every message about a node begins.
std::string describeNode(const std::string &path, const onnx::NodeProto &node,
                         int index, int64_t opset);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_MODELLOADER_H
