#!/usr/bin/env python3
"""Demo helpers around Fashion-MNIST for ./dev.sh demo (Debian's python3-numpy).

  fashion_mnist.py to-npy DATA_DIR OUT_DIR COUNT
      writes OUT_DIR/x.npy (COUNT x 1 x 28 x 28 float32 in [0, 1]) and
      OUT_DIR/y.npy (int64 labels) from the test split (t10k-*.gz)
  fashion_mnist.py accuracy LOGITS.npy LABELS.npy
      prints the share of rows whose largest logit is the label

strata itself never needs Python: `strata train` reads the idx files
directly, and compiled programs read .npy. This only prepares the demo's
input file and scores the program's output.
"""
import gzip
import os
import sys

import numpy as np


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def main():
    if sys.argv[1] == "to-npy":
        data, out, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
        os.makedirs(out, exist_ok=True)
        x = idx(os.path.join(data, "t10k-images-idx3-ubyte.gz"))[:count]
        y = idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz"))[:count]
        np.save(os.path.join(out, "x.npy"), (x / 255.0).astype(np.float32).reshape(-1, 1, 28, 28))
        np.save(os.path.join(out, "y.npy"), y.astype(np.int64))
    elif sys.argv[1] == "accuracy":
        logits, labels = np.load(sys.argv[2]), np.load(sys.argv[3])
        acc = float((logits.argmax(1) == labels).mean())
        print(f"accuracy of the compiled program on {len(labels)} test images: {acc:.4f}")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
