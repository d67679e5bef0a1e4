#!/usr/bin/env python3
"""Whole-model gradients of LeNet-5 and the MLP against PyTorch.

The bundled example models (examples/make_examples.py) are differentiated by
strata (`strata-build-training-step{gradients-only=true}`: softmax
cross-entropy weighted by a per-sample mask, then reverse-mode autodiff),
compiled and called through ctypes; PyTorch computes the same loss with the
same initial weights (read from the ONNX file) and autograd. Every
parameter's gradient must match within a relative error of 1e-4
(max |diff| / max |ref|). Exit 77 (skipped) without python3-torch.

  torch_gradients.py --strata build/bin/strata --strata-opt build/bin/strata-opt \\
                     --examples build/examples
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIP: python3-torch is not installed (apt install python3-torch)")
    sys.exit(77)

BATCH = 8
TOLERANCE = 1e-4


def mlp_forward(w, x):
    h = F.relu(F.linear(x, w["fc1.weight"], w["fc1.bias"]))
    h = F.relu(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    return F.linear(h, w["fc3.weight"], w["fc3.bias"])


def lenet_forward(w, x):
    h = F.max_pool2d(F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), 2, 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"])), 2, 2)
    h = torch.flatten(h, 1)
    h = F.relu(F.linear(h, w["fc1.weight"], w["fc1.bias"]))
    h = F.relu(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    return F.linear(h, w["fc3.weight"], w["fc3.bias"])


MODELS = {"mlp": (mlp_forward, (784,)), "lenet": (lenet_forward, (1, 28, 28))}


def signature_names(lib):
    text = ctypes.c_char_p.in_dll(lib, "strata_model_signature")
    # The symbol is an array, not a pointer: read it from its address.
    raw = ctypes.string_at(ctypes.addressof(text)).decode()
    lines = raw.split("\n")
    n = int(lines[1].split()[1])
    return [l.split("\t")[0] for l in lines[2:2 + n]]


def check(args, tmp, name):
    forward, shape = MODELS[name]
    model_path = os.path.join(args.examples, name + ".onnx")
    fwd, grad, so = (os.path.join(tmp, name + s) for s in (".mlir", ".grad.mlir", ".so"))
    for cmd in ([args.strata, "compile", model_path, "--emit=nn", f"--batch={BATCH}",
                 "--print-weights", "-o", fwd],
                [args.strata_opt, fwd, "--strata-build-training-step=gradients-only=true", "-o", grad],
                [args.strata, "compile", grad, "-o", so]):
        subprocess.run(cmd, check=True, capture_output=True)
    weights = {i.name: numpy_helper.to_array(i).astype(np.float32)
               for i in onnx.load(model_path).graph.initializer}
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, size=(BATCH,) + shape).astype(np.float32)
    labels = rng.integers(0, 10, size=BATCH).astype(np.int64)
    mask = np.ones(BATCH, np.float32)
    mask[-3:] = 0  # a partial last batch: three padding samples
    lib = ctypes.CDLL(so)
    names = signature_names(lib)
    params = names[:-3]
    inputs = [np.ascontiguousarray(weights[p]) for p in params] + [x, labels, mask]
    outputs = [np.zeros((), np.float32)] + [np.zeros_like(weights[p]) for p in params]
    bufs = inputs + outputs
    ptrs = (ctypes.c_void_p * len(bufs))(*[b.ctypes.data for b in bufs])
    assert lib.strata_model_run(ptrs) == 0

    w = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    logits = forward(w, torch.tensor(x))
    per_sample = F.cross_entropy(logits, torch.tensor(labels), reduction="none")
    m = torch.tensor(mask)
    loss = (per_sample * m).sum() / m.sum()
    loss.backward()
    worst, failures = 0.0, []
    loss_err = abs(float(outputs[0]) - loss.item()) / abs(loss.item())
    if loss_err > TOLERANCE:
        failures.append(f"loss {float(outputs[0])} vs PyTorch {loss.item()}")
    for p, g in zip(params, outputs[1:]):
        ref = w[p].grad.numpy()
        err = np.max(np.abs(g - ref)) / np.max(np.abs(ref))
        worst = max(worst, err)
        if not err <= TOLERANCE:
            failures.append(f"{p}: relative error {err:.2e}")
    return worst, failures, len(params)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strata", required=True)
    ap.add_argument("--strata-opt", required=True)
    ap.add_argument("--examples", required=True, help="folder with mlp.onnx and lenet.onnx")
    args = ap.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            worst, failures, count = check(args, tmp, name)
            status = "FAIL" if failures else "ok"
            print(f"{status} {name}: {count} parameter gradients, max relative error "
                  f"{worst:.1e} vs PyTorch {torch.__version__}")
            for f in failures:
                print("   ", f)
            failed |= bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
