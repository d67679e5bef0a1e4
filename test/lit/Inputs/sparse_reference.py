#!/usr/bin/env python3
"""A small pruned CNN and a float64 NumPy reference for it.

Usage: sparse_reference.py make OUT.onnx X.npy BATCH SPARSITY
       sparse_reference.py check MODEL.onnx X.npy Y.npy
`make` writes Conv(1->8, 3x3, stride 2, pad 1, dilation 1) + bias -> Relu ->
Flatten -> Gemm(transB, 392->40) + bias -> Relu -> MatMul(40->10) with
random weights (seed 0) of which the smallest SPARSITY fraction of each
is set to zero (as strata prune leaves them), and an input; `check`
recomputes the network from the model's initializers and passes when
max|diff| <= 1e-4 * max|ref|.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper


def pruned(rng, shape, sparsity):
    w = rng.standard_normal(shape).astype(np.float32)
    w[np.abs(w) < np.quantile(np.abs(w), sparsity)] = 0.0
    return w


def make(out, xpath, batch, sparsity):
    rng = np.random.default_rng(0)
    inits = {"wc": pruned(rng, (8, 1, 3, 3), sparsity),
             "bc": rng.standard_normal(8).astype(np.float32),
             "w1": pruned(rng, (40, 392), sparsity),
             "b1": rng.standard_normal(40).astype(np.float32),
             "w2": pruned(rng, (40, 10), sparsity)}
    nodes = [h.make_node("Conv", ["x", "wc", "bc"], ["c"], name="conv", strides=[2, 2],
                         pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             h.make_node("Relu", ["c"], ["r"], name="relu"),
             h.make_node("Flatten", ["r"], ["f"], name="flatten"),
             h.make_node("Gemm", ["f", "w1", "b1"], ["g"], name="fc1", transB=1),
             h.make_node("Relu", ["g"], ["s"], name="relu1"),
             h.make_node("MatMul", ["s", "w2"], ["y"], name="fc2")]
    g = h.make_graph(nodes, "pruned_cnn", [h.make_tensor_value_info("x", T.FLOAT, ["N", 1, 14, 14])],
                     [h.make_tensor_value_info("y", T.FLOAT, ["N", 10])],
                     [numpy_helper.from_array(v, k) for k, v in inits.items()])
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 17)]), out)
    np.save(xpath, rng.standard_normal((batch, 1, 14, 14)).astype(np.float32))


def check(model, xpath, ypath):
    w = {i.name: numpy_helper.to_array(i).astype(np.float64)
         for i in onnx.load(model).graph.initializer}
    x = np.load(xpath).astype(np.float64)
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    c = np.zeros((n, 8, 7, 7))
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, 0, ky:ky + 13:2, kx:kx + 13:2]
            c += w["wc"][None, :, 0, ky, kx, None, None] * patch[:, None]
    c += w["bc"][None, :, None, None]
    f = np.maximum(c, 0).reshape(n, -1)
    s = np.maximum(f @ w["w1"].T + w["b1"], 0)
    ref = s @ w["w2"]
    y = np.load(ypath)
    diff = np.abs(y - ref).max()
    if y.shape == ref.shape and diff <= 1e-4 * np.abs(ref).max():
        print("match")
    else:
        print(f"mismatch: shape {y.shape} vs {ref.shape}, max|diff| {diff}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        check(*sys.argv[2:5])
