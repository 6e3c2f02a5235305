//! How spread out the spectral distances σ within one family are, and so how the weights α
//! of the contrastive loss (softmax of −σ/T over an anchor's same-family batch mates) fall
//! at a given temperature T: the numbers behind the choice of `spectral_temperature`
//! (README, "Table 1").
//!
//! `cargo run --release --example spectral_spread`, from the repository root (reads
//! `data/`): 256 NAS-Bench-201 cells without `none` (every 16th of the table's 4,096), their
//! canonical CGs' k = 11 spectra, the quantiles of σ between cells and to each cell's
//! nearest other cell, and, in groups of 85 cells (a family's share of a 256-graph batch of
//! three families), the mean weight α of an anchor's nearest batch mate at T = 0.05, 0.005
//! and 0.0005.

use std::path::Path;

use cgpredict::graph::canonicalize;
use cgpredict::import::Nb201Op;
use cgpredict::search::{Nb201Space, SearchSpace, nb201_table};
use cgpredict::spectral::{pairwise_distances, spectra};

const CELLS: usize = 256;
const BATCH_MATES: usize = 85;

fn quantiles(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    format!("p10 {:.4}  p50 {:.4}  p90 {:.4}", at(0.1), at(0.5), at(0.9))
}

fn main() -> cgpredict::Result<()> {
    let table = nb201_table(Path::new("data"))?;
    let graphs = table
        .entries()
        .iter()
        .filter(|(arch, _)| !arch.edges().contains(&Nb201Op::None))
        .step_by(16)
        .take(CELLS)
        .map(|(arch, _)| Nb201Space.graph(arch).map(|graph| canonicalize(&graph)))
        .collect::<cgpredict::Result<Vec<_>>>()?;
    let distances = pairwise_distances(&spectra(&graphs, 11)?)?;
    let sigma = |i: usize, j: usize| distances.get(i, j).expect("indices within the matrix");
    let n = graphs.len();
    let pairs: Vec<f64> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| sigma(i, j))
        .collect();
    let nearest: Vec<f64> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i)
                .map(|j| sigma(i, j))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    println!("{n} NB-201 cells without none, k = 11");
    println!("σ between cells:           {}", quantiles(pairs));
    println!("σ to the nearest other:    {}", quantiles(nearest));
    for temperature in [0.05, 0.005, 0.0005] {
        let mut total = 0.0;
        let mut anchors = 0;
        for group in (0..n).collect::<Vec<_>>().chunks_exact(BATCH_MATES) {
            for &anchor in group {
                let weights: Vec<f64> = group
                    .iter()
                    .filter(|&&mate| mate != anchor)
                    .map(|&mate| (-sigma(anchor, mate) / temperature).exp())
                    .collect();
                let largest = weights.iter().copied().fold(0.0, f64::max);
                total += largest / weights.iter().sum::<f64>();
                anchors += 1;
            }
        }
        println!(
            "T = {temperature}: the nearest of {} batch mates weighs {:.1}% on average (uniform: {:.1}%)",
            BATCH_MATES - 1,
            100.0 * total / anchors as f64,
            100.0 / (BATCH_MATES - 1) as f64
        );
    }
    Ok(())
}
