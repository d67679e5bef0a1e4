#!/usr/bin/env python3
"""Small ONNX models for the importer's lit tests, built with onnx.helper.

Usage: onnx_models.py NAME OUT.onnx   (run `onnx_models.py --list` for names)

Each model exercises one importer behaviour; the .test files say what they
check. Models that are meant to be invalid skip the ONNX checker here so that
strata's own error handling is what gets tested.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

MODELS = {}


def model(fn):
    MODELS[fn.__name__] = fn
    return fn


def vi(name, shape, dtype=T.FLOAT):
    """A graph input/output; shape None leaves the whole type to inference."""
    if shape is None:
        return h.make_empty_tensor_value_info(name)
    return h.make_tensor_value_info(name, dtype, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def make(nodes, inputs, outputs, inits=(), opset=13, check=True):
    graph = h.make_graph(nodes, "test", inputs, outputs, list(inits))
    m = h.make_model(graph, producer_name="strata-tests",
                     opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 7
    if check:
        # Outputs declared without a shape get the inferred one, as exporters do.
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        onnx.checker.check_model(m)
    return m


def unary_chain_nodes():
    ops = ["Sqrt", "Exp", "Log", "Neg", "Abs", "Relu", "Sigmoid", "Tanh"]
    nodes, prev = [], "x"
    for i, op in enumerate(ops):
        nodes.append(h.make_node(op, [prev], [f"u{i}"], name=op.lower()))
        prev = f"u{i}"
    nodes.append(h.make_node("LeakyRelu", [prev], ["y"], name="leaky", alpha=0.2))
    return nodes


# --- elementwise -------------------------------------------------------------
@model
def add_broadcast(_):
    return make([h.make_node("Add", ["x", "b"], ["y"], name="add")],
                [vi("x", [2, 3, 4]), vi("b", [4])], [vi("y", None)])


@model
def binary_ops(_):
    nodes = [h.make_node(op, ["x", "y"], [op.lower()], name=op.lower())
             for op in ["Sub", "Mul", "Div", "Pow"]]
    return make(nodes, [vi("x", [3, 1]), vi("y", [1, 5])],
                [vi(op.lower(), None) for op in ["Sub", "Mul", "Div", "Pow"]])


@model
def pow_int_exponent(_):
    return make([h.make_node("Pow", ["x", "e"], ["y"], name="pow")],
                [vi("x", [3]), vi("e", [3], T.INT64)], [vi("y", None)])


@model
def gradient_op(_):
    """ai.onnx.preview.training Gradient: d(a*b + a)/da and /db."""
    nodes = [h.make_node("Mul", ["a", "b"], ["ab"]),
             h.make_node("Add", ["ab", "a"], ["c"]),
             h.make_node("Gradient", ["a", "b"], ["dc_da", "dc_db"], xs=["a", "b"], y="c",
                         domain="ai.onnx.preview.training")]
    graph = h.make_graph(nodes, "test", [vi("a", [3]), vi("b", [3])],
                         [vi("c", [3]), vi("dc_da", [3]), vi("dc_db", [3])])
    m = h.make_model(graph, producer_name="strata-tests",
                     opset_imports=[h.make_opsetid("", 13),
                                    h.make_opsetid("ai.onnx.preview.training", 1)])
    m.ir_version = 7
    return m


@model
def unary_chain(_):
    return make(unary_chain_nodes(), [vi("x", [4, 8])], [vi("y", None)])


@model
def clip_opset6(_):
    return make([h.make_node("Clip", ["x"], ["y"], name="relu6", min=0.0, max=6.0)],
                [vi("x", [4])], [vi("y", None)], opset=9)


@model
def clip_opset13(_):
    return make([h.make_node("Clip", ["x", "lo", ""], ["y"], name="clip")],
                [vi("x", [4])], [vi("y", None)],
                [init("lo", np.float32(-1.5))])


@model
def softmax_opset11(_):
    return make([h.make_node("Softmax", ["x"], ["y"], name="sm", axis=1)],
                [vi("x", [2, 3, 4])], [vi("y", None)], opset=11)


@model
def softmax_opset13(_):
    return make([h.make_node("Softmax", ["x"], ["y"], name="sm"),
                 h.make_node("LogSoftmax", ["x"], ["z"], name="lsm", axis=1)],
                [vi("x", [2, 3, 4])], [vi("y", None), vi("z", None)])


@model
def softmax_1000(_):
    """A classifier's last layer: softmax over 1000 classes of one image."""
    return make([h.make_node("Softmax", ["x"], ["y"], name="sm", axis=1)],
                [vi("x", [1, 1000])], [vi("y", None)])


