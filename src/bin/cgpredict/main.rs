//! `cgpredict`: the command line over the library's functions.

mod benchmarks;
mod dataset;
mod graph;
mod onnx;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Graph(command) => graph::run(command),
        Command::Dataset(command) => dataset::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
