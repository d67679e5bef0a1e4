//===- ModelLoader.cpp - read, check and shape-infer an ONNX model --------===//

#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/Package.h"
#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelPrecheck.h"
#include "compiler/onnx/ShapeInferenceGuards.h"

#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::onnx_import {

std::string domainName(const std::string &domain) {
  return domain.empty() ? "ai.onnx" : domain;
}

std::string describeNode(const std::string &path, const onnx::NodeProto &node,
                         int index, int64_t opset) {
  std::string name = node.name().empty() ? "(unnamed)" : "'" + node.name() + "'";
  return path + ": node " + std::to_string(index) + " " + name + " (op " +
         node.op_type() + ", domain " + domainName(node.domain()) + ", opset " +
         std::to_string(opset) + ")";
}

namespace {

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// Closes the descriptor however the parse ends.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0)
      close(fd);
  }
};

/// What every parsed model must have.
void checkParsed(const LoadedModel &loaded, bool parsed) {
  const std::string &path = loaded.path;
  if (!parsed)
    throw ImportError(path + ": not a valid ONNX model (the protobuf does not "
                             "parse: truncated, corrupt, or another format)");
  // Arbitrary bytes sometimes parse as an empty protobuf message; a real
  // model always has an IR version and a graph.
  if (loaded.model.ir_version() <= 0 || !loaded.model.has_graph())
    throw ImportError(path + ": not an ONNX model (no IR version or no graph; "
                             "is this the right file?)");
}

} // namespace

