#!/usr/bin/env python3
"""Checks a model written by strata share against the model it came from.

  shared_check.py INPUT.onnx SHARED.onnx BITS

Every layer weight (rank >= 2) of SHARED holds at most 2^BITS distinct
nonzero values and has its zeros exactly where INPUT has them (pruned
connections stay pruned); prints one line per weight.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def weights(path):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}


def main():
    before, after, bits = weights(sys.argv[1]), weights(sys.argv[2]), int(sys.argv[3])
    ok = True
    for name, w in after.items():
        if w.ndim < 2:
            continue
        distinct = len(np.unique(w[w != 0]))
        same_zeros = np.array_equal(w == 0, before[name] == 0)
        good = distinct <= 2 ** bits and same_zeros
        ok &= good
        print(f"{name}: {distinct} distinct nonzero values (at most {2 ** bits}), "
              f"zeros {'kept' if same_zeros else 'CHANGED'}{'' if good else '  FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