# --- neural-network ops ------------------------------------------------------
@model
def conv_same_upper(_):
    w = np.ones((8, 3, 3, 3), np.float32)
    return make([h.make_node("Conv", ["x", "w"], ["y"], name="conv",
                             auto_pad="SAME_UPPER", strides=[2, 2])],
                [vi("x", [1, 3, 7, 7])], [vi("y", None)], [init("w", w)])


@model
def conv_depthwise(_):
    w = np.ones((4, 1, 3, 3), np.float32)
    b = np.zeros((4,), np.float32)
    return make([h.make_node("Conv", ["x", "w", "b"], ["y"], name="dw",
                             group=4, dilations=[2, 2], pads=[2, 2, 2, 2])],
                [vi("x", ["N", 4, 8, 8])], [vi("y", None)], [init("w", w), init("b", b)])


@model
def residual_block(_):
    """A ResNet-style block on 16 and 32 channels (multiples of AVX-512's 16
    floats): conv, relu, max pool, conv + residual add, relu, 1x1 conv."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((32, 16, 3, 3)).astype(np.float32) * 0.1
    w2 = rng.standard_normal((32, 32, 3, 3)).astype(np.float32) * 0.1
    w3 = rng.standard_normal((16, 32, 1, 1)).astype(np.float32) * 0.1
    b = np.zeros((32,), np.float32)
    return make([h.make_node("Conv", ["x", "w1", "b"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
                 h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
                 h.make_node("MaxPool", ["r1"], ["p"], name="pool", kernel_shape=[2, 2],
                             strides=[2, 2]),
                 h.make_node("Conv", ["p", "w2", "b"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
                 h.make_node("Add", ["c2", "p"], ["s"], name="add"),
                 h.make_node("Relu", ["s"], ["r2"], name="relu2"),
                 h.make_node("Conv", ["r2", "w3"], ["y"], name="conv3")],
                [vi("x", [1, 16, 32, 32])], [vi("y", None)],
                [init("w1", w1), init("w2", w2), init("w3", w3), init("b", b)])


@model
def sparse_mlp(_):
    """Two fully connected layers, the second as pruning leaves it: 72 of
    its 80 weights zero (every position not divisible by 10)."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((20, 8)).astype(np.float32)
    w2 = rng.standard_normal((4, 20)).astype(np.float32)
    w2.reshape(-1)[np.arange(80) % 10 != 0] = 0.0
    return make([h.make_node("Gemm", ["x", "w1"], ["h"], name="fc1", transB=1),
                 h.make_node("Relu", ["h"], ["r"], name="relu"),
                 h.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2", transB=1)],
                [vi("x", [1, 8])], [vi("y", None)],
                [init("w1", w1), init("w2", w2), init("b2", np.zeros(4, np.float32))])


@model
def conv_gradient(_):
    """ai.onnx.preview.training Gradient of a convolution by its weight: the
    imported graph holds nn.conv_filter_grad, which has no ONNX form."""
    w = np.random.default_rng(0).standard_normal((2, 1, 3, 3)).astype(np.float32)
    nodes = [h.make_node("Conv", ["x", "w"], ["y"], name="conv"),
             h.make_node("Gradient", ["x", "w"], ["dy_dx", "dy_dw"], xs=["x", "w"], y="y",
                         domain="ai.onnx.preview.training")]
    graph = h.make_graph(nodes, "test", [vi("x", [1, 1, 5, 5]), vi("w", [2, 1, 3, 3])],
                         [vi("y", [1, 2, 3, 3]), vi("dy_dx", [1, 1, 5, 5]),
                          vi("dy_dw", [2, 1, 3, 3])], [init("w", w)])
    m = h.make_model(graph, producer_name="strata-tests",
                     opset_imports=[h.make_opsetid("", 13),
                                    h.make_opsetid("ai.onnx.preview.training", 1)])
    m.ir_version = 7
    return m


@model
def no_weights(_):
    """A classifier-shaped graph with nothing to train: relu of the input."""
    return make([h.make_node("Relu", ["x"], ["y"], name="relu")],
                [vi("x", ["N", 784])], [vi("y", None)])


@model
def pools(_):
    return make([h.make_node("MaxPool", ["x"], ["m"], name="maxpool", kernel_shape=[2, 2],
                             strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
                 h.make_node("AveragePool", ["x"], ["a"], name="avgpool", kernel_shape=[3, 3],
                             pads=[1, 1, 1, 1], count_include_pad=1),
                 h.make_node("GlobalAveragePool", ["x"], ["g"], name="gap"),
                 h.make_node("GlobalMaxPool", ["x"], ["gm"], name="gmp")],
                [vi("x", [1, 2, 5, 5])],
                [vi("m", None), vi("a", None), vi("g", None), vi("gm", None)])


@model
def batch_norm(_):
    c = np.ones((3,), np.float32)
    return make([h.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                             name="bn", epsilon=1e-3)],
                [vi("x", [2, 3, 4, 4])], [vi("y", None)],
                [init("s", c), init("b", c), init("m", c), init("v", c)])


@model
def conv_batch_norm(_):
    """Conv -> BatchNormalization -> Relu, with a constant folded into the bias."""
    rng = np.random.default_rng(0)
    c = lambda: rng.uniform(0.5, 1.5, (8,)).astype(np.float32)  # noqa: E731
    return make([h.make_node("Mul", ["b0", "two"], ["b"], name="bias_scale"),
                 h.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                 h.make_node("BatchNormalization", ["c", "s", "beta", "m", "v"], ["n"],
                             name="bn"),
                 h.make_node("Relu", ["n"], ["y"], name="relu")],
                [vi("x", ["N", 3, 8, 8])], [vi("y", None)],
                [init("w", rng.standard_normal((8, 3, 3, 3)).astype(np.float32)),
                 init("b0", c()), init("two", np.full((8,), 2, np.float32)),
                 init("s", c()), init("beta", c()), init("m", c()), init("v", c())])


@model
def gemm_matmul(_):
    return make([h.make_node("Gemm", ["a", "b", "c"], ["g"], name="gemm", transA=1,
                             alpha=0.5),
                 h.make_node("MatMul", ["v", "m"], ["mm"], name="matmul")],
                [vi("a", [4, 2]), vi("b", [4, 5]), vi("c", [1]),
                 vi("v", [3]), vi("m", [7, 3, 6])],
                [vi("g", None), vi("mm", None)])


# --- tensor ops --------------------------------------------------------------
@model
def reshape_family(_):
    return make([h.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
                 h.make_node("Flatten", ["x"], ["f"], name="flatten", axis=2),
                 h.make_node("Unsqueeze", ["x", "axes"], ["u"], name="unsqueeze"),
                 h.make_node("Squeeze", ["u", "axes"], ["s"], name="squeeze")],
                [vi("x", [2, 3, 4])],
                [vi("r", None), vi("f", None), vi("u", None), vi("s", None)],
                [init("shape", np.array([0, -1], np.int64)),
                 init("axes", np.array([1], np.int64))])


@model
def transpose_concat(_):
    return make([h.make_node("Transpose", ["x"], ["t"], name="transpose"),
                 h.make_node("Concat", ["x", "x"], ["c"], name="concat", axis=-1)],
                [vi("x", [2, 3, 4])], [vi("t", None), vi("c", None)])


@model
def slice_gather(_):
    return make([h.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["s"],
                             name="slice"),
                 h.make_node("Gather", ["x", "idx"], ["g"], name="gather", axis=1)],
                [vi("x", [4, 10])], [vi("s", None), vi("g", None)],
                [init("starts", np.array([-1, 1], np.int64)),
                 init("ends", np.array([-1000, 2**62], np.int64)),
                 init("axes", np.array([0, 1], np.int64)),
                 init("steps", np.array([-1, 3], np.int64)),
                 init("idx", np.array([[0, 9], [-1, 2]], np.int64))])


