#!/usr/bin/env python3
"""ONNX node tests rerun with some graph inputs made constants.

Usage: constant_inputs.py --strata build/bin/strata --freeze roi,scales --filter REGEX
       [--data DIR]

Some ONNX node tests feed operands that real models hold as constants
(Resize's scales and roi: PyTorch writes them as initializers) as graph
inputs, so an ahead-of-time compiler cannot see their values and the cases
stay in expected_failures.txt. This script copies each matching case, turns
the graph inputs named by --freeze into initializers holding the values of
the case's test data, and checks strata's output against ONNX's expected
output exactly as run_conformance.py does. Prints one line per case and a
summary; exits 1 if any case fails or none matched.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_conformance as rc  # noqa: E402  (also sets NumPy aliases onnx 1.12 needs)
import onnx  # noqa: E402


def freeze(case_dir, dest, names):
    """Writes the case into `dest` with the graph inputs in `names` as initializers."""
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    inits = {i.name for i in model.graph.initializer}
    runtime = [i for i in model.graph.input if i.name not in inits]
    frozen = [k for k, i in enumerate(runtime) if i.name in names]
    if not frozen:
        return False
    data_sets = sorted(d for d in os.listdir(case_dir) if d.startswith("test_data_set"))
    first = os.path.join(case_dir, data_sets[0])
    for k in frozen:
        tensor = onnx.TensorProto()
        with open(os.path.join(first, f"input_{k}.pb"), "rb") as f:
            tensor.ParseFromString(f.read())
        tensor.name = runtime[k].name
        model.graph.initializer.append(tensor)
    kept = [i for k, i in enumerate(runtime) if k not in frozen]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    os.makedirs(dest)
    onnx.save(model, os.path.join(dest, "model.onnx"))
    for d in data_sets:
        os.makedirs(os.path.join(dest, d))
        new = 0
        for k in range(len(runtime)):
            if k not in frozen:
                shutil.copy(os.path.join(case_dir, d, f"input_{k}.pb"),
                            os.path.join(dest, d, f"input_{new}.pb"))
                new += 1
        for f in os.listdir(os.path.join(case_dir, d)):
            if f.startswith("output_"):
                shutil.copy(os.path.join(case_dir, d, f), os.path.join(dest, d, f))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--freeze", required=True, help="comma-separated graph input names")
    ap.add_argument("--filter", required=True, help="regex of case names")
    ap.add_argument("--data", help="folder with node/<case>/ (generated if absent)")
    args = ap.parse_args()
    names = set(args.freeze.split(","))
    with tempfile.TemporaryDirectory(prefix="strata-frozen-") as work:
        data = args.data
        if not data:
            data = os.path.join(work, "data")
            rc.generate(data)
        node = os.path.join(data, "node")
        passed = failed = 0
        for case in sorted(os.listdir(node)):
            if not re.search(args.filter, case):
                continue
            dest = os.path.join(work, "cases", case)
            if not freeze(os.path.join(node, case), dest, names):
                continue
            status, reason = rc.run_case(args.strata, dest, work)
            print(f"{'ok' if status == 'pass' else 'FAIL'} {case} ({', '.join(sorted(names))} constant)"
                  + (f": {reason}" if reason else ""))
            passed += status == "pass"
            failed += status != "pass"
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
