#!/usr/bin/env python3
"""PyTorch's result for onnx_models.py's residual_block, with its weights.

Usage: residual_block_reference.py input X.npy
       residual_block_reference.py check MODEL.onnx X.npy Y.npy [--bf16]
`input` writes a random input (seed 1); `check` recomputes the block with
torch.nn.functional from the model's initializers and prints the largest
difference relative to the largest output, and "ok" when it is below 1e-5.
With --bf16 every convolution reads its input and weights rounded to bf16
(to nearest even) and computes in float64, which is what
`--precision=bf16` defines: the products of bf16 values are exact, so
only the summation order may differ.
"""
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def main():
    if sys.argv[1] == "input":
        x = np.random.default_rng(1).standard_normal((1, 16, 32, 32)).astype(np.float32)
        np.save(sys.argv[2], x)
        return
    model = onnx.load(sys.argv[2])
    w = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
    x = torch.from_numpy(np.load(sys.argv[3]))
    if "--bf16" in sys.argv:
        def rounded(t):
            return t.to(torch.bfloat16).to(torch.float64)

        def conv2d(inp, weight, bias=None, **kw):
            b = None if bias is None else bias.to(torch.float64)
            return F.conv2d(rounded(inp), rounded(weight), b, **kw).to(torch.float32)
    else:
        conv2d = F.conv2d
    r1 = F.relu(conv2d(x, w["w1"], w["b"], padding=1))
    p = F.max_pool2d(r1, 2, 2)
    r2 = F.relu(conv2d(p, w["w2"], w["b"], padding=1) + p)
    ref = conv2d(r2, w["w3"]).numpy()
    y = np.load(sys.argv[4])
    err = float(np.abs(y - ref).max() / np.abs(ref).max())
    print(f"relative error {err:.2e}")
    print("ok" if y.shape == ref.shape and err < 1e-5 else "MISMATCH")


if __name__ == "__main__":
    main()
