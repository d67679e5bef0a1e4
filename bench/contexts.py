#!/usr/bin/env python3
"""Throughput of one loaded model run from several threads, a context each.

For each network: compile to a shared library, then run
test/lit/Inputs/concurrent_runs.c with T threads x R runs (outputs checked
against single runs) and print runs/s for one thread (one operator thread)
and for T contexts, beside one context whose runs split each operator over
all cores (the way to use the cores before contexts existed).

Usage: /usr/bin/python3 bench/contexts.py --strata build/bin/strata
           [--nets lenet,resnet18,mobilenet_v2] [--contexts 2,8] [--seconds S]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def build_driver(work, strata):
    lib = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(strata))), "lib")
    exe = os.path.join(work, "concurrent_runs")
    subprocess.run(["cc", "-O2", "-pthread", "-I", os.path.join(ROOT, "runtime", "include"),
                    os.path.join(ROOT, "test", "lit", "Inputs", "concurrent_runs.c"),
                    os.path.join(lib, "libstrata_runtime.a"), "-ldl", "-o", exe], check=True)
    return exe


def model_path(name, work):
    if name in ("lenet", "mlp"):
        return os.path.join(ROOT, "build", "examples", f"{name}.onnx")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "torch_nets.py"), "export", name, work],
                   check=True, capture_output=True)
    return os.path.join(work, f"{name}.onnx")


def rates(driver, so, threads, runs, module_threads):
    out = subprocess.run([driver, so, str(threads), str(runs), str(module_threads)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{so}: {out.stdout}{out.stderr}")
    m = re.search(r"one thread (\d+), \d+ contexts (\d+)", out.stdout)
    return int(m.group(1)), int(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--nets", default="lenet,mobilenet_v2,resnet18")
    ap.add_argument("--contexts", default="2,8")
    ap.add_argument("--seconds", type=float, default=3.0, help="about this long per measurement")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="strata-contexts-") as work:
        driver = build_driver(work, args.strata)
        counts = [int(c) for c in args.contexts.split(",")]
        print(f"| network | 1 context, 1 thread | 1 context, {cores} threads | " +
              " | ".join(f"{c} contexts x 1 thread" for c in counts) + " |")
        print("|---|---|---|" + "---|" * len(counts))
        for name in args.nets.split(","):
            so = os.path.join(work, f"{name}.so")
            subprocess.run([args.strata, "compile", model_path(name, work), "--batch", "1",
                            "-o", so], check=True, capture_output=True)
            single, _ = rates(driver, so, 1, 20, 1)
            runs = max(4, int(single * args.seconds))
            single, _ = rates(driver, so, 1, runs, 1)
            _, wide = rates(driver, so, 1, runs, cores)
            cells = [f"{single} /s", f"{wide} /s"]
            for c in counts:
                _, many = rates(driver, so, c, max(2, runs // c), 1)
                cells.append(f"{many} /s ({many / single:.2f}x)")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