@model
def pad_cast(_):
    return make([h.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="reflect"),
                 h.make_node("Cast", ["x"], ["c"], name="cast", to=T.FLOAT16)],
                [vi("x", [3, 4])], [vi("p", None), vi("c", None)],
                [init("pads", np.array([0, 1, 0, 2], np.int64))])


@model
def constants_identity(_):
    return make([h.make_node("Constant", [], ["k"], name="k", value_floats=[1.0, 2.0]),
                 h.make_node("Add", ["x", "k"], ["a"], name="add"),
                 h.make_node("Identity", ["a"], ["i"], name="identity"),
                 h.make_node("Dropout", ["i"], ["y"], name="dropout")],
                [vi("x", [2])], [vi("y", None)])


@model
def reductions(_):
    return make([h.make_node("ReduceSum", ["x", "axes"], ["s"], name="sum"),
                 h.make_node("ReduceMean", ["x"], ["m"], name="mean", axes=[-1], keepdims=0),
                 h.make_node("ReduceMax", ["x"], ["mx"], name="max"),
                 h.make_node("ReduceMin", ["x"], ["mn"], name="min", axes=[0, 2])],
                [vi("x", [2, 3, 4])],
                [vi("s", None), vi("m", None), vi("mx", None), vi("mn", None)],
                [init("axes", np.array([2, 0], np.int64))])


