#!/usr/bin/env python3
"""Opens a cgpredict model file in Python onnxruntime and checks its outputs against the
trainer's, graph by graph, from the check file that `cgpredict-train train --check-file` writes
(JSON lines: each graph's model inputs, score and embedding).

Usage: python3 scripts/check-model-python.py MODEL.onnx CHECK.jsonl
Needs: pip install onnxruntime numpy. Exits 1 beyond a relative difference of 1e-4.
"""
import json
import sys

import numpy as np
import onnxruntime as ort


def main():
    model, check = sys.argv[1], sys.argv[2]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    print("schema", metadata["cgpredict.schema_version"], "embedding", metadata["cgpredict.embedding_dim"])
    width = session.get_inputs()[0].shape[1]  # node features per node
    worst_score = worst_embedding = 0.0
    graphs = nodes = 0
    for line in open(check):
        entry = json.loads(line)
        features = np.asarray(entry["node_features"], np.float32)
        graph_features = np.asarray(entry["graph_features"], np.float32).reshape(1, -1)
        count = features.size // width
        feeds = {
            "node_features": features.reshape(count, -1),
            "edge_index": np.asarray(entry["edge_index"], np.int64).reshape(2, -1),
            "graph_index": np.zeros(count, np.int64),
            "graph_features": graph_features,
        }
        score, embedding = session.run(["score", "embedding"], feeds)
        relative = lambda got, want: float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
        worst_score = max(worst_score, relative(score, np.float32(entry["score"])))
        worst_embedding = max(worst_embedding, relative(embedding[0], np.asarray(entry["embedding"], np.float32)))
        graphs += 1
        nodes += count
    ok = worst_score <= 1e-4 and worst_embedding <= 1e-4
    print(f"{graphs} graphs ({nodes} nodes): largest relative difference score {worst_score:.3g}, "
          f"embedding {worst_embedding:.3g} {'OK' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
