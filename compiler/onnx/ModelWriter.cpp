//===- ModelWriter.cpp - write a model with new initializer values --------===//

#include "compiler/onnx/ImportError.h"
#include "compiler/onnx/ModelLoader.h"
#include "compiler/onnx/OnnxImporter.h"
#include "compiler/onnx/TensorConversion.h"
#include "compiler/support/DurableFile.h"

#include "llvm/Support/FileSystem.h"

#include <cstring>

namespace strata {

bool writeModelWithInitializers(
    const std::string &sourcePath, const std::string &outputPath,
    const std::map<std::string, std::vector<float>> &values, std::string &error) {
  bool same = false;
  if (!llvm::sys::fs::equivalent(sourcePath, outputPath, same) && same) {
    error = outputPath + " is the model being trained; choose another -o";
    return false;
  }
  try {
    onnx_import::LoadedModel loaded = onnx_import::readModelFile(sourcePath);
    std::map<std::string, bool> written;
    for (onnx::TensorProto &init : *loaded.model.mutable_graph()->mutable_initializer()) {
      auto it = values.find(init.name());
      if (it == values.end()) {
        // Keep it, but bring external data inside so the output stands alone.
        if (init.data_location() == onnx::TensorProto::EXTERNAL)
          onnx_import::inlineExternalData(init, loaded.modelDir,
                                          sourcePath + ": initializer '" + init.name() + "'");
        continue;
      }
      if (init.data_type() != onnx::TensorProto::FLOAT) {
        error = sourcePath + ": initializer '" + init.name() + "' is not FLOAT";
        return false;
      }
      int64_t count = 1;
      for (int64_t d : init.dims())
        count *= d;
      if ((int64_t)it->second.size() != count) {
        error = "initializer '" + init.name() + "' has " + std::to_string(count) +
                " elements, the trained value " + std::to_string(it->second.size());
        return false;
      }
      init.clear_float_data();
      init.clear_external_data();
      init.set_data_location(onnx::TensorProto::DEFAULT);
      std::string raw(count * sizeof(float), '\0');
      std::memcpy(raw.data(), it->second.data(), raw.size()); // little-endian hosts
      init.set_raw_data(std::move(raw));
      written[init.name()] = true;
    }
    for (const auto &[name, _] : values)
      if (!written.count(name)) {
        error = sourcePath + " has no initializer '" + name + "'";
        return false;
      }
    // Written whole or not at all (a killed run leaves no partial model).
    std::string bytes;
    if (!loaded.model.SerializeToString(&bytes)) {
      error = "cannot serialize the trained model for " + outputPath;
      return false;
    }
    if (!writeFileDurably(outputPath, bytes, error))
      return false;
    return true;
  } catch (const onnx_import::ImportError &e) {
    error = e.what();
    return false;
  }
}

} // namespace strata
