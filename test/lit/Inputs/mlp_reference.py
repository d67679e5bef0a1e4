#!/usr/bin/env python3
"""Checks strata's output for the bundled MLP against NumPy.

Usage: mlp_reference.py MODEL.onnx make-input X.npy BATCH
       mlp_reference.py MODEL.onnx check X.npy Y.npy|Y.pb
The reference evaluates Gemm(transB=1) + Relu layers from the model's own
initializers in float64; the check passes when max|diff| <= 1e-4 * max|ref|.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def reference(model_path, x):
    m = onnx.load(model_path)
    w = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in m.graph.initializer}
    h = x.astype(np.float64)
    for node in m.graph.node:
        if node.op_type == "Gemm":
            h = h @ w[node.input[1]].T + w[node.input[2]]
        elif node.op_type == "Relu":
            h = np.maximum(h, 0)
        else:
            raise SystemExit(f"reference handles Gemm and Relu only, not {node.op_type}")
    return h


def load(path):
    if path.endswith(".pb"):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t)
    return np.load(path)


def main():
    model, action = sys.argv[1], sys.argv[2]
    if action == "make-input":
        rng = np.random.default_rng(42)
        np.save(sys.argv[3], rng.random((int(sys.argv[4]), 784), dtype=np.float32))
        return
    x, y = np.load(sys.argv[3]), load(sys.argv[4])
    ref = reference(model, x)
    if y.shape != ref.shape:
        raise SystemExit(f"shape {y.shape} != reference {ref.shape}")
    err = np.abs(y - ref).max() / np.abs(ref).max()
    print(f"relative error {err:.2e}")
    if not err <= 1e-4:
        raise SystemExit("mismatch")
    print("match")


if __name__ == "__main__":
    main()
