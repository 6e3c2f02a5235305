#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the real data (data/, tests/fixtures/, examples/).

Usage: scripts/fuzz-seeds.py OUT_DIR [GRAPH_JSON_DIR]

One folder per target under OUT_DIR. Rows are sampled with a fixed seed, so the corpora are
reproducible. GRAPH_JSON_DIR, when given, holds CG JSON files (written by `cgpredict graph
from-nb201/from-nb101/from-ofa/from-onnx ... --json` on a few networks) that seed graph_json
besides the examples. The result is kept in fuzz/corpora.tar.xz together with what fuzzing
added; this script rebuilds the seeds.
"""

import csv
import gzip
import hashlib
import io
import json
import random
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS_PER_FAMILY = 300
# Larger ONNX seeds slow every execution; the small ones cover the same op vocabulary.
MAX_ONNX_SEED_BYTES = 100_000


def rows(relative):
    with gzip.open(ROOT / "data" / relative, "rt", newline="") as file:
        return list(csv.DictReader(file))


def sample(table, count):
    return random.Random(0).sample(table, min(count, len(table)))


def write(folder, data):
    folder.mkdir(parents=True, exist_ok=True)
    data = data.encode() if isinstance(data, str) else data
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    out = Path(sys.argv[1])
    graph_json = Path(sys.argv[2]) if len(sys.argv) > 2 else None

    for row in sample(rows("nasbench201/nb201_15625.csv.gz"), ROWS_PER_FAMILY):
        write(out / "nb201_string", row["arch_str"])

    for row in sample(rows("nasbench101/nb101_20001.csv.gz"), ROWS_PER_FAMILY):
        write(out / "nb101_spec", row["adjacency"] + "\n" + row["ops"])

    for row in sample(rows("nasbench301/nb301_labeled_500.csv.gz"), ROWS_PER_FAMILY):
        genotype = {
            "normal": json.loads(row["genotype_normal"]),
            "reduce": json.loads(row["genotype_reduce"]),
        }
        write(out / "darts_genotype", json.dumps(genotype))

    for row in sample(rows("ofa_mbv3/ofa_mbv3_subnets_2223.csv.gz"), ROWS_PER_FAMILY):
        spec = json.loads(row["ks"]) + json.loads(row["e"]) + json.loads(row["d"])
        write(out / "ofa_spec", bytes(spec) + struct.pack("<H", int(row["r"])))

    for path in sorted((ROOT / "data/zoo/torchvision").glob("*.onnx.gz")):
        data = gzip.decompress(path.read_bytes())
        if len(data) <= MAX_ONNX_SEED_BYTES:
            write(out / "onnx_import", data)
    for path in sorted((ROOT / "tests/fixtures/onnx").glob("*.onnx")):
        write(out / "onnx_import", path.read_bytes())

    for path in sorted((ROOT / "tests/fixtures/runtime").glob("*.onnx")):
        write(out / "predictor_model", path.read_bytes())

    for path in sorted((ROOT / "examples/graphs").glob("*.json")):
        write(out / "graph_json", path.read_bytes())
    if graph_json:
        for path in sorted(graph_json.glob("*.json")):
            write(out / "graph_json", path.read_bytes())


if __name__ == "__main__":
    main()
