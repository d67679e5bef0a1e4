#!/usr/bin/env python3
"""The convolution paths against PyTorch: oneDNN with Winograd (the default
kernel choice), oneDNN's direct convolutions only (--conv-kernels=direct) and
strata's generated code (--conv-kernels=generated).

Usage: onednn_kernels.py --strata build/bin/strata   (run with /usr/bin/python3)

Each case is a small torch.nn.Module (seeded random weights, eval mode)
exported to ONNX at opset 13: first layers reading NCHW, blocked 3x3 chains,
strides, asymmetric pads and dilations, depthwise convolutions with ReLU6,
residual adds fused as oneDNN "sum" post-ops (also with the skip value still
needed afterwards), max pooling with and without ceil_mode, elementwise ops
in the blocked layout, fully connected layers, batch 2. For every case:
  - the default compile must give the expected number of oneDNN call sites
    (convolutions, poolings, inner products, Winograd batched matmuls: the
    cost rule), counted in the emitted LLVM IR (blocked max pooling whose
    windows all hold input runs as generated code, strata-vectorize-pooling,
    so no pooling site is left);
  - all three executables must match PyTorch within max|diff| / max|ref| <= 1e-4,
    at 1 and 2 threads, with bit-identical outputs for both thread counts;
  - under ONEDNN_VERBOSE, no primitive may run oneDNN's reference (ref:)
    code, which the cost rule exists to avoid.
Exits 1 on any failure, 77 (skipped) without python3-torch.
"""
import argparse
import warnings
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77


def cases():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class FirstLayer(nn.Module):  # NCHW source (3 channels), 7x7 stride 2, relu, pool
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 7, 2, 3)

        def forward(self, x):
            return F.max_pool2d(F.relu(self.conv(x)), 3, 2, 1)

    class Chain(nn.Module):  # blocked 3x3 convolutions, stride 2 + asymmetric pad
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(8, 16, 3, 1, 1)
            self.b = nn.Conv2d(16, 24, 3, 2, 0, bias=False)
            self.c = nn.Conv2d(24, 16, 3, 1, 2, dilation=2)

        def forward(self, x):
            y = torch.sigmoid(self.a(x))
            return self.c(F.relu(self.b(y)))

    class Depthwise(nn.Module):  # MobileNetV2's inverted residual
        def __init__(self):
            super().__init__()
            self.expand = nn.Conv2d(16, 32, 1)
            self.dw = nn.Conv2d(32, 32, 3, 1, 1, groups=32)
            self.project = nn.Conv2d(32, 16, 1)

        def forward(self, x):
            y = F.relu6(self.dw(F.relu6(self.expand(x))))
            return x + self.project(y)

    class Residual(nn.Module):  # ResNet's basic block; the skip is also returned
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(8, 16, 3, 1, 1)
            self.c1 = nn.Conv2d(16, 16, 3, 1, 1)
            self.c2 = nn.Conv2d(16, 16, 3, 1, 1)

        def forward(self, x):
            s = F.relu(self.stem(x))
            y = F.relu(self.c2(F.relu(self.c1(s))) + s)
            return y * s, F.max_pool2d(s, 3, 2, 0, ceil_mode=True)

    class Classifier(nn.Module):  # AlexNet's head: large fully connected layers
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(1152, 1024)
            self.fc2 = nn.Linear(1024, 1024)
            self.fc3 = nn.Linear(1024, 10)

        def forward(self, x):
            return self.fc3(F.relu6(self.fc2(F.relu(self.fc1(x.flatten(1))))))

    class AsymmetricPads(nn.Module):
        """Exported by hand below: ONNX pads (top 0, left 1, bottom 2,
        right 1) that torch.nn.Conv2d cannot express; the reference pads
        explicitly."""
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 16, 3, 2, 0, dilation=2)

        def forward(self, x):
            return self.conv(F.pad(x, (1, 1, 0, 2)))

        def onnx_model(self, shape):
            from onnx import TensorProto, helper, numpy_helper
            w = numpy_helper.from_array(self.conv.weight.detach().numpy(), "w")
            b = numpy_helper.from_array(self.conv.bias.detach().numpy(), "b")
            node = helper.make_node("Conv", ["x", "w", "b"], ["out0"], strides=[2, 2],
                                    dilations=[2, 2], pads=[0, 1, 2, 1])
            ref = self.forward(torch.zeros(*shape))
            graph = helper.make_graph(
                [node], "asymmetric", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                [helper.make_tensor_value_info("out0", TensorProto.FLOAT, list(ref.shape))], [w, b])
            return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])

    # (name, module, input shape,
    #  expected oneDNN sites {conv, pool, inner_product, batch_matmul})
    # The 3x3 stride-1 convolutions on 20x20, 12x12 and 2 x 9x9 make enough
    # 2x2 tiles for Winograd (9x9 with partial tiles); --conv-kernels=direct
    # runs them, with the residual "sum" post-op, on oneDNN's direct kernels.
    return [
        ("first_layer", FirstLayer(), (1, 3, 32, 32), (1, 0, 0, 0)),
        ("chain", Chain(), (1, 8, 20, 20), (2, 0, 0, 1)),
        ("depthwise", Depthwise(), (1, 16, 14, 14), (3, 0, 0, 0)),
        ("asymmetric_pads", AsymmetricPads(), (1, 8, 17, 16), (1, 0, 0, 0)),
        ("residual", Residual(), (1, 8, 12, 12), (0, 0, 0, 3)),
        ("residual_batch2", Residual(), (2, 8, 9, 9), (0, 0, 0, 3)),
        ("classifier", Classifier(), (2, 128, 3, 3), (0, 0, 2, 0)),
    ]


