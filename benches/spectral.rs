//! Spectral benchmark: `cargo bench --bench spectral [-- OUT_DIR [quick]]`.
//!
//! Writes the CG-like graphs it times to `OUT_DIR/graphs/*.json` (default
//! `target/spectral-bench`), its spectra and timings to `OUT_DIR/rust.json`, and prints a
//! table. `scripts/bench_spectral.py OUT_DIR` then times numpy `eigvalsh` and scipy
//! `eigsh` on the very same graphs, checks the spectra agree and prints both side by side.
//! `quick` skips the slow dense solves of the largest graphs. The batch part times the spectra
//! and the pairwise distance matrix of the first 4,096 NAS-Bench-201 CGs.

#[path = "../tests/support/cg_like.rs"]
mod cg_like;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cgpredict::import::nasbench201;
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

/// The CIFAR-10 computation graphs of the first `count` architectures of the vendored
/// NAS-Bench-201 table.
fn nb201_graphs(count: usize) -> Vec<Graph> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/nasbench201/nb201_15625.csv.gz"
    );
    let file = std::fs::File::open(path).expect("the vendored NAS-Bench-201 table");
    let mut reader = csv::Reader::from_reader(flate2::read::GzDecoder::new(file));
    let column = reader
        .headers()
        .expect("a header row")
        .iter()
        .position(|name| name == "arch_str")
        .expect("an arch_str column");
    reader
        .records()
        .take(count)
        .map(|record| {
            nasbench201(&record.expect("a CSV row")[column], 10).expect("a valid architecture")
        })
        .collect()
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
    let graphs = nb201_graphs(count);
    let mean_nodes = graphs.iter().map(Graph::node_count).sum::<usize>() as f64 / count as f64;
    let start = Instant::now();
    let spectra = spectral::spectra(&graphs, DEFAULT_K).unwrap();
    let spectra_time = start.elapsed();
    let (pairwise, matrix) = time(budget, || spectral::pairwise_distances(&spectra).unwrap());
    let (neighbours, _) = time(budget, || {
        spectral::all_nearest_neighbours(&spectra, 1).unwrap()
    });
    println!(
        "\n# the first {count} NAS-Bench-201 CGs (CIFAR-10, {mean_nodes:.0} nodes on average) on {} \
         threads: spectra {:.1} ms, pairwise {}x{} {:.1} ms, nearest neighbour of all {:.1} ms",
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
            "mean_nodes": mean_nodes,
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
