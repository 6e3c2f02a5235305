#!/usr/bin/env python3
"""numpy/scipy side of the spectral benchmark, on the graphs the Rust bench wrote.

    cargo bench --bench spectral -- target/spectral-bench
    python3 scripts/bench_spectral.py target/spectral-bench

For every OUT_DIR/graphs/*.json: networkx's normalized Laplacian, then the median time of
numpy `eigvalsh` on it (dense, as a numpy user would) and of scipy
`eigsh(k=11, which='SA')` on the sparse matrix (the matrix is built once, outside the
timing, for both). Checks that numpy's 11 smallest eigenvalues equal the Rust ones to 1e-8
and prints the timings beside those of OUT_DIR/rust.json. Also times the pairwise
distance matrix of as many random spectra as the Rust batch (NAS-Bench-201 CGs) with scipy
`cdist`.
"""

import json
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy
import scipy.sparse.linalg as sla
from scipy.spatial.distance import cdist


def median_ms(fn, budget=1.5, max_repeats=20):
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    repeats = int(min(max_repeats, max(1, budget / max(first, 1e-9))))
    samples = [first]
    for _ in range(repeats - 1):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples)) * 1e3


def load_laplacian(path):
    doc = json.loads(path.read_text())
    graph = nx.Graph()
    graph.add_nodes_from(range(len(doc["nodes"])))
    graph.add_edges_from((a, b) for a, b in doc["edges"])
    return nx.normalized_laplacian_matrix(graph, nodelist=range(len(doc["nodes"]))).astype(float)


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "target/spectral-bench")
    rust = json.loads((out / "rust.json").read_text())
    k = rust["k"]
    print(f"numpy {np.__version__}, scipy {scipy.__version__}; k = {k}; median ms")
    header = (
        f"{'graph':>10} {'nodes':>6} {'numpy eigvalsh':>15} {'scipy eigsh SA':>15} "
        f"{'rust auto':>10} {'vs numpy':>9} {'vs scipy':>9} {'max |diff|':>11}"
    )
    print(header)
    for record in rust["graphs"]:
        laplacian = load_laplacian(out / "graphs" / f"{record['name']}.json")
        dense = laplacian.toarray()
        csr = laplacian.tocsr()
        numpy_values = np.linalg.eigvalsh(dense)[:k]
        gap = float(np.max(np.abs(numpy_values - np.array(record["spectrum"]))))
        assert gap < 1e-8, f"{record['name']}: Rust and numpy differ by {gap:e}"
        numpy_ms = median_ms(lambda: np.linalg.eigvalsh(dense), max_repeats=5)
        scipy_ms = median_ms(
            lambda: sla.eigsh(csr, k=k, which="SA", return_eigenvectors=False), max_repeats=5
        )
        ours = record["auto_ms"]
        print(
            f"{record['name']:>10} {record['nodes']:>6} {numpy_ms:>15.2f} {scipy_ms:>15.2f} "
            f"{ours:>10.3f} {numpy_ms / ours:>8.0f}x {scipy_ms / ours:>8.1f}x {gap:>11.1e}"
        )
    batch = rust["batch"]
    spectra = np.random.default_rng(0).random((batch["count"], k))

    scipy_pairwise = median_ms(lambda: cdist(spectra, spectra), max_repeats=3)
    print(
        f"\n{batch['count']} spectra, pairwise distance matrix: scipy cdist {scipy_pairwise:.1f} ms, "
        f"rust {batch['pairwise_ms']:.1f} ms on {batch['threads']} threads "
        f"(rust spectra of the {batch['count']} graphs: {batch['spectra_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
