#!/usr/bin/env python3
"""ONNX backend node tests against strata.

Generates ONNX's node tests from the installed python3-onnx (922 cases with
onnx 1.12) unless --data points at existing ones, compiles each model with
`strata compile` into an executable, runs it on the test inputs, and compares
with ONNX's expected outputs (rtol 1e-3, atol 1e-7, as ONNX's backend tests).

Cases listed in the expected-failures file still run: one that fails as
expected counts as skipped, one that passes is reported as a failure (remove
it from the list) so the list stays honest. Prints
'N passed, N failed, N skipped' and exits 1 if any case failed.

Usage: run_conformance.py --strata build/bin/strata [--jobs N] [--filter REGEX]
       [--list-failures FILE]   (write the failing cases with reasons)
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

import warnings

import numpy as np

# onnx 1.12's test generators use aliases that numpy >= 1.24 removed.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _alias, _type in [("float", float), ("int", int), ("bool", bool), ("object", object)]:
        if not hasattr(np, _alias):
            setattr(np, _alias, _type)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(dest):
    from onnx.backend.test.cmd_tools import main as cmd_main
    argv = sys.argv
    sys.argv = ["generate-data", "generate-data", "-o", dest]
    try:
        cmd_main()
    finally:
        sys.argv = argv


def load_expected_failures(path):
    failures = {}
    if not os.path.exists(path):
        return failures
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            failures[name] = reason.strip()
    return failures


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def first_line(text):
    for line in text.splitlines():
        line = line.strip()
        if line:
            line = re.sub(r"^strata: error: \S+: ", "", line)
            return line[:200]
    return "no message"


def read_pb(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def run_case(strata, case_dir, work):
    """Returns (status, reason): status is 'pass' or 'fail'."""
    name = os.path.basename(case_dir)
    model_path = os.path.join(case_dir, "model.onnx")
    exe = os.path.join(work, name)
    proc = subprocess.run([strata, "compile", model_path, "-o", exe],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return "fail", "compile: " + first_line(proc.stderr)
    model = onnx.load(model_path, load_external_data=False)
    init_names = {i.name for i in model.graph.initializer}
    outputs = [o.name for o in model.graph.output]
    n_inputs = len([i for i in model.graph.input if i.name not in init_names])
    for data_set in sorted(d for d in os.listdir(case_dir) if d.startswith("test_data_set")):
        ds = os.path.join(case_dir, data_set)
        inputs = [os.path.join(ds, f"input_{i}.pb") for i in range(n_inputs)]
        out_dir = os.path.join(work, name + "-" + data_set)
        proc = subprocess.run([exe, *inputs, "--output-dir", out_dir, "--output-format", "pb"],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return "fail", "run: " + first_line(proc.stderr)
        for i, out_name in enumerate(outputs):
            expected = read_pb(os.path.join(ds, f"output_{i}.pb"))
            actual = read_pb(os.path.join(out_dir, safe_name(out_name) + ".pb"))
            if actual.shape != expected.shape:
                return "fail", f"output '{out_name}' has shape {actual.shape}, expected {expected.shape}"
            if expected.dtype.kind in "fc":
                ok = np.allclose(actual, expected, rtol=1e-3, atol=1e-7, equal_nan=True)
            else:
                ok = np.array_equal(actual, expected)
            if not ok:
                diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max()
                return "fail", f"output '{out_name}' differs (max |diff| {diff:.3g})"
    return "pass", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strata", required=True)
    parser.add_argument("--data", help="folder with node/<case>/ (generated if absent)")
    parser.add_argument("--expected-failures", default=os.path.join(HERE, "expected_failures.txt"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--filter", default="", help="only cases matching this regex")
    parser.add_argument("--list-failures", help="write failing cases with reasons here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="strata-onnx-") as tmp:
        data = args.data or os.path.join(tmp, "data")
        if not os.path.isdir(os.path.join(data, "node")):
            generate(data)
        node = os.path.join(data, "node")
        cases = sorted(c for c in os.listdir(node) if re.search(args.filter, c))
        expected = load_expected_failures(args.expected_failures)
        work = os.path.join(tmp, "work")
        os.makedirs(work)

        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(run_case, args.strata, os.path.join(node, c), work): c
                       for c in cases}
            for fut in concurrent.futures.as_completed(futures):
                c = futures[fut]
                try:
                    results[c] = fut.result()
                except Exception as e:  # a hang or a crash of the runner itself
                    results[c] = ("fail", f"runner: {type(e).__name__}: {e}")

    all_failing = sorted(c for c, (s, _) in results.items() if s == "fail")
    skipped = [c for c in all_failing if c in expected]
    failed = [c for c in all_failing if c not in expected]
    unexpected = sorted(c for c, (s, _) in results.items() if s == "pass" and c in expected)
    passed = len(results) - len(all_failing) - len(unexpected)
    for c in failed:
        print(f"FAIL {c}: {results[c][1]}")
    for c in unexpected:
        print(f"FAIL {c}: passes now; remove it from {os.path.basename(args.expected_failures)}")
    if args.list_failures:
        with open(args.list_failures, "w") as f:
            for c in all_failing:
                f.write(f"{c} {results[c][1]}\n")
    failures = len(failed) + len(unexpected)
    print(f"{passed} passed, {failures} failed, {len(skipped)} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
