#!/usr/bin/env python3
"""Checks that two ONNX models hold the same initializers, bit for bit, and
that the second passes ONNX's checker.

  same_initializers.py A.onnx B.onnx   (prints "N initializers equal, checker ok")
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def initializers(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def main():
    a, b = onnx.load(sys.argv[1]), onnx.load(sys.argv[2])
    onnx.checker.check_model(b)
    wa, wb = initializers(a), initializers(b)
    if sorted(wa) != sorted(wb):
        print(f"different initializers: {sorted(wa)} vs {sorted(wb)}")
        return 1
    for name in wa:
        if wa[name].dtype != wb[name].dtype or not np.array_equal(wa[name], wb[name]):
            print(f"{name} differs")
            return 1
    print(f"{len(wa)} initializers equal, checker ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
