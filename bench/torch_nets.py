#!/usr/bin/python3
"""PyTorch side of run_nets.py; run with Debian's /usr/bin/python3.

  torch_nets.py export NAME DIR      NAME.onnx (opset 13), NAME_input.npy,
                                     NAME_ref.npy (PyTorch's output)
  torch_nets.py time NAME THREADS N  median ms of N eager forward passes
Weights are random with torch.manual_seed(0), as in test/e2e. NAME is a
torchvision classifier (input 1x3x224x224) or `bert_encoder`: two
nn.TransformerEncoder layers of BERT-base's shape (hidden 768, 12 heads,
FFN 3072; input 1x128x768), or lstm_lm / gru_lm: the two-layer LSTM / GRU
language models of test/e2e/sequence_models.py (32 tokens).
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision


def model(name):
    """The network and an input for it."""
    torch.manual_seed(0)
    if name in ("lstm_lm", "gru_lm"):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "e2e"))
        import sequence_models
        return sequence_models.LanguageModel(name[:-3])
    if name == "bert_encoder":
        layer = torch.nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072,
                                                 batch_first=True)
        return torch.nn.TransformerEncoder(layer, num_layers=2).eval(), torch.randn(1, 128, 768)
    return getattr(torchvision.models, name)(weights=None).eval(), torch.randn(1, 3, 224, 224)


def main():
    cmd, name = sys.argv[1], sys.argv[2]
    m, x = model(name)
    if cmd == "export":
        out = sys.argv[3]
        torch.onnx.export(m, x, os.path.join(out, f"{name}.onnx"), opset_version=13,
                          input_names=["input"], output_names=["logits"])
        np.save(os.path.join(out, f"{name}_input.npy"), x.numpy())
        with torch.no_grad():
            np.save(os.path.join(out, f"{name}_ref.npy"), m(x).numpy())
        return
    torch.set_num_threads(int(sys.argv[3]))
    with torch.no_grad():
        m(x)
        ms = []
        for _ in range(int(sys.argv[4])):
            t0 = time.perf_counter()
            m(x)
            ms.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"median_ms": float(np.median(ms)), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
