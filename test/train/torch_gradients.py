#!/usr/bin/env python3
"""Whole-model gradients of LeNet-5, the MLP, a conv + batch-norm net,
recurrent classifiers (ONNX LSTM, bidirectional GRU) and a fake-quantized
(QAT) network against PyTorch.

The bundled example models (examples/make_examples.py) are differentiated by
strata (`strata-build-training-step{gradients-only=true}`: softmax
cross-entropy weighted by a per-sample mask, then reverse-mode autodiff),
compiled and called through ctypes; PyTorch computes the same loss with the
same initial weights (read from the ONNX file) and autograd. Every
parameter's gradient must match within a relative error of 1e-4
(max |diff| / max |ref|), and so must the running statistics of batch norms
trained in training mode (batch statistics of the real samples only). The QAT
network's QDQ pairs become nn.fake_quantize (`strata-fake-quantize`); its
scales are parameters, checked against PyTorch's learnable fake quantization
(torch._fake_quantize_learnable_per_{tensor,channel}_affine, LSQ) with the
same gradient scale. Exit 77 (skipped) without python3-torch.

  torch_gradients.py --strata build/bin/strata --strata-opt build/bin/strata-opt \\
                     --examples build/examples
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from module_abi import Runner, signature  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIP: python3-torch is not installed (apt install python3-torch)")
    sys.exit(77)

BATCH = 8
TOLERANCE = 1e-4


def mlp_forward(w, x):
    h = F.relu(F.linear(x, w["fc1.weight"], w["fc1.bias"]))
    h = F.relu(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    return F.linear(h, w["fc3.weight"], w["fc3.bias"])


def lenet_forward(w, x):
    h = F.max_pool2d(F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), 2, 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"])), 2, 2)
    h = torch.flatten(h, 1)
    h = F.relu(F.linear(h, w["fc1.weight"], w["fc1.bias"]))
    h = F.relu(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    return F.linear(h, w["fc3.weight"], w["fc3.bias"])


def bn_forward(w, x):
    # Training-mode batch norm; updates the running statistics in w in place.
    h = F.conv2d(x, w["conv.weight"], w["conv.bias"], padding=1)
    h = F.batch_norm(h, w["bn.running_mean"], w["bn.running_var"], w["bn.weight"], w["bn.bias"],
                     training=True, momentum=0.1, eps=1e-5)
    h = F.max_pool2d(F.relu(h), 2, 2)
    return F.linear(torch.flatten(h, 1), w["fc.weight"], w["fc.bias"])


def make_bn_model(path):
    """Conv -> BatchNormalization -> Relu -> MaxPool -> Gemm, random weights."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(3)
    inits = {
        "conv.weight": rng.normal(0, 0.3, (4, 1, 3, 3)), "conv.bias": rng.normal(0, 0.1, 4),
        "bn.weight": rng.uniform(0.5, 1.5, 4), "bn.bias": rng.normal(0, 0.1, 4),
        "bn.running_mean": rng.normal(0, 0.1, 4), "bn.running_var": rng.uniform(0.5, 1.5, 4),
        "fc.weight": rng.normal(0, 0.05, (10, 4 * 14 * 14)), "fc.bias": rng.normal(0, 0.1, 10)}
    n = helper.make_node
    nodes = [n("Conv", ["input", "conv.weight", "conv.bias"], ["c"], pads=[1, 1, 1, 1]),
             n("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean",
                                      "bn.running_var"], ["b"], epsilon=1e-5, momentum=0.9),
             n("Relu", ["b"], ["r"]),
             n("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             n("Flatten", ["p"], ["f"]),
             n("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], transB=1)]
    graph = helper.make_graph(
        nodes, "bn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)


SEQ, FEATURES, HIDDEN = 6, 5, 4


def onnx_lstm(x, W, R, B):
    """ONNX's LSTM equations (gates i, o, f, c), forward; x is [N, T, I]."""
    h = torch.zeros(x.shape[0], HIDDEN, dtype=x.dtype)
    c = torch.zeros_like(h)
    for t in range(x.shape[1]):
        g = x[:, t] @ W.T + h @ R.T + B[:4 * HIDDEN] + B[4 * HIDDEN:]
        i, o, f, cc = g.split(HIDDEN, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(cc)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h


def onnx_gru(x, W, R, B, reverse):
    """ONNX's GRU equations (gates z, r, h; linear_before_reset 0)."""
    H = HIDDEN
    h = torch.zeros(x.shape[0], H, dtype=x.dtype)
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    for t in steps:
        xw = x[:, t] @ W.T + B[:3 * H]
        hr = h @ R.T + B[3 * H:]
        z = torch.sigmoid(xw[:, :H] + hr[:, :H])
        r = torch.sigmoid(xw[:, H:2 * H] + hr[:, H:2 * H])
        hh = torch.tanh(xw[:, 2 * H:] + (r * h) @ R[2 * H:].T + B[5 * H:])
        h = (1 - z) * hh + z * h
    return h


def lstm_forward(w, x):
    h = onnx_lstm(x, w["lstm.W"][0], w["lstm.R"][0], w["lstm.B"][0])
    return F.linear(h, w["fc.weight"], w["fc.bias"])


def gru_forward(w, x):
    hs = [onnx_gru(x, w["gru.W"][d], w["gru.R"][d], w["gru.B"][d], reverse=d == 1) for d in (0, 1)]
    return F.linear(torch.cat(hs, 1), w["fc.weight"], w["fc.bias"])


def make_recurrent_model(path, cell):
    """[N, T, I] -> LSTM (forward) or GRU (bidirectional) over T -> last
    hidden state(s) -> Gemm to 10 classes; random weights."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(5)
    gates, dirs = (4, 1) if cell == "lstm" else (3, 2)
    inits = {f"{cell}.W": rng.normal(0, 0.4, (dirs, gates * HIDDEN, FEATURES)),
             f"{cell}.R": rng.normal(0, 0.4, (dirs, gates * HIDDEN, HIDDEN)),
             f"{cell}.B": rng.normal(0, 0.2, (dirs, 2 * gates * HIDDEN)),
             "fc.weight": rng.normal(0, 0.5, (10, dirs * HIDDEN)), "fc.bias": rng.normal(0, 0.1, 10)}
    n = helper.make_node
    attrs = {"hidden_size": HIDDEN}
    if dirs == 2:
        attrs["direction"] = "bidirectional"
    nodes = [n("Transpose", ["input"], ["seq"], perm=[1, 0, 2]),
             n(cell.upper(), ["seq", f"{cell}.W", f"{cell}.R", f"{cell}.B"], ["", "last"], **attrs),
             n("Transpose", ["last"], ["batch_major"], perm=[1, 0, 2]),
             n("Flatten", ["batch_major"], ["features"]),
             n("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], transB=1)]
    graph = helper.make_graph(
        nodes, cell, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", SEQ, FEATURES])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, path)


class LearnedFakeQuantize(torch.autograd.Function):
    """LSQ in float64, the rule of PyTorch's learnable fake quantization
    (which computes only in float32; check_torch_rule compares the two):
    dx is dy where round(x/s) + z stays in [qmin, qmax]; ds is g * dy times
    round(x/s) - x/s inside, qmin - z below, qmax - z above."""

    @staticmethod
    def forward(ctx, x, s, z, qmin, qmax, g, name):
        v = x / s
        r = torch.round(v)  # half to even, as nearbyint
        q = r + z
        ctx.save_for_backward(v, r, q, z, s)
        ctx.bounds = (qmin, qmax, g, name)
        return (torch.clamp(q, qmin, qmax) - z) * s

    @staticmethod
    def backward(ctx, dy):
        v, r, q, z, s = ctx.saved_tensors
        qmin, qmax, g, name = ctx.bounds
        low, high = q < qmin, q > qmax
        dx = torch.where(low | high, torch.zeros_like(dy), dy)
        ratio = torch.where(low, qmin - z, torch.where(high, qmax - z, r - v))
        ds = dy * ratio * g
        # The scale's gradient is a sum of terms of both signs that largely
        # cancel: float32 summation in any order is accurate relative to
        # the sum of their magnitudes, which the check uses.
        axes = [d for d in range(ds.dim()) if s.dim() == 0 or s.shape[d] == 1]
        SCALE_TERMS[name] = ds.abs().sum(dim=axes).detach().numpy().ravel()
        return dx, ds, None, None, None, None, None


SCALE_TERMS = {}  # scale name -> sum of |terms| of its gradient, per channel


def fake_quantize(x, scale, zero_point, qmin, qmax, axis, numel, exact, name):
    """Fake quantization with a learned scale and strata's gradient scale
    g = 1/sqrt(numel(x) * qmax), numel over the compiled batch. `exact`:
    LearnedFakeQuantize in float64, else PyTorch's own op (float32)."""
    g = 1.0 / np.sqrt(numel * qmax)
    if not exact:
        xf, sf, zf = x.float(), scale.float().reshape(-1), zero_point.detach().float().reshape(-1)
        if axis is None:
            y = torch._fake_quantize_learnable_per_tensor_affine(xf, sf, zf, qmin, qmax, g)
        else:
            y = torch._fake_quantize_learnable_per_channel_affine(xf, sf, zf, axis, qmin, qmax, g)
        return y.double()
    shape = [1] * x.dim()
    if axis is not None:
        shape[axis] = -1
    s = scale.reshape(shape) if axis is not None else scale
    z = zero_point.detach().reshape(shape) if axis is not None else zero_point.detach()
    return LearnedFakeQuantize.apply(x, s, z, qmin, qmax, g, name)


def qat_forward(w, x, exact=True):
    def act(t, name):
        full = t.numel() // t.shape[0] * BATCH  # strata's batch includes the padding
        return fake_quantize(t, w[name + "_scale"], w[name + "_zero_point"], 0, 255, None, full,
                             exact, name + "_scale")

    def weight(name, axis):
        t = w[name]
        return fake_quantize(t, w[name + "_scale"], w[name + "_zero_point"], -128, 127, axis,
                             t.numel(), exact, name + "_scale")

    h = act(x, "input")
    h = act(F.relu(F.conv2d(h, weight("conv.weight", 0), w["conv.bias"], padding=1)), "r")
    h = F.max_pool2d(h, 2, 2)
    return F.linear(torch.flatten(h, 1), weight("fc.weight", None), w["fc.bias"])


def make_qat_model(path):
    """What strata train --qat trains: Conv -> Relu -> MaxPool -> Gemm with a
    QDQ pair (uint8, per tensor) on the input and the Relu's output and one
    on each float weight (int8, per output channel for the Conv, per tensor
    for the Gemm), scales and zero points as initializers."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(11)
    inits = {"conv.weight": rng.normal(0, 0.3, (4, 1, 3, 3)), "conv.bias": rng.normal(0, 0.1, 4),
             "fc.weight": rng.normal(0, 0.05, (10, 4 * 14 * 14)), "fc.bias": rng.normal(0, 0.1, 10)}
    tensors = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()]
    scales = {"input": (np.float32(1 / 255), np.uint8(0)),
              "r": (np.float32(0.006), np.uint8(0)),
              "conv.weight": (np.abs(inits["conv.weight"]).max(axis=(1, 2, 3)).astype(np.float32) / 127,
                              np.zeros(4, np.int8)),
              "fc.weight": (np.float32(np.abs(inits["fc.weight"]).max() / 127), np.int8(0))}
    for k, (sc, zp) in scales.items():
        tensors.append(numpy_helper.from_array(np.array(sc, np.float32), k + "_scale"))
        tensors.append(numpy_helper.from_array(np.array(zp), k + "_zero_point"))
    n = helper.make_node

    def qdq(t, out, axis=None):
        extra = {} if axis is None else {"axis": axis}
        return [n("QuantizeLinear", [t, t + "_scale", t + "_zero_point"], [t + "_q"], **extra),
                n("DequantizeLinear", [t + "_q", t + "_scale", t + "_zero_point"], [out], **extra)]
    nodes = (qdq("input", "x") + qdq("conv.weight", "cw", 0) + qdq("fc.weight", "fw") +
             [n("Conv", ["x", "cw", "conv.bias"], ["c"], pads=[1, 1, 1, 1]), n("Relu", ["c"], ["r"])] +
             qdq("r", "rd") +
             [n("MaxPool", ["rd"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
              n("Flatten", ["p"], ["f"]),
              n("Gemm", ["f", "fw", "fc.bias"], ["logits"], transB=1)])
    graph = helper.make_graph(
        nodes, "qat", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


MODELS = {"mlp": (mlp_forward, (784,)), "lenet": (lenet_forward, (1, 28, 28)),
          "conv_bn_train": (bn_forward, (1, 28, 28)),
          "lstm": (lstm_forward, (SEQ, FEATURES)), "gru": (gru_forward, (SEQ, FEATURES)),
          "qat": (qat_forward, (1, 28, 28))}


def signature_names(lib):
    lines = signature(lib).split("\n")
    n = int(lines[1].split()[1])
    return [l.split("\t")[0] for l in lines[2:2 + n]]


def check(args, tmp, name):
    forward, shape = MODELS[name]
    model_path = os.path.join(args.examples, name + ".onnx")
    if name == "conv_bn_train":
        model_path = os.path.join(tmp, name + ".onnx")
        make_bn_model(model_path)
    elif name in ("lstm", "gru"):
        model_path = os.path.join(tmp, name + ".onnx")
        make_recurrent_model(model_path, name)
    elif name == "qat":
        model_path = os.path.join(tmp, name + ".onnx")
        make_qat_model(model_path)
    fwd, grad, so = (os.path.join(tmp, name + s) for s in (".mlir", ".grad.mlir", ".so"))
    for cmd in ([args.strata, "compile", model_path, "--emit=nn", f"--batch={BATCH}",
                 "--print-weights", "-o", fwd],
                [args.strata_opt, fwd] + (["--strata-fake-quantize"] if name == "qat" else []) +
                ["--strata-build-training-step=gradients-only=true", "-o", grad],
                [args.strata, "compile", grad, "-o", so]):
        subprocess.run(cmd, check=True, capture_output=True)
    weights = {i.name: numpy_helper.to_array(i).astype(np.float32)
               for i in onnx.load(model_path).graph.initializer}
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, size=(BATCH,) + shape).astype(np.float32)
    labels = rng.integers(0, 10, size=BATCH).astype(np.int64)
    mask = np.ones(BATCH, np.float32)
    mask[-3:] = 0  # a partial last batch: three padding samples
    lib = ctypes.CDLL(so)
    names = signature_names(lib)
    read = names[:-3]  # parameters, then batch-norm running statistics
    stats = [p for p in read if "running" in p]
    params = [p for p in read if p not in stats]
    inputs = [np.ascontiguousarray(weights[p]) for p in read] + [x, labels, mask]
    outputs = ([np.zeros((), np.float32)] + [np.zeros_like(weights[p]) for p in params] +
               [np.zeros_like(weights[p]) for p in stats])
    assert Runner(lib)(inputs + outputs) == 0

    # The reference computes in float64. PyTorch sees only the real samples:
    # strata's masked batch must match it.
    w = {k: torch.tensor(v.astype(np.float64), requires_grad="running" not in k and k in params)
         for k, v in weights.items()}
    real = int(mask.sum())
    logits = forward(w, torch.tensor(x[:real].astype(np.float64)))
    loss = F.cross_entropy(logits, torch.tensor(labels[:real]))
    loss.backward()
    worst, failures = 0.0, []
    if name == "qat":
        # The float64 rule is PyTorch's: its own learnable fake quantization
        # (float32) gives the same gradients.
        terms = dict(SCALE_TERMS)
        w32 = {k: v.detach().clone().requires_grad_(v.requires_grad) for k, v in w.items()}
        F.cross_entropy(forward(w32, torch.tensor(x[:real].astype(np.float64)), exact=False),
                        torch.tensor(labels[:real])).backward()
        for p in params:
            ref, own = w[p].grad.numpy(), w32[p].grad.numpy()
            err = (np.max(np.abs(own - ref).ravel() / terms[p]) if p in terms
                   else np.max(np.abs(own - ref)) / np.max(np.abs(ref)))
            if not err <= TOLERANCE:
                failures.append(f"{p}: the float64 rule differs from torch's learnable fake "
                                f"quantization by {err:.2e}")
        SCALE_TERMS.clear()
        SCALE_TERMS.update(terms)
    loss_err = abs(float(outputs[0]) - loss.item()) / abs(loss.item())
    if loss_err > TOLERANCE:
        failures.append(f"loss {float(outputs[0])} vs PyTorch {loss.item()}")
    for p, g in zip(stats, outputs[1 + len(params):]):
        ref = w[p].detach().numpy()  # updated in place by F.batch_norm
        err = np.max(np.abs(g - ref)) / np.max(np.abs(ref))
        worst = max(worst, err)
        if not err <= TOLERANCE:
            failures.append(f"{p} (running statistic): relative error {err:.2e}")
    # A bias before a training-mode batch norm has a zero gradient in exact
    # arithmetic: strata's (float32 rounding) must be negligible next to the
    # model's largest gradient instead.
    largest = max(float(np.max(np.abs(w[p].grad.numpy()))) for p in params)
    for p, g in zip(params, outputs[1:]):
        ref = w[p].grad.numpy()
        if np.max(np.abs(ref)) < 1e-9 * largest:
            if np.max(np.abs(g)) > 1e-3 * largest:
                failures.append(f"{p}: zero gradient expected, strata has {np.max(np.abs(g)):.2e}")
            continue
        if p in SCALE_TERMS:
            err = np.max(np.abs(g - ref).ravel() / SCALE_TERMS[p])
        else:
            err = np.max(np.abs(g - ref)) / np.max(np.abs(ref))
        worst = max(worst, err)
        if not err <= TOLERANCE:
            failures.append(f"{p}: relative error {err:.2e}\n      strata {g.ravel()[:6]}\n      torch  {ref.ravel()[:6]}")
    return worst, failures, len(params)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strata", required=True)
    ap.add_argument("--strata-opt", required=True)
    ap.add_argument("--examples", required=True, help="folder with mlp.onnx and lenet.onnx")
    args = ap.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            worst, failures, count = check(args, tmp, name)
            status = "FAIL" if failures else "ok"
            print(f"{status} {name}: {count} parameter gradients (and running statistics), max relative error "
                  f"{worst:.1e} vs PyTorch {torch.__version__}")
            for f in failures:
                print("   ", f)
            failed |= bool(failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
