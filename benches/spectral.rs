//! Spectral benchmark: `cargo bench --bench spectral [-- OUT_DIR [quick]]`.
//!
//! Writes the CG-like graphs it times to `OUT_DIR/graphs/*.json` (default
//! `target/spectral-bench`), its spectra and timings to `OUT_DIR/rust.json`, and prints a
//! table. `scripts/bench_spectral.py OUT_DIR` then times numpy `eigvalsh` and scipy
//! `eigsh` on the very same graphs, checks the spectra agree and prints both side by side.
//! `quick` skips the slow dense solves of the largest graphs.

#[path = "../tests/support/cg_like.rs"]
mod cg_like;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cgpredict::spectral::{self, DEFAULT_K, Solver};
use cgpredict::{Graph, Node, NodeId, Op, Shape};

/// Median wall time of `f` over enough repetitions to fill about `budget`.
fn time<T>(budget: Duration, mut f: impl FnMut() -> T) -> (Duration, T) {
    let start = Instant::now();
    let mut value = f();
    let first = start.elapsed();
    let repeats = if first.is_zero() {
        100
    } else {
        (budget.as_secs_f64() / first.as_secs_f64()).clamp(1.0, 100.0) as usize
    };
    let mut samples = vec![first];
    for _ in 1..repeats {
        let start = Instant::now();
        value = f();
        samples.push(start.elapsed());
    }
    samples.sort();
    (samples[samples.len() / 2], value)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let out = PathBuf::from(
        args.first()
            .cloned()
            .unwrap_or_else(|| "target/spectral-bench".into()),
    );
    let quick = args.iter().any(|a| a == "quick");
    let graph_dir = out.join("graphs");
    std::fs::create_dir_all(&graph_dir).expect("create the output folder");
    let budget = Duration::from_millis(1500);

    println!("# spectrum, k = {DEFAULT_K} (median ms)");
    println!(
        "{:>14} {:>6} {:>6} {:>10} {:>10} {:>10}",
        "graph", "nodes", "edges", "dense", "sparse", "auto"
    );
    let mut records = Vec::new();
    for (size, seeds) in [(100, [1, 2, 3]), (1000, [1, 2, 3]), (5000, [1, 2, 3])] {
        for seed in seeds {
            let graph = cg_like::cg_like(size, seed);
            let name = format!("cg_{size}_{seed}");
            std::fs::write(graph_dir.join(format!("{name}.json")), graph.to_json())
                .expect("write a bench graph");
            let dense = if quick && size > 1000 {
                None
            } else {
                Some(time(budget, || {
                    spectral::spectrum_with(&graph, DEFAULT_K, Solver::Dense).unwrap()
                }))
            };
            let (sparse, values) = time(budget, || {
                spectral::spectrum_with(&graph, DEFAULT_K, Solver::Sparse).unwrap()
            });
            let (auto, _) = time(budget, || spectral::spectrum(&graph, DEFAULT_K).unwrap());
            if let Some((_, dense_values)) = &dense {
                let gap = values
                    .iter()
                    .zip(dense_values)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                assert!(gap < 1e-8, "{name}: dense and sparse differ by {gap:e}");
            }
            let dense_ms = dense.as_ref().map(|(d, _)| ms(*d));
            println!(
                "{name:>14} {:>6} {:>6} {:>10} {:>10.3} {:>10.3}",
                graph.node_count(),
                graph.edge_count(),
                dense_ms.map_or("-".into(), |v| format!("{v:.3}")),
                ms(sparse),
                ms(auto)
            );
            records.push(serde_json::json!({
                "name": name,
                "nodes": graph.node_count(),
                "edges": graph.edge_count(),
                "dense_ms": dense_ms,
                "sparse_ms": ms(sparse),
                "auto_ms": ms(auto),
                "spectrum": values,
            }));
        }
    }

    println!("\n# dense/sparse crossover, k = {DEFAULT_K} (median ms over 3 graphs)");
    let mut crossover = String::new();
    for size in [40, 60, 80, 100, 120, 140, 160, 200, 250, 300, 400] {
        let graphs: Vec<_> = (0..3)
            .map(|seed| cg_like::cg_like(size, 100 + seed))
            .collect();
        let (dense, _) = time(budget / 3, || {
            for g in &graphs {
                spectral::spectrum_with(g, DEFAULT_K, Solver::Dense).unwrap();
            }
        });
        let (sparse, _) = time(budget / 3, || {
            for g in &graphs {
                spectral::spectrum_with(g, DEFAULT_K, Solver::Sparse).unwrap();
            }
        });
        writeln!(
            crossover,
            "{size:>6} nodes: dense {:>8.3}  sparse {:>8.3}",
            ms(dense) / 3.0,
            ms(sparse) / 3.0
        )
        .unwrap();
    }
    print!("{crossover}");

    let count = 4096;
    let graphs: Vec<_> = (0..count as u64)
        .map(|seed| cg_like::cg_like(100, 1000 + seed))
        .collect();
    let start = Instant::now();
    let spectra = spectral::spectra(&graphs, DEFAULT_K).unwrap();
    let spectra_time = start.elapsed();
    let (pairwise, matrix) = time(budget, || spectral::pairwise_distances(&spectra).unwrap());
    let (neighbours, _) = time(budget, || {
        spectral::all_nearest_neighbours(&spectra, 1).unwrap()
    });
    println!(
        "\n# {count} graphs of ~100 nodes on {} threads: spectra {:.1} ms, pairwise {}x{} {:.1} ms, \
         nearest neighbour of all {:.1} ms",
        rayon::current_num_threads(),
        ms(spectra_time),
        matrix.size(),
        matrix.size(),
        ms(pairwise),
        ms(neighbours)
    );

    let summary = serde_json::json!({
        "k": DEFAULT_K,
        "graphs": records,
        "batch": {
            "count": count,
            "threads": rayon::current_num_threads(),
            "spectra_ms": ms(spectra_time),
            "pairwise_ms": ms(pairwise),
            "all_nearest_ms": ms(neighbours),
        },
    });
    std::fs::write(
        out.join("rust.json"),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .expect("write rust.json");
    println!("\nwrote {}", out.display());
}
