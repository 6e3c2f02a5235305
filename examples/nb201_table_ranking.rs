//! How a model ranks the whole NAS-Bench-201 table, `none` cells included: Spearman over all
//! 15,625 cells and over the paper's 4,096 without `none`, and how many of the cells it ranks
//! highest use `none`. A model that never saw `zero` nodes can rank them arbitrarily, which
//! leads a search of the full space astray (README, "Architecture search").
//!
//! `cargo run --release --example nb201_table_ranking [-- MODEL.onnx]` (default: the bundled
//! model), from the repository root (reads `data/`).

use std::path::Path;

use cgpredict::import::Nb201Op;
use cgpredict::metrics::spearman;
use cgpredict::runtime::{Predictor, PredictorOptions};
use cgpredict::search::{Nb201Space, SearchSpace, nb201_table, order_best_first};

fn main() -> cgpredict::Result<()> {
    let options = PredictorOptions {
        model: std::env::args().nth(1).map(Into::into),
        ..Default::default()
    };
    let predictor = Predictor::open(&options)?;
    let table = nb201_table(Path::new("data"))?;
    let mut scores = Vec::with_capacity(table.len());
    for chunk in table.entries().chunks(256) {
        let graphs = chunk
            .iter()
            .map(|(arch, _)| Nb201Space.graph(arch))
            .collect::<cgpredict::Result<Vec<_>>>()?;
        let predicted = predictor.predict(&graphs.iter().collect::<Vec<_>>())?;
        scores.extend(predicted.into_iter().map(f64::from));
    }
    let accuracies: Vec<f64> = table
        .entries()
        .iter()
        .map(|&(_, accuracy)| accuracy)
        .collect();
    let uses_none: Vec<bool> = table
        .entries()
        .iter()
        .map(|(arch, _)| arch.edges().contains(&Nb201Op::None))
        .collect();
    println!("model {}", predictor.model_name());
    println!(
        "SRCC over all {} cells: {:.3}",
        table.len(),
        spearman(&scores, &accuracies)?
    );
    let (kept_scores, kept_accuracies): (Vec<f64>, Vec<f64>) = (0..table.len())
        .filter(|&i| !uses_none[i])
        .map(|i| (scores[i], accuracies[i]))
        .unzip();
    println!(
        "SRCC over the {} cells without none: {:.3}",
        kept_scores.len(),
        spearman(&kept_scores, &kept_accuracies)?
    );
    let order = order_best_first(&scores);
    for top in [10, 100, 1000] {
        let with_none = order[..top].iter().filter(|&&i| uses_none[i]).count();
        let mean = order[..top].iter().map(|&i| accuracies[i]).sum::<f64>() / top as f64;
        println!("best {top} predicted: {with_none} use none, mean accuracy {mean:.2}");
    }
    Ok(())
}
