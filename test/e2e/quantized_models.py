#!/usr/bin/env python3
"""End-to-end check of strata's integer path on QDQ models.

Usage: quantized_models.py --strata build/bin/strata [--ort-python PY]
       (run with /usr/bin/python3: Debian's onnx, numpy and torch)

Builds QDQ models in the form ONNX Runtime's quantize_static writes (uint8
activations with zero points, int8 weights per output channel with zero
zero points, int32 biases with scale x_scale * w_scale) with random weights
and scales calibrated on the float network: a CNN (convolution with the
input's nonzero zero point and padding, Relu folded into the range, max
pooling, a strided convolution with Relu, Flatten, Gemm) and an MLP
(MatMul + Add bias, Relu, MatMul, int8 output). For each:

 A ResNet basic block (two convolutions, the input added back, Relu) checks
 the integer residual add; a convolution with power-of-two scales (factor
 exactly 1/4) puts a quarter of its outputs on exact ties, where only the
 rounding (half to even) decides; a 3x3 average pool that does not count
 its padding checks window sums with a divisor per output position.

 1. `strata compile --emit=graph` must show the layers as integer ops
    (nn.requantize, no float convolution or matmul left);
 2. the compiled program's output must equal, bit for bit, the integer
    definition computed in NumPy: exact int64 accumulators,
    round_half_even(acc * multiplier / 2^shift) + zero point, saturated,
    layer by layer (docs/quantization.md);
 3. and ONNX's float definition of the same QDQ graph (float64 here) within
    one quantization step (the fixed-point factor is exact to 2^-31, so a
    step can differ only at a near-tie; the count is printed);
 4. where --ort-python names an interpreter with onnxruntime, also ONNX
    Runtime's output on the same input (same tolerance).

Exits 1 on a mismatch, 77 (skipped) without torch.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

SKIP = 77


def fixed_point(m):
    """multiplier in [2^30, 2^31), shift: m = multiplier * 2^-shift."""
    f, e = math.frexp(m)
    q = round(f * 2**31)
    if q == 2**31:
        q //= 2
        e += 1
    return q, 31 - e


def requantize_int(acc, m, zp, lo, hi):
    """round_half_even(acc * m) + zp in exact integer arithmetic, per channel
    m (array broadcast against acc)."""
    import numpy as np
    mult, shift = np.vectorize(fixed_point)(np.asarray(m, np.float64))
    p = acc.astype(object) * mult.astype(object)  # exact: Python integers
    s = shift.astype(object)
    q = p >> s
    rem = p - (q << s)
    half = 1 << (s - 1)
    up = (rem > half) | ((rem == half) & (q % 2 == 1))
    r = (q + up + zp).astype(np.int64)
    return np.clip(r, lo, hi)


def quantize(x, s, z, lo, hi):
    import numpy as np
    return np.clip(np.rint(x / s) + z, lo, hi)


class Layer:
    """One quantized layer of a chain: kind conv|matmul|gemm|maxpool|flatten."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def build_cnn(rng):
    import numpy as np
    layers = [
        Layer("conv", w=rng.standard_normal((16, 3, 3, 3)) * 0.3, b=rng.standard_normal(16) * 0.1,
              stride=1, pad=1, relu=True),
        Layer("maxpool"),
        Layer("conv", w=rng.standard_normal((8, 16, 3, 3)) * 0.1, b=rng.standard_normal(8) * 0.1,
              stride=2, pad=1, relu=True),
        Layer("flatten"),
        Layer("gemm", w=rng.standard_normal((10, 8 * 4 * 4)) * 0.1, b=rng.standard_normal(10) * 0.1,
              relu=False),
    ]
    return layers, (1, 3, 16, 16), np.uint8


def build_conv(rng):
    """One wide layer, so that thousands of outputs are compared: 3x3 with
    padding (the input's zero point at the borders), no Relu, int8 out."""
    import numpy as np
    layers = [Layer("conv", w=rng.standard_normal((16, 3, 3, 3)) * 0.3,
                    b=rng.standard_normal(16) * 0.1, stride=1, pad=1, relu=False)]
    return layers, (2, 3, 16, 16), np.int8


def build_residual(rng):
    """A ResNet basic block: conv-relu, conv, the block's input added back,
    relu (an integer add of two quantized tensors with different scales)."""
    import numpy as np
    layers = [
        Layer("conv", w=rng.standard_normal((8, 8, 3, 3)) * 0.15, b=rng.standard_normal(8) * 0.1,
              stride=1, pad=1, relu=True, save=True),
        Layer("conv", w=rng.standard_normal((8, 8, 3, 3)) * 0.15, b=rng.standard_normal(8) * 0.1,
              stride=1, pad=1, relu=False),
        Layer("addskip", relu=True),
    ]
    return layers, (1, 8, 8, 8), np.uint8


