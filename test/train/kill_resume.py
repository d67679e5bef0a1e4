#!/usr/bin/env python3
"""Crash safety of strata train: SIGKILL at random moments, then resume.

A reference run trains the bundled MLP uninterrupted. Then the same run is
started with --checkpoint (saved every few steps and at every epoch end) and
killed with SIGKILL after a random delay, again and again, each time resuming
from whatever checkpoint the last one left. After every kill:
  - the checkpoint, if there is one, must load and resume (the next start
    checks it: a corrupt or partial one fails the test);
  - the output model must not exist unless complete (it is written only at
    the end, and whole or not at all).
Finally the run is resumed to its end, and its trained weights must be bit
for bit those of the uninterrupted run: resuming repeats lost steps exactly.

Usage: kill_resume.py --strata PATH --examples DIR [--kills N] [--seed S]
                      [--epochs E] [--delay LO,HI]
Prints one line per kill and "N passed, N failed".
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_DATA = os.path.join(HERE, "..", "lit", "Inputs", "train_data.py")


def weights(path):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}


def complete_model(path, reference):
    """True if `path` is a whole model with every initializer of the reference's shape."""
    try:
        w = weights(path)
    except Exception:  # noqa: BLE001 - any parse failure means a partial file
        return False
    return set(w) == set(reference) and all(w[k].shape == reference[k].shape for k in w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--kills", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--delay", default="0.3,2.4",
                    help="kill after a uniform random delay in this range (seconds)")
    ap.add_argument("--keep", help="work here and keep the files")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    scratch = None if args.keep else tempfile.TemporaryDirectory(prefix="strata-kill-")
    work = args.keep or scratch.name
    os.makedirs(work, exist_ok=True)
    # A run killed with SIGKILL cannot remove its compile folder: keep those
    # inside the work folder, which goes away with the test.
    env = dict(os.environ, TMPDIR=os.path.join(work, "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    data = os.path.join(work, "data")
    subprocess.run([sys.executable, TRAIN_DATA, data, "3000", "200"], check=True)
    model = os.path.join(args.examples, "mlp.onnx")
    base = [args.strata, "train", model, "--data", data, "--epochs", str(args.epochs), "--batch", "32",
            "--threads", "1", "--seed", "3"]

    ref_path = os.path.join(work, "reference.onnx")
    subprocess.run(base + ["-o", ref_path], check=True, capture_output=True, env=env)
    reference = weights(ref_path)

    out = os.path.join(work, "out.onnx")
    ckpt = os.path.join(work, "run.ckpt")
    resumable = base + ["-o", out, "--checkpoint", ckpt, "--checkpoint-every", "7"]
    failures, killed_with_checkpoint, killed_training, finished_early = [], 0, 0, False
    for k in range(args.kills):
        cmd = resumable + (["--resume", ckpt] if os.path.exists(ckpt) else [])
        had_checkpoint = os.path.exists(ckpt)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        delay = rng.uniform(*map(float, args.delay.split(",")))
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        status = proc.returncode
        if status not in (0, -signal.SIGKILL):
            failures.append(f"kill {k}: the run failed (exit {status}): {err[-400:]}")
            break
        if os.path.exists(out) and not complete_model(out, reference):
            failures.append(f"kill {k}: {out} is partial")
            break
        training = "compiled in" in err  # killed while training, not compiling
        killed_training += status == -signal.SIGKILL and training
        killed_with_checkpoint += status == -signal.SIGKILL and had_checkpoint
        print(f"kill {k}: after {delay:.2f} s, "
              f"{'finished' if status == 0 else 'killed'} while "
              f"{'training' if training else 'compiling'}, checkpoint "
              f"{'present' if os.path.exists(ckpt) else 'absent'}")
        if status == 0:
            finished_early = True
            break
    if not failures and not finished_early:
        p = subprocess.run(resumable + (["--resume", ckpt] if os.path.exists(ckpt) else []),
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            failures.append(f"the final resume failed: {p.stderr[-400:]}")
    if not failures:
        trained = weights(out)
        differ = [n for n in reference if not np.array_equal(reference[n], trained[n])]
        if differ:
            failures.append(f"resumed weights differ from the uninterrupted run's: {differ}")
    for f in failures:
        print("FAIL", f)
    print(f"{killed_training} kills landed while training, {killed_with_checkpoint} with a "
          f"checkpoint to resume from; every resume succeeded")
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
