#!/usr/bin/env python3
"""Single-MaxPool models and a NumPy reference for them.

Usage: pool_reference.py make OUT.onnx X.npy N C H W KH KW STRIDE_H STRIDE_W
       pool_reference.py check MODEL.onnx X.npy Y.npy
`make` writes the model and an input (seed 0; a third of it clamped to 0 so
that windows hold ties); `check` recomputes the pooling window by window and
passes when the result is exactly equal.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h


def make(out, xpath, n, c, hh, ww, kh, kw, sh, sw):
    node = h.make_node("MaxPool", ["x"], ["y"], kernel_shape=[kh, kw], strides=[sh, sw])
    oh, ow = (hh - kh) // sh + 1, (ww - kw) // sw + 1
    g = h.make_graph([node], "pool", [h.make_tensor_value_info("x", T.FLOAT, [n, c, hh, ww])],
                     [h.make_tensor_value_info("y", T.FLOAT, [n, c, oh, ow])])
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, out)
    rng = np.random.default_rng(0)
    np.save(xpath, np.maximum(rng.standard_normal((n, c, hh, ww)), -0.4).astype(np.float32) + 0.4)


def reference(model_path, x):
    a = {at.name: h.get_attribute_value(at) for at in onnx.load(model_path).graph.node[0].attribute}
    (kh, kw), (sh, sw) = a["kernel_shape"], a["strides"]
    n, c, hh, ww = x.shape
    oh, ow = (hh - kh) // sh + 1, (ww - kw) // sw + 1
    y = np.full((n, c, oh, ow), -np.inf, np.float32)
    for i in range(kh):
        for j in range(kw):
            y = np.maximum(y, x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw])
    return y


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:12]))
        return
    ref = reference(sys.argv[2], np.load(sys.argv[3]))
    got = np.load(sys.argv[4])
    if got.shape != ref.shape:
        raise SystemExit(f"shape {got.shape} != reference {ref.shape}")
    print("match" if np.array_equal(got, ref) else "MISMATCH",
          f"max_diff={np.abs(got - ref).max():.2e}")


if __name__ == "__main__":
    main()
