//! `cgpredict`: the command line over the library's functions.

mod benchmarks;
mod dataset;
mod graph;
mod onnx;
mod search;
mod spectral;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Predict how well a neural network will perform from its computation graph.
#[derive(Parser)]
#[command(name = "cgpredict", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build, convert and inspect computation graphs.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// The vendored benchmark data as labeled computation graphs.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    #[command(flatten)]
    Spectral(spectral::SpectralCommand),
    /// Architecture search on a benchmark space: random search, regularized evolution and the
    /// predictor-guided EA, with the best accuracy found, its rank and the oracle queries.
    Search(search::SearchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Graph(command) => graph::run(command),
        Command::Dataset(command) => dataset::run(command),
        Command::Spectral(command) => spectral::run(command),
        Command::Search(args) => search::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
