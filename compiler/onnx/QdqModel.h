//===- QdqModel.h - post-training quantization of ONNX models ---*- C++ -*-===//
//
// strata quantize's ONNX side: which tensors a QDQ model quantizes, a copy of
// the model that outputs them (to calibrate their ranges on data), and the
// QDQ model itself, in the layout ONNX Runtime's quantize_static writes:
// uint8 activations (asymmetric), int8 weights (symmetric, per tensor or
// per output channel), int32 biases with scale x_scale * w_scale. No ONNX
// types cross this header.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_COMPILER_ONNX_QDQMODEL_H
#define STRATA_COMPILER_ONNX_QDQMODEL_H

#include <map>
#include <string>
#include <vector>

namespace strata {

/// A Conv, Gemm or MatMul with a constant weight: quantized.
struct QuantizedLayer {
  std::string node;   ///< its name (or "node N")
  std::string opType;
  std::string input;  ///< the activation it reads
  std::string output; ///< the tensor quantized after it (after a single Relu/Clip)
};

struct QdqPlan {
  std::vector<QuantizedLayer> layers;
  /// Every tensor that gets a Quantize/Dequantize pair (calibrated).
  std::vector<std::string> activations;
  /// (output, input) of MaxPool/Reshape/Flatten/Transpose/Squeeze/Unsqueeze
  /// between quantized tensors: the output takes the input's range, so the
  /// op runs on the integers unchanged.
  std::vector<std::pair<std::string, std::string>> sameRange;
  /// The model's outputs: a quantized one keeps its name on the
  /// dequantized value (the op that computed it writes `<name>_float`).
  std::vector<std::string> modelOutputs;

  /// The name of `tensor`'s dequantized value in the QDQ model.
  std::string dequantizedName(const std::string &tensor) const {
    for (const auto &o : modelOutputs)
      if (o == tensor)
        return tensor;
    return tensor + "_dequantized";
  }
};

/// Finds the layers and tensors of `modelPath` to quantize.
bool planQuantization(const std::string &modelPath, QdqPlan &plan, std::string &error);

/// Writes a copy of the model whose graph outputs are `tensors` (after the
/// original outputs; graph inputs among them are left out), for calibration.
bool writeObservedModel(const std::string &modelPath, const std::vector<std::string> &tensors,
                        const std::string &outputPath, std::string &error);

struct TensorRange {
  float min = 0, max = 0;
};

/// Writes the QDQ model: a QuantizeLinear/DequantizeLinear pair after every
/// planned activation (uint8, the range widened to include 0), weights as
/// int8 + DequantizeLinear (per output channel with `perChannel`, which
/// needs opset 13), biases as int32. Checked by libonnx; never over the
/// source.
/// With `trainable`, the model to train with quantization in the loop
/// (strata train --qat): weights stay float initializers, each read through
/// a QuantizeLinear/DequantizeLinear pair with the scale of its initial
/// values, and biases stay float.
bool writeQdqModel(const std::string &modelPath, const QdqPlan &plan,
                   const std::map<std::string, TensorRange> &ranges, bool perChannel,
                   const std::string &outputPath, std::string &error, bool trainable = false);

/// The trained model of strata train --qat made deployable: every
/// QuantizeLinear of a float initializer (a weight) is computed once into
/// an int8 initializer, so the result is the standard QDQ form.
bool freezeQuantizedWeights(const std::string &trainedPath, const std::string &outputPath,
                            std::string &error);

} // namespace strata

#endif // STRATA_COMPILER_ONNX_QDQMODEL_H
