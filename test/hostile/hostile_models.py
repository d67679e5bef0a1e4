#!/usr/bin/env python3
"""A catalogue of malformed and hostile ONNX models (and tensor files).

Each case writes one model (plus whatever files it needs beside it) into its
own folder and says what strata must answer: a regular expression that the
error message must match. run_hostile.py compiles every case and checks that
strata refuses it with that message, a non-zero exit (never a signal, never
a hang) and no output file.

The models are built with onnx.helper and never passed through the ONNX
checker here: strata's own handling of bad input is what is tested.

Usage: hostile_models.py --list | hostile_models.py OUTDIR [NAME...]
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper

CASES = []


def case(expect, command="compile", ok=False):
    """Registers `fn(dir) -> model path` with the error regex `expect`.

    command: which strata command to run ("compile", "compile-nn", "inspect",
    "run"). ok: a model that is valid but extreme (huge graphs): strata may
    compile it or refuse it with a clear message, within the time limit.
    """
    def register(fn):
        CASES.append({"name": fn.__name__, "fn": fn, "expect": expect,
                      "command": command, "ok": ok})
        return fn
    return register


def vi(name, shape, dtype=T.FLOAT):
    return h.make_tensor_value_info(name, dtype, shape)


def out(name, rank=2, dtype=T.FLOAT):
    """A graph output of known rank whose sizes are left to shape inference."""
    return h.make_tensor_value_info(name, dtype, [f"{name}_{i}" for i in range(rank)])


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, inits=(), opset=13, ir_version=8):
    graph = h.make_graph(nodes, "hostile", inputs, outputs, list(inits))
    m = h.make_model(graph, producer_name="strata-hostile",
                     opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = ir_version
    return m


def save(d, m, name="model.onnx"):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(m.SerializeToString() if hasattr(m, "SerializeToString") else m)
    return path


def relu(d, x_shape=(2, 3)):
    """A valid model: y = Relu(x)."""
    return model([h.make_node("Relu", ["x"], ["y"], name="relu")],
                 [vi("x", list(x_shape))], [vi("y", list(x_shape))])


def external_weight_model(d, location, offset=None, length=None, dims=(4, 4)):
    """y = x + w where w's 16 floats are external data at `location`."""
    w = T()
    w.name = "w"
    w.data_type = T.FLOAT
    w.dims.extend(dims)
    w.data_location = T.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for k, v in entries:
        e = w.external_data.add()
        e.key, e.value = k, v
    return model([h.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                 [vi("x", list(dims))], [vi("y", list(dims))], [w])


def write_weights(d, name="weights.bin", count=16):
    with open(os.path.join(d, name), "wb") as f:
        f.write(np.arange(count, dtype=np.float32).tobytes())


# --- files that are not models -------------------------------------------------
@case(r"file is empty")
def empty_file(d):
    return save(d, b"")


@case(r"not (a valid )?(an )?ONNX model")
def random_bytes(d):
    return save(d, bytes(np.random.RandomState(7).randint(0, 256, 4096, dtype=np.uint8)))


@case(r"not a valid ONNX model")
def truncated_protobuf(d):
    return save(d, relu(d).SerializeToString()[:-7])


@case(r"is a directory")
def directory_as_model(d):
    os.mkdir(os.path.join(d, "model.onnx"))
    return os.path.join(d, "model.onnx")


@case(r"no IR version or no graph")
def no_graph(d):
    m = relu(d)
    m.ClearField("graph")
    return save(d, m)


@case(r"no IR version or no graph")
def ir_version_zero(d):
    m = relu(d)
    m.ir_version = 0
    return save(d, m)


@case(r"imports no opset of the default ONNX domain")
def no_opset_import(d):
    m = relu(d)
    del m.opset_import[:]
    return save(d, m)


@case(r"opset 99 of ai.onnx is outside the supported range")
def opset_from_the_future(d):
    m = relu(d)
    m.opset_import[0].version = 99
    return save(d, m)


@case(r"opset -1 of ai.onnx is outside the supported range")
def opset_negative(d):
    m = relu(d)
    m.opset_import[0].version = -1
    return save(d, m)


# --- external data that leaves the model's folder --------------------------------
@case(r"initializer 'w'.*external data location '\.\./\.\./\.\./\.\./\.\./\.\./etc/hostname' "
      r"leaves the model's folder")
def external_data_parent_traversal(d):
    return save(d, external_weight_model(d, "../../../../../../etc/hostname"))


@case(r"initializer 'w'.*external data location '/etc/hostname' is an absolute path")
def external_data_absolute_path(d):
    return save(d, external_weight_model(d, "/etc/hostname"))


@case(r"initializer 'w'.*external data location 'link\.bin' .*outside the model's folder")
def external_data_symlink_out(d):
    os.symlink("/etc/hostname", os.path.join(d, "link.bin"))
    return save(d, external_weight_model(d, "link.bin"))


@case(r"initializer 'w'.*external data location 'etc/hostname' .*outside the model's folder")
def external_data_symlinked_folder(d):
    os.symlink("/", os.path.join(d, "root"))
    os.symlink("root/etc", os.path.join(d, "etc"))
    return save(d, external_weight_model(d, "etc/hostname"))


@case(r"initializer 'w'.*external data location 'sub/\.\./\.\./x\.bin' leaves the model's folder")
def external_data_dotdot_inside_path(d):
    os.mkdir(os.path.join(d, "sub"))
    return save(d, external_weight_model(d, "sub/../../x.bin"))


@case(r"initializer 'w'.*offset 1000000 .*past the end of .*weights\.bin \(64 bytes\)")
def external_data_offset_past_end(d):
    write_weights(d)
    return save(d, external_weight_model(d, "weights.bin", offset=1000000))


@case(r"initializer 'w'.*needs 64 bytes at offset 32 of .*weights\.bin, which has 64")
def external_data_short_file(d):
    write_weights(d)
    return save(d, external_weight_model(d, "weights.bin", offset=32))


@case(r"initializer 'w'.*offset 18446744073709551615 .*past the end")
def external_data_offset_huge(d):
    write_weights(d)
    return save(d, external_weight_model(d, "weights.bin", offset=2**64 - 1))


@case(r"initializer 'w'.*offset '-8' is not a non-negative number")
def external_data_negative_offset(d):
    write_weights(d)
    w = external_weight_model(d, "weights.bin")
    e = w.graph.initializer[0].external_data.add()
    e.key, e.value = "offset", "-8"
    return save(d, w)


@case(r"initializer 'w'.*external data length 12 does not match the 64 bytes of its shape")
def external_data_length_mismatch(d):
    write_weights(d)
    return save(d, external_weight_model(d, "weights.bin", length=12))


@case(r"initializer 'w'.*(No such file|cannot read|does not exist)")
def external_data_missing_file(d):
    return save(d, external_weight_model(d, "absent.bin"))


@case(r"initializer 'w'.*external data has no 'location'")
def external_data_no_location(d):
    m = external_weight_model(d, "weights.bin")
    del m.graph.initializer[0].external_data[:]
    return save(d, m)


@case(r"initializer 'w'.*external data location 'sub' is not a regular file")
def external_data_directory(d):
    os.mkdir(os.path.join(d, "sub"))
    return save(d, external_weight_model(d, "sub"))


@case(r"initializer 'w'.*external data location '/dev/zero' is an absolute path")
def external_data_device_file(d):
    return save(d, external_weight_model(d, "/dev/zero"))


@case(r"initializer 'w'.*external data location 'fifo' is not a regular file")
def external_data_fifo(d):
    os.mkfifo(os.path.join(d, "fifo"))
    return save(d, external_weight_model(d, "fifo"))


# --- shapes and sizes --------------------------------------------------------------
@case(r"graph input 'x'.*\[1099511627776, 1099511627776\].*too large")
def input_2_40_squared(d):
    return save(d, relu(d, (2**40, 2**40)))


@case(r"graph input 'x'.*too large")
def input_dims_overflow_int64(d):
    return save(d, relu(d, (2**62, 8)))


@case(r"graph input 'x'.*too large")
def input_larger_than_address_space(d):
    return save(d, relu(d, (2**24, 2**24)))


@case(r"graph input 'x'.*negative dimension|invalid dimension|dimension -3")
def input_negative_dim(d):
    return save(d, relu(d, (2, -3)))


@case(r"initializer 'w'.*negative dimension")
def initializer_negative_dim(d):
    w = init("w", np.zeros((2, 2), np.float32))
    w.dims[0] = -2
    return save(d, model([h.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                         [vi("x", [2, 2])], [vi("y", [2, 2])], [w]))


@case(r"initializer 'w'.*raw_data has 8 bytes, expected 16")
def initializer_raw_data_short(d):
    w = init("w", np.zeros((2, 2), np.float32))
    w.raw_data = w.raw_data[:8]
    return save(d, model([h.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                         [vi("x", [2, 2])], [vi("y", [2, 2])], [w]))


@case(r"initializer 'w'.*raw_data has 32 bytes, expected 16")
def initializer_raw_data_long(d):
    w = init("w", np.zeros((2, 2), np.float32))
    w.raw_data = w.raw_data * 2
    return save(d, model([h.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                         [vi("x", [2, 2])], [vi("y", [2, 2])], [w]))


@case(r"initializer 'w'.*float_data holds 3 values, expected 4")
def initializer_float_data_count(d):
    w = T()
    w.name, w.data_type = "w", T.FLOAT
    w.dims.extend([2, 2])
    w.float_data.extend([1.0, 2.0, 3.0])
    return save(d, model([h.make_node("Add", ["x", "w"], ["y"], name="add_w")],
                         [vi("x", [2, 2])], [vi("y", [2, 2])], [w]))


@case(r"initializer 'w'.*too large|raw_data has 0 bytes")
def initializer_huge_dims_no_data(d):
    w = T()
    w.name, w.data_type = "w", T.FLOAT
    w.dims.extend([2**31, 2**31])
    return save(d, model([h.make_node("Relu", ["w"], ["y"], name="relu_w")],
                         [], [vi("y", [2**31, 2**31])], [w]))


@case(r"initializer 'w'.*too large")
def initializer_dims_overflow(d):
    w = T()
    w.name, w.data_type = "w", T.FLOAT
    w.dims.extend([2**40, 2**40])
    w.raw_data = b"\0" * 16
    return save(d, model([h.make_node("Relu", ["w"], ["y"], name="relu_w")],
                         [], [vi("y", [2**40, 2**40])], [w]))


@case(r"initializer 'w'.*element type STRING is not supported|STRING")
def initializer_string_type(d):
    w = h.make_tensor("w", T.STRING, [1], [b"hello"])
    return save(d, model([h.make_node("Identity", ["w"], ["y"], name="id_w")],
                         [], [vi("y", [1], T.STRING)], [w]))


@case(r"shape inference.*relu.*unsupported type: tensor\(string\)")
def input_string_type(d):
    return save(d, model([h.make_node("Relu", ["x"], ["y"], name="relu")],
                         [vi("x", [2], T.STRING)], [vi("y", [2], T.STRING)]))


@case(r"shape inference.*unsupported type: seq\(tensor\(float\)\)")
def input_sequence_type(d):
    x = h.make_tensor_sequence_value_info("x", T.FLOAT, [2])
    return save(d, model([h.make_node("Identity", ["x"], ["y"], name="id")],
                         [x], [h.make_tensor_sequence_value_info("y", T.FLOAT, [2])]))


@case(r"graph input 'x' has no shape \(not even a rank\)")
def input_without_shape(d):
    x = h.make_tensor_value_info("x", T.FLOAT, None)
    return save(d, model([h.make_node("Relu", ["x"], ["y"], name="relu")],
                         [x], [h.make_tensor_value_info("y", T.FLOAT, None)]))


@case(r"rank 9 .*above|rank .* is above the supported 8|at most 8 dimensions")
def input_rank_9(d):
    return save(d, relu(d, (1,) * 9))


# --- graph structure -------------------------------------------------------------
@case(r"(checker|shape inference).*(topolog|not output of any previous nodes)")
def cycle(d):
    return save(d, model([h.make_node("Relu", ["b"], ["a"], name="first"),
                          h.make_node("Relu", ["a"], ["b"], name="second"),
                          h.make_node("Relu", ["a"], ["y"], name="out")],
                         [vi("x", [2])], [vi("y", [2])]))


@case(r"checker.*topologically sorted, however input 'ghost'")
def dangling_input(d):
    return save(d, model([h.make_node("Add", ["x", "ghost"], ["y"], name="add")],
                         [vi("x", [2])], [vi("y", [2])]))


@case(r"(checker|shape inference).*(SSA|more than once|duplicate)")
def duplicate_value_name(d):
    return save(d, model([h.make_node("Relu", ["x"], ["y"], name="a"),
                          h.make_node("Neg", ["x"], ["y"], name="b")],
                         [vi("x", [2])], [vi("y", [2])]))


@case(r"checker.*'x' has been used as graph input names multiple times")
def duplicate_graph_input(d):
    return save(d, model([h.make_node("Relu", ["x"], ["y"], name="relu")],
                         [vi("x", [2]), vi("x", [2])], [vi("y", [2])]))


@case(r"graph output 'z' is not produced by any node|checker")
def output_never_produced(d):
    return save(d, model([h.make_node("Relu", ["x"], ["y"], name="relu")],
                         [vi("x", [2])], [vi("y", [2]), vi("z", [2])]))


@case(r"checker.*(op_type|empty)|op '' is not")
def empty_op_type(d):
    return save(d, model([h.make_node("", ["x"], ["y"], name="blank")],
                         [vi("x", [2])], [vi("y", [2])]))


@case(r"node 0 'mystery' \(op NoSuchOp, domain ai.onnx, opset 13\)|"
      r"checker.*No (Op|Schema) registered for NoSuchOp")
def unknown_op(d):
    return save(d, model([h.make_node("NoSuchOp", ["x"], ["y"], name="mystery")],
                         [vi("x", [2])], [vi("y", [2])]))


@case(r"checker.*Node \(relu2\) has input size 2 not in range")
def too_many_inputs(d):
    return save(d, model([h.make_node("Relu", ["x", "x"], ["y"], name="relu2")],
                         [vi("x", [2])], [vi("y", [2])]))


@case(r"(checker|shape inference).*(Add|type).*(mismatch|tensor\(int64\)|Type parameter)")
def mixed_input_types(d):
    return save(d, model([h.make_node("Add", ["x", "i"], ["y"], name="add")],
                         [vi("x", [2]), vi("i", [2], T.INT64)], [vi("y", [2])]))


@case(r"(checker|shape inference|node 0 'conv').*(attribute|strides).*")
def attribute_wrong_type(d):
    n = h.make_node("Conv", ["x", "w"], ["y"], name="conv")
    n.attribute.append(h.make_attribute("strides", [1.5, 1.5]))
    return save(d, model([n], [vi("x", [1, 1, 5, 5])], [vi("y", [1, 1, 3, 3])],
                         [init("w", np.ones((1, 1, 3, 3), np.float32))]))


@case(r"ok", ok=True)
def long_chain_20k_nodes(d):
    # (50,000 compile in about 40 s; before kMaxFusedBodyOps, never.)
    nodes, prev = [], "x"
    for i in range(20000):
        nodes.append(h.make_node("Relu" if i % 2 else "Neg", [prev], [f"v{i}"], name=f"n{i}"))
        prev = f"v{i}"
    nodes.append(h.make_node("Identity", [prev], ["y"], name="out"))
    return save(d, model(nodes, [vi("x", [4])], [vi("y", [4])]))


@case(r"ok", ok=True)
def wide_graph_1000_outputs(d):
    # (20,000 outputs compile too, in about 10 minutes: LLVM's scheduler on
    # one straight block of 20,000 copies.)
    nodes = [h.make_node("Relu", ["x"], [f"y{i}"], name=f"n{i}") for i in range(1000)]
    return save(d, model(nodes, [vi("x", [2])], [vi(f"y{i}", [2]) for i in range(1000)]))


@case(r"node 0 'cond' \(op If.*not supported")
def subgraph_if(d):
    branch = h.make_graph([h.make_node("Relu", ["x"], ["t"], name="inner")], "b", [],
                          [vi("t", [2])])
    n = h.make_node("If", ["c"], ["y"], name="cond", then_branch=branch, else_branch=branch)
    return save(d, model([n], [vi("c", [], T.BOOL), vi("x", [2])], [vi("y", [2])]))


# --- convolutions and pooling -------------------------------------------------------
def conv(d, **attrs):
    n = h.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)
    return save(d, model([n], [vi("x", [1, 4, 8, 8])], [out("y", 4)],
                         [init("w", np.ones((4, 4, 3, 3), np.float32))]))


@case(r"node 0 'conv' \(op Conv.*strides must be positive|shape inference.*(stride|Conv)")
def conv_zero_strides(d):
    return conv(d, strides=[0, 0])


@case(r"node 0 'conv' \(op Conv.*strides must be positive|shape inference.*(stride|Conv)")
def conv_negative_stride(d):
    return conv(d, strides=[-1, 1])


@case(r"node 0 'conv' \(op Conv.*dilations must be positive|shape inference.*(dilation|Conv)")
def conv_zero_dilation(d):
    return conv(d, dilations=[0, 1])


@case(r"node 0 'conv' \(op Conv.*pads >= 0")
def conv_negative_pads(d):
    return conv(d, pads=[-2, 0, 0, 0])


@case(r"node 0 'conv' \(op Conv.*output 'y' has a negative dimension \(-2\)")
def conv_kernel_larger_than_input(d):
    n = h.make_node("Conv", ["x", "w"], ["y"], name="conv")
    return save(d, model([n], [vi("x", [1, 1, 2, 2])], [out("y", 4)],
                         [init("w", np.ones((1, 1, 5, 5), np.float32))]))


@case(r"node 0 'conv' \(op Conv.*group|shape inference.*(group|channels|Conv)")
def conv_group_not_dividing(d):
    n = h.make_node("Conv", ["x", "w"], ["y"], name="conv", group=3)
    return save(d, model([n], [vi("x", [1, 4, 8, 8])], [out("y", 4)],
                         [init("w", np.ones((4, 1, 3, 3), np.float32))]))


@case(r"node 0 'conv' \(op Conv.*group|shape inference.*(group|Conv)")
def conv_group_zero(d):
    return conv(d, group=0)


@case(r"shape inference.*node name: conv.*the weight \(input 1\) has rank 4 but the input has rank 3")
def conv_input_rank_below_weight(d):
    # libonnx's Conv shape inference read past its dilations (found by fuzzing).
    n = h.make_node("Conv", ["x", "w"], ["y"], name="conv", group=3)
    return save(d, model([n], [vi("x", [4, 8, 8])], [out("y", 3)],
                         [init("w", np.ones((4, 1, 3, 3), np.float32))]))


@case(r"shape inference.*node name: pool.*strides has 3 entries; the input has 2 spatial")
def maxpool_strides_of_wrong_length(d):
    return pool(d, kernel_shape=[2, 2], strides=[1, 1, 1])


@case(r"node 0 'conv' \(op Conv.*(channels|weight)|shape inference.*(Conv|channel)")
def conv_weight_channel_mismatch(d):
    n = h.make_node("Conv", ["x", "w"], ["y"], name="conv")
    return save(d, model([n], [vi("x", [1, 4, 8, 8])], [out("y", 4)],
                         [init("w", np.ones((4, 3, 3, 3), np.float32))]))


@case(r"node 0 'conv' \(op Conv.*(kernel_shape|weight)|shape inference")
def conv_kernel_shape_mismatch(d):
    return conv(d, kernel_shape=[5, 5])


def pool(d, **attrs):
    n = h.make_node("MaxPool", ["x"], ["y"], name="pool", **attrs)
    return save(d, model([n], [vi("x", [1, 2, 8, 8])], [out("y", 4)]))


@case(r"node 0 'pool' \(op MaxPool.*(kernel_shape|kernel).*positive|shape inference.*(kernel|Pool)")
def maxpool_zero_kernel(d):
    return pool(d, kernel_shape=[0, 0])


@case(r"node 0 'pool' \(op MaxPool.*strides must be positive|shape inference.*(stride|Pool)")
def maxpool_zero_stride(d):
    return pool(d, kernel_shape=[2, 2], strides=[0, 0])


@case(r"node 0 'pool' \(op MaxPool.*pads must be smaller than the kernel \(2\), got 5 and 5")
def maxpool_pad_not_smaller_than_kernel(d):
    return pool(d, kernel_shape=[2, 2], pads=[5, 5, 5, 5])


@case(r"node 0 'pool' \(op AveragePool.*the window \(9 wide.*larger than the padded input \(8")
def avgpool_kernel_larger_than_input(d):
    n = h.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[9, 9])
    return save(d, model([n], [vi("x", [1, 2, 8, 8])], [out("y", 4)]))


# --- tensor ops with bad constants -----------------------------------------------------
@case(r"node 'gather' \(op Gather\): index 7 is out of range \[-5, 5\)")
def gather_constant_index_out_of_range(d):
    n = h.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=0)
    return save(d, model([n], [vi("x", [5, 3])], [vi("y", [2, 3])],
                         [init("idx", np.array([1, 7], np.int64))]))


@case(r"node 'gather' \(op Gather\): index -6 is out of range \[-5, 5\)")
def gather_constant_index_negative_out_of_range(d):
    n = h.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=0)
    return save(d, model([n], [vi("x", [5, 3])], [vi("y", [1, 3])],
                         [init("idx", np.array([-6], np.int64))]))