LoadedModel readModelFile(const std::string &path) {
  // O_NONBLOCK: a FIFO given as the model must not block the open.
  FileDescriptor file{open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (file.fd < 0)
    throw ImportError(path + ": cannot open model: " + std::strerror(errno));
  struct stat st;
  if (fstat(file.fd, &st) != 0)
    throw ImportError(path + ": cannot open model: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw ImportError(path + ": is a directory, expected an .onnx file");
  if (!S_ISREG(st.st_mode))
    throw ImportError(path + ": is not a regular file, expected an .onnx file");
  if (st.st_size == 0)
    throw ImportError(path + ": file is empty, expected an ONNX model");

  LoadedModel loaded;
  loaded.path = path;
  loaded.modelDir = directoryOf(path);
  char magic[8];
  if (pread(file.fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
      isPackage(magic, sizeof magic)) {
    // A compressed package (strata pack): its layer weights decoded.
    std::string bytes(size_t(st.st_size), '\0');
    size_t got = 0;
    while (got < bytes.size()) {
      ssize_t n = pread(file.fd, bytes.data() + got, bytes.size() - got, (off_t)got);
      if (n <= 0)
        throw ImportError(path + ": cannot read the package: " +
                          (n < 0 ? std::strerror(errno) : "it shrank while being read"));
      got += size_t(n);
    }
    std::string error;
    if (!decodePackage(bytes.data(), bytes.size(), path, loaded.model, nullptr, error))
      throw ImportError(error);
    checkParsed(loaded, true);
    return loaded;
  }
  google::protobuf::io::FileInputStream raw(file.fd);
  google::protobuf::io::CodedInputStream coded(&raw);
  // Protobuf's own ceiling; weights above 2 GB must use external data.
  coded.SetTotalBytesLimit(INT_MAX);
  bool parsed = loaded.model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
  checkParsed(loaded, parsed);
  return loaded;
}

LoadedModel parseModelBytes(const void *bytes, size_t size, const std::string &name,
                            const std::string &modelDir) {
  if (size == 0)
    throw ImportError(name + ": file is empty, expected an ONNX model");
  if (size > INT_MAX)
    throw ImportError(name + ": larger than 2 GB (weights that large must be external data)");
  LoadedModel loaded;
  loaded.path = name;
  loaded.modelDir = modelDir;
  if (isPackage(bytes, size)) {
    std::string error;
    if (!decodePackage(bytes, size, name, loaded.model, nullptr, error))
      throw ImportError(error);
    checkParsed(loaded, true);
    return loaded;
  }
  checkParsed(loaded, loaded.model.ParseFromArray(bytes, (int)size));
  return loaded;
}

void checkAndInferShapes(LoadedModel &loaded) {
  const std::string &path = loaded.path;
  onnx::ModelProto &model = loaded.model;

  std::unordered_map<std::string, int> opsets;
  for (const auto &imp : model.opset_import())
    opsets[imp.domain() == "ai.onnx" ? "" : imp.domain()] = (int)imp.version();
  auto training = opsets.find(kTrainingDomain);
  loaded.trainingOpset = training == opsets.end() ? 0 : training->second;
  auto it = opsets.find("");
  if (it == opsets.end() && !loaded.trainingOpset)
    throw ImportError(path + ": the model imports no opset of the default "
                             "ONNX domain (ai.onnx)");
  // A model of training operators alone reads no default-domain op.
  loaded.opset = it == opsets.end() ? kMaxOpset : it->second;
  if (loaded.opset < kMinOpset || loaded.opset > kMaxOpset)
    throw ImportError(path + ": opset " + std::to_string(loaded.opset) +
                      " of ai.onnx is outside the supported range " +
                      std::to_string(kMinOpset) + " to " +
                      std::to_string(kMaxOpset) +
                      " (convert it with onnx.version_converter)");

  // Before libonnx sees anything it could crash on.
  precheckModel(loaded);

  // check_model(ModelProto) would resolve external data against the current
  // directory; build the context it uses ourselves, with the model's folder.
  onnx::checker::CheckerContext ctx;
  ctx.set_ir_version((int)model.ir_version());
  ctx.set_opset_imports(opsets);
  ctx.set_model_dir(loaded.modelDir);
  onnx::checker::LexicalScopeContext lex;
  try {
    onnx::checker::check_graph(model.graph(), ctx, lex);
  } catch (const std::exception &e) {
    throw ImportError(path + ": the ONNX checker rejects the model: " +
                      e.what());
  }

  installShapeInferenceGuards();
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/true,
                                        /*error_mode=*/1,
                                        /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       options);
  } catch (const std::exception &e) {
    throw ImportError(path + ": ONNX shape inference failed: " + e.what());
  }
}

std::vector<std::string> fixSymbolicDims(LoadedModel &loaded, int64_t size) {
  std::vector<std::string> notes;
  onnx::GraphProto *g = loaded.model.mutable_graph();
  std::set<std::string> initializers;
  for (const auto &init : g->initializer())
    initializers.insert(init.name());
  for (auto &vi : *g->mutable_input()) {
    if (initializers.count(vi.name()) || !vi.type().has_tensor_type() ||
        !vi.type().tensor_type().has_shape())
      continue;
    auto *shape = vi.mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int d = 0; d < shape->dim_size(); ++d) {
      auto *dim = shape->mutable_dim(d);
      if (dim->has_dim_value())
        continue;
      std::string label = dim->has_dim_param() ? " ('" + dim->dim_param() + "')" : "";
      dim->set_dim_value(size);
      notes.push_back("input '" + vi.name() + "' dimension " +
                      std::to_string(d) + label + " = " + std::to_string(size));
    }
  }
  // Outputs and intermediate types are re-inferred from the fixed inputs.
  g->clear_value_info();
  for (auto &vi : *g->mutable_output()) {
    if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape())
      continue;
    for (auto &dim : *vi.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
      if (dim.has_dim_param())
        dim.clear_dim_param(); // unknown: inference fills in the size
  }
  return notes;
}

LoadedModel loadModel(const std::string &path, int64_t symbolicDim,
                      std::vector<std::string> *notes) {
  LoadedModel loaded = readModelFile(path);
  if (symbolicDim > 0) {
    std::vector<std::string> fixed = fixSymbolicDims(loaded, symbolicDim);
    if (notes)
      *notes = std::move(fixed);
  }
  checkAndInferShapes(loaded);
  return loaded;
}

} // namespace strata::onnx_import
