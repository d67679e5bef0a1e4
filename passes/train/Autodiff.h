//===- Autodiff.h - reverse-mode automatic differentiation of nn IR -*- C++ -*-===//
//
// One generic walk over a block of nn ops: starting from the gradient of
// the loss, each op on a path from the parameters to the loss builds its
// operands' gradients through DifferentiableOpInterface, and gradients of
// values used more than once are summed. No op-specific code lives here.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_TRAIN_AUTODIFF_H
#define STRATA_PASSES_TRAIN_AUTODIFF_H

#include "mlir/IR/Builders.h"
#include "mlir/Support/LogicalResult.h"

namespace strata::train {

/// Appends, at the builder's insertion point (after every op of `loss`'s
/// block that it reads), the ops computing d(loss)/d(v) for each v in
/// `wrt` (block arguments or op results of the same block). `loss` must be
/// a floating-point tensor; its gradient starts as ones. A value the loss
/// does not depend on gets zeros. Fails with a diagnostic naming the op when
/// an op on the path has no gradient rule.
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
buildGradients(mlir::OpBuilder &builder, mlir::Value loss,
               llvm::ArrayRef<mlir::Value> wrt);

} // namespace strata::train

#endif // STRATA_PASSES_TRAIN_AUTODIFF_H