@case(r"node 'gather' \(op Gather\): index 9 is out of range \[-4, 4\) along axis 1")
def gather_constant_node_index_out_of_range(d):
    # The index comes from a Constant node rather than an initializer.
    idx = numpy_helper.from_array(np.array([9], np.int64), "idx_value")
    return save(d, model([h.make_node("Constant", [], ["idx"], name="const", value=idx),
                          h.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=1)],
                         [vi("x", [2, 4])], [vi("y", [2, 1])]))


@case(r"shape inference.*axis|node 0 'gather' \(op Gather.*axis")
def gather_axis_out_of_range(d):
    n = h.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=5)
    return save(d, model([n], [vi("x", [5, 3])], [out("y")],
                         [init("idx", np.array([0], np.int64))]))


@case(r"node 0 'reshape' \(op Reshape.*|shape inference.*(Reshape|shape|size)")
def reshape_count_mismatch(d):
    n = h.make_node("Reshape", ["x", "s"], ["y"], name="reshape")
    return save(d, model([n], [vi("x", [2, 3])], [out("y")],
                         [init("s", np.array([4, 2], np.int64))]))


@case(r"node 0 'reshape' \(op Reshape.*-1|shape inference.*(-1|Reshape)")
def reshape_two_minus_ones(d):
    n = h.make_node("Reshape", ["x", "s"], ["y"], name="reshape")
    return save(d, model([n], [vi("x", [2, 3])], [out("y")],
                         [init("s", np.array([-1, -1], np.int64))]))


