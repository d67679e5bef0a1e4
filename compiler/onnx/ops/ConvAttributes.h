//===- ConvAttributes.h - nn.conv from a node's Conv attributes -*- C++ -*-===//
//
// Conv, ConvInteger and QLinearConv share ONNX's window attributes
// (kernel_shape, strides, pads or auto_pad, dilations, group); one builder
// reads them, so the three importers cannot drift apart.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_OPS_CONVATTRIBUTES_H
#define STRATA_COMPILER_ONNX_OPS_CONVATTRIBUTES_H

#include "compiler/onnx/NodeContext.h"

namespace strata::onnx_import {

/// nn.conv of `x` by `weight` (+ `bias` if given) with the node's window
/// attributes; the result has output 0's shape and `resultElement`.
mlir::Value buildConv(NodeContext &n, mlir::Value x, mlir::Value weight,
                      mlir::Value bias, mlir::Type resultElement);

} // namespace strata::onnx_import

#endif // STRATA_COMPILER_ONNX_OPS_CONVATTRIBUTES_H
