#!/usr/bin/env python3
"""End-to-end check of strata on torchvision networks against PyTorch.

Usage: torchvision_models.py --strata build/bin/strata [--threads N] NAME...
       (NAME: resnet18, mobilenet_v2, alexnet, ...; run with /usr/bin/python3;
        NAME+bn exports with training=PRESERVE, which keeps the
        BatchNormalization nodes that strata then folds into the convolutions)

For each network: random weights (torch.manual_seed(0)), eval mode, exported
to ONNX at opset 13 with a symbolic batch; strata compiles it (batch 1) into
an executable, runs it on a random image, and the output must match
PyTorch's within max|diff| / max|ref| <= 1e-4. Prints one line per network
and exits 1 on any mismatch. Without python3-torch/python3-torchvision it
prints why and exits 77, which ctest reports as skipped.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77


def export(name, work):
    import numpy as np
    import torch
    import torchvision
    torch.manual_seed(0)
    arch, _, variant = name.partition("+")
    model = getattr(torchvision.models, arch)(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    path = os.path.join(work, f"{name}.onnx")
    mode = torch.onnx.TrainingMode.PRESERVE if variant == "bn" else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], training=mode,
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with torch.no_grad():
        ref = model(x).numpy()
    np.save(os.path.join(work, f"{name}_input.npy"), x.numpy())
    return path, ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--threads", type=int, default=0, help="threads for the compiled model (0: all cores)")
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    try:
        import numpy as np
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"SKIPPED: {e.name} is not installed (Debian: apt install python3-torch python3-torchvision)")
        return SKIP
    failed = False
    with tempfile.TemporaryDirectory(prefix="strata-e2e-") as work:
        for name in args.names:
            path, ref = export(name, work)
            exe = os.path.join(work, name)
            t0 = time.perf_counter()
            subprocess.run([args.strata, "compile", path, "-o", exe], check=True, capture_output=True)
            compile_s = time.perf_counter() - t0
            out_dir = os.path.join(work, name + "_out")
            cmd = [exe, os.path.join(work, f"{name}_input.npy"), "--output-dir", out_dir]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            subprocess.run(cmd, check=True, capture_output=True)
            got = np.load(os.path.join(out_dir, "logits.npy"))
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            ok = got.shape == ref.shape and err <= 1e-4
            failed |= not ok
            print(f"{name}: {'match' if ok else 'MISMATCH'} rel_err={err:.2e} "
                  f"(compile {compile_s:.1f} s, output {list(got.shape)})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