@case(r"node 0 'reshape' \(op Reshape|shape inference")
def reshape_negative_dim(d):
    n = h.make_node("Reshape", ["x", "s"], ["y"], name="reshape")
    return save(d, model([n], [vi("x", [2, 3])], [out("y")],
                         [init("s", np.array([-2, -3], np.int64))]))


@case(r"node 0 'transpose' \(op Transpose.*perm|shape inference.*perm")
def transpose_not_a_permutation(d):
    n = h.make_node("Transpose", ["x"], ["y"], name="transpose", perm=[0, 0])
    return save(d, model([n], [vi("x", [2, 3])], [out("y")]))


@case(r"node 0 'transpose' \(op Transpose.*perm|shape inference.*perm")
def transpose_perm_out_of_range(d):
    n = h.make_node("Transpose", ["x"], ["y"], name="transpose", perm=[0, 5])
    return save(d, model([n], [vi("x", [2, 3])], [out("y")]))


@case(r"node 0 'concat' \(op Concat.*axis|shape inference.*(axis|Concat)")
def concat_axis_out_of_range(d):
    n = h.make_node("Concat", ["x", "x"], ["y"], name="concat", axis=4)
    return save(d, model([n], [vi("x", [2, 3])], [out("y")]))


@case(r"node 0 'concat' \(op Concat|shape inference.*(Concat|dimension|mismatch)")
def concat_mismatched_dims(d):
    n = h.make_node("Concat", ["x", "z"], ["y"], name="concat", axis=0)
    return save(d, model([n], [vi("x", [2, 3]), vi("z", [2, 4])],
                         [out("y")]))