def rel_err(got, ref):
    import numpy as np
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))


def run(exe, inp, out_dir, threads, env=None):
    import numpy as np
    proc = subprocess.run([exe, inp, "--output-dir", out_dir, "--threads", str(threads)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{exe} failed: {proc.stderr.strip()}")
    outs = sorted(os.listdir(out_dir))
    return [np.load(os.path.join(out_dir, f)) for f in outs], outs, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"SKIPPED: {e.name} is not installed (Debian: apt install python3-torch)")
        return SKIP
    warnings.filterwarnings("ignore")  # torch.onnx's tracer notes
    torch.manual_seed(0)
    failed = False
    with tempfile.TemporaryDirectory(prefix="strata-onednn-") as work:
        for name, module, shape, expected in cases():
            module.eval()
            x = torch.randn(*shape)
            path = os.path.join(work, name + ".onnx")
            with torch.no_grad():
                refs = module(x)
            refs = list(refs) if isinstance(refs, tuple) else [refs]
            names = [f"out{i}" for i in range(len(refs))]
            if hasattr(module, "onnx_model"):
                import onnx
                onnx.save(module.onnx_model(list(shape)), path)
            else:
                torch.onnx.export(module, x, path, opset_version=13, input_names=["x"],
                                  output_names=names)
            inp = os.path.join(work, name + "_x.npy")
            np.save(inp, x.numpy())
            refs = dict(zip(names, (r.numpy() for r in refs)))
            problems = []
            proc = subprocess.run([args.strata, "compile", path, "--emit=llvm", "-o", "-"],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name}: FAILED to compile: {proc.stderr.strip()}")
                failed = True
                continue
            ll = proc.stdout
            sites = tuple(len(re.findall(rf"call void @strata_onednn_{k}\(", ll))
                          for k in ("conv", "pool", "inner_product", "batch_matmul"))
            if sites != expected:
                problems.append(f"oneDNN sites (conv, pool, inner_product, batch_matmul) {sites}, "
                                f"expected {expected}")
            for kernels in ("auto", "direct", "generated"):
                exe = os.path.join(work, f"{name}_{kernels}")
                subprocess.run([args.strata, "compile", path, "-o", exe, f"--conv-kernels={kernels}"],
                               check=True, capture_output=True)
                by_threads = {}
                for threads in (1, 2):
                    env = dict(os.environ, ONEDNN_VERBOSE="1")
                    outs, files, log = run(exe, inp, os.path.join(work, f"{name}_{kernels}_{threads}"),
                                           threads, env)
                    by_threads[threads] = outs
                    for got, f in zip(outs, files):
                        err = rel_err(got, refs[f[:-4]])
                        if got.shape != refs[f[:-4]].shape or err > 1e-4:
                            problems.append(f"{kernels}, {threads} threads: {f} rel_err={err:.2e}")
                    slow = [line for line in log.splitlines() if ",exec," in line and ",ref:" in line]
                    if slow:
                        problems.append(f"{kernels}: oneDNN reference code ran: {slow[0]}")
                if any(not np.array_equal(a, b) for a, b in zip(by_threads[1], by_threads[2])):
                    problems.append(f"{kernels}: outputs differ between 1 and 2 threads")
            failed |= bool(problems)
            print(f"{name}: {'ok' if not problems else 'FAILED: ' + '; '.join(problems)} "
                  f"(oneDNN sites {sites})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
