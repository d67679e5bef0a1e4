#!/usr/bin/env python3
"""int8 on the CPU: torchvision networks quantized by ONNX Runtime's
quantize_static (QDQ, uint8 activations, int8 weights per channel, min/max
calibration on random images), compiled by strata, against strata's fp32
program and ONNX Runtime's int8 and fp32 sessions, batch 1, in one run.
Also reports how far strata's int8 output is from ONNX Runtime's (in
quantization steps of the output) and from the float network (argmax).

With --lenet EXAMPLES_DIR it instead measures accuracy: the bundled LeNet-5
trained by `strata train` on Fashion-MNIST (Debian's dataset-fashion-mnist),
quantized by quantize_static and by `strata quantize` (per tensor, per
channel, percentile and entropy ranges; 512 training images each), and
trained one epoch more in float and with `strata train --qat`; the float and
int8 programs compiled by strata (and ONNX Runtime's sessions of the same
models) run over the 10,000 test images.

Usage (with the pip Python that has onnxruntime; the networks are exported
by Debian's /usr/bin/python3 with python3-torch/torchvision):
  python3 bench/quantize_bench.py --strata build/bin/strata [--nets resnet18,mobilenet_v2]
      [--threads 1,2] [--iters 30] [--rounds 3]
  python3 bench/quantize_bench.py --strata build/bin/strata --lenet build/examples [--epochs 4]
"""
import gzip
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402

TORCH_PYTHON = "/usr/bin/python3"


def quantize(src, dst, calibration, pre=True):
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.data = iter([{"input": x} for x in calibration])

        def get_next(self):
            return next(self.data, None)

    if pre:
        quant_pre_process(src, dst + ".pre.onnx", skip_symbolic_shape=True)
        src = dst + ".pre.onnx"
    quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)


FASHION = "/usr/share/datasets/fashion-mnist"


