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

GPU (--target cuda): only the cases the CPU passes (not in the expected
failures) are tried. Without a GPU (the default, --check ptx) each compiles
with --target=cuda --emit=ptx and its PTX must pass `ptxas -arch=sm_90`
(the CUDA Toolkit's; without it only the compile is checked, and the run
says so). --check run compiles executables and compares their outputs on
this machine's GPU. --pack DIR compiles the executables and copies the test
data into DIR instead, for --run-pack DIR on a GPU machine without strata
(test/gpu/run.sh).
"""
import argparse
import concurrent.futures
import os
import re
import shutil
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


def compile_case(strata, case_dir, exe, target_flags):
    """Compiles the case's model to `exe`; returns an error or None."""
    model_path = os.path.join(case_dir, "model.onnx")
    proc = subprocess.run([strata, "compile", model_path, "-o", exe, *target_flags],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return "compile: " + first_line(proc.stderr)
    return None


def check_ptx(strata, case_dir, work, target_flags, ptxas):
    """--target=cuda without a GPU: PTX compiles, and ptxas accepts it."""
    name = os.path.basename(case_dir)
    ptx = os.path.join(work, name + ".ptx")
    error = compile_case(strata, case_dir, ptx, [*target_flags, "--emit=ptx"])
    if error:
        return "fail", error
    if ptxas:
        proc = subprocess.run([ptxas, "-arch=sm_90", ptx, "-o", os.devnull],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return "fail", "ptxas: " + first_line(proc.stderr)
    return "pass", ""


def case_io(case_dir):
    """(number of runtime inputs, output names) of a case's model."""
    model = onnx.load(os.path.join(case_dir, "model.onnx"), load_external_data=False)
    init_names = {i.name for i in model.graph.initializer}
    outputs = [o.name for o in model.graph.output]
    n_inputs = len([i for i in model.graph.input if i.name not in init_names])
    return n_inputs, outputs


def pack_case(strata, case_dir, pack, target_flags):
    """Compiles the case into pack/<name>/ with its test data and I/O list."""
    name = os.path.basename(case_dir)
    dest = os.path.join(pack, name)
    os.makedirs(dest, exist_ok=True)
    error = compile_case(strata, case_dir, os.path.join(dest, "model"), target_flags)
    if error:
        return "fail", error
    n_inputs, outputs = case_io(case_dir)
    with open(os.path.join(dest, "io.txt"), "w") as f:
        f.write(f"{n_inputs}\n" + "".join(o + "\n" for o in outputs))
    for data_set in os.listdir(case_dir):
        if data_set.startswith("test_data_set"):
            shutil.copytree(os.path.join(case_dir, data_set), os.path.join(dest, data_set))
    return "pass", ""


def run_packed(case_dir, work):
    """Runs pack/<name>/model on its data sets (no strata needed)."""
    with open(os.path.join(case_dir, "io.txt")) as f:
        lines = f.read().splitlines()
    return compare_runs(os.path.join(case_dir, "model"), case_dir, work,
                        int(lines[0]), lines[1:])


def run_case(strata, case_dir, work, target_flags=()):
    """Returns (status, reason): status is 'pass' or 'fail'."""
    name = os.path.basename(case_dir)
    exe = os.path.join(work, name)
    error = compile_case(strata, case_dir, exe, list(target_flags))
    if error:
        return "fail", error
    n_inputs, outputs = case_io(case_dir)
    return compare_runs(exe, case_dir, work, n_inputs, outputs)


def compare_runs(exe, case_dir, work, n_inputs, outputs):
    """Runs `exe` on each test_data_set of `case_dir` against its outputs."""
    name = os.path.basename(case_dir)
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
    parser.add_argument("--strata", help="the strata binary (not needed with --run-pack)")
    parser.add_argument("--data", help="folder with node/<case>/ (generated if absent)")
    parser.add_argument("--expected-failures", default=os.path.join(HERE, "expected_failures.txt"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--filter", default="", help="only cases matching this regex")
    parser.add_argument("--list-failures", help="write failing cases with reasons here")
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--gpu-arch", default="sm_80")
    parser.add_argument("--check", choices=["ptx", "run"], default="ptx",
                        help="--target cuda: ptx (no GPU needed) or run on this GPU")
    parser.add_argument("--pack", help="compile executables + test data into this folder")
    parser.add_argument("--run-pack", help="run a --pack folder's executables and compare")
    args = parser.parse_args()
    if not args.run_pack and not args.strata:
        parser.error("--strata is required (except with --run-pack)")

    cuda = args.target == "cuda"
    target_flags = ["--target=cuda", f"--gpu-arch={args.gpu_arch}"] if cuda else []
    ptxas = shutil.which("ptxas") or ("/usr/local/cuda/bin/ptxas"
                                      if os.path.exists("/usr/local/cuda/bin/ptxas") else None)
    # Math functions in kernels need the CUDA Toolkit's libdevice at compile
    # time (looked up as strata does); without it those cases fail with a
    # message saying so and count as skipped.
    roots = [os.environ[v] for v in ("CUDA_ROOT", "CUDA_HOME", "CUDA_PATH") if os.environ.get(v)]
    have_libdevice = any(os.path.exists(os.path.join(r, "nvvm", "libdevice", "libdevice.10.bc"))
                         for r in roots or ["/usr/local/cuda"])
    expected = load_expected_failures(args.expected_failures)
    with tempfile.TemporaryDirectory(prefix="strata-onnx-") as tmp:
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        if args.run_pack:
            node = args.run_pack
            cases = sorted(c for c in os.listdir(node)
                           if os.path.isdir(os.path.join(node, c)) and re.search(args.filter, c))

            def job(c):
                return run_packed(os.path.join(node, c), work)
        else:
            data = args.data or os.path.join(tmp, "data")
            if not os.path.isdir(os.path.join(data, "node")):
                generate(data)
            node = os.path.join(data, "node")
            cases = sorted(c for c in os.listdir(node) if re.search(args.filter, c))
            if cuda:
                # The GPU must pass what the CPU passes.
                cases = [c for c in cases if c not in expected]
            if args.pack:
                os.makedirs(args.pack, exist_ok=True)

                def job(c):
                    return pack_case(args.strata, os.path.join(node, c), args.pack, target_flags)
            elif cuda and args.check == "ptx":
                if not ptxas:
                    print("note: ptxas (CUDA Toolkit) not found: checking that the PTX "
                          "compiles, not that ptxas accepts it")

                def job(c):
                    return check_ptx(args.strata, os.path.join(node, c), work, target_flags, ptxas)
            else:
                def job(c):
                    return run_case(args.strata, os.path.join(node, c), work, target_flags)

        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(job, c): c for c in cases}
            for fut in concurrent.futures.as_completed(futures):
                c = futures[fut]
                try:
                    results[c] = fut.result()
                except Exception as e:  # a hang or a crash of the runner itself
                    results[c] = ("fail", f"runner: {type(e).__name__}: {e}")

    # Expected failures count only where the CPU suite runs; the GPU runs
    # only cases the CPU passes, so every failure there is one.
    honour_expected = not cuda and not args.run_pack
    all_failing = sorted(c for c, (s, _) in results.items() if s == "fail")
    skipped = [c for c in all_failing if honour_expected and c in expected]
    if cuda and not have_libdevice:
        needs = [c for c in all_failing if "libdevice" in results[c][1]]
        if needs:
            print(f"note: no CUDA Toolkit libdevice: {len(needs)} cases whose kernels call "
                  "math functions were refused with the libdevice message (skipped)")
        skipped += needs
    failed = [c for c in all_failing if c not in skipped]
    unexpected = sorted(c for c, (s, _) in results.items()
                        if honour_expected and s == "pass" and c in expected)
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
    what = ""
    if cuda and not args.pack and args.check == "ptx":
        what = " (--target=cuda: PTX" + (" accepted by ptxas -arch=sm_90)" if ptxas else " compiled; no ptxas)")
    elif args.pack:
        what = f" (packed into {args.pack})"
    print(f"{passed} passed, {failures} failed, {len(skipped)} skipped{what}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
