//! The sparse eigensolver against the dense one on real computation graphs, at the paper's
//! k and at larger ones: every 97th graph of each vendored family (120 at most per family)
//! and the 104 torchvision zoo models, k = 11, 20, 32 and 64 (below the graph's order).
//! Prints each failure to converge, each new largest difference between the solvers (graphs
//! up to 2,500 nodes, where the dense solve is quick) and any sparse solve over half a second.
//!
//! `cargo run --release --example spectral_solvers_agree`, from the repository root (reads
//! `data/`).

use std::path::Path;

use cgpredict::graph::{Graph, canonicalize};
use cgpredict::import::dataset::{Dataset, Family};
use cgpredict::import::onnx::graph_from_onnx_file;
use cgpredict::spectral::{Solver, spectrum_with};

const KS: [usize; 4] = [11, 20, 32, 64];

#[derive(Default)]
struct Tally {
    solves: usize,
    failures: usize,
    largest_difference: f64,
}

impl Tally {
    fn check(&mut self, name: &str, graph: &Graph) -> cgpredict::Result<()> {
        let n = graph.node_count();
        for k in KS.into_iter().filter(|&k| k < n) {
            self.solves += 1;
            let started = std::time::Instant::now();
            let sparse = match spectrum_with(graph, k, Solver::Sparse) {
                Ok(values) => values,
                Err(error) => {
                    self.failures += 1;
                    println!("{name} ({n} nodes), k = {k}: {error}");
                    continue;
                }
            };
            let seconds = started.elapsed().as_secs_f64();
            if seconds > 0.5 {
                println!("{name} ({n} nodes), k = {k}: sparse solve took {seconds:.2} s");
            }
            if n <= 2500 {
                let dense = spectrum_with(graph, k, Solver::Dense)?;
                let difference = sparse
                    .iter()
                    .zip(&dense)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                if difference > self.largest_difference {
                    self.largest_difference = difference;
                    println!(
                        "{name} ({n} nodes), k = {k}: largest difference so far {difference:.1e}"
                    );
                }
            }
        }
        Ok(())
    }
}

fn main() -> cgpredict::Result<()> {
    let mut tally = Tally::default();
    let dataset = Dataset::from_vendored(Path::new("data"))?;
    for family in Family::ALL {
        for (i, record) in dataset.family(family).enumerate().step_by(97).take(120) {
            let graph = canonicalize(&record.spec.graph()?);
            tally.check(&format!("{} #{i}", family.name()), &graph)?;
        }
    }
    let mut zoo: Vec<_> = std::fs::read_dir("data/zoo/torchvision")?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<std::io::Result<_>>()?;
    zoo.retain(|path| path.to_string_lossy().ends_with(".onnx.gz"));
    zoo.sort();
    for path in zoo {
        let (graph, _) = graph_from_onnx_file(&path)?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        tally.check(&name, &graph)?;
    }
    println!(
        "{} sparse solves, {} failed to converge; largest difference from the dense solver {:.1e}",
        tally.solves, tally.failures, tally.largest_difference
    );
    Ok(())
}