@case(r"node 0 'slice' \(op Slice.*step.*zero|shape inference.*(step|Slice)")
def slice_zero_step(d):
    n = h.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"], name="slice")
    return save(d, model([n], [vi("x", [6, 3])], [out("y")],
                         [init("st", np.array([0], np.int64)), init("en", np.array([6], np.int64)),
                          init("ax", np.array([0], np.int64)), init("sp", np.array([0], np.int64))]))


@case(r"node 0 'slice' \(op Slice.*axis|shape inference.*(axis|Slice)")
def slice_axis_out_of_range(d):
    n = h.make_node("Slice", ["x", "st", "en", "ax"], ["y"], name="slice")
    return save(d, model([n], [vi("x", [6, 3])], [out("y")],
                         [init("st", np.array([0], np.int64)), init("en", np.array([1], np.int64)),
                          init("ax", np.array([7], np.int64))]))


@case(r"node 0 'split' \(op Split.*|shape inference.*(split|Split)")
def split_sizes_not_summing(d):
    n = h.make_node("Split", ["x", "s"], ["a", "b"], name="split", axis=0)
    return save(d, model([n], [vi("x", [6, 3])],
                         [out("a"),
                          out("b")],
                         [init("s", np.array([2, 9], np.int64))]))


@case(r"node 0 'flatten' \(op Flatten.*axis|shape inference.*(axis|Flatten)")
def flatten_axis_out_of_range(d):
    n = h.make_node("Flatten", ["x"], ["y"], name="flatten", axis=9)
    return save(d, model([n], [vi("x", [2, 3])], [out("y")]))


