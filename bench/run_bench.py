#!/usr/bin/env python3
"""strata against ONNX Runtime, IREE and OpenVINO (and oneDNN's sgemm for
matmul), at 1 and 2 threads, on the same machine in one run. Prints a Markdown table of median latencies
and ratios (strata / peer; below 1.0 means strata is faster).

Usage (with a Python that has onnx, numpy and onnxruntime, e.g. from pip):
  python3 bench/run_bench.py --strata build/bin/strata [--iters 30] [--threads 1,2]

A missing peer is reported and its column left empty; the script never fails
because of one. Models are made here with random weights (seed 0).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def model(nodes, inputs, outputs, inits):
    g = h.make_graph(nodes, "bench", inputs, outputs, inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def weight(rng, name, shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.05).astype(np.float32), name)


def mlp(batch):
    rng = np.random.default_rng(0)
    sizes, nodes, inits, prev = [784, 300, 100, 10], [], [], "x"
    for i in range(3):
        inits += [weight(rng, f"w{i}", (sizes[i + 1], sizes[i])), weight(rng, f"b{i}", (sizes[i + 1],))]
        out = "y" if i == 2 else f"h{i}"
        nodes.append(h.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out], transB=1))
        if i < 2:
            nodes.append(h.make_node("Relu", [out], [out + "r"]))
            out += "r"
        prev = out
    return model(nodes, [h.make_tensor_value_info("x", T.FLOAT, [batch, 784])],
                 [h.make_tensor_value_info("y", T.FLOAT, [batch, 10])], inits), 2 * batch * (784 * 300 + 300 * 100 + 100 * 10)


def matmul(n):
    rng = np.random.default_rng(0)
    return model([h.make_node("MatMul", ["x", "w"], ["y"])],
                 [h.make_tensor_value_info("x", T.FLOAT, [n, n])],
                 [h.make_tensor_value_info("y", T.FLOAT, [n, n])],
                 [weight(rng, "w", (n, n))]), 2 * n ** 3


def conv():
    rng = np.random.default_rng(0)
    return model([h.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])],
                 [h.make_tensor_value_info("x", T.FLOAT, [1, 64, 56, 56])],
                 [h.make_tensor_value_info("y", T.FLOAT, [1, 64, 56, 56])],
                 [weight(rng, "w", (64, 64, 3, 3)), weight(rng, "b", (64,))]), 2 * 64 * 64 * 9 * 56 * 56


def chain():
    n = h.make_node
    two = numpy_helper.from_array(np.float32(2.0), "two")
    three = numpy_helper.from_array(np.float32(3.0), "three")
    nodes = [n("Add", ["x", "y"], ["a"]), n("Mul", ["a", "two"], ["b"]), n("Sub", ["b", "y"], ["c"]),
             n("Relu", ["c"], ["d"]), n("Div", ["d", "three"], ["e"]), n("Max", ["e", "y"], ["z"])]
    vi = [h.make_tensor_value_info(s, T.FLOAT, [1024, 1024]) for s in ["x", "y"]]
    return model(nodes, vi, [h.make_tensor_value_info("z", T.FLOAT, [1024, 1024])], [two, three]), None


def time_dnnl(n, iters, work, threads):
    exe = os.path.join(work, "dnnl_sgemm")
    if not os.path.exists(exe):
        cxx = shutil.which("c++") or shutil.which("g++")
        if not cxx or subprocess.run([cxx, "-O2", os.path.join(HERE, "dnnl_sgemm.cpp"), "-ldnnl",
                                      "-o", exe], capture_output=True).returncode != 0:
            return None, "oneDNN (libdnnl-dev) not available"
    out = subprocess.run([exe, str(n), str(iters)], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    return (json.loads(out.stdout)["median_ms"], None) if out.returncode == 0 else (None, out.stderr)


def feeds_for(path):
    m = onnx.load(path)
    rng = np.random.default_rng(1)
    inits = {i.name for i in m.graph.initializer}
    return {i.name: rng.random([d.dim_value for d in i.type.tensor_type.shape.dim], dtype=np.float32)
            for i in m.graph.input if i.name not in inits}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    args = ap.parse_args()
    cases = [("MLP 784-300-100-10, batch 1", *mlp(1)), ("MLP 784-300-100-10, batch 64", *mlp(64)),
             ("matmul 256", *matmul(256)), ("matmul 512", *matmul(512)), ("matmul 1024", *matmul(1024)),
             ("conv 3x3 64->64, 56x56", *conv()), ("6-op elementwise chain, 1M floats", *chain())]
    notes = set()
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as work:
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
        print("| model | threads | strata ms | ORT ms | strata / ORT | IREE ms | OpenVINO ms | "
              "oneDNN sgemm ms | strata / oneDNN | strata GFLOPS |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for threads in [int(t) for t in args.threads.split(",")]:
            for name, m, flops in cases:
                path = os.path.join(work, name.split(",")[0].replace(" ", "_") + str(abs(hash(name)))[:6] + ".onnx")
                if not os.path.exists(path):
                    onnx.save(m, path)
                feeds = feeds_for(path)
                iters = max(5, args.iters // 5) if flops and flops > 1e9 else args.iters
                results = peers.time_all(args.strata, path, feeds, threads, iters, env, work, notes)
                d = None
                if name.startswith("matmul"):
                    d, err = time_dnnl(int(name.split()[1]), iters, work, threads)
                    if err: notes.add(err)
                s, o = results["strata"], results["ort"]
                ratio = peers.ratio
                gflops = f"{flops / (s * 1e6):.1f}" if s and flops else ""
                print(f"| {name} | {threads} | {peers.fmt(s, 3)} | {peers.fmt(o, 3)} | {ratio(s, o)} | "
                      f"{peers.fmt(results['iree'], 3)} | {peers.fmt(results['openvino'], 3)} | "
                      f"{peers.fmt(d, 3)} | {ratio(s, d) if d else ''} | {gflops} |", flush=True)
    for n in sorted(notes):
        print(f"\nnote: {n}")


if __name__ == "__main__":
    sys.exit(main())
