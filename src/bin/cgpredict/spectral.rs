//! `cgpredict spectrum` and `cgpredict distance`: normalized-Laplacian spectra of graphs.

use std::path::PathBuf;

use cgpredict::Result;
use cgpredict::spectral::{self, DEFAULT_K};
use clap::Subcommand;

use crate::graph::read_json_graph;

#[derive(Subcommand)]
pub enum SpectralCommand {
    /// Print the k smallest eigenvalues of a graph's normalized Laplacian, ascending, one
    /// per line (edges undirected; a graph of fewer than k nodes gets zeros in front).
    Spectrum {
        /// A computation graph in cgpredict's JSON format.
        file: PathBuf,
        /// How many eigenvalues.
        #[arg(short, default_value_t = DEFAULT_K)]
        k: usize,
        /// Print them as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print the spectral distance of two graphs: the Euclidean distance of their k-spectra.
    Distance {
        /// A computation graph in cgpredict's JSON format.
        a: PathBuf,
        /// Another one.
        b: PathBuf,
        /// How many eigenvalues to compare.
        #[arg(short, default_value_t = DEFAULT_K)]
        k: usize,
    },
}

pub fn run(command: SpectralCommand) -> Result<()> {
    match command {
        SpectralCommand::Spectrum { file, k, json } => {
            let values = spectral::spectrum(&read_json_graph(&file)?, k)
                .map_err(|error| error.context(file.display()))?;
            if json {
                println!("{}", serde_json::json!(values));
            } else {
                values.iter().for_each(|value| println!("{value}"));
            }
        }
        SpectralCommand::Distance { a, b, k } => {
            let (first, second) = (read_json_graph(&a)?, read_json_graph(&b)?);
            println!("{}", spectral::spectral_distance(&first, &second, k)?);
        }
    }
    Ok(())
}
