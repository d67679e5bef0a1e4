//===- DiagnosticCollector.h - MLIR diagnostics as one message --*- C++ -*-===//

#ifndef STRATA_COMPILER_DRIVER_DIAGNOSTICCOLLECTOR_H
#define STRATA_COMPILER_DRIVER_DIAGNOSTICCOLLECTOR_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace strata {

/// While alive, collects the context's diagnostics as "location: message"
/// lines instead of printing them, so a failure becomes one error string.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &ctx)
      : handler(&ctx, [this](mlir::Diagnostic &d) {
          llvm::raw_string_ostream os(lines);
          os << d.getLocation() << ": " << d.str() << "\n";
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
  std::string lines;
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace strata

#endif // STRATA_COMPILER_DRIVER_DIAGNOSTICCOLLECTOR_H
