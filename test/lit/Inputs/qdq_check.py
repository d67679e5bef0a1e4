#!/usr/bin/env python3
"""Checks a QDQ model strata quantize wrote, and its outputs.

Usage: qdq_check.py MODEL.onnx [FLOAT_OUT.npy INT8_OUT.npy]
       qdq_check.py MODEL.onnx --scale NAME   (prints that scale initializer)
The model must pass libonnx's checker; its weights must be int8 read through
DequantizeLinear with an axis (per channel) and zero zero points, its biases
int32. The int8 program's outputs must be within 10% (relative to the largest
float output) of the float program's and agree on the top class for at least
90% of the samples.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    if len(sys.argv) == 4 and sys.argv[2] == "--scale":
        print(f"{sys.argv[3]} = {inits[sys.argv[3]].ravel().tolist()}")
        return
    weights = biases = 0
    for n in model.graph.node:
        if n.op_type != "DequantizeLinear" or n.input[0] not in inits:
            continue
        q = inits[n.input[0]]
        if q.dtype == np.int8 and q.ndim >= 2:
            axis = [a.i for a in n.attribute if a.name == "axis"]
            assert axis, f"{n.input[0]}: per-tensor, not per axis"
            assert not inits[n.input[2]].any(), f"{n.input[0]}: nonzero weight zero point"
            weights += 1
        elif q.dtype == np.int32:
            biases += 1
    print(f"valid QDQ: {weights} weights int8 per axis, {biases} biases int32")
    if len(sys.argv) < 4:
        return
    f, i = np.load(sys.argv[2]), np.load(sys.argv[3])
    rel = np.abs(f - i).max() / np.abs(f).max()
    agree = (f.argmax(1) == i.argmax(1)).mean()
    print(f"max |int8 - float| / max |float| = {rel:.3f}, top-1 agreement {agree:.2f}")
    if rel > 0.1 or agree < 0.9:
        sys.exit("not close to float")
    print("close to float")


if __name__ == "__main__":
    main()
