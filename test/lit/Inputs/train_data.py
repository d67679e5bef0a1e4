#!/usr/bin/env python3
"""Writes a small classification data set for `strata train` tests.

Usage: train_data.py DIR TRAIN_COUNT TEST_COUNT [--uint8]
  DIR/train_x.npy, train_y.npy, test_x.npy, test_y.npy: 784 features per
  sample in [0, 1] around one of ten fixed random class centres (int64
  labels), so a model that learns anything separates them.
Usage: train_data.py compare A.onnx B.onnx
  Exits 0 if both models have bit-identical initializers (prints which differ).
Usage: train_data.py changed A.onnx B.onnx
  Exits 0 if every float initializer changed and the graphs are the same.
"""
import os
import sys

import numpy as np


def make(out, n_train, n_test, as_uint8):
    rng = np.random.default_rng(1)
    centres = rng.uniform(0, 1, size=(10, 784))
    os.makedirs(out, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, size=n)
        x = np.clip(centres[y] + rng.normal(0, 0.35, size=(n, 784)), 0, 1)
        x = (x * 255).round().astype(np.uint8) if as_uint8 else x.astype(np.float32)
        np.save(os.path.join(out, f"{split}_x.npy"), x)
        np.save(os.path.join(out, f"{split}_y.npy"), y.astype(np.int64))


def initializers(path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    return m, {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def main():
    if sys.argv[1] in ("compare", "changed"):
        ma, a = initializers(sys.argv[2])
        mb, b = initializers(sys.argv[3])
        if sys.argv[1] == "compare":
            differ = [k for k in a if not np.array_equal(a[k], b[k])]
            print("identical" if not differ else "differ: " + ", ".join(differ))
            return 1 if differ else 0
        same_graph = [n.op_type for n in ma.graph.node] == [n.op_type for n in mb.graph.node]
        # Integer initializers (shapes) are not trained.
        unchanged = [k for k in a if a[k].dtype.kind == "f" and np.array_equal(a[k], b[k])]
        print(f"same graph: {same_graph}; unchanged initializers: {unchanged}")
        return 0 if same_graph and not unchanged else 1
    make(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), "--uint8" in sys.argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