# --- code generation -----------------------------------------------------------
@model
def elementwise_chain(_):
    # Six elementwise ops on 1M floats: fused into one loop nest.
    n = h.make_node
    return make([n("Add", ["x", "y"], ["a"], name="add"),
                 n("Mul", ["a", "two"], ["b"], name="mul"),
                 n("Sub", ["b", "y"], ["c"], name="sub"),
                 n("Relu", ["c"], ["d"], name="relu"),
                 n("Div", ["d", "three"], ["e"], name="div"),
                 n("Max", ["e", "y"], ["z"], name="max")],
                [vi("x", [1024, 1024]), vi("y", [1024, 1024])], [vi("z", None)],
                [init("two", np.float32(2.0)), init("three", np.float32(3.0))])


@model
def matmul_256(_):
    w = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
    return make([h.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                [vi("x", [256, 256])], [vi("y", None)], [init("w", w)])


@model
def odd_output_name(_):
    return make([h.make_node("Relu", ["x"], ["scores/0:relu 1"], name="relu")],
                [vi("x", [4])], [vi("scores/0:relu 1", None)])


# --- weights -----------------------------------------------------------------
@model
def large_weight(_):
    # 1 x 300 ones: above the 1 KiB threshold, so a dense_resource blob.
    w = np.ones((300, 1), np.float32)
    return make([h.make_node("MatMul", ["x", "w"], ["y"], name="fc")],
                [vi("x", [2, 300])], [vi("y", None)], [init("w", w)])


@model
def external_weight(path):
    m = MODELS["large_weight"](path)
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=os.path.basename(path) + ".data", size_threshold=0)
    return None


# --- invalid or unsupported ----------------------------------------------------
@model
def unsupported_op(_):
    return make([h.make_node("Relu", ["x"], ["r"], name="first"),
                 h.make_node("Shrink", ["r"], ["y"], name="my_shrink")],
                [vi("x", [4])], [vi("y", None)])


@model
def unsupported_output(_):
    return make([h.make_node("MaxPool", ["x"], ["y", "idx"], name="pool_with_indices",
                             kernel_shape=[2, 2])],
                [vi("x", [1, 1, 4, 4])], [vi("y", None), vi("idx", None)])


@model
def bad_auto_pad(_):
    return make([h.make_node("Conv", ["x", "w"], ["y"], name="conv", auto_pad="SAME_MIDDLE")],
                [vi("x", [1, 1, 4, 4]), vi("w", [1, 1, 3, 3])], [vi("y", [1, 1, 2, 2])], check=False)


@model
def opset_too_new(_):
    return make([h.make_node("Relu", ["x"], ["y"], name="relu")],
                [vi("x", [4])], [vi("y", [4])], opset=18, check=False)


@model
def opset_too_old(_):
    return make([h.make_node("Relu", ["x"], ["y"], name="relu")],
                [vi("x", [4])], [vi("y", [4])], opset=6, check=False)


@model
def shape_unknown(_):
    # The target shape is computed at run time, so not even the rank is known.
    return make([h.make_node("Reshape", ["x", "s"], ["r"], name="dynamic_reshape"),
                 h.make_node("Relu", ["r"], ["y"], name="relu")],
                [vi("x", [2, 3]), vi("s", [None], T.INT64)], [vi("y", ["a", "b"])], check=False)


@model
def custom_domain(_):
    m = make([h.make_node("Fancy", ["x"], ["y"], name="fancy", domain="com.example")],
             [vi("x", [4])], [vi("y", [4])], check=False)
    m.opset_import.append(h.make_opsetid("com.example", 1))
    return m


@model
def inconsistent_shapes(_):
    # Shape inference cannot merge [2,3] + [4]; strict mode reports it.
    return make([h.make_node("Add", ["x", "y"], ["z"], name="bad_add")],
                [vi("x", [2, 3]), vi("y", [4])], [vi("z", [2, 3])], check=False)


