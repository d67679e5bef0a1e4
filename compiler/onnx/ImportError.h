//===- ImportError.h - the one error type of the ONNX importer --*- C++ -*-===//
//
// The importer is compiled with exceptions because libonnx throws; inside it,
// every problem becomes an ImportError whose message already names the file
// and, where there is one, the node. The public API (OnnxImporter.h) turns it
// into an error string, so no exception crosses into MLIR code.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_IMPORTERROR_H
#define STRATA_COMPILER_ONNX_IMPORTERROR_H

#include <stdexcept>
#include <string>

namespace strata::onnx_import {

class ImportError : public std::runtime_error {
public:
  explicit ImportError(const std::string &message)
      : std::runtime_error(message) {}
};

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_IMPORTERROR_H