def build_ties(rng):
    """A convolution whose scales are powers of two (set by
    power_of_two_scales): the requantize factor is exactly 1/4, so every
    accumulator = 2 (mod 4), about a quarter of them, lies exactly between
    two steps and only rounding half to even decides. int8 out."""
    import numpy as np
    layers = [Layer("conv", w=rng.standard_normal((16, 3, 3, 3)) * 0.05,
                    b=rng.standard_normal(16) * 0.05, stride=1, pad=1, relu=False, ties=True)]
    return layers, (2, 3, 16, 16), np.int8


def build_avgpool(rng):
    """A 3x3 average pool (stride 1, padding not counted, so border windows
    divide by 4 or 6) after a convolution, uint8 out: its window sums and
    per-position divisors in integers, every output compared."""
    import numpy as np
    layers = [
        Layer("conv", w=rng.standard_normal((8, 3, 3, 3)) * 0.3, b=rng.standard_normal(8) * 0.1,
              stride=1, pad=1, relu=True),
        Layer("avgpool"),
    ]
    return layers, (2, 3, 16, 16), np.uint8


def power_of_two_scales(L):
    """Input 2^-4 (zero point 128), weights 2^-6, output 2^-8: in_s * w_s /
    y_s = 1/4 exactly. Returns the input's scale and zero point."""
    import numpy as np
    L.ws = np.full(L.w.shape[0], 2.0 ** -6, np.float32)
    L.wq = np.clip(np.rint(L.w / 2.0 ** -6), -127, 127).astype(np.int8)
    L.wf = L.wq.astype(np.float64) * 2.0 ** -6
    L.ys, L.yz = np.float32(2.0 ** -8), 0
    return np.float32(2.0 ** -4), 128


def add_factors(ra, rb):
    """The ratios of the inputs' scales to the output's as integers of s
    bits (at most 2^22), as strata-quantized-ops computes them."""
    largest = max(ra, rb)
    s = 0
    while s < 31 and round(largest * 2.0 ** (s + 1)) <= 2 ** 22:
        s += 1
    return round(ra * 2.0 ** s), round(rb * 2.0 ** s), s


def build_mlp(rng):
    import numpy as np
    layers = [
        Layer("matmul", w=rng.standard_normal((20, 32)) * 0.2, b=rng.standard_normal(32) * 0.1, relu=True),
        Layer("matmul", w=rng.standard_normal((32, 6)) * 0.2, b=rng.standard_normal(6) * 0.1, relu=False),
    ]
    return layers, (4, 20), np.int8


def float_forward(layer, x):
    """The float op of a layer (float64), for calibration and the reference."""
    import numpy as np
    import torch
    if layer.kind == "conv":
        y = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(layer.wf),
                                       torch.from_numpy(layer.bf), stride=layer.stride,
                                       padding=layer.pad).numpy()
    elif layer.kind == "matmul":
        y = x @ layer.wf + layer.bf
    elif layer.kind == "gemm":
        y = x @ layer.wf.T + layer.bf
    elif layer.kind == "maxpool":
        y = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2).numpy()
    elif layer.kind == "avgpool":
        y = torch.nn.functional.avg_pool2d(torch.from_numpy(x), 3, stride=1, padding=1,
                                           count_include_pad=False).numpy()
    else:
        y = x.reshape(x.shape[0], -1)
    if getattr(layer, "relu", False):
        y = np.maximum(y, 0)
    return y


