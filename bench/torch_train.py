#!/usr/bin/env python3
"""PyTorch's side of bench/train_bench.py (run with Debian's /usr/bin/python3).

  torch_train.py MODEL.onnx mlp|lenet DATA_DIR EPOCHS BATCH LR MOMENTUM THREADS SEED

Trains the same network as the ONNX file, from its initial weights, on
Fashion-MNIST (idx.gz) with SGD + momentum and softmax cross-entropy, the
last partial batch included, in exactly strata train's sample order (its
shuffle is reproduced here), so the two runs differ only in arithmetic; prints one JSON line per epoch with the
training time (evaluation excluded) and the test accuracy.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


MASK = (1 << 64) - 1


class MT19937_64:
    """std::mt19937_64, so that PyTorch sees strata's sample order exactly."""

    def __init__(self, seed):
        self.mt = [seed & MASK] + [0] * 311
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK
        self.index = 312

    def __call__(self):
        if self.index >= 312:
            mt = self.mt
            for i in range(312):
                x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % 312] & 0x7FFFFFFF)
                xa = (x >> 1) ^ (0xB5026F5AA96619E9 if x & 1 else 0)
                mt[i] = mt[(i + 156) % 312] ^ xa
            self.index = 0
        x = self.mt[self.index]
        self.index += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        x ^= x >> 43
        return x & MASK


def epoch_order(count, seed, epoch):
    """strata train's shuffle (tools/strata/train/Dataset.cpp: epochOrder)."""
    rng = MT19937_64((seed * 1000003 + epoch) & MASK)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = rng() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return torch.tensor(order)


def forward(kind, w, x):
    if kind == "mlp":
        h = F.relu(F.linear(x.reshape(x.shape[0], -1), w["fc1.weight"], w["fc1.bias"]))
        h = F.relu(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
        return F.linear(h, w["fc3.weight"], w["fc3.bias"])
    h = F.max_pool2d(F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), 2, 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"])), 2, 2)
    h = F.relu(F.linear(torch.flatten(h, 1), w["fc1.weight"], w["fc1.bias"]))
    h = F.relu(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    return F.linear(h, w["fc3.weight"], w["fc3.bias"])


def main():
    model, kind, data, epochs, batch, lr, momentum, threads, seed = sys.argv[1:10]
    epochs, batch, threads = int(epochs), int(batch), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(int(seed))
    w = {i.name: torch.tensor(numpy_helper.to_array(i).copy(), requires_grad=True)
         for i in onnx.load(model).graph.initializer}
    shape = (-1, 784) if kind == "mlp" else (-1, 1, 28, 28)
    xtr = torch.tensor(idx(os.path.join(data, "train-images-idx3-ubyte.gz")) / 255.0,
                       dtype=torch.float32).reshape(shape)
    ytr = torch.tensor(idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = torch.tensor(idx(os.path.join(data, "t10k-images-idx3-ubyte.gz")) / 255.0,
                       dtype=torch.float32).reshape(shape)
    yte = torch.tensor(idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    opt = torch.optim.SGD(list(w.values()), lr=float(lr), momentum=float(momentum))
    for epoch in range(epochs):
        order = epoch_order(len(xtr), int(seed), epoch)
        start = time.perf_counter()
        total = 0.0
        for i in range(0, len(xtr), batch):
            idxs = order[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(forward(kind, w, xtr[idxs]), ytr[idxs])
            loss.backward()
            opt.step()
            total += loss.item() * len(idxs)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            correct = sum(int((forward(kind, w, xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum())
                          for i in range(0, len(xte), 1000))
        print(json.dumps({"epoch": epoch + 1, "loss": total / len(xtr), "epoch_s": seconds,
                          "test_accuracy": correct / len(xte)}), flush=True)


if __name__ == "__main__":
    main()