@model
def matmul_1d_1d(_):
    # ONNX's test_matmul_1d_1d: a dot product with a scalar result.
    return make([h.make_node("MatMul", ["a", "b"], ["y"], name="dot")],
                [vi("a", [3]), vi("b", [3])], [vi("y", None)])


@model
def gather_input_indices(_):
    # Indices that arrive at run time: the compiled program must check them.
    return make([h.make_node("Gather", ["x", "idx"], ["y"], name="pick", axis=0)],
                [vi("x", [5, 3]), vi("idx", [4], T.INT64)], [vi("y", None)])


@model
def clashing_output_names(_):
    # Two outputs whose names give the same file name (a_b).
    return make([h.make_node("Relu", ["x"], ["a/b"], name="r"),
                 h.make_node("Neg", ["x"], ["a:b"], name="n")],
                [vi("x", [3])], [vi("a/b", None), vi("a:b", None)])


@model
def huge_intermediate(_):
    # Small input and output, a 1 TiB tensor between them.
    return make([h.make_node("Expand", ["x", "s"], ["big"], name="expand"),
                 h.make_node("ReduceSum", ["big"], ["y"], name="sum", keepdims=0)],
                [vi("x", [1])], [vi("y", None)],
                [init("s", np.array([2**38], np.int64))])


@model
def qdq_per_axis(_):
    """Per-channel QuantizeLinear (int8, axis 1) then DequantizeLinear, and a
    per-tensor uint8 pair without a zero point."""
    s = np.array([0.5, 0.25, 0.125], np.float32)
    z = np.array([0, 1, -1], np.int8)
    return make([h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q", axis=1),
                 h.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq", axis=1),
                 h.make_node("QuantizeLinear", ["x", "t"], ["u"], name="qu"),
                 h.make_node("DequantizeLinear", ["u", "t"], ["v"], name="dqu")],
                [vi("x", [2, 3, 4])], [vi("y", None), vi("v", None)],
                [init("s", s), init("z", z), init("t", np.array(0.1, np.float32))])


def bad_scale(value):
    return make([h.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="quant_in")],
                [vi("x", [4])], [vi("q", None)],
                [init("s", np.array(value, np.float32)), init("z", np.array(3, np.uint8))])


@model
def zero_scale(_):
    return bad_scale(0.0)


@model
def nan_scale(_):
    return bad_scale(float("nan"))


@model
def per_axis_length_mismatch(_):
    return make([h.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], name="dq_w", axis=0)],
                [vi("x", [4, 2], T.INT8)], [vi("y", None)],
                [init("s", np.ones(3, np.float32)), init("z", np.zeros(3, np.int8))])


@model
def int32_zero_point(_):
    return make([h.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], name="dq_bias")],
                [vi("x", [4], T.INT32)], [vi("y", None)],
                [init("s", np.array(0.5, np.float32)), init("z", np.array(2, np.int32))])


@model
def integer_contractions(_):
    """MatMulInteger with a uint8 zero point, and ConvInteger without."""
    w = np.arange(-4, 4, dtype=np.int8).reshape(4, 2)
    k = np.ones((2, 1, 3, 3), np.int8)
    return make([h.make_node("MatMulInteger", ["a", "w", "az"], ["y"], name="mmi"),
                 h.make_node("ConvInteger", ["x", "k"], ["c"], name="ci", pads=[1, 1, 1, 1])],
                [vi("a", [3, 4], T.UINT8), vi("x", [1, 1, 5, 5], T.UINT8)],
                [vi("y", None), vi("c", None)],
                [init("w", w), init("az", np.array(128, np.uint8)), init("k", k)], opset=10)


@model
def qdq_conv(_):
    """A convolution as ONNX Runtime's quantize_static writes it: uint8
    activations (input zero point 128), per-channel int8 weights, an int32
    bias with scale x_scale * w_scale, Relu folded into the output range."""
    rng = np.random.default_rng(3)
    ws = np.linspace(0.01, 0.02, 8).astype(np.float32)
    nodes = [h.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="quant_x"),
             h.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dq_x"),
             h.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], name="dq_w", axis=0),
             h.make_node("DequantizeLinear", ["b", "bs", "bz"], ["bd"], name="dq_b", axis=0),
             h.make_node("Conv", ["xd", "wd", "bd"], ["y"], name="conv", pads=[1, 1, 1, 1]),
             h.make_node("Relu", ["y"], ["r"], name="relu"),
             h.make_node("QuantizeLinear", ["r", "ys", "yz"], ["yq"], name="quant_y"),
             h.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["out"], name="dq_y")]
    inits = [init("xs", np.array(0.02, np.float32)), init("xz", np.array(128, np.uint8)),
             init("w", rng.integers(-127, 128, (8, 4, 3, 3)).astype(np.int8)), init("ws", ws),
             init("wz", np.zeros(8, np.int8)),
             init("b", rng.integers(-500, 500, 8).astype(np.int32)),
             init("bs", (np.float32(0.02) * ws).astype(np.float32)), init("bz", np.zeros(8, np.int32)),
             init("ys", np.array(0.05, np.float32)), init("yz", np.array(0, np.uint8))]
    return make(nodes, [vi("x", [1, 4, 6, 6])], [vi("out", [1, 8, 6, 6])], inits)


