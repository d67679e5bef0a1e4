#!/usr/bin/env python3
"""End-to-end check of strata on torchvision networks against PyTorch.

Usage: torchvision_models.py --strata build/bin/strata [--threads N] NAME...
       [--target cuda] [--batch B] [--conv-kernels generated]
       torchvision_models.py --strata ... --target cuda --pack DIR NAME...
       torchvision_models.py --run-pack DIR    (on a GPU machine; numpy only)
       (NAME: resnet18, mobilenet_v2, alexnet, ... or a segmentation network
        such as lraspp_mobilenet_v3_large; run with /usr/bin/python3;
        NAME+bn exports with training=PRESERVE, which keeps the
        BatchNormalization nodes that strata then folds into the convolutions)

For each network: random weights (torch.manual_seed(0)), eval mode, exported
to ONNX at opset 13 with a symbolic batch; strata compiles it (batch 1) into
an executable, runs it on a random image, and the output must match
PyTorch's within max|diff| / max|ref| <= 1e-4. Prints one line per network
and exits 1 on any mismatch. Without python3-torch/python3-torchvision it
prints why and exits 77, which ctest reports as skipped.

--target cuda compiles for the GPU (runs need one). --pack DIR instead
writes, per network, the GPU executable, the input, PyTorch's output and
strata's CPU output into DIR/NAME/, and --run-pack DIR runs those on a GPU
machine without strata or torch, checking the GPU output against both
(test/gpu/run.sh). --repeat N also prints the executable's latency.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77


def pack_input(shape):
    """The input of packed runs: a formula rather than a file, so that a
    batch of 32 images (19 MB) need not travel to the GPU machine."""
    import numpy as np
    n = int(np.prod(shape))
    return np.sin(np.arange(n, dtype=np.float64) * 0.37).astype(np.float32).reshape(shape)


def SegmentationLogits(model):
    """A torchvision segmentation network's per-pixel class scores (its
    output is a dict): bilinear Resize back to the input size, with sizes
    computed from the input's shape at run time."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x)["out"]

    return Wrapped()


def export(name, work, batch=1, packed=False):
    import numpy as np
    import torch
    import torchvision
    torch.manual_seed(0)
    arch, _, variant = name.partition("+")
    if hasattr(torchvision.models.segmentation, arch):
        model = SegmentationLogits(getattr(torchvision.models.segmentation, arch)(
            weights=None, weights_backbone=None, num_classes=21)).eval()
    else:
        model = getattr(torchvision.models, arch)(weights=None).eval()
    x = torch.randn(batch, 3, 224, 224)
    if packed:
        x = torch.from_numpy(pack_input((batch, 3, 224, 224)))
    path = os.path.join(work, f"{name}.onnx")
    mode = torch.onnx.TrainingMode.PRESERVE if variant == "bn" else torch.onnx.TrainingMode.EVAL
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], training=mode,
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    with torch.no_grad():
        ref = model(x).numpy()
    np.save(os.path.join(work, f"{name}_input.npy"), x.numpy())
    return path, ref


def rel_err(got, ref):
    import numpy as np
    return float(np.abs(got - ref).max() / np.abs(ref).max())


