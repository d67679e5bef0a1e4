#!/usr/bin/env python3
"""Single-Conv models and a float64 NumPy reference for them.

Usage: conv_reference.py make OUT.onnx X.npy N C H W M KH KW STRIDE PAD DILATION GROUP BIAS [RELU [RESIDUAL]]
       conv_reference.py check MODEL.onnx X.npy Y.npy
`make` writes the model (random weights, seed 0) and an input, with
RESIDUAL the convolution's input added to its output before the relu (as
in a ResNet block; needs C = M and a same-size output); `check`
recomputes the convolution from the model's initializers by direct
summation and passes when max|diff| <= 1e-4 * max|ref|.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper


def make(out, xpath, n, c, hh, ww, m, kh, kw, stride, pad, dil, group, bias, relu=0,
         residual=0):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((m, c // group, kh, kw)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w")]
    inputs = ["x", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(m).astype(np.float32), "b"))
        inputs.append("b")
    conv_out = "c" if residual else "z" if relu else "y"
    nodes = [h.make_node("Conv", inputs, [conv_out], strides=[stride] * 2,
                         pads=[pad] * 4, dilations=[dil] * 2, group=group)]
    if residual:
        nodes.append(h.make_node("Add", ["c", "x"], ["z" if relu else "y"]))
    if relu:
        nodes.append(h.make_node("Relu", ["z"], ["y"]))
    oh = (hh + 2 * pad - dil * (kh - 1) - 1) // stride + 1
    ow = (ww + 2 * pad - dil * (kw - 1) - 1) // stride + 1
    g = h.make_graph(nodes, "conv", [h.make_tensor_value_info("x", T.FLOAT, [n, c, hh, ww])],
                     [h.make_tensor_value_info("y", T.FLOAT, [n, m, oh, ow])], inits)
    model = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, out)
    np.save(xpath, rng.random((n, c, hh, ww), dtype=np.float32))


def reference(model_path, x):
    model = onnx.load(model_path)
    init = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    node = model.graph.node[0]
    a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
    s, p, d, g = a["strides"][0], a["pads"][0], a["dilations"][0], a["group"]
    w = init["w"]
    m, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    n, _, hp, wp = xp.shape
    oh = (hp - d * (kh - 1) - 1) // s + 1
    ow = (wp - d * (kw - 1) - 1) // s + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // g
    for o in range(m):
        grp = o // mg
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, grp * cg:(grp + 1) * cg, i * d:i * d + s * (oh - 1) + 1:s,
                           j * d:j * d + s * (ow - 1) + 1:s]
                y[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, i, j])
    if "b" in init:
        y += init["b"][None, :, None, None]
    if any(nd.op_type == "Add" for nd in model.graph.node):
        y += x
    if any(nd.op_type == "Relu" for nd in model.graph.node):
        y = np.maximum(y, 0)
    return y


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:19]))
        return
    ref = reference(sys.argv[2], np.load(sys.argv[3]))
    got = np.load(sys.argv[4])
    if got.shape != ref.shape:
        raise SystemExit(f"shape {got.shape} != reference {ref.shape}")
    err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30)
    print("match" if err <= 1e-4 else "MISMATCH", f"rel_err={err:.2e}")


if __name__ == "__main__":
    main()
