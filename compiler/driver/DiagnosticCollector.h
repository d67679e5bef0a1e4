//===- DiagnosticCollector.h - MLIR diagnostics as one message --*- C++ -*-===//

#ifndef STRATA_COMPILER_DRIVER_DIAGNOSTICCOLLECTOR_H
#define STRATA_COMPILER_DRIVER_DIAGNOSTICCOLLECTOR_H

#include "dialects/nn/NodeLocation.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace strata {

/// While alive, collects the context's diagnostics as lines instead of
/// printing them, so a failure becomes one error string. With a `source`
/// (the model file), each line names it and the ONNX node the op came from
/// ("model.onnx: node 'conv1': 'nn.conv' op ..."), as import errors do.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &ctx, std::string source = "")
      : source(std::move(source)),
        handler(&ctx, [this](mlir::Diagnostic &d) {
          llvm::raw_string_ostream os(lines);
          std::string node = nn::describeNodeAt(d.getLocation());
          auto file = mlir::dyn_cast<mlir::FileLineColLoc>(d.getLocation());
          if (file && file.getLine() > 0) {
            // IR read from a file: its line and column say the most.
            os << file.getFilename().str() << ":" << file.getLine() << ":"
               << file.getColumn() << ": ";
          } else if (!this->source.empty()) {
            os << this->source << ": ";
            if (!node.empty())
              os << node << ": ";
          } else {
            os << d.getLocation() << ": ";
          }
          os << d.str() << "\n";
          return mlir::success();
        }) {}

  /// The collected lines without the trailing newline, or `fallback` if none.
  std::string message(const std::string &fallback) const {
    std::string m = lines.empty() ? fallback : lines;
    while (!m.empty() && m.back() == '\n')
      m.pop_back();
    return m;
  }

private:
  std::string source;
  std::string lines;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace strata

#endif // STRATA_COMPILER_DRIVER_DIAGNOSTICCOLLECTOR_H