@case(r"node 0 'softmax' \(op Softmax.*axis|shape inference.*(axis|Softmax)")
def softmax_axis_out_of_range(d):
    n = h.make_node("Softmax", ["x"], ["y"], name="softmax", axis=3)
    return save(d, model([n], [vi("x", [2, 3])], [vi("y", [2, 3])]))


@case(r"shape inference.*(MatMul|dimension|Incompatible)|node 0 'mm' \(op MatMul")
def matmul_incompatible(d):
    n = h.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    return save(d, model([n], [vi("a", [2, 3]), vi("b", [4, 5])],
                         [out("y")]))


@case(r"shape inference.*(Gemm|dimension|Incompatible)|node 0 'gemm' \(op Gemm")
def gemm_incompatible(d):
    n = h.make_node("Gemm", ["a", "b"], ["y"], name="gemm")
    return save(d, model([n], [vi("a", [2, 3]), vi("b", [4, 5])],
                         [out("y")]))


@case(r"shape inference|node 0 'expand' \(op Expand")
def expand_incompatible(d):
    n = h.make_node("Expand", ["x", "s"], ["y"], name="expand")
    return save(d, model([n], [vi("x", [3, 2])], [out("y")],
                         [init("s", np.array([4, 5], np.int64))]))


@case(r"node 0 'tile' \(op Tile.*output 'y' has a negative dimension")
def tile_negative_repeats(d):
    n = h.make_node("Tile", ["x", "r"], ["y"], name="tile")
    return save(d, model([n], [vi("x", [3, 2])], [out("y")],
                         [init("r", np.array([-1, 2], np.int64))]))


