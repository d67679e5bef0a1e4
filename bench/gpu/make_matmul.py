#!/usr/bin/env python3
"""Writes an ONNX model of one N x N x N fp32 MatMul of two inputs (the GPU
matmul benchmark's model). Usage: make_matmul.py OUT.onnx [N]"""
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])
b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])
c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])
graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"], name="matmul")],
                          "matmul", [a, b], [c])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), out)