def calibrate(layers, shape, out_type, rng):
    """Scales and zero points from the float network's ranges on random
    inputs (min/max, as quantize_static's default), weights per channel."""
    import numpy as np
    xs = [rng.standard_normal(shape) for _ in range(4)]

    def act(values, dtype):
        lo, hi = min(0.0, min(v.min() for v in values)), max(0.0, max(v.max() for v in values))
        qlo, qhi = (0, 255) if dtype == np.uint8 else (-128, 127)
        s = np.float32((hi - lo) / (qhi - qlo))
        return s, int(round(qlo - lo / float(s)))

    in_s, in_z = act(xs, np.uint8)
    saved = None
    for L in layers:
        if getattr(L, "save", False):
            saved = xs
        if L.kind == "addskip":
            xs = [np.maximum(x + s, 0) for x, s in zip(xs, saved)]
            L.ys, L.yz = act(xs, out_type if L is layers[-1] else np.uint8)
            continue
        if L.kind in ("conv", "matmul", "gemm"):
            axis = 0 if L.kind in ("conv", "gemm") else 1
            amax = np.abs(L.w).max(axis=tuple(a for a in range(L.w.ndim) if a != axis))
            L.ws = (amax / 127).astype(np.float32)
            shape_ws = [1] * L.w.ndim
            shape_ws[axis] = -1
            L.wq = np.clip(np.rint(L.w / L.ws.reshape(shape_ws)), -127, 127).astype(np.int8)
            L.wf = L.wq.astype(np.float64) * L.ws.reshape(shape_ws).astype(np.float64)
        xs = [float_forward(L, x) if L.kind not in ("conv", "matmul", "gemm")
              else float_forward(Layer(L.kind, wf=L.w, bf=L.b, stride=getattr(L, "stride", 1),
                                       pad=getattr(L, "pad", 0), relu=L.relu), x) for x in xs]
        if L.kind in ("conv", "matmul", "gemm", "avgpool"):
            L.ys, L.yz = act(xs, out_type if L is layers[-1] else np.uint8)
    return in_s, in_z


