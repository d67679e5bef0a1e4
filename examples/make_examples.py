#!/usr/bin/env python3
"""Writes the bundled example models (random weights, fixed seed).

  mlp.onnx    LeNet-300-100: 784-300-100-10 multilayer perceptron (Gemm, Relu)
  lenet.onnx  LeNet-5 style CNN for 1x28x28 images (Conv, MaxPool, Gemm, ...)
  lenet_input.npy  one 1x1x28x28 input for it (a drawn square, values in [0, 1])
  lenet5_caffe.onnx  the LeNet-5 of Caffe's MNIST example, as Deep Compression (Han et
              al. 2016) compresses it: conv 20 and 50 5x5 filters, fc 800-500-10 (431K weights)

Run with Debian's python3 (it has python3-onnx):  /usr/bin/python3 make_examples.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def weight(rng, name, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return numpy_helper.from_array(
        rng.uniform(-bound, bound, size=shape).astype(np.float32), name)


def mlp(rng):
    layers, nodes, inits, prev = [784, 300, 100, 10], [], [], "input"
    for i in range(3):
        w = weight(rng, f"fc{i + 1}.weight", (layers[i + 1], layers[i]), layers[i])
        b = weight(rng, f"fc{i + 1}.bias", (layers[i + 1],), layers[i])
        inits += [w, b]
        out = "logits" if i == 2 else f"fc{i + 1}"
        nodes.append(helper.make_node("Gemm", [prev, w.name, b.name], [out],
                                      name=f"fc{i + 1}", transB=1))
        if i < 2:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i + 1}"], name=f"relu{i + 1}"))
            out = f"relu{i + 1}"
        prev = out
    graph = helper.make_graph(
        nodes, "lenet_300_100",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 784])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        inits)
    return graph


def lenet(rng):
    inits = [
        weight(rng, "conv1.weight", (6, 1, 5, 5), 25),
        weight(rng, "conv1.bias", (6,), 25),
        weight(rng, "conv2.weight", (16, 6, 5, 5), 150),
        weight(rng, "conv2.bias", (16,), 150),
        weight(rng, "fc1.weight", (120, 256), 256),
        weight(rng, "fc1.bias", (120,), 256),
        weight(rng, "fc2.weight", (84, 120), 120),
        weight(rng, "fc2.bias", (84,), 120),
        weight(rng, "fc3.weight", (10, 84), 84),
        weight(rng, "fc3.bias", (10,), 84),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", kernel_shape=[5, 5]),
        n("Relu", ["c1"], ["r1"], name="relu1"),
        n("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", kernel_shape=[5, 5]),
        n("Relu", ["c2"], ["r2"], name="relu2"),
        n("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        n("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        n("Gemm", ["f", "fc1.weight", "fc1.bias"], ["g1"], name="fc1", transB=1),
        n("Relu", ["g1"], ["r3"], name="relu3"),
        n("Gemm", ["r3", "fc2.weight", "fc2.bias"], ["g2"], name="fc2", transB=1),
        n("Relu", ["g2"], ["r4"], name="relu4"),
        n("Gemm", ["r4", "fc3.weight", "fc3.bias"], ["logits"], name="fc3", transB=1),
    ]
    return helper.make_graph(
        nodes, "lenet5",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        inits)


def lenet5_caffe(rng):
    inits = [
        weight(rng, "conv1.weight", (20, 1, 5, 5), 25),
        weight(rng, "conv1.bias", (20,), 25),
        weight(rng, "conv2.weight", (50, 20, 5, 5), 500),
        weight(rng, "conv2.bias", (50,), 500),
        weight(rng, "fc1.weight", (500, 800), 800),
        weight(rng, "fc1.bias", (500,), 800),
        weight(rng, "fc2.weight", (10, 500), 500),
        weight(rng, "fc2.bias", (10,), 500),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", kernel_shape=[5, 5]),
        n("MaxPool", ["c1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", kernel_shape=[5, 5]),
        n("MaxPool", ["c2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        n("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        n("Gemm", ["f", "fc1.weight", "fc1.bias"], ["g1"], name="fc1", transB=1),
        n("Relu", ["g1"], ["r1"], name="relu1"),
        n("Gemm", ["r1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
    ]
    return helper.make_graph(
        nodes, "lenet5_caffe",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        inits)


def save(graph, path):
    model = helper.make_model(graph, producer_name="strata-examples",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    save(mlp(rng), os.path.join(out, "mlp.onnx"))
    save(lenet(rng), os.path.join(out, "lenet.onnx"))
    image = np.zeros((1, 1, 28, 28), np.float32)
    image[0, 0, 6:22, 6:22] = 1.0
    image[0, 0, 9:19, 9:19] = 0.0
    np.save(os.path.join(out, "lenet_input.npy"), image)
    save(lenet5_caffe(np.random.default_rng(1)), os.path.join(out, "lenet5_caffe.onnx"))


if __name__ == "__main__":
    main()
