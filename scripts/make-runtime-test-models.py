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


if __name__ == "__main__":
    main()
