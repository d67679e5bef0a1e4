#!/usr/bin/env python3
"""PyTorch's result for onnx_models.py's residual_block, with its weights.

Usage: residual_block_reference.py input X.npy
       residual_block_reference.py check MODEL.onnx X.npy Y.npy
`input` writes a random input (seed 1); `check` recomputes the block with
torch.nn.functional from the model's initializers and prints the largest
difference relative to the largest output, and "ok" when it is below 1e-5.
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
    r1 = F.relu(F.conv2d(x, w["w1"], w["b"], padding=1))
    p = F.max_pool2d(r1, 2, 2)
    r2 = F.relu(F.conv2d(p, w["w2"], w["b"], padding=1) + p)
    ref = F.conv2d(r2, w["w3"]).numpy()
    y = np.load(sys.argv[4])
    err = float(np.abs(y - ref).max() / np.abs(ref).max())
    print(f"relative error {err:.2e}")
    print("ok" if y.shape == ref.shape and err < 1e-5 else "MISMATCH")


if __name__ == "__main__":
    main()
