#!/usr/bin/env python3
"""Centroid fine-tuning (trained quantization) against a float64 reference.

The bundled MLP and LeNet-5 are pruned and their layer weights shared
(`strata opt --passes prune=0.5,share=3:3`: every layer weight holds at
most 8 distinct nonzero values); the training step of the shared model
(`strata-share-weights` recovers those codebooks exactly,
`strata-build-training-step{gradients-only=true}` returns d loss / d
codebook) is compiled and called through ctypes. The reference computes in
float64 with PyTorch: the weight as codebook[index] (pruned zeros fixed),
autograd's gradient of each codebook, and, separately, the rule itself:
the sum of the gradients of the weights that use a centroid. Each must
match strata within a relative error of 1e-4. A full SGD step (momentum 0)
must move each centroid by lr times that gradient. Exit 77 without torch.

  centroid_gradients.py --strata build/bin/strata --strata-opt build/bin/strata-opt \\
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_abi import Runner, signature  # noqa: E402
from torch_gradients import lenet_forward, mlp_forward  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIP: python3-torch is not installed (apt install python3-torch)")
    sys.exit(77)

BATCH = 8
TOLERANCE = 1e-4
LR = 0.1
MODELS = {"mlp": (mlp_forward, (784,)), "lenet": (lenet_forward, (1, 28, 28))}


def names_of(lib):
    lines = signature(lib).split("\n")
    n = int(lines[1].split()[1])
    return [l.split("\t")[0] for l in lines[2:2 + n]]


def compile_step(args, tmp, name, model, options):
    fwd, step, so = (os.path.join(tmp, f"{name}.{options[:4]}{s}") for s in (".mlir", ".step.mlir", ".so"))
    for cmd in ([args.strata, "compile", model, "--emit=nn", f"--batch={BATCH}", "--print-weights",
                 "-o", fwd],
                [args.strata_opt, fwd, "--strata-share-weights=conv-bits=3 fc-bits=3",
                 f"--strata-build-training-step={options}", "-o", step],
                [args.strata, "compile", step, "-o", so]):
        subprocess.run(cmd, check=True, capture_output=True)
    return ctypes.CDLL(so)


def check(args, tmp, name):
    forward, shape = MODELS[name]
    shared = os.path.join(tmp, name + ".shared.onnx")
    subprocess.run([args.strata, "opt", os.path.join(args.examples, name + ".onnx"),
                    "--passes", "prune=0.5,share=3:3", "-o", shared], check=True, capture_output=True)
    weights = {i.name: numpy_helper.to_array(i).astype(np.float32)
               for i in onnx.load(shared).graph.initializer}
    grads_lib = compile_step(args, tmp, name, shared, "gradients-only=true")
    names = names_of(grads_lib)[:-3]  # parameters, then input, labels, mask
    codebooks, index = {}, {}
    for p in names:
        if p.endswith(".codebook"):
            w = weights[p[:-len(".codebook")]]
            codebooks[p] = np.unique(w[w != 0])
            index[p] = np.where(w != 0, np.searchsorted(codebooks[p], w), -1)
    assert codebooks, "no codebook parameters in the training step"
    rng = np.random.default_rng(11)
    x = rng.uniform(0, 1, size=(BATCH,) + shape).astype(np.float32)
    labels = rng.integers(0, 10, size=BATCH).astype(np.int64)
    mask = np.ones(BATCH, np.float32)
    values = {p: np.ascontiguousarray(codebooks[p] if p in codebooks else weights[p]) for p in names}
    inputs = [values[p] for p in names] + [x, labels, mask]
    outputs = [np.zeros((), np.float32)] + [np.zeros_like(values[p]) for p in names]
    assert Runner(grads_lib)(inputs + outputs) == 0
    got = dict(zip(names, outputs[1:]))

    # float64 reference: W = codebook[index] with pruned zeros fixed.
    params = {p: torch.tensor(values[p].astype(np.float64), requires_grad=True) for p in names}
    w, expanded = {}, {}
    for p in names:
        if p in codebooks:
            table = torch.cat([params[p], torch.zeros(1, dtype=torch.float64)])
            idx = torch.tensor(np.where(index[p] >= 0, index[p], len(codebooks[p])))
            expanded[p] = table[idx.reshape(-1)].reshape(index[p].shape)
            expanded[p].retain_grad()
            w[p[:-len(".codebook")]] = expanded[p]
        else:
            w[p] = params[p]
    loss = F.cross_entropy(forward(w, torch.tensor(x.astype(np.float64))), torch.tensor(labels))
    loss.backward()
    worst, failures = 0.0, []
    for p in names:
        ref = params[p].grad.numpy()
        err = np.max(np.abs(got[p] - ref)) / np.max(np.abs(ref))
        worst = max(worst, err)
        if not err <= TOLERANCE:
            failures.append(f"{p}: relative error {err:.2e}")
        if p in codebooks:
            # The rule: a centroid's gradient is the sum of its weights'.
            gw = expanded[p].grad.numpy()
            rule = np.array([gw[index[p] == k].sum() for k in range(len(codebooks[p]))])
            err = np.max(np.abs(got[p] - rule)) / np.max(np.abs(rule))
            worst = max(worst, err)
            if not err <= TOLERANCE:
                failures.append(f"{p}: {err:.2e} from the sum of its weights' gradients")

    # One SGD step moves the centroids by lr x their gradient.
    step_lib = compile_step(args, tmp, name, shared, f"optimizer=sgd(lr={LR})")
    step_names = names_of(step_lib)[:-3]
    assert step_names == names, f"{step_names} != {names}"
    new = [np.zeros((), np.float32)] + [np.zeros_like(values[p]) for p in names]
    assert Runner(step_lib)(inputs + new) == 0
    for p, v in zip(names, new[1:]):
        if p in codebooks:
            ref = values[p] - LR * params[p].grad.numpy()
            err = np.max(np.abs(v - ref)) / np.max(np.abs(values[p]))
            worst = max(worst, err)
            if not err <= TOLERANCE:
                failures.append(f"{p}: SGD step off by {err:.2e}")
    return worst, failures, len(codebooks)


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
            print(f"{'FAIL' if failures else 'ok'} {name}: {count} codebooks, max relative error "
                  f"{worst:.1e} vs float64 PyTorch {torch.__version__}")
            for f in failures:
                print("   ", f)
            failed |= bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
