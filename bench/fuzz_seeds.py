#!/usr/bin/env python3
"""Seed corpora for strata's libFuzzer targets (test/fuzz), from the test models.

Usage: fuzz_seeds.py OUT_DIR STRATA_SOURCE_DIR EXAMPLES_DIR
Writes OUT_DIR/<target>/ for fuzz-onnx-import (every model of the importer's
lit tests, the hostile catalogue and the bundled examples), fuzz-tensor-files
(.npy and .pb tensors of each dtype, behind the target's format byte) and
fuzz-training-data (idx files plain and gzipped, .npy pairs and a checkpoint,
behind the target's reader byte and split position).
"""
import glob
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
from onnx import numpy_helper


def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def idx_bytes(a):
    a = np.asarray(a, np.uint8)
    header = bytes([0, 0, 8, a.ndim]) + b"".join(struct.pack(">I", d) for d in a.shape)
    return header + a.tobytes()


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def checkpoint_bytes():
    """A small valid strata checkpoint (format of tools/strata/train/Checkpoint.cpp)."""
    tensors = [("fc.weight", np.arange(6, dtype=np.float32)), ("fc.bias", np.ones(2, np.float32))]
    payload = b"".join(t.tobytes() for _, t in tensors)
    head = (f"strata-checkpoint 2\nmodel m.onnx\nepoch 1\nstep 3\nbatch_size 32\nsamples 640\n"
            f"seed 0\nloss cross-entropy\noptimizer sgd(lr=0.05)\ntensors {len(tensors)}\n"
            f"payload_bytes {len(payload)}\nchecksum {fnv1a(payload):016x}\n")
    head += "".join(f"{n}\t{t.size}\n" for n, t in tensors)
    return head.encode() + payload


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def pair(reader, a, b):
    """The training-data target's framing: reader byte, 16-bit split, a, b."""
    return bytes([reader, len(a) >> 8 & 0xFF, len(a) & 0xFF]) + a + b


def main():
    out, src, examples = sys.argv[1:4]
    py = sys.executable
    # The importer: lit-test models, the hostile catalogue, the examples.
    onnx_dir = os.path.join(out, "fuzz-onnx-import")
    os.makedirs(onnx_dir, exist_ok=True)
    models = os.path.join(src, "test", "lit", "Inputs", "onnx_models.py")
    names = subprocess.run([py, models, "--list"], capture_output=True, text=True,
                           check=True).stdout.split()
    for name in names:
        subprocess.run([py, models, name, os.path.join(onnx_dir, name + ".onnx")],
                       capture_output=True)
    hostile = os.path.join(out, "hostile")
    subprocess.run([py, os.path.join(src, "test", "hostile", "hostile_models.py"), hostile],
                   capture_output=True, check=True)
    for path in glob.glob(os.path.join(hostile, "*", "model.onnx")):
        if os.path.isfile(path) and os.path.getsize(path) < 1 << 20:
            shutil.copy(path, os.path.join(onnx_dir, os.path.basename(os.path.dirname(path)) + ".onnx"))
    shutil.rmtree(hostile)
    for path in glob.glob(os.path.join(examples, "*.onnx")):
        shutil.copy(path, onnx_dir)

    # Tensor files: each dtype, a few shapes, both formats.
    tensors = os.path.join(out, "fuzz-tensor-files")
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros((), np.float64),
              np.array([1, -2, 3], np.int64), np.array([[1, 2]], np.int32),
              np.array([1, 0, 1], np.bool_), np.arange(8, dtype=np.uint8),
              np.arange(4, dtype=np.int8), np.zeros((1, 1, 2, 2), np.float16)]
    for i, a in enumerate(arrays):
        write(tensors, f"t{i}.npy", b"\0" + npy_bytes(a))
        write(tensors, f"t{i}.pb", b"\1" + numpy_helper.from_array(a, f"t{i}").SerializeToString())

    # Training data: idx (plain and gzip), .npy pairs, a checkpoint.
    data = os.path.join(out, "fuzz-training-data")
    images = idx_bytes(np.arange(2 * 4 * 4).reshape(2, 4, 4) % 256)
    labels = idx_bytes([3, 7])
    write(data, "idx", pair(0, images, labels))
    write(data, "idx.gz", pair(0, gzip.compress(images), gzip.compress(labels)))
    x = npy_bytes(np.arange(6, dtype=np.float32).reshape(2, 3))
    write(data, "npy", pair(1, x, npy_bytes(np.array([0, 1], np.int64))))
    write(data, "npy-u8", pair(1, npy_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3)),
                               npy_bytes(np.array([[0.5], [1.5]], np.float32))))
    write(data, "ckpt", b"\2" + checkpoint_bytes())

    # Packages: the regression seeds (written by strata pack).
    packages = os.path.join(out, "fuzz-package")
    os.makedirs(packages, exist_ok=True)
    for path in glob.glob(os.path.join(src, "test", "fuzz", "regressions", "fuzz-package", "*")):
        shutil.copy(path, packages)
    for target in sorted(os.listdir(out)):
        print(f"{target}: {len(os.listdir(os.path.join(out, target)))} seeds")


if __name__ == "__main__":
    main()
