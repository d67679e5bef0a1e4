#!/usr/bin/env python3
"""Sparse kernels against strata's dense program of the same network.

Usage: /usr/bin/python3 bench/sparse_bench.py --strata build/bin/strata
           --examples build/examples [--sparsity 0.5,0.6,...] [--batch 1,4,16,64]
           [--threads 1] [--iters 2000] [--rounds 3]

Prunes the bundled LeNet-300-100 (mlp.onnx) and LeNet-5 (lenet.onnx) by
magnitude, every weight matrix to each sparsity (numpy; the zero pattern of
a network strata prune retrained has the same statistics per layer), and
times `strata bench` with `--sparse=off` (dense), `auto` (the default rule)
and `on` (every layer sparse) for each batch, alternating them over R rounds;
the table shows the best median of the rounds and dense/auto and dense/on
(above 1: faster than dense), and which layers `auto` made sparse. Needs Debian's python3-onnx.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper


def prune(src, dst, sparsity):
    model = onnx.load(src)
    for init in model.graph.initializer:
        w = numpy_helper.to_array(init).copy()
        if w.ndim < 2:
            continue
        w[np.abs(w) < np.quantile(np.abs(w), sparsity)] = 0.0
        init.CopyFrom(numpy_helper.from_array(w.astype(np.float32), init.name))
    onnx.save(model, dst)


def median_ms(strata, model, batch, threads, iters, sparse):
    out = subprocess.run([strata, "bench", model, "--batch", str(batch), "--threads", str(threads),
                          "--iters", str(iters), "--sparse=" + sparse, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["median_ms"]


def auto_choice(strata, model, batch):
    err = subprocess.run([strata, "compile", model, "--batch", str(batch), "--explain",
                          "--emit=linalg", "-o", os.devnull],
                         check=True, capture_output=True, text=True).stderr
    sparse = [line.split()[0] for line in err.splitlines() if "sparse weight" in line]
    return " ".join(sparse) or "none"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--strata", required=True)
    p.add_argument("--examples", required=True)
    p.add_argument("--sparsity", default="0.5,0.6,0.7,0.8,0.9,0.92,0.95")
    p.add_argument("--batch", default="1,4,16,64")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--nets", default="mlp,lenet")
    a = p.parse_args()
    print(f"threads {a.threads}, {a.iters} iterations, best median of {a.rounds} rounds\n")
    print("| net | sparsity | batch | dense ms | auto ms | all sparse ms | dense/auto | "
          "dense/all sparse | sparse under auto |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for net in a.nets.split(","):
            for s in [float(v) for v in a.sparsity.split(",")]:
                model = os.path.join(tmp, f"{net}_{s}.onnx")
                prune(os.path.join(a.examples, net + ".onnx"), model, s)
                for batch in [int(b) for b in a.batch.split(",")]:
                    times = {"off": [], "auto": [], "on": []}
                    for _ in range(a.rounds):
                        for mode, t in times.items():
                            t.append(median_ms(a.strata, model, batch, a.threads, a.iters, mode))
                    d, au, on = (min(times[m]) for m in ("off", "auto", "on"))
                    print(f"| {net} | {s:.2f} | {batch} | {d:.4f} | {au:.4f} | {on:.4f} | "
                          f"{d / au:.2f} | {d / on:.2f} | {auto_choice(a.strata, model, batch)} |",
                          flush=True)


if __name__ == "__main__":
    main()