def fashion(kind):
    """Images scaled to [0, 1] as strata train reads them, and labels."""
    prefix = "train" if kind == "train" else "t10k"
    with gzip.open(os.path.join(FASHION, f"{prefix}-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(FASHION, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x.astype(np.float32) / 255, y


def lenet(args, ort):
    train_x, _ = fashion("train")
    test_x, test_y = fashion("test")
    with tempfile.TemporaryDirectory(prefix="strata-int8-lenet-") as work:
        fp32 = os.path.join(work, "lenet.onnx")
        subprocess.run([args.strata, "train", os.path.join(args.lenet, "lenet.onnx"), "--data",
                        "fashion-mnist", "--epochs", str(args.epochs), "-o", fp32],
                       check=True, capture_output=True)
        int8 = os.path.join(work, "lenet.qdq.onnx")
        quantize(fp32, int8, [train_x[i:i + 32] for i in range(0, 512, 32)], pre=False)
        models = [("float (strata train)", fp32), ("int8: ONNX Runtime's quantize_static", int8)]
        for flags, label in (([], "per tensor"), (["--per-channel"], "per channel"),
                             (["--method", "percentile"], "percentile ranges"),
                             (["--method", "entropy"], "entropy (KL) ranges")):
            path = os.path.join(work, f"lenet.strata{len(models)}.onnx")
            subprocess.run([args.strata, "quantize", fp32, "--calibrate", "fashion-mnist",
                            "--samples", "512", "-o", path] + flags, check=True, capture_output=True)
            models.append((f"int8: strata quantize, {label}", path))
        # One more epoch, in float and quantization-aware (int8 out).
        more = os.path.join(work, "lenet.more.onnx")
        qat = os.path.join(work, "lenet.qat.onnx")
        common = ["--data", "fashion-mnist", "--epochs", "1", "--optimizer", "sgd(lr=0.01,momentum=0.9)"]
        subprocess.run([args.strata, "train", fp32, "-o", more] + common, check=True, capture_output=True)
        subprocess.run([args.strata, "train", fp32, "--qat", "-o", qat] + common, check=True,
                       capture_output=True)
        models += [("float, one epoch more (lr 0.01)", more),
                   ("int8: strata train --qat, one epoch more (lr 0.01)", qat)]
        test = os.path.join(work, "test.npy")
        np.save(test, test_x)
        print("| LeNet-5, Fashion-MNIST (all int8 models compiled by strata) | test accuracy | "
              "ONNX Runtime on the same model |\n|---|---|---|")
        for name, path in models:
            exe, out = path + ".exe", path + ".out"
            subprocess.run([args.strata, "compile", path, "--batch", str(len(test_x)), "-o", exe],
                           check=True, capture_output=True)
            subprocess.run([exe, test, "--output-dir", out], check=True, capture_output=True)
            logits = np.load(os.path.join(out, os.listdir(out)[0]))
            ort_logits = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(
                None, {"input": test_x})[0]
            print(f"| {name} | {(logits.argmax(1) == test_y).mean():.4f} | "
                  f"{(ort_logits.argmax(1) == test_y).mean():.4f} |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strata", required=True)
    ap.add_argument("--nets", default="resnet18,mobilenet_v2")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate the four timings this many times; report medians")
    ap.add_argument("--lenet", metavar="EXAMPLES_DIR",
                    help="measure LeNet-5's Fashion-MNIST accuracy, float and int8, instead")
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    try:
        import onnxruntime as ort
    except ImportError:
        print("needs onnxruntime (pip install onnxruntime==1.31.1): it quantizes the networks")
        return 1
    if args.lenet:
        return lenet(args, ort)
    rng = np.random.default_rng(1)
    calibration = [rng.standard_normal((1, 3, 224, 224)).astype(np.float32) for _ in range(8)]
    with tempfile.TemporaryDirectory(prefix="strata-int8-") as work:
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
        print("| network | threads | strata int8 ms | strata fp32 ms | ORT int8 ms | ORT fp32 ms | "
              "int8 / fp32 (strata) | strata int8 / ORT int8 | logits one step from ORT int8 | "
              "top-1 = float |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name in args.nets.split(","):
            subprocess.run([TORCH_PYTHON, os.path.join(HERE, "torch_nets.py"), "export", name, work],
                           check=True, capture_output=True)
            fp32 = os.path.join(work, f"{name}.onnx")
            int8 = os.path.join(work, f"{name}.qdq.onnx")
            quantize(fp32, int8, calibration)
            x = np.load(os.path.join(work, f"{name}_input.npy"))
            exe = os.path.join(work, name + "_int8")
            subprocess.run([args.strata, "compile", int8, "-o", exe], check=True, capture_output=True)
            out = os.path.join(work, name + "_out")
            subprocess.run([exe, os.path.join(work, f"{name}_input.npy"), "--output-dir", out],
                           check=True, capture_output=True)
            got = np.load(os.path.join(out, "logits.npy"))
            ref = ort.InferenceSession(int8, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
            flt = np.load(os.path.join(work, f"{name}_ref.npy"))
            step = np.abs(np.diff(np.unique(ref))).min()
            steps = np.abs(got - ref) / step
            agree = f"{int((steps > 0.5).sum())} of {got.size} (max {steps.max():.1f})"
            top1 = "yes" if got.argmax() == flt.argmax() else "no"
            for threads in [int(t) for t in args.threads.split(",")]:
                times = {"si": [], "sf": [], "oi": [], "of": []}
                for _ in range(args.rounds):
                    times["si"].append(peers.strata(args.strata, int8, threads, args.iters, env)[0])
                    times["sf"].append(peers.strata(args.strata, fp32, threads, args.iters, env)[0])
                    times["oi"].append(peers.onnxruntime(int8, {"input": x}, threads, args.iters)[0])
                    times["of"].append(peers.onnxruntime(fp32, {"input": x}, threads, args.iters)[0])
                m = {k: float(np.median([t for t in v if t])) for k, v in times.items()}
                print(f"| {name} | {threads} | {m['si']:.2f} | {m['sf']:.2f} | {m['oi']:.2f} | "
                      f"{m['of']:.2f} | {m['sf'] / m['si']:.2f}x | {m['si'] / m['oi']:.2f} | {agree} | "
                      f"{top1} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
