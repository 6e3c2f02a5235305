#!/usr/bin/env python3
"""Writes the small ONNX models that tests/runtime.rs runs (tests/fixtures/runtime/*.onnx).

The model computes, per graph b of the batch:
    embedding[b] = mean over the nodes of b of node_features          (D = NODE_FEATURES)
    score[b]     = embedding[b] . w + graph_features[b] . v + 0.25
with w[i] = ((7 i) mod 11 - 5) / 10 and v[j] = ((3 j) mod 7 - 3) / 10; tests/runtime.rs
computes the same formula in Rust and compares. Mean pooling is a one-hot matrix
(graph_index == arange(B)) times node_features, divided by the node counts. `edge_index` is an
input of the contract; the model adds 0 * (its number of columns) to the score so that the input
is used.

Variants differ only in metadata: good.onnx (this build's schema), bad_schema.onnx (version 999),
bad_vocabulary.onnx (first op renamed), no_metadata.onnx.

kgnn_speed.onnx is for the speed benchmark (benches/predictor.rs) while no trained default model
exists: the trainer's architecture (src/bin/cgpredict-train/onnx.rs: 6 direction-aware GraphConv
layers of width 32 with Gather/ScatterElements message passing, mean pooling, whole-graph
features through a dense layer of 32, a 64-wide regressor) with seeded random weights. Its
scores mean nothing; its cost is that of a trained model of the default size.
kgnn_speed_scatternd.onnx is the same network with its scatter-adds written as ScatterND over
row indices instead of ScatterElements over indices expanded to the row width (the same
function; ONNX Runtime's CPU kernel for it is several times faster), to measure what that
choice of export costs.

Usage: python3 scripts/make-runtime-test-models.py VOCABULARY
VOCABULARY is cgpredict::features::op_vocabulary() joined with ","; the test that fails on a
vocabulary change prints it.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SCHEMA_VERSION = 1
NODE_FEATURES = 52
GRAPH_FEATURES = 7
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "runtime")


def weights():
    w = np.array([((7 * i) % 11 - 5) / 10 for i in range(NODE_FEATURES)], np.float32)
    v = np.array([((3 * j) % 7 - 3) / 10 for j in range(GRAPH_FEATURES)], np.float32)
    return w, v


def model(metadata):
    w, v = weights()
    inputs = [
        helper.make_tensor_value_info("node_features", TensorProto.FLOAT, ["N", NODE_FEATURES]),
        helper.make_tensor_value_info("edge_index", TensorProto.INT64, [2, "E"]),
        helper.make_tensor_value_info("graph_index", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("graph_features", TensorProto.FLOAT, ["B", GRAPH_FEATURES]),
    ]
    outputs = [
        helper.make_tensor_value_info("score", TensorProto.FLOAT, ["B"]),
        helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["B", NODE_FEATURES]),
    ]
    init = [
        numpy_helper.from_array(w.reshape(NODE_FEATURES, 1), "w"),
        numpy_helper.from_array(v.reshape(GRAPH_FEATURES, 1), "v"),
        numpy_helper.from_array(np.array([0.25], np.float32), "b"),
        numpy_helper.from_array(np.array([0], np.int64), "zero_i"),
        numpy_helper.from_array(np.array([1], np.int64), "one_i"),
        numpy_helper.from_array(np.array([0.0], np.float32), "zero_f"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    n = helper.make_node
    nodes = [
        # B = graph_features.shape[0]; ids = arange(B) as a column.
        n("Shape", ["graph_features"], ["gf_shape"]),
        n("Gather", ["gf_shape", "zero_i"], ["b_vec"], axis=0),
        n("Squeeze", ["b_vec"], ["b_scalar"]),
        n("Range", ["zero_i_s", "b_scalar", "one_i_s"], ["ids"]),
        n("Unsqueeze", ["ids", "axis1"], ["ids_col"]),
        n("Unsqueeze", ["graph_index", "zero_i"], ["gi_row"]),
        n("Equal", ["ids_col", "gi_row"], ["onehot_b"]),
        n("Cast", ["onehot_b"], ["onehot"], to=TensorProto.FLOAT),
        n("MatMul", ["onehot", "node_features"], ["sums"]),
        n("ReduceSum", ["onehot", "axis1"], ["counts"], keepdims=1),
        n("Div", ["sums", "counts"], ["embedding"]),
        n("MatMul", ["embedding", "w"], ["s_nodes"]),
        n("MatMul", ["graph_features", "v"], ["s_graph"]),
        n("Add", ["s_nodes", "s_graph"], ["s_sum"]),
        n("Add", ["s_sum", "b"], ["s_biased"]),
        # 0 * E keeps edge_index in the graph.
        n("Shape", ["edge_index"], ["ei_shape"]),
        n("Gather", ["ei_shape", "one_i"], ["e_count"], axis=0),
        n("Cast", ["e_count"], ["e_count_f"], to=TensorProto.FLOAT),
        n("Mul", ["e_count_f", "zero_f"], ["e_zero"]),
        n("Add", ["s_biased", "e_zero"], ["s_col"]),
        n("Squeeze", ["s_col", "axis1"], ["score"]),
    ]
    init += [
        numpy_helper.from_array(np.array(0, np.int64), "zero_i_s"),
        numpy_helper.from_array(np.array(1, np.int64), "one_i_s"),
    ]
    graph = helper.make_graph(nodes, "cgpredict_test_mean_pool", inputs, outputs, init)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="cgpredict-tests")
    m.ir_version = 8
    for key, value in metadata.items():
        m.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(m, full_check=True)
    return m


def scatter_add(data, index, rows, out, nd):
    """out = data with rows added at index (ScatterND on [n, 1] row indices, or ScatterElements
    on indices expanded to the rows' width)."""
    if nd:
        return helper.make_node("ScatterND", [data, index + ".column", rows], [out], reduction="add")
    return helper.make_node("ScatterElements", [data, index + ".wide", rows], [out], axis=0, reduction="add")


def kgnn_speed(metadata, nd=False, layers=6, hidden=32, graph_hidden=32, regressor=64, seed=7):
    rng = np.random.default_rng(seed)
    init = []

    def const(name, array):
        init.append(numpy_helper.from_array(array, name))
        return name

    def dense(x, name, fan_in, fan_out, bias, out):
        bound = np.sqrt(3.0 * 2.0 / fan_in)
        w = const(f"{name}.weight", rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        nodes.append(helper.make_node("MatMul", [x, w], [out + ".mm" if bias else out]))
        if bias:
            b = const(f"{name}.bias", rng.uniform(-0.1, 0.1, fan_out).astype(np.float32))
            nodes.append(helper.make_node("Add", [out + ".mm", b], [out]))
        return out

    nodes = []
    zero = const("zero", np.array(0, np.int64))
    one = const("one", np.array(1, np.int64))
    axis1 = const("axis1", np.array([1], np.int64))
    expand_h = const("expand_h", np.array([1, hidden], np.int64))
    width_h = const("width_h", np.array([hidden], np.int64))
    width_1 = const("width_1", np.array([1], np.int64))
    one_f = const("one_f", np.array(1.0, np.float32))
    flat = const("flat", np.array([-1], np.int64))
    n = helper.make_node
    nodes += [
        n("Gather", ["edge_index", zero], ["src"], axis=0),
        n("Gather", ["edge_index", one], ["dst"], axis=0),
    ]
    for index in ["src", "dst", "graph_index"]:
        nodes += [
            n("Unsqueeze", [index, axis1], [f"{index}.column"]),
            n("Expand", [f"{index}.column", expand_h], [f"{index}.wide"]),
        ]
    nodes += [
        n("Shape", ["node_features"], ["shape.n"], start=0, end=1),
        n("Shape", ["graph_features"], ["shape.b"], start=0, end=1),
        n("Concat", ["shape.n", width_h], ["zeros_nh.shape"], axis=0),
        n("ConstantOfShape", ["zeros_nh.shape"], ["zeros_nh"],
          value=numpy_helper.from_array(np.array([0.0], np.float32))),
        n("Concat", ["shape.b", width_h], ["zeros_bh.shape"], axis=0),
        n("ConstantOfShape", ["zeros_bh.shape"], ["zeros_bh"],
          value=numpy_helper.from_array(np.array([0.0], np.float32))),
        n("Concat", ["shape.b", width_1], ["zeros_b1.shape"], axis=0),
        n("ConstantOfShape", ["zeros_b1.shape"], ["zeros_b1"],
          value=numpy_helper.from_array(np.array([0.0], np.float32))),
        n("Shape", ["graph_index.column"], ["ones_n1.shape"]),
        n("ConstantOfShape", ["ones_n1.shape"], ["ones_n1"],
          value=numpy_helper.from_array(np.array([1.0], np.float32))),
    ]
    h, width = "node_features", NODE_FEATURES
    for layer in range(layers):
        p = f"layer{layer}"
        root = dense(h, f"{p}.root", width, hidden, True, f"{p}.r")
        incoming = dense(h, f"{p}.incoming", width, hidden, False, f"{p}.in")
        outgoing = dense(h, f"{p}.outgoing", width, hidden, False, f"{p}.out")
        nodes += [
            n("Gather", [incoming, "src"], [f"{p}.in.rows"], axis=0),
            scatter_add("zeros_nh", "dst", f"{p}.in.rows", f"{p}.m_in", nd),
            n("Gather", [outgoing, "dst"], [f"{p}.out.rows"], axis=0),
            scatter_add("zeros_nh", "src", f"{p}.out.rows", f"{p}.m_out", nd),
            n("Add", [root, f"{p}.m_in"], [f"{p}.s1"]),
            n("Add", [f"{p}.s1", f"{p}.m_out"], [f"{p}.s2"]),
            n("Relu", [f"{p}.s2"], [f"{p}.h"]),
        ]
        h, width = f"{p}.h", hidden
    nodes += [
        scatter_add("zeros_bh", "graph_index", h, "pool.sum", nd),
        n("ScatterElements", ["zeros_b1", "graph_index.column", "ones_n1"], ["pool.count"], axis=0, reduction="add"),
        n("Max", ["pool.count", one_f], ["pool.count1"]),
        n("Div", ["pool.sum", "pool.count1"], ["pooled"]),
    ]
    g = dense("graph_features", "graph", GRAPH_FEATURES, graph_hidden, True, "graph.lin")
    nodes += [
        n("Relu", [g], ["graph.h"]),
        n("Concat", ["pooled", "graph.h"], ["embedding"], axis=1),
    ]
    r = dense("embedding", "regressor.hidden", hidden + graph_hidden, regressor, True, "reg.lin")
    nodes.append(n("Relu", [r], ["reg.h"]))
    out = dense("reg.h", "regressor.output", regressor, 1, True, "reg.out")
    nodes.append(n("Reshape", [out, flat], ["score"]))
    inputs = [
        helper.make_tensor_value_info("node_features", TensorProto.FLOAT, ["N", NODE_FEATURES]),
        helper.make_tensor_value_info("edge_index", TensorProto.INT64, [2, "E"]),
        helper.make_tensor_value_info("graph_index", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("graph_features", TensorProto.FLOAT, ["B", GRAPH_FEATURES]),
    ]
    outputs = [
        helper.make_tensor_value_info("score", TensorProto.FLOAT, ["B"]),
        helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["B", hidden + graph_hidden]),
    ]
    graph = helper.make_graph(nodes, "cgpredict_speed_kgnn", inputs, outputs, init)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="cgpredict-tests")
    m.ir_version = 8
    for key, value in {**metadata, "cgpredict.embedding_dim": str(hidden + graph_hidden)}.items():
        m.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(m, full_check=True)
    return m


def check_same_function(a, b):
    """The two speed models agree on a random batch of 3 graphs (ONNX's reference evaluator)."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(0)
    nodes, edges, graphs = 40, 60, 3
    feeds = {
        "node_features": rng.random((nodes, NODE_FEATURES), dtype=np.float32),
        "edge_index": rng.integers(0, nodes, (2, edges)),
        "graph_index": np.sort(rng.integers(0, graphs, nodes)),
        "graph_features": rng.random((graphs, GRAPH_FEATURES), dtype=np.float32),
    }
    for x, y in zip(ReferenceEvaluator(a).run(None, feeds), ReferenceEvaluator(b).run(None, feeds)):
        assert np.allclose(x, y, rtol=1e-5, atol=1e-5), (x, y)


def main():
    vocabulary = sys.argv[1]
    ops = vocabulary.split(",")
    assert len(ops) == NODE_FEATURES - 20, f"{len(ops)} ops: update NODE_FEATURES"
    good = {
        "cgpredict.schema_version": str(SCHEMA_VERSION),
        "cgpredict.op_vocabulary": vocabulary,
        "cgpredict.embedding_dim": str(NODE_FEATURES),
    }
    variants = {
        "good": good,
        "bad_schema": {**good, "cgpredict.schema_version": "999"},
        "bad_vocabulary": {**good, "cgpredict.op_vocabulary": ",".join(["renamed"] + ops[1:])},
        "no_metadata": {},
    }
    os.makedirs(OUT, exist_ok=True)
    for name, metadata in variants.items():
        onnx.save(model(metadata), os.path.join(OUT, f"{name}.onnx"))
    elements, nd = kgnn_speed(good), kgnn_speed(good, nd=True)
    check_same_function(elements, nd)
    onnx.save(elements, os.path.join(OUT, "kgnn_speed.onnx"))
    onnx.save(nd, os.path.join(OUT, "kgnn_speed_scatternd.onnx"))


if __name__ == "__main__":
    main()
