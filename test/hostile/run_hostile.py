#!/usr/bin/env python3
"""Compiles every model of hostile_models.py's catalogue and checks the answer.

A case passes when strata
  - exits with status 1 (a signal, a sanitizer report or a hang fails it),
  - prints one "strata: error: ..." naming the model file and matching the
    case's expected message,
  - writes no output file and changes nothing in the model's folder.
Cases marked ok (valid but extreme models) may also compile, exit 0 and
write the output; they must still finish within the time limit.

Usage: run_hostile.py --strata PATH [--only NAME...] [--timeout S] [--keep DIR]
Prints one line per failure and "N passed, N failed".
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def snapshot(folder):
    """Names and content hashes of everything in `folder` (links not followed)."""
    state = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, folder)
            if os.path.islink(p):
                state[rel] = "link:" + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    state[rel] = hashlib.sha256(f.read()).hexdigest()
            else:
                state[rel] = "dir" if os.path.isdir(p) else "other"
    return state


def command_line(strata, case, out):
    model = case["model"]
    if case["command"] == "inspect":
        return [strata, "inspect", model]
    if case["command"] == "compile-nn":
        return [strata, "compile", model, "--emit=nn", "-o", out]
    return [strata, "compile", model, "-o", out]


def check(strata, case, outdir, timeout):
    """Returns None if the case passes, else why not."""
    model_dir = os.path.dirname(case["model"])
    before = snapshot(model_dir)
    out = os.path.join(outdir, case["name"] + ".out")
    cmd = command_line(strata, case, out)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return f"no answer within {timeout} s (hang?)"
    err = p.stderr
    if before != snapshot(model_dir):
        return "the model's folder changed"
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}; stderr: {err[-600:]}"
    if "Sanitizer" in err or "runtime error:" in err:
        return f"sanitizer report: {err[-1200:]}"
    if case["ok"] and p.returncode == 0:
        return None
    if p.returncode != 1:
        return f"exit status {p.returncode} (expected 1); stderr: {err[-600:]}"
    if os.path.exists(out):
        return "an output file was written although the compile failed"
    errors = [l for l in err.splitlines() if l.startswith("strata: error: ")]
    if len(errors) != 1:
        return f"expected one 'strata: error:' line, got {len(errors)}: {err[-600:]}"
    message = errors[0]
    if os.path.basename(case["model"]) not in message:
        return f"the message does not name the model file: {message}"
    if not case["ok"] and not re.search(case["expect"], message):
        return f"message does not match /{case['expect']}/: {message}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--keep", help="write the catalogue here and keep it")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    work = args.keep or tempfile.mkdtemp(prefix="strata-hostile-")
    try:
        os.makedirs(work, exist_ok=True)
        models = os.path.join(work, "models")
        outs = os.path.join(work, "out")
        os.makedirs(outs, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "hostile_models.py"), models]
                       + args.only, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(models, "manifest.json")) as f:
            cases = json.load(f)
        passed = failed = 0
        for case in cases:
            why = check(args.strata, case, outs, args.timeout)
            if why is None:
                passed += 1
                if args.verbose:
                    print(f"ok    {case['name']}")
            else:
                failed += 1
                print(f"FAIL  {case['name']}: {why}")
        print(f"{len(cases)} hostile models")
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 and passed >= 1 else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