def run_exe(exe, inp, out_dir, extra=()):
    import numpy as np
    proc = subprocess.run([exe, inp, "--output-dir", out_dir, *extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{exe} failed: {proc.stderr.strip()}")
    latency = [line for line in proc.stdout.splitlines() if line.startswith("latency:")]
    return np.load(os.path.join(out_dir, "logits.npy")), (latency[0] if latency else "")


def run_pack(pack, repeat):
    """GPU executables of a --pack folder against PyTorch and strata's CPU."""
    import numpy as np
    failed = False
    for name in sorted(os.listdir(pack)):
        d = os.path.join(pack, name)
        if not os.path.isfile(os.path.join(d, "model")):
            continue
        extra = ["--repeat", str(repeat)] if repeat else []
        with open(os.path.join(d, "input_shape.txt")) as f:
            shape = tuple(int(v) for v in f.read().split())
        np.save(os.path.join(d, "input.npy"), pack_input(shape))
        try:
            got, latency = run_exe(os.path.join(d, "model"), os.path.join(d, "input.npy"),
                                   os.path.join(d, "out"), extra)
        except RuntimeError as e:
            print(f"{name}: FAILED: {e}", flush=True)
            failed = True
            continue
        vs_torch = rel_err(got, np.load(os.path.join(d, "torch.npy")))
        vs_cpu = rel_err(got, np.load(os.path.join(d, "cpu.npy")))
        ok = vs_torch <= 1e-4
        failed |= not ok
        print(f"{name} (cuda): {'match' if ok else 'MISMATCH'} rel_err vs PyTorch={vs_torch:.2e} "
              f"vs strata CPU={vs_cpu:.2e} {latency}", flush=True)
        os.remove(os.path.join(d, "input.npy"))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata")
    ap.add_argument("--threads", type=int, default=0, help="threads for the compiled model (0: all cores)")
    ap.add_argument("--target", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--gpu-arch", default="sm_80")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--conv-kernels", choices=["auto", "generated"], default="auto",
                    help="strata compile --conv-kernels (CPU): oneDNN where chosen, or generated only")
    ap.add_argument("--repeat", type=int, default=0, help="also time N runs of the executable")
    ap.add_argument("--pack", help="write GPU executables and references here (no run)")
    ap.add_argument("--run-pack", help="run a --pack folder (GPU machine)")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    if args.run_pack:
        return run_pack(args.run_pack, args.repeat)
    if not args.strata or not args.names:
        ap.error("--strata and at least one NAME are required")
    try:
        import numpy as np
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"SKIPPED: {e.name} is not installed (Debian: apt install python3-torch python3-torchvision)")
        return SKIP
    target = ["--target=cuda", f"--gpu-arch={args.gpu_arch}"] if args.target == "cuda" else \
        [f"--conv-kernels={args.conv_kernels}"]
    batch = ["--batch", str(args.batch)]
    failed = False
    with tempfile.TemporaryDirectory(prefix="strata-e2e-") as work:
        for name in args.names:
            path, ref = export(name, work, args.batch, packed=bool(args.pack))
            inp = os.path.join(work, f"{name}_input.npy")
            if args.pack:
                d = os.path.join(args.pack, f"{name}_b{args.batch}")
                os.makedirs(d, exist_ok=True)
                cpu_exe = os.path.join(work, name + "_cpu")
                subprocess.run([args.strata, "compile", path, "-o", cpu_exe, *batch],
                               check=True, capture_output=True)
                cpu, _ = run_exe(cpu_exe, inp, os.path.join(work, name + "_cpu_out"))
                subprocess.run([args.strata, "compile", path, "-o", os.path.join(d, "model"),
                                *batch, *target], check=True, capture_output=True)
                with open(os.path.join(d, "input_shape.txt"), "w") as f:
                    f.write(f"{args.batch} 3 224 224\n")
                np.save(os.path.join(d, "torch.npy"), ref)
                np.save(os.path.join(d, "cpu.npy"), cpu)
                print(f"{name}: packed into {d} (strata CPU vs PyTorch rel_err={rel_err(cpu, ref):.2e})")
                continue
            exe = os.path.join(work, name)
            t0 = time.perf_counter()
            subprocess.run([args.strata, "compile", path, "-o", exe, *batch, *target],
                           check=True, capture_output=True)
            compile_s = time.perf_counter() - t0
            extra = (["--threads", str(args.threads)] if args.threads else []) + \
                (["--repeat", str(args.repeat)] if args.repeat else [])
            got, latency = run_exe(exe, inp, os.path.join(work, name + "_out"), extra)
            err = rel_err(got, ref)
            ok = got.shape == ref.shape and err <= 1e-4
            failed |= not ok
            print(f"{name}: {'match' if ok else 'MISMATCH'} rel_err={err:.2e} "
                  f"(compile {compile_s:.1f} s, output {list(got.shape)}) {latency}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
