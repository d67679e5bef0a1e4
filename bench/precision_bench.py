#!/usr/bin/env python3
"""Mixed precision on the CPU: torchvision networks compiled by strata with
--precision=bf16 against its fp32 program, OpenVINO's default precision
(bf16 on CPUs with AVX512_BF16 or AMX) and OpenVINO with f32 forced, batch
1, medians in one run; and how far the bf16 output is from the fp32 one
(largest difference relative to the largest logit, and whether the top-1
class is the same).

Usage (with the pip Python that has openvino; the networks are exported by
Debian's /usr/bin/python3 with python3-torch/torchvision):
  python3 bench/precision_bench.py --strata build/bin/strata [--nets resnet18,mobilenet_v2]
      [--threads 1] [--iters 30] [--rounds 3]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402

TORCH_PYTHON = "/usr/bin/python3"


def logits(strata, model, x_path, work, flags):
    exe = os.path.join(work, os.path.basename(model) + "".join(flags).replace("=", "_") + ".exe")
    out = exe + ".out"
    subprocess.run([strata, "compile", model, "-o", exe, *flags], check=True, capture_output=True)
    subprocess.run([exe, x_path, "--output-dir", out], check=True, capture_output=True)
    return np.load(os.path.join(out, os.listdir(out)[0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--nets", default="resnet18,mobilenet_v2")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="strata-bf16-") as work:
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
        print("| network | threads | strata fp32 ms | strata bf16 ms | OpenVINO default ms | "
              "OpenVINO f32 ms | bf16 / fp32 (strata) | strata bf16 / OpenVINO default | "
              "bf16 vs fp32 (max rel.) | top-1 = fp32 |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in args.nets.split(","):
            subprocess.run([TORCH_PYTHON, os.path.join(HERE, "torch_nets.py"), "export", name, work],
                           check=True, capture_output=True)
            model = os.path.join(work, f"{name}.onnx")
            x_path = os.path.join(work, f"{name}_input.npy")
            x = np.load(x_path)
            f = logits(args.strata, model, x_path, work, [])
            b = logits(args.strata, model, x_path, work, ["--precision=bf16"])
            rel = float(np.abs(b - f).max() / np.abs(f).max())
            same = "yes" if b.argmax() == f.argmax() else "no"
            for threads in [int(t) for t in args.threads.split(",")]:
                t = {"sf": [], "sb": [], "od": [], "of": []}
                for _ in range(args.rounds):
                    t["sf"].append(peers.strata(args.strata, model, threads, args.iters, env)[0])
                    t["sb"].append(peers.strata(args.strata, model, threads, args.iters, env,
                                                ["--precision=bf16"])[0])
                    t["od"].append(peers.openvino(model, {"input": x}, threads, args.iters)[0])
                    t["of"].append(peers.openvino(model, {"input": x}, threads, args.iters, "f32")[0])
                m = {k: float(np.median([v for v in vs if v])) if any(vs) else float("nan")
                     for k, vs in t.items()}
                print(f"| {name} | {threads} | {m['sf']:.2f} | {m['sb']:.2f} | {m['od']:.2f} | "
                      f"{m['of']:.2f} | {m['sf'] / m['sb']:.2f}x | {m['sb'] / m['od']:.2f} | "
                      f"{rel:.1e} | {same} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