def make_model(layers, shape, in_s, in_z, out_type, out_shape):
    """The QDQ ONNX model (opset 13) in ONNX Runtime's layout."""
    import numpy as np
    import onnx
    import onnx.numpy_helper
    from onnx import TensorProto as T
    from onnx import helper as h
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(prefix, arr):
        n = name(prefix)
        inits.append(onnx.numpy_helper.from_array(arr, n))
        return n

    def qdq(x, s, z, dtype):
        zn = const("zp", np.array(z, dtype))
        sn = const("s", np.array(s, np.float32))
        q, d = name("q"), name("dq")
        nodes.append(h.make_node("QuantizeLinear", [x, sn, zn], [q]))
        nodes.append(h.make_node("DequantizeLinear", [q, sn, zn], [d]))
        return d

    cur = qdq("x", in_s, in_z, np.uint8)
    scale, zp = in_s, in_z
    saved = None
    for L in layers:
        if getattr(L, "save", False):
            saved = cur
        if L.kind == "addskip":
            y, r = name("add"), name("relu")
            nodes.append(h.make_node("Add", [cur, saved], [y]))
            nodes.append(h.make_node("Relu", [y], [r]))
            cur = qdq(r, L.ys, L.yz, out_type if L is layers[-1] else np.uint8)
            scale, zp = L.ys, L.yz
            continue
        if L.kind in ("conv", "matmul", "gemm"):
            axis = 0 if L.kind in ("conv", "gemm") else 1
            wd = name("w_dq")
            nodes.append(h.make_node("DequantizeLinear",
                                     [const("w", L.wq), const("ws", L.ws),
                                      const("wz", np.zeros(L.ws.shape, np.int8))], [wd], axis=axis))
            bias_scale = (np.float32(scale) * L.ws).astype(np.float32)
            L.bq = np.rint(L.b / bias_scale.astype(np.float64)).astype(np.int32)
            bd = name("b_dq")
            nodes.append(h.make_node("DequantizeLinear",
                                     [const("b", L.bq), const("bs", bias_scale),
                                      const("bz", np.zeros(L.bq.shape, np.int32))], [bd], axis=0))
            y = name("y")
            if L.kind == "conv":
                nodes.append(h.make_node("Conv", [cur, wd, bd], [y], strides=[L.stride] * 2,
                                         pads=[L.pad] * 4))
            elif L.kind == "gemm":
                nodes.append(h.make_node("Gemm", [cur, wd, bd], [y], transB=1))
            else:
                mm = name("mm")
                nodes.append(h.make_node("MatMul", [cur, wd], [mm]))
                nodes.append(h.make_node("Add", [mm, bd], [y]))
            if L.relu:
                r = name("relu")
                nodes.append(h.make_node("Relu", [y], [r]))
                y = r
            dtype = out_type if L is layers[-1] else np.uint8
            cur = qdq(y, L.ys, L.yz, dtype)
            scale, zp = L.ys, L.yz
        else:
            y = name("y")
            if L.kind == "maxpool":
                nodes.append(h.make_node("MaxPool", [cur], [y], kernel_shape=[2, 2], strides=[2, 2]))
            elif L.kind == "avgpool":
                nodes.append(h.make_node("AveragePool", [cur], [y], kernel_shape=[3, 3],
                                         strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=0))
                cur = qdq(y, L.ys, L.yz, np.uint8)
                scale, zp = L.ys, L.yz
                continue
            else:
                nodes.append(h.make_node("Flatten", [cur], [y]))
            cur = qdq(y, scale, zp, np.uint8)
    nodes.append(h.make_node("Identity", [cur], ["out"]))
    graph = h.make_graph(nodes, "qdq", [h.make_tensor_value_info("x", T.FLOAT, list(shape))],
                         [h.make_tensor_value_info("out", T.FLOAT, out_shape)], inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def integer_reference(layers, x, in_s, in_z, out_type):
    """The integer definition, layer by layer; returns the dequantized output."""
    import numpy as np
    import torch
    q = quantize(x, np.float32(in_s), in_z, 0, 255).astype(np.int64)
    scale, zp = np.float64(np.float32(in_s)), in_z
    saved = None
    for L in layers:
        if getattr(L, "save", False):
            saved = (q, scale, zp)
        if L.kind == "addskip":
            sy = np.float64(np.float32(L.ys))
            ka, kb, s = add_factors(scale / sy, saved[1] / sy)
            acc = (q - zp) * ka + (saved[0] - saved[2]) * kb
            q = requantize_int(acc, np.full(acc.shape, 2.0 ** -s), L.yz, max(0, L.yz), 255)
            scale, zp = sy, L.yz
            continue
        if L.kind == "maxpool":
            q = torch.nn.functional.max_pool2d(torch.from_numpy(q.astype(np.float64)), 2).numpy().astype(np.int64)
            continue
        if L.kind == "avgpool":
            # Exact window sums of q - zp and the count of each window's
            # positions inside the input (float64 holds these integers).
            c = q.shape[1]
            ones = torch.ones((c, 1, 3, 3), dtype=torch.float64)
            acc = torch.nn.functional.conv2d(torch.from_numpy((q - zp).astype(np.float64)), ones,
                                             padding=1, groups=c).numpy().astype(np.int64)
            count = torch.nn.functional.conv2d(torch.ones((1, 1) + q.shape[2:], dtype=torch.float64),
                                               ones[:1], padding=1).numpy()
            m = np.float64(scale) / (count * np.float64(np.float32(L.ys)))
            q = requantize_int(acc, np.broadcast_to(m, acc.shape), L.yz, 0, 255)
            scale, zp = np.float64(np.float32(L.ys)), L.yz
            continue
        if L.kind == "flatten":
            q = q.reshape(q.shape[0], -1)
            continue
        xc = (q - zp).astype(np.float64)  # exact in float64
        if L.kind == "conv":
            acc = torch.nn.functional.conv2d(torch.from_numpy(xc), torch.from_numpy(L.wq.astype(np.float64)),
                                             stride=L.stride, padding=L.pad).numpy()
            ch = (1, -1, 1, 1)
        else:
            acc = xc @ (L.wq.T if L.kind == "gemm" else L.wq).astype(np.float64)
            ch = (1, -1)
        acc = acc.astype(np.int64) + L.bq.reshape(ch)
        m = (np.float64(scale) * L.ws.astype(np.float64) / np.float64(np.float32(L.ys))).reshape(ch)
        last = L is layers[-1]
        lo, hi = (-128, 127) if (last and out_type == np.int8) else (0, 255)
        if L.relu:
            lo = max(lo, L.yz)
        q = requantize_int(acc, np.broadcast_to(m, acc.shape), L.yz, lo, hi)
        scale, zp = np.float64(np.float32(L.ys)), L.yz
    return ((q - zp) * scale).astype(np.float32), scale


def float_reference(layers, x, in_s, in_z, out_type):
    """ONNX's float definition of the QDQ graph, in float64."""
    import numpy as np
    s = np.float64(np.float32(in_s))
    v = (quantize(x, s, in_z, 0, 255) - in_z) * s
    zp = in_z
    saved = None
    for L in layers:
        if getattr(L, "save", False):
            saved = v
        if L.kind == "addskip":
            s, zp = np.float64(np.float32(L.ys)), L.yz
            v = (quantize(np.maximum(v + saved, 0), s, zp, 0, 255) - zp) * s
            continue
        if L.kind == "avgpool":
            s, zp = np.float64(np.float32(L.ys)), L.yz
            v = (quantize(float_forward(L, v), s, zp, 0, 255) - zp) * s
            continue
        if L.kind in ("conv", "matmul", "gemm"):
            wf = L.wf
            bf = L.bq.astype(np.float64) * (np.float64(np.float32(s)) * L.ws.astype(np.float64))
            y = float_forward(Layer(L.kind, wf=wf, bf=bf, stride=getattr(L, "stride", 1),
                                    pad=getattr(L, "pad", 0), relu=L.relu), v)
            s, zp = np.float64(np.float32(L.ys)), L.yz
            lo, hi = (-128, 127) if (L is layers[-1] and out_type == np.int8) else (0, 255)
            v = (quantize(y, s, zp, lo, hi) - zp) * s
        else:
            v = float_forward(L, v)
    return v.astype(np.float32), s


def run_case(name, build, strata, ort_python, work, rng):
    import numpy as np
    import onnx
    layers, shape, out_type = build(rng)
    in_s, in_z = calibrate(layers, shape, out_type, rng)
    if getattr(layers[0], "ties", False):
        in_s, in_z = power_of_two_scales(layers[0])
    path = os.path.join(work, f"{name}.qdq.onnx")
    last = layers[-1]
    out_shape = (list(shape) if last.kind == "addskip"
                 else [shape[0], layers[-2].w.shape[0], shape[2], shape[3]] if last.kind == "avgpool"
                 else [shape[0], last.w.shape[0], shape[2], shape[3]] if last.kind == "conv"
                 else [shape[0], last.w.shape[0 if last.kind == "gemm" else 1]])
    onnx.save(make_model(layers, shape, in_s, in_z, out_type, out_shape), path)
    graph = subprocess.run([strata, "compile", path, "--emit=graph", "-o", "-"],
                           check=True, capture_output=True, text=True).stdout
    n_requant = graph.count("nn.requantize")
    float_ops = [l for l in graph.splitlines()
                 if ("nn.conv" in l or "nn.matmul" in l or "nn.gemm" in l) and "f32>" in l.split("->")[-1]]
    problems = []
    want = sum(L.kind in ("conv", "matmul", "gemm", "addskip", "avgpool") for L in layers)
    if n_requant != want or float_ops:
        problems.append(f"{n_requant} of {want} layers requantize in integers; float ops left: {float_ops}")
    exe = os.path.join(work, name)
    subprocess.run([strata, "compile", path, "-o", exe], check=True, capture_output=True)
    x = rng.standard_normal(shape).astype(np.float32)
    xin = os.path.join(work, f"{name}_x.npy")
    np.save(xin, x)
    out = os.path.join(work, f"{name}_out")
    subprocess.run([exe, xin, "--output-dir", out], check=True, capture_output=True)
    got = np.load(os.path.join(out, "out.npy"))
    ref_int, step = integer_reference(layers, x.astype(np.float64), in_s, in_z, out_type)
    ref_float, _ = float_reference(layers, x.astype(np.float64), in_s, in_z, out_type)
    if not np.array_equal(got, ref_int):
        problems.append(f"differs from the integer definition in {(got != ref_int).sum()} of {got.size}")
    steps = np.abs(got.astype(np.float64) - ref_float) / step
    if steps.max() > 1.0 + 1e-6:
        problems.append(f"more than one step from ONNX's float definition (max {steps.max():.2f})")
    note = f"{int((steps > 0.5).sum())} of {got.size} one step from the float definition"
    if ort_python:
        ort_out = os.path.join(work, f"{name}_ort.npy")
        code = ("import numpy as np, onnxruntime as ort, sys; "
                "s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider']); "
                "np.save(sys.argv[3], s.run(None, {'x': np.load(sys.argv[2])})[0])")
        r = subprocess.run([ort_python, "-c", code, path, xin, ort_out], capture_output=True, text=True)
        if r.returncode == 0:
            ort_steps = np.abs(got.astype(np.float64) - np.load(ort_out)) / step
            note += f"; ONNX Runtime: {int((ort_steps > 0.5).sum())} one step apart"
            if ort_steps.max() > 1.0 + 1e-6:
                problems.append(f"more than one step from ONNX Runtime (max {ort_steps.max():.2f})")
        else:
            note += "; ONNX Runtime not run: " + r.stderr.strip().splitlines()[-1]
    status = "ok" if not problems else "FAIL"
    print(f"{status:4} {name}: {n_requant} integer layers, output equals the integer definition"
          if not problems else f"FAIL {name}: " + "; ".join(problems), f"({note})")
    return not problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--strata", required=True)
    parser.add_argument("--ort-python", help="a Python with onnxruntime, to compare with it too")
    args = parser.parse_args()
    try:
        import numpy as np
        import onnx  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (needs Debian's python3-onnx, python3-numpy, python3-torch)")
        return SKIP
    rng = np.random.default_rng(0)
    ok = True
    with tempfile.TemporaryDirectory() as work:
        for name, build in (("cnn", build_cnn), ("conv", build_conv), ("mlp", build_mlp),
                            ("residual", build_residual), ("ties", build_ties),
                            ("avgpool", build_avgpool)):
            ok &= run_case(name, build, args.strata, args.ort_python, work, rng)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
