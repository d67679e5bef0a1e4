#!/usr/bin/env python3
"""Runs a program compiled from onnx_models.py's qdq_per_axis on values that
hit the hard cases (ties at .5 steps, saturation, negative zero points) and
compares with ONNX's definition computed in NumPy, exactly.

Usage: quantize_reference.py PROGRAM
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def quantize(x, scale, zp, lo, hi):
    # ONNX: saturate(round_half_even(x / scale) + zero_point)
    return np.clip(np.rint(x / scale) + zp, lo, hi)


def main():
    program = sys.argv[1]
    # Steps of 0.25 land on ties for every scale in {0.5, 0.25, 0.125, 0.1}
    # often; the large values saturate both int8 and uint8.
    x = (np.arange(24, dtype=np.float32) - 12) * np.float32(0.3125)
    x[0], x[23] = -100.0, 100.0
    x = x.reshape(2, 3, 4)
    s = np.array([0.5, 0.25, 0.125], np.float32).reshape(1, 3, 1)
    z = np.array([0, 1, -1], np.float32).reshape(1, 3, 1)
    y_ref = ((quantize(x, s, z, -128, 127) - z) * s).astype(np.float32)
    t = np.float32(0.1)
    v_ref = (quantize(x, t, 0, 0, 255) * t).astype(np.float32)
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "x.npy"), x)
        subprocess.run([program, os.path.join(d, "x.npy"), "--output-dir", d], check=True)
        y, v = np.load(os.path.join(d, "y.npy")), np.load(os.path.join(d, "v.npy"))
    bad = [(name, got, ref) for name, got, ref in (("y", y, y_ref), ("v", v, v_ref))
           if not np.array_equal(got, ref)]
    for name, got, ref in bad:
        print(f"{name} differs: got {got.ravel()} want {ref.ravel()}")
    if bad:
        sys.exit(1)
    print("quantize/dequantize match ONNX's definition")


if __name__ == "__main__":
    main()
