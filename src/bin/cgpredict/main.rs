//! `cgpredict`: the command line over the library's functions.

mod benchmarks;
mod dataset;
mod graph;
mod onnx;
mod predict;
mod search;
mod spectral;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

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
    /// Predict the accuracy rank of networks: one score per graph, higher = better.
    Predict(predict::PredictArgs),
}

fn main() -> ExitCode {
    // The matches stay at hand: `predict` reads from them the order of its graph arguments.
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let outcome = match cli.command {
        Command::Graph(command) => graph::run(command),
        Command::Dataset(command) => dataset::run(command),
        Command::Spectral(command) => spectral::run(command),
        Command::Search(args) => search::run(args),
        Command::Predict(args) => predict::run(
            args,
            matches
                .subcommand_matches("predict")
                .expect("clap parsed the predict subcommand"),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
