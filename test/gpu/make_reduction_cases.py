#!/usr/bin/env python3
"""ONNX test cases with long reductions, in the layout of ONNX's node tests
(CASE/model.onnx, CASE/test_data_set_0/{input,output}_N.pb), for the GPU's
warp reductions, which the conformance suite's small shapes do not reach.
Expected outputs are computed with NumPy in float64.
Usage: make_reduction_cases.py OUT_DIR   (writes OUT_DIR/node/<case>/)"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def case(root, name, node, inputs, outputs, expected, opset=13):
    d = os.path.join(root, "node", name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs]
    vo = [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape)
          for n, a in zip(outputs, expected)]
    graph = helper.make_graph([node], name, vi, vo)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
              os.path.join(d, "model.onnx"))
    for i, (n, a) in enumerate(inputs):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
    for i, (n, a) in enumerate(zip(outputs, expected)):
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a.astype(np.float32), n).SerializeToString())


def main():
    root = sys.argv[1]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1000)).astype(np.float32)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(1, keepdims=True))
    case(root, "gpu_softmax_1000", helper.make_node("Softmax", ["x"], ["y"], axis=1),
         [("x", x)], ["y"], [e / e.sum(1, keepdims=True)])
    case(root, "gpu_log_softmax_1000", helper.make_node("LogSoftmax", ["x"], ["y"], axis=1),
         [("x", x)], ["y"], [np.log(e / e.sum(1, keepdims=True))])
    case(root, "gpu_reduce_max_1000",
         helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=0),
         [("x", x)], ["y"], [x64.max(1)])
    case(root, "gpu_reduce_min_1000",
         helper.make_node("ReduceMin", ["x"], ["y"], axes=[1], keepdims=0),
         [("x", x)], ["y"], [x64.min(1)])
    case(root, "gpu_reduce_l2_1000",
         helper.make_node("ReduceL2", ["x"], ["y"], axes=[1], keepdims=1),
         [("x", x)], ["y"], [np.sqrt((x64 ** 2).sum(1, keepdims=True))])
    big = rng.standard_normal((64, 3, 50, 50)).astype(np.float32)
    case(root, "gpu_reduce_mean_all",
         helper.make_node("ReduceMean", ["x"], ["y"], keepdims=0),
         [("x", big)], ["y"], [np.array(big.astype(np.float64).mean())])
    case(root, "gpu_reduce_sum_middle",
         helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0),
         [("x", big)], ["y"], [big.astype(np.float64).sum(axis=(1, 3))])
    # ReduceSum takes axes as an input from opset 13: add it as an initializer.
    path = os.path.join(root, "node", "gpu_reduce_sum_middle", "model.onnx")
    m = onnx.load(path)
    m.graph.initializer.append(numpy_helper.from_array(np.array([1, 3], np.int64), "axes"))
    onnx.save(m, path)
    pool = rng.standard_normal((4, 512, 7, 7)).astype(np.float32)
    case(root, "gpu_global_average_pool",
         helper.make_node("GlobalAveragePool", ["x"], ["y"]),
         [("x", pool)], ["y"], [pool.astype(np.float64).mean(axis=(2, 3), keepdims=True)])


if __name__ == "__main__":
    main()
