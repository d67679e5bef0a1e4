#!/usr/bin/env python3
"""End-to-end check of strata on sequence models exported by PyTorch.

Usage: sequence_models.py --strata build/bin/strata [--threads N] [--repeat N] NAME...
       (NAME: transformer, lstm, gru; run with /usr/bin/python3)

transformer: two nn.TransformerEncoder layers of BERT-base's shape (hidden
768, 12 heads, FFN 3072) on a sequence of 128, exported at opset 13 with a
symbolic batch. PyTorch computes the attention's reshapes from Shape ->
Gather -> Mul/Div -> Concat at run time; strata folds them at import
(--batch 1).
lstm, gru: language models: an embedding of 1000 tokens into 128, a
two-layer nn.LSTM / nn.GRU of 256 units over 32 tokens, and a Linear back to
the 1000 tokens; exported as ONNX LSTM / GRU nodes (PyTorch reorders the
gates), which strata unrolls over the sequence. Random weights (torch.manual_seed(0)), eval mode; the output
must match PyTorch's within max|diff| / max|ref| <= 1e-4. Without torch it
prints why and exits 77 (ctest: skipped).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77


def transformer():
    import torch
    layer = torch.nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072,
                                             batch_first=True)
    return torch.nn.TransformerEncoder(layer, num_layers=2).eval(), torch.randn(1, 128, 768)


class LanguageModel:
    """Embedding -> two recurrent layers -> Linear, on a batch of token ids."""

    def __new__(cls, kind):
        import torch

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = torch.nn.Embedding(1000, 128)
                rnn = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
                self.rnn = rnn(128, 256, num_layers=2, batch_first=True)
                self.out = torch.nn.Linear(256, 1000)

            def forward(self, tokens):
                y, _ = self.rnn(self.embed(tokens))
                return self.out(y)

        return Model().eval(), torch.randint(0, 1000, (1, 32))


MODELS = {"transformer": transformer,
          "lstm": lambda: LanguageModel("lstm"),
          "gru": lambda: LanguageModel("gru")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=0, help="also time N runs of the executable")
    ap.add_argument("names", nargs="+", choices=sorted(MODELS))
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"SKIPPED: {e.name} is not installed (Debian: apt install python3-torch)")
        return SKIP
    failed = False
    with tempfile.TemporaryDirectory(prefix="strata-seq-") as work:
        for name in args.names:
            torch.manual_seed(0)
            model, x = MODELS[name]()
            path = os.path.join(work, f"{name}.onnx")
            torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {0: "batch"},
                                                                     "output": {0: "batch"}})
            with torch.no_grad():
                ref = model(x).numpy()
            inp = os.path.join(work, f"{name}_input.npy")
            np.save(inp, x.numpy())
            exe = os.path.join(work, name)
            t0 = time.perf_counter()
            proc = subprocess.run([args.strata, "compile", path, "--batch", "1", "-o", exe],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name}: FAILED to compile: {proc.stderr.strip()}")
                failed = True
                continue
            compile_s = time.perf_counter() - t0
            out = os.path.join(work, f"{name}_out")
            extra = (["--threads", str(args.threads)] if args.threads else []) + \
                (["--repeat", str(args.repeat)] if args.repeat else [])
            proc = subprocess.run([exe, inp, "--output-dir", out, *extra], capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name}: FAILED to run: {proc.stderr.strip()}")
                failed = True
                continue
            got = np.load(os.path.join(out, "output.npy"))
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            ok = got.shape == ref.shape and err <= 1e-4
            failed |= not ok
            latency = [line for line in proc.stdout.splitlines() if line.startswith("latency:")]
            print(f"{name}: {'match' if ok else 'MISMATCH'} rel_err={err:.2e} "
                  f"(compile {compile_s:.1f} s, output {list(got.shape)}) "
                  f"{latency[0] if latency else ''}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
