#!/usr/bin/env python3
"""Latency of two strata builds on the same networks, in one run: the table a
restructuring's "behaviour unchanged" claim needs (issue 18).

Each network is compiled by both builds, then the two programs run in
alternating rounds (--rounds R of --repeat N runs each, at each thread count),
so drift of a shared machine hits both alike. Prints a Markdown table of the
median over rounds of each round's minimum latency, and after/before.

Usage:
  python3 bench/compare_builds.py --before OLD/bin/strata --after build/bin/strata \
      --nets DIR/resnet18.onnx,DIR/mobilenet_v2.onnx,... [--threads 1,2] [--rounds 5] [--repeat 20]
Networks: export torchvision ones with `bench/torch_nets.py export NAME DIR`; each
NAME.onnx needs NAME_input.npy beside it (the examples' lenet.onnx has lenet_input.npy).
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile


def run_min_ms(exe, inp, threads, repeat):
    out = subprocess.run([exe, inp, "--threads", str(threads), "--repeat", str(repeat)],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"min ([0-9.]+) ms", out).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--nets", required=True)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    print("| network | threads | before (ms) | after (ms) | after / before |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.nets.split(","):
            name = os.path.splitext(os.path.basename(path))[0]
            inp = os.path.join(os.path.dirname(path), name + "_input.npy")
            exes = {}
            for which in ("before", "after"):
                exes[which] = os.path.join(tmp, f"{name}.{which}")
                subprocess.run([getattr(args, which), "compile", path, "-o", exes[which]],
                               check=True, capture_output=True)
            for t in threads:
                times = {"before": [], "after": []}
                for _ in range(args.rounds):
                    for which in ("before", "after"):
                        times[which].append(run_min_ms(exes[which], inp, t, args.repeat))
                b, a = statistics.median(times["before"]), statistics.median(times["after"])
                print(f"| {name} | {t} | {b:.3f} | {a:.3f} | {a / b:.2f} |", flush=True)


if __name__ == "__main__":
    main()
