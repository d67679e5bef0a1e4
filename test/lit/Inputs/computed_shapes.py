#!/usr/bin/env python3
"""A model whose shapes are computed at run time, as PyTorch exports them,
and a NumPy reference for it.

Usage: computed_shapes.py make OUT.onnx X.npy BATCH
       computed_shapes.py check X.npy OUT_DIR

The input has a symbolic batch ('N', 8 channels, 4x4). Every shape operand
comes from Shape -> Gather -> arithmetic -> Unsqueeze -> Concat chains that
ONNX 1.12's data propagation does not follow (Div, Equal/Where,
ConstantOfShape), so only folding at import types them:
- shuffled: ShuffleNet's channel shuffle, Reshape to [n, 2, c/2, h, w],
  Transpose, Reshape to [n, -1, h, w];
- half: Slice of the first c/2 channels (computed ends);
- expanded: a [1, 8, 1, 1] bias Expand-ed to Where(shape == -1, 1, shape)
  of ConstantOfShape(-1) entries and the input's own dimensions.
`check` recomputes the three with NumPy and prints "match" when they are
exactly equal (data movement only, no arithmetic on values).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

BIAS = np.arange(8, dtype=np.float32).reshape(1, 8, 1, 1)


def i64(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def make(out, xpath, batch):
    n = h.make_node
    nodes = [
        n("Shape", ["x"], ["s"], name="shape"),
        n("Gather", ["s", "zero"], ["n"], name="dim_n", axis=0),
        n("Gather", ["s", "one"], ["c"], name="dim_c", axis=0),
        n("Gather", ["s", "two"], ["hh"], name="dim_h", axis=0),
        n("Gather", ["s", "three"], ["ww"], name="dim_w", axis=0),
        n("Div", ["c", "two"], ["c2"], name="half_channels"),
        n("Unsqueeze", ["n", "axes0"], ["n1"], name="un_n"),
        n("Unsqueeze", ["c2", "axes0"], ["c21"], name="un_c2"),
        n("Unsqueeze", ["hh", "axes0"], ["h1"], name="un_h"),
        n("Unsqueeze", ["ww", "axes0"], ["w1"], name="un_w"),
        n("Concat", ["n1", "groups", "c21", "h1", "w1"], ["split_shape"], name="split_shape", axis=0),
        n("Reshape", ["x", "split_shape"], ["split"], name="split"),
        n("Transpose", ["split"], ["swapped"], name="swap", perm=[0, 2, 1, 3, 4]),
        n("Concat", ["n1", "minus_one", "h1", "w1"], ["merge_shape"], name="merge_shape", axis=0),
        n("Reshape", ["swapped", "merge_shape"], ["shuffled"], name="merge"),
        n("Slice", ["x", "zero1", "c21", "one1"], ["half"], name="first_half"),
        n("ConstantOfShape", ["four1"], ["ones"], name="ones",
          value=numpy_helper.from_array(np.array([1], np.int64))),
        n("Mul", ["ones", "minus_one"], ["minus_ones"], name="minus_ones"),
        n("Concat", ["n1", "minus_one", "minus_one", "minus_one"], ["target"], name="target", axis=0),
        n("Equal", ["target", "minus_ones"], ["is_free"], name="is_free"),
        n("Where", ["is_free", "ones", "target"], ["expand_shape"], name="expand_shape"),
        n("Expand", ["bias", "expand_shape"], ["expanded"], name="expand"),
    ]
    inits = [i64("zero", 0), i64("one", 1), i64("two", 2), i64("three", 3), i64("axes0", [0]),
             i64("groups", [2]), i64("minus_one", [-1]), i64("zero1", [0]), i64("one1", [1]),
             i64("four1", [4]), numpy_helper.from_array(BIAS, "bias")]
    x = h.make_tensor_value_info("x", T.FLOAT, ["N", 8, 4, 4])
    # Outputs as exporters declare them: rank known, sizes symbolic.
    outs = [h.make_tensor_value_info(name, T.FLOAT, [f"{name}_{d}" for d in range(4)])
            for name in ("shuffled", "half", "expanded")]
    g = h.make_graph(nodes, "computed_shapes", [x], outs, inits)
    m = h.make_model(g, producer_name="strata-tests", opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, out)
    rng = np.random.default_rng(0)
    np.save(xpath, rng.standard_normal((batch, 8, 4, 4)).astype(np.float32))


def check(xpath, out_dir):
    x = np.load(xpath)
    n, c, hh, ww = x.shape
    ref = {
        "shuffled": x.reshape(n, 2, c // 2, hh, ww).transpose(0, 2, 1, 3, 4).reshape(n, -1, hh, ww),
        "half": x[:, :c // 2],
        # Expand broadcasts: the -1 entries became 1, which keep the bias's own sizes.
        "expanded": np.broadcast_to(BIAS, (n, 8, 1, 1)),
    }
    bad = []
    for name, want in ref.items():
        got = np.load(os.path.join(out_dir, name + ".npy"))
        if got.shape != want.shape or not np.array_equal(got, want):
            bad.append(f"{name}: got {got.shape}, want {want.shape}")
    print("match" if not bad else "MISMATCH " + "; ".join(bad))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        check(sys.argv[2], sys.argv[3])
