#!/usr/bin/env python3
"""ResNet-18, MobileNetV2 and AlexNet (torchvision, random weights, batch 1;
others by name: any torchvision classifier, or bert_encoder, see torch_nets.py):
strata against ONNX Runtime, PyTorch, IREE and OpenVINO at 1 and 2 threads,
on the same machine in one run. Also checks strata's output against
PyTorch's (max|diff| / max|ref|) and reports strata's compile time.

Usage (with the pip Python that has onnxruntime; PyTorch runs under
Debian's /usr/bin/python3 with python3-torch/python3-torchvision):
  python3 bench/run_nets.py --strata build/bin/strata [--iters 20] [--threads 1,2] [--nets resnet18,...]
      [--rounds R]   (R alternating strata/ORT timings; paired ratio, for noisy machines)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import json

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402

TORCH_PYTHON = "/usr/bin/python3"


def torch_ms(name, threads, iters):
    out = subprocess.run([TORCH_PYTHON, os.path.join(HERE, "torch_nets.py"), "time", name, str(threads),
                          str(iters)], capture_output=True, text=True)
    if out.returncode != 0:
        return None, "PyTorch (Debian python3-torch) failed or is missing"
    return json.loads(out.stdout)["median_ms"], None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--nets", default="resnet18,mobilenet_v2,alexnet")
    ap.add_argument("--rounds", type=int, default=1,
                    help="time strata and ONNX Runtime this many times, alternating, and report "
                         "the medians and the median of the paired ratios (for noisy machines)")
    args = ap.parse_args()
    notes = set()
    with tempfile.TemporaryDirectory(prefix="strata-nets-") as work:
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
        print("| network | threads | strata ms | ORT ms | PyTorch ms | IREE ms | OpenVINO ms | "
              "strata / ORT | strata / PyTorch | rel. error vs PyTorch | strata compile s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        checked = {}
        for threads in [int(t) for t in args.threads.split(",")]:
            for name in args.nets.split(","):
                path = os.path.join(work, f"{name}.onnx")
                if name not in checked:
                    subprocess.run([TORCH_PYTHON, os.path.join(HERE, "torch_nets.py"), "export", name, work],
                                   check=True, capture_output=True)
                    exe = os.path.join(work, name)
                    t0 = time.perf_counter()
                    subprocess.run([args.strata, "compile", path, "-o", exe], check=True, capture_output=True)
                    compile_s = time.perf_counter() - t0
                    out = os.path.join(work, name + "_out")
                    subprocess.run([exe, os.path.join(work, f"{name}_input.npy"), "--output-dir", out],
                                   check=True, capture_output=True)
                    ref = np.load(os.path.join(work, f"{name}_ref.npy"))
                    got = np.load(os.path.join(out, "logits.npy"))
                    checked[name] = (float(np.abs(got - ref).max() / np.abs(ref).max()), compile_s)
                err, compile_s = checked[name]
                feeds = {"input": np.load(os.path.join(work, f"{name}_input.npy"))}
                r = peers.time_all(args.strata, path, feeds, threads, args.iters, env, work, notes)
                s, o, i, v = r["strata"], r["ort"], r["iree"], r["openvino"]
                pairs = [(s, o)]
                for _ in range(args.rounds - 1):
                    pairs.append((peers.strata(args.strata, path, threads, args.iters, env)[0],
                                  peers.onnxruntime(path, feeds, threads, args.iters)[0]))
                pairs = [(a, b) for a, b in pairs if a and b]
                if len(pairs) > 1:
                    s = float(np.median([a for a, _ in pairs]))
                    o = float(np.median([b for _, b in pairs]))
                t, e = torch_ms(name, threads, args.iters)
                if e:
                    notes.add(e)
                ratio = peers.ratio
                vs_ort = ratio(s, o)
                if len(pairs) > 1:  # paired: each round's strata time over its ORT time
                    vs_ort = f"{float(np.median([a / b for a, b in pairs])):.2f}"
                print(f"| {name} | {threads} | {peers.fmt(s)} | {peers.fmt(o)} | {peers.fmt(t)} | "
                      f"{peers.fmt(i)} | {peers.fmt(v)} | {vs_ort} | {ratio(s, t)} | {err:.1e} | "
                      f"{compile_s:.1f} |", flush=True)
    for n in sorted(notes):
        print(f"\nnote: {n}")


if __name__ == "__main__":
    sys.exit(main())