@case(r"node 0 'bn' \(op BatchNormalization|shape inference")
def batchnorm_param_size_mismatch(d):
    n = h.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")
    p = lambda k: init(k, np.ones(5, np.float32))
    return save(d, model([n], [vi("x", [1, 3, 4, 4])], [vi("y", [1, 3, 4, 4])],
                         [p("s"), p("b"), p("m"), p("v")]))


@case(r"node 0 'unsq' \(op Unsqueeze.*|shape inference.*(axes|Unsqueeze|duplicate)")
def unsqueeze_duplicate_axes(d):
    n = h.make_node("Unsqueeze", ["x", "a"], ["y"], name="unsq")
    return save(d, model([n], [vi("x", [3])], [out("y", 3)],
                         [init("a", np.array([0, 0], np.int64))]))


@case(r"node 0 'pad' \(op Pad.*|shape inference.*(pads|Pad)")
def pad_wrong_count(d):
    n = h.make_node("Pad", ["x", "p"], ["y"], name="pad")
    return save(d, model([n], [vi("x", [3, 3])], [out("y")],
                         [init("p", np.array([1, 1, 1], np.int64))]))


@case(r"node 0 'topk' \(op TopK.*|shape inference.*(k|TopK)")
def topk_k_larger_than_axis(d):
    n = h.make_node("TopK", ["x", "k"], ["v", "i"], name="topk")
    return save(d, model([n], [vi("x", [3, 4])],
                         [out("v"),
                          out("i", 2, T.INT64)],
                         [init("k", np.array([9], np.int64))]))


