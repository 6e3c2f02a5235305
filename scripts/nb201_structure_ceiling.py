#!/usr/bin/env python3
"""How much of NAS-Bench-201's CIFAR-10 ranking coarse structure explains, as context for
Table 1's NB-201 column (the paper's CL-fine-tune: SRCC 0.917 from 40 labels).

On the 4,096 cells without `none` (`data/nasbench201/nb201_15625.csv.gz`, label
`cifar10_test_200ep`), each cell is described by six numbers read from its arch string: how
many of its six edges are skip, 1x1 conv, 3x3 conv and 3x3 average pool, and the longest
input-to-output path counted in parameterized or pooling edges and in conv edges. Prints:

1. the oracle: each cell predicted by the mean accuracy of all cells with the same six
   numbers (it sees every label), for the four counts and for all six;
2. the few-shot version: RBF kernel ridge on the six numbers (standardized by the shots,
   width the median squared distance, ridge 1, the settings of the trainer's kernel
   correction) fitted to the ranks of 40 random cells, tested on the other 4,056, over
   20 draws.

Needs numpy and scipy: `python3 scripts/nb201_structure_ceiling.py`.
"""

import csv
import gzip
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import rankdata, spearmanr

DATA = Path(__file__).resolve().parent.parent / "data/nasbench201/nb201_15625.csv.gz"
OPS = ["skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def edges(arch):
    """(from, to, op) of every edge of an NB-201 arch string."""
    result = []
    for to, part in enumerate(arch.strip("|").split("|+|"), start=1):
        for edge in part.strip("|").split("|"):
            op, source = edge.split("~")
            result.append((int(source), to, op))
    return result


def structure(arch):
    """Op counts, then the longest paths in non-skip edges and in conv edges."""
    cell = edges(arch)
    counts = [sum(1 for _, _, op in cell if op == name) for name in OPS]
    longest = {0: 0}
    longest_conv = {0: 0}
    for node in (1, 2, 3):
        incoming = [(source, op) for source, to, op in cell if to == node]
        longest[node] = max(longest[s] + (op != "skip_connect") for s, op in incoming)
        longest_conv[node] = max(longest_conv[s] + ("conv" in op) for s, op in incoming)
    return counts + [longest[3], longest_conv[3]]


def kernel_ridge(shots, ranks, tests):
    mean, std = shots.mean(0), shots.std(0)
    std[std < 1e-9] = 1.0
    shots, tests = (shots - mean) / std, (tests - mean) / std
    squared = lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    distances = squared(shots, shots)
    width = np.median(distances[np.triu_indices(len(shots), 1)])
    gram = np.exp(-distances / width) + np.eye(len(shots))
    targets = (ranks - ranks.mean()) / ranks.std()
    return np.exp(-squared(tests, shots) / width) @ np.linalg.solve(gram, targets)


def main():
    with gzip.open(DATA, "rt") as file:
        rows = [r for r in csv.DictReader(file) if r["has_none_op"].lower() in ("0", "false")]
    features = np.array([structure(r["arch_str"]) for r in rows], dtype=float)
    accuracy = np.array([float(r["cifar10_test_200ep"]) for r in rows])
    print(f"{len(rows)} cells")
    for name, columns in [("op counts", [0, 1, 2, 3]), ("op counts and longest paths", range(6))]:
        groups = defaultdict(list)
        keys = [tuple(f) for f in features[:, list(columns)]]
        for key, value in zip(keys, accuracy):
            groups[key].append(value)
        oracle = [np.mean(groups[key]) for key in keys]
        print(f"oracle, {name} ({len(groups)} groups): SRCC {spearmanr(oracle, accuracy)[0]:.3f}")
    scores = []
    for seed in range(20):
        order = np.random.default_rng(seed).permutation(len(rows))
        shots, tests = order[:40], order[40:]
        predicted = kernel_ridge(features[shots], rankdata(accuracy[shots]), features[tests])
        scores.append(spearmanr(predicted, accuracy[tests])[0])
    print(f"kernel ridge, 40 shots, 20 draws: SRCC {np.mean(scores):.3f} ± {np.std(scores):.3f}")


if __name__ == "__main__":
    main()