@model
def hardmax_legacy(_):
    """Hardmax at opset 11: the input flattened to 2-D at axis 1."""
    return make([h.make_node("Hardmax", ["x"], ["y"], name="hardmax")],
                [vi("x", [2, 3, 4])], [vi("y", None)], opset=11)


# --- resize --------------------------------------------------------------------
@model
def resize_modes(_):
    """Nearest x2 by constant scales, and linear (align_corners) to sizes."""
    return make([h.make_node("Resize", ["x", "", "scales"], ["near"], name="nearest", mode="nearest"),
                 h.make_node("Resize", ["x", "", "", "sizes"], ["lin"], name="linear", mode="linear",
                             coordinate_transformation_mode="align_corners")],
                [vi("x", [1, 1, 2, 3])], [vi("near", None), vi("lin", None)],
                [init("scales", np.array([1, 1, 2, 2], np.float32)),
                 init("sizes", np.array([1, 1, 2, 5], np.int64))])


@model
def resize_runtime_scales(_):
    """Scales as a graph input: their values are unknown when compiling."""
    return make([h.make_node("Resize", ["x", "", "scales"], ["y"], name="resize", mode="nearest")],
                [vi("x", [1, 1, 2, 2]), vi("scales", [4])], [vi("y", [1, 1, 4, 4])])


# --- recurrent layers ----------------------------------------------------------
@model
def lstm_classifier(_):
    """A 784-feature sample read as 4 steps of 196 (an LSTM of 16 units, its
    last hidden state to 10 classes through Gemm): what strata train trains."""
    rng = np.random.default_rng(4)
    hidden, steps, features = 16, 4, 196
    s = 1 / np.sqrt(hidden)
    inits = [init("lstm.W", rng.uniform(-s, s, (1, 4 * hidden, features)).astype(np.float32)),
             init("lstm.R", rng.uniform(-s, s, (1, 4 * hidden, hidden)).astype(np.float32)),
             init("lstm.B", np.zeros((1, 8 * hidden), np.float32)),
             init("fc.weight", rng.uniform(-s, s, (10, hidden)).astype(np.float32)),
             init("fc.bias", np.zeros(10, np.float32)),
             init("steps", np.array([-1, steps, features], np.int64)),
             init("flat", np.array([-1, hidden], np.int64))]
    nodes = [h.make_node("Reshape", ["input", "steps"], ["rows"], name="rows"),
             h.make_node("Transpose", ["rows"], ["seq"], name="time_major", perm=[1, 0, 2]),
             h.make_node("LSTM", ["seq", "lstm.W", "lstm.R", "lstm.B"], ["", "last"], name="lstm",
                         hidden_size=hidden),
             h.make_node("Reshape", ["last", "flat"], ["features"], name="features"),
             h.make_node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         transB=1)]
    return make(nodes, [vi("input", ["N", 784])], [vi("logits", ["N", 10])], inits)


@model
def gru_bad_activation(_):
    """A GRU whose activations name a function ONNX does not define."""
    rng = np.random.default_rng(4)
    inits = [init("W", rng.normal(0, 1, (1, 6, 3)).astype(np.float32)),
             init("R", rng.normal(0, 1, (1, 6, 2)).astype(np.float32))]
    return make([h.make_node("GRU", ["x", "W", "R"], ["y"], name="gru", hidden_size=2,
                             activations=["Sigmoid", "Cube"])],
                [vi("x", [5, 1, 3])], [vi("y", None)], inits)


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(sorted(MODELS)))
        return
    name, path = sys.argv[1], sys.argv[2]
    m = MODELS[name](path)
    if m is not None:
        onnx.save(m, path)


if __name__ == "__main__":
    main()
