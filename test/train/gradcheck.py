#!/usr/bin/env python3
"""Checks every gradient rule against central finite differences, in f64.

For each case, a function `loss(inputs..., r) = sum(op(inputs...) * r)` is
written in nn IR, differentiated by `strata-opt --strata-autodiff`,
compiled by `strata compile` into a shared library and called through
ctypes. The gradients strata computes are compared with
(loss(x + h) - loss(x - h)) / 2h of the same compiled forward function, for
every element of every floating-point input (r included).

  gradcheck.py --strata build/bin/strata --strata-opt build/bin/strata-opt [CASE...]
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_abi import Runner  # noqa: E402

TOLERANCE = 1e-6  # max |analytic - numeric| / max(|numeric|, 1e-3), f64
STEP = 1e-6

CASES = []


def case(name, inputs, body, out_type, step=STEP, tolerance=TOLERANCE):
    """inputs: list of (shape, low, high), or (shape, "i64", values) for
    integer operands (indices; fed as given, not differentiated); body: nn
    IR defining %y from %a0, %a1, ...; out_type: %y's shape. Cases computing
    in f32 need a larger step and tolerance."""
    CASES.append((name, inputs, body, out_type, step, tolerance))


def t(shape, et="f64"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + et + ">"


# --- elementwise binary (with broadcasting) ---------------------------------
for op in ["add", "sub", "mul", "div", "max", "min"]:
    lo = 0.5 if op == "div" else -2.0
    case(f"{op}-broadcast", [((3, 4), -2, 2), ((4,), lo, 2)],
         f"%y = nn.{op} %a0, %a1 : ({t((3, 4))}, {t((4,))}) -> {t((3, 4))}", (3, 4))
case("pow", [((3, 4), 0.5, 2), ((3, 1), -1.5, 1.5)],
     f"%y = nn.pow %a0, %a1 : ({t((3, 4))}, {t((3, 1))}) -> {t((3, 4))}", (3, 4))
case("where", [((2, 5), -2, 2), ((5,), -2, 2), ((2, 5), -2, 2)],
     f"""%z = nn.constant dense<0.0> : tensor<f64>
  %c = nn.compare gt %a2, %z : ({t((2, 5))}, tensor<f64>) -> {t((2, 5), 'i1')}
  %y = nn.where %c, %a0, %a1 : ({t((2, 5), 'i1')}, {t((2, 5))}, {t((5,))}) -> {t((2, 5))}""", (2, 5))

# --- elementwise unary ------------------------------------------------------
UNARY = {
    "sqrt": (0.2, 3), "exp": (-2, 2), "log": (0.2, 3), "neg": (-2, 2), "abs": (-2, 2),
    "relu": (-2, 2), "sigmoid": (-3, 3), "tanh": (-2, 2), "reciprocal": (0.3, 2),
    "erf": (-2, 2), "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2),
    "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-2, 2),
    "cosh": (-2, 2), "asinh": (-3, 3), "acosh": (1.2, 3), "atanh": (-0.9, 0.9),
    "floor": (-2, 2),
}
for op, (lo, hi) in UNARY.items():
    case(op, [((2, 6), lo, hi)], f"%y = nn.{op} %a0 : {t((2, 6))}", (2, 6))
case("leaky_relu", [((2, 6), -2, 2)],
     f"%y = nn.leaky_relu %a0 {{alpha = 0.1 : f32}} : {t((2, 6))}", (2, 6))
case("clip", [((2, 6), -2, 2)],
     f"%y = nn.clip %a0 {{max = 1.0 : f64, min = -0.5 : f64}} : {t((2, 6))}", (2, 6))
for op in ["softmax", "log_softmax"]:
    case(op, [((3, 5), -2, 2)], f"%y = nn.{op} %a0 {{axis = 1 : i64}} : {t((3, 5))}", (3, 5))
case("cast-f32", [((2, 3), -2, 2)],
     f"""%c = nn.cast %a0 : ({t((2, 3))}) -> {t((2, 3), 'f32')}
  %y = nn.cast %c : ({t((2, 3), 'f32')}) -> {t((2, 3))}""", (2, 3), step=1e-2, tolerance=1e-4)

# --- contractions -----------------------------------------------------------
case("matmul-2d", [((3, 4), -1, 1), ((4, 5), -1, 1)],
     f"%y = nn.matmul %a0, %a1 : ({t((3, 4))}, {t((4, 5))}) -> {t((3, 5))}", (3, 5))
case("matmul-batched-broadcast", [((2, 3, 4), -1, 1), ((4, 5), -1, 1)],
     f"%y = nn.matmul %a0, %a1 : ({t((2, 3, 4))}, {t((4, 5))}) -> {t((2, 3, 5))}", (2, 3, 5))
case("matmul-vector", [((4,), -1, 1), ((2, 4, 3), -1, 1)],
     f"%y = nn.matmul %a0, %a1 : ({t((4,))}, {t((2, 4, 3))}) -> {t((2, 3))}", (2, 3))
for ta in [False, True]:
    for tb in [False, True]:
        a = (4, 3) if ta else (3, 4)
        b = (5, 4) if tb else (4, 5)
        case(f"gemm-ta{int(ta)}-tb{int(tb)}", [(a, -1, 1), (b, -1, 1), ((5,), -1, 1)],
             f"%y = nn.gemm %a0, %a1, %a2 {{alpha = 0.5 : f32, beta = 2.0 : f32, "
             f"trans_a = {str(ta).lower()}, trans_b = {str(tb).lower()}}} : "
             f"({t(a)}, {t(b)}, {t((5,))}) -> {t((3, 5))}", (3, 5))


def conv(name, x, w, y, strides, pads, dilations, group, bias=True):
    ins = [(x, -1, 1), (w, -1, 1)] + ([((w[0],), -1, 1)] if bias else [])
    operands = "%a0, %a1" + (", %a2" if bias else "")
    types = f"{t(x)}, {t(w)}" + (f", {t((w[0],))}" if bias else "")
    arr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    case(name, ins,
         f"%y = nn.conv {operands} {{dilations = {arr(dilations)}, group = {group} : i64, "
         f"pads = {arr(pads)}, strides = {arr(strides)}}} : ({types}) -> {t(y)}", y)


conv("conv-3x3-pad1", (2, 3, 5, 5), (4, 3, 3, 3), (2, 4, 5, 5), [1, 1], [1, 1, 1, 1], [1, 1], 1)
conv("conv-stride2-asym-pad", (1, 2, 7, 6), (3, 2, 3, 2), (1, 3, 3, 3), [2, 2], [0, 1, 1, 0], [1, 1], 1)
conv("conv-stride3-uncovered", (1, 2, 8, 8), (2, 2, 2, 2), (1, 2, 3, 3), [3, 3], [0, 0, 0, 0], [1, 1], 1)
conv("conv-dilation2", (1, 2, 7, 7), (2, 2, 3, 3), (1, 2, 3, 3), [1, 1], [0, 0, 0, 0], [2, 2], 1)
conv("conv-groups2", (2, 4, 5, 5), (6, 2, 3, 3), (2, 6, 3, 3), [1, 1], [0, 0, 0, 0], [1, 1], 2)
conv("conv-depthwise-stride2", (1, 3, 6, 6), (3, 1, 3, 3), (1, 3, 3, 3), [2, 2], [1, 1, 1, 1], [1, 1], 3)
conv("conv-1d-nobias", (2, 2, 9), (3, 2, 4), (2, 3, 4), [2], [1, 0], [1], 1, bias=False)


def conv_f32(name, x, w, y, pads):
    """A stride-1 f32 convolution: on the CPU, strata-direct-conv computes
    it and its weight gradient from the input rows. The loss is bilinear in
    x and w, so central differences are exact up to f32 rounding even with
    a large step."""
    arr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    b = (w[0],)
    casts = "\n  ".join(f"%c{i} = nn.cast %a{i} : ({t(s)}) -> {t(s, 'f32')}"
                        for i, s in enumerate([x, w, b]))
    body = (f"{casts}\n  %v = nn.conv %c0, %c1, %c2 {{dilations = {arr([1, 1])}, "
            f"group = 1 : i64, pads = {arr(pads)}, strides = {arr([1, 1])}}} : "
            f"({t(x, 'f32')}, {t(w, 'f32')}, {t(b, 'f32')}) -> {t(y, 'f32')}\n  ")
    body += f"%y = nn.cast %v : ({t(y, 'f32')}) -> {t(y)}"
    case(name, [(x, -1, 1), (w, -1, 1), (b, -1, 1)], body, y, step=1e-2, tolerance=1e-3)


# Rows of 11 (a vector tail), asymmetric padding, two batch parts.
conv_f32("conv-f32-direct-pad-tail", (2, 2, 7, 10), (3, 2, 3, 3), (2, 3, 6, 11), [1, 2, 0, 1])
conv_f32("conv-f32-direct-full-rows", (4, 1, 12, 12), (6, 1, 5, 5), (4, 6, 8, 8), [0, 0, 0, 0])


def pool(name, kind, x, y, kernel, strides, pads, ceil=False, include=False, dil=None):
    arr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    dil = dil or [1] * len(kernel)
    case(name, [(x, -2, 2)],
         f"%y = nn.pool {kind} %a0 {{ceil_mode = {str(ceil).lower()}, "
         f"count_include_pad = {str(include).lower()}, dilations = {arr(dil)}, "
         f"kernel_shape = {arr(kernel)}, pads = {arr(pads)}, strides = {arr(strides)}}} "
         f": ({t(x)}) -> {t(y)}", y)


pool("maxpool-2x2", "max", (2, 2, 4, 4), (2, 2, 2, 2), [2, 2], [2, 2], [0, 0, 0, 0])
pool("maxpool-3x3-s2-pad1", "max", (1, 2, 5, 5), (1, 2, 3, 3), [3, 3], [2, 2], [1, 1, 1, 1])
pool("maxpool-floor-leftover", "max", (1, 1, 5, 5), (1, 1, 2, 2), [2, 2], [2, 2], [0, 0, 0, 0])
pool("maxpool-ceil", "max", (1, 1, 5, 5), (1, 1, 3, 3), [2, 2], [2, 2], [0, 0, 0, 0], ceil=True)
pool("avgpool-3x3-pad-exclude", "average", (1, 2, 4, 4), (1, 2, 4, 4), [3, 3], [1, 1], [1, 1, 1, 1])
pool("avgpool-3x3-pad-include", "average", (1, 2, 4, 4), (1, 2, 2, 2), [3, 3], [2, 2], [1, 1, 1, 1], include=True)

case("batch_norm-inference", [((2, 3, 2, 2), -2, 2), ((3,), 0.5, 2), ((3,), -1, 1), ((3,), -1, 1), ((3,), 0.5, 2)],
     f"%y = nn.batch_norm %a0, %a1, %a2, %a3, %a4 {{epsilon = 1.0e-05 : f32}} : "
     f"({t((2, 3, 2, 2))}, {t((3,))}, {t((3,))}, {t((3,))}, {t((3,))}) -> {t((2, 3, 2, 2))}",
     (2, 3, 2, 2))

# --- reductions and data movement -------------------------------------------
for kind in ["sum", "mean", "max", "min", "prod"]:
    case(f"reduce-{kind}", [((2, 3, 4), 0.5, 2)],
         f"%y = nn.reduce {kind} %a0 {{axes = array<i64: 1>, keepdims = false}} : "
         f"({t((2, 3, 4))}) -> {t((2, 4))}", (2, 4))
case("reduce-mean-keepdims", [((2, 3, 4), -2, 2)],
     f"%y = nn.reduce mean %a0 {{axes = array<i64: 0, 2>, keepdims = true}} : "
     f"({t((2, 3, 4))}) -> {t((1, 3, 1))}", (1, 3, 1))
case("reshape", [((2, 6), -2, 2)], f"%y = nn.reshape %a0 : ({t((2, 6))}) -> {t((3, 4))}", (3, 4))
case("transpose", [((2, 3, 4), -2, 2)],
     f"%y = nn.transpose %a0 {{perm = array<i64: 2, 0, 1>}} : ({t((2, 3, 4))}) -> {t((4, 2, 3))}", (4, 2, 3))
case("concat", [((2, 3), -2, 2), ((2, 2), -2, 2)],
     f"%y = nn.concat %a0, %a1 {{axis = 1 : i64}} : ({t((2, 3))}, {t((2, 2))}) -> {t((2, 5))}", (2, 5))
case("slice", [((4, 6), -2, 2)],
     f"%y = nn.slice %a0 {{ends = array<i64: 3, 5>, starts = array<i64: 1, 2>, steps = array<i64: 1, 1>}} : "
     f"({t((4, 6))}) -> {t((2, 3))}", (2, 3))
case("slice-reverse", [((4, 6), -2, 2)],
     f"%y = nn.slice %a0 {{ends = array<i64: 4, 0>, starts = array<i64: 0, 4>, steps = array<i64: 1, -1>}} : "
     f"({t((4, 6))}) -> {t((4, 4))}", (4, 4))
case("pad", [((2, 3), -2, 2)],
     f"%y = nn.pad constant %a0 {{pads = array<i64: 1, 0, 0, 2>, value = 0.5 : f64}} : "
     f"({t((2, 3))}) -> {t((3, 5))}", (3, 5))
case("gather-axis0-negative", [((5, 3), -2, 2), ((2, 2), "i64", [[0, 4], [-1, 2]])],
     f"%y = nn.gather %a0, %a1 {{axis = 0 : i64}} : ({t((5, 3))}, {t((2, 2), 'i64')}) -> {t((2, 2, 3))}",
     (2, 2, 3))
case("gather-axis1-repeated", [((2, 4, 3), -2, 2), ((3,), "i64", [3, 0, 3])],
     f"%y = nn.gather %a0, %a1 {{axis = 1 : i64}} : ({t((2, 4, 3))}, {t((3,), 'i64')}) -> {t((2, 3, 3))}",
     (2, 3, 3))
case("gather_elements", [((3, 4), -2, 2), ((2, 3), "i64", [[0, 3, 3], [1, -1, 0]])],
     f"%y = nn.gather_elements %a0, %a1 {{axis = 1 : i64}} : ({t((3, 4))}, {t((2, 3), 'i64')}) -> {t((2, 3))}",
     (2, 3))
case("broadcast_to", [((3, 1), -2, 2)],
     f"%y = nn.broadcast_to %a0 : ({t((3, 1))}) -> {t((2, 3, 4))}", (2, 3, 4))


def module_text(inputs, body, out_type):
    args, rank = [], len(out_type)
    for i, spec in enumerate(inputs):
        args.append(f"%a{i}: {t(spec[0], 'i64' if spec[1] == 'i64' else 'f64')}")
    args.append(f"%r: {t(out_type)}")
    axes = ", ".join(map(str, range(rank)))
    return (f"func.func @main({', '.join(args)}) -> tensor<f64> {{\n  {body}\n"
            f"  %p = nn.mul %y, %r : ({t(out_type)}, {t(out_type)}) -> {t(out_type)}\n"
            f"  %l = nn.reduce sum %p {{axes = array<i64: {axes}>, keepdims = false}} : "
            f"({t(out_type)}) -> tensor<f64>\n  return %l : tensor<f64>\n}}\n")


class Compiled:
    def __init__(self, path, shapes):
        self.lib = ctypes.CDLL(path)
        self.run = Runner(self.lib)
        self.shapes = shapes  # float inputs' shapes; outputs: loss then one gradient each

    def __call__(self, xs):
        outs = [np.zeros((), np.float64)] + [np.zeros(s, np.float64) for s in self.shapes]
        bufs = [np.ascontiguousarray(x) for x in xs] + outs
        rc = self.run(bufs)
        assert rc == 0
        return float(outs[0]), outs[1:]


def check(args, tmp, name, inputs, body, out_type, step, tolerance):
    rng = np.random.default_rng(abs(hash(name)) % (2**32))
    src = os.path.join(tmp, name + ".mlir")
    grad = os.path.join(tmp, name + ".grad.mlir")
    lib = os.path.join(tmp, name + ".so")
    with open(src, "w") as f:
        f.write(module_text(inputs, body, out_type))
    for cmd in ([args.strata_opt, src, "--strata-autodiff", "-o", grad],
                [args.strata, "compile", grad, "-o", lib]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return f"{' '.join(cmd[:2])} failed:\n{p.stderr.strip()}"
    xs = [np.array(third, np.int64) if second == "i64" else rng.uniform(second, third, size=shape)
          for shape, second, third in inputs]
    xs.append(rng.uniform(-1, 1, size=out_type))
    floats = [i for i, x in enumerate(xs) if x.dtype == np.float64]
    f = Compiled(lib, [xs[i].shape for i in floats])
    _, grads = f(xs)
    worst = 0.0
    for gi, i in enumerate(floats):
        x = xs[i]
        numeric = np.zeros_like(x)
        for j in range(x.size):
            orig = x.flat[j]
            x.flat[j] = orig + step
            up, _ = f(xs)
            x.flat[j] = orig - step
            down, _ = f(xs)
            x.flat[j] = orig
            numeric.flat[j] = (up - down) / (2 * step)
        err = np.max(np.abs(grads[gi] - numeric)) / max(np.max(np.abs(numeric)), 1e-3)
        worst = max(worst, err)
        if not err <= tolerance:
            return (f"input {i}: relative error {err:.2e}\n  strata: {grads[gi].ravel()[:8]}"
                    f"\n  finite differences: {numeric.ravel()[:8]}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strata", required=True)
    ap.add_argument("--strata-opt", required=True)
    ap.add_argument("cases", nargs="*", help="names to run (default: all)")
    args = ap.parse_args()
    chosen = [c for c in CASES if not args.cases or c[0] in args.cases]
    with tempfile.TemporaryDirectory() as tmp:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            results = list(pool.map(lambda c: check(args, tmp, *c), chosen))
    failed = 0
    for (name, *_), r in zip(chosen, results):
        if isinstance(r, str):
            failed += 1
            print(f"FAIL {name}: {r}")
        else:
            print(f"ok   {name:28s} max relative error {r:.1e}")
    print(f"{len(chosen) - failed} of {len(chosen)} gradient rules match finite differences")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