@case(r"node 0 'cos' \(op ConstantOfShape.*output 'y' has a negative dimension")
def constant_of_shape_negative(d):
    n = h.make_node("ConstantOfShape", ["s"], ["y"], name="cos")
    return save(d, model([n], [], [out("y")],
                         [init("s", np.array([-4, 2], np.int64))]))


@case(r"node 0 'const' \(op Constant.*attribute 'value'.*float_data holds 1 values, expected 6")
def constant_data_mismatch(d):
    t = T()
    t.name, t.data_type = "c", T.FLOAT
    t.dims.extend([2, 3])
    t.float_data.append(1.0)
    n = h.make_node("Constant", [], ["y"], name="const", value=t)
    return save(d, model([n], [], [vi("y", [2, 3])]))


@case(r"node 0 'range' \(op Range.*delta|shape inference|not supported")
def range_zero_delta(d):
    n = h.make_node("Range", ["a", "b", "c"], ["y"], name="range")
    return save(d, model([n], [], [out("y", 1)],
                         [init("a", np.array(0, np.float32)), init("b", np.array(5, np.float32)),
                          init("c", np.array(0, np.float32))]))


@case(r"node 0 'resize' \(op Resize|shape inference|not supported")
def resize_zero_scales(d):
    n = h.make_node("Resize", ["x", "", "sc"], ["y"], name="resize")
    return save(d, model([n], [vi("x", [1, 1, 4, 4])], [out("y", 4)],
                         [init("sc", np.array([1, 1, 0, 0], np.float32))]))


@case(r"node 0 'mm' \(op MatMul.*too large|graph output 'y'.*too large")
def matmul_result_too_large(d):
    # Each input is small enough; their outer product is not.
    n = h.make_node("MatMul", ["a", "b"], ["y"], name="mm")
    return save(d, model([n], [vi("a", [2**26, 1]), vi("b", [1, 2**26])],
                         [out("y")]))


# --- files the compiled program and strata run read ---------------------------------------
def main():
    if sys.argv[1:] == ["--list"]:
        for c in CASES:
            print(c["name"])
        return
    out = sys.argv[1]
    names = set(sys.argv[2:])
    manifest = []
    for c in CASES:
        if names and c["name"] not in names:
            continue
        d = os.path.join(out, c["name"])
        os.makedirs(d, exist_ok=True)
        path = c["fn"](d)
        manifest.append({"name": c["name"], "model": path, "expect": c["expect"],
                         "command": c["command"], "ok": c["ok"]})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(manifest)} cases written to {out}")


if __name__ == "__main__":
    main()
