#!/usr/bin/env python3
"""Checks for strata opt's ONNX output.

Usage: opt_check.py structure IN.onnx OUT.onnx
         the ONNX checker passes on OUT, whose graph inputs and outputs have
         IN's names, element types and shapes; prints OUT's op types
       opt_check.py input MODEL.onnx X.npy [BATCH]
         writes a random input (seed 0) for MODEL's single input, symbolic
         dimensions of size BATCH (default 1)
       opt_check.py compare DIR_A DIR_B
         every .npy in DIR_A equals DIR_B's of the same name within 1e-5 x
         max|a| (prints "match")
       opt_check.py ort MODEL.onnx X.npy DIR
         where the pip onnxruntime is importable, MODEL under it gives DIR's
         outputs ("onnxruntime: match"); else "onnxruntime: not installed"
"""
import os
import sys

import numpy as np
import onnx


def io_types(graph):
    def one(v):
        t = v.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        return v.name, t.elem_type, dims
    return [one(v) for v in graph.input], [one(v) for v in graph.output]


def structure(src, out):
    a, b = onnx.load(src), onnx.load(out)
    onnx.checker.check_model(b)
    initializers = {i.name for i in a.graph.initializer}
    ins_a, outs_a = io_types(a.graph)
    ins_a = [v for v in ins_a if v[0] not in initializers]
    ins_b, outs_b = io_types(b.graph)
    if (ins_a, outs_a) != (ins_b, outs_b):
        print(f"inputs/outputs differ: {ins_a, outs_a} vs {ins_b, outs_b}")
        return
    print("ops:", " ".join(n.op_type for n in b.graph.node))


def make_input(model, path, batch=1):
    m = onnx.load(model)
    initializers = {i.name for i in m.graph.initializer}
    (v,) = [v for v in m.graph.input if v.name not in initializers]
    shape = [d.dim_value if d.dim_value else batch for d in v.type.tensor_type.shape.dim]
    np.save(path, np.random.default_rng(0).standard_normal(shape).astype(np.float32))


def compare(da, db):
    for name in sorted(os.listdir(da)):
        a, b = np.load(os.path.join(da, name)), np.load(os.path.join(db, name))
        if a.shape != b.shape or np.abs(a - b).max() > 1e-5 * max(np.abs(a).max(), 1e-30):
            print(f"{name} differs: max|diff| {np.abs(a - b).max()}")
            return
    print("match")


def ort(model, xpath, d):
    try:
        import onnxruntime
    except ImportError:
        print("onnxruntime: not installed")
        return
    s = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    outs = s.run(None, {s.get_inputs()[0].name: np.load(xpath)})
    for o, v in zip(s.get_outputs(), outs):
        y = np.load(os.path.join(d, o.name + ".npy"))
        if np.abs(y - v).max() > 1e-4 * max(np.abs(v).max(), 1e-30):
            print(f"onnxruntime: {o.name} differs by {np.abs(y - v).max()}")
            return
    print("onnxruntime: match")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "structure":
        structure(*args)
    elif cmd == "input":
        make_input(args[0], args[1], *(int(a) for a in args[2:]))
    elif cmd == "compare":
        compare(*args)
    else:
        ort(*args)
