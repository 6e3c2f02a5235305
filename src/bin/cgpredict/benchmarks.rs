//! `cgpredict graph from-*`: the computation graph of a NAS benchmark's architecture, one
//! subcommand per benchmark family.

use cgpredict::import::{Nb101Spec, Nb201Arch};
use cgpredict::{Graph, Result};
use clap::{Args, Subcommand};

use crate::graph::summary;

#[derive(Subcommand)]
pub enum BenchmarkCommand {
    /// The NAS-Bench-101 network (CIFAR-10) of a cell.
    ///
    /// The cell is put in the vertex order the benchmark trained, which decides how channels
    /// are split. Example: `--adjacency '[[0,1,0],[0,0,1],[0,0,0]]'
    /// --ops '["input","conv3x3-bn-relu","output"]'`.
    #[command(name = "from-nb101")]
    FromNb101 {
        /// The cell's adjacency matrix as JSON: a list of rows of 0/1, strictly upper
        /// triangular.
        #[arg(long)]
        adjacency: String,
        /// The op of each vertex as a JSON list: "input", then conv3x3-bn-relu,
        /// conv1x1-bn-relu or maxpool3x3, then "output".
        #[arg(long)]
        ops: String,
        /// Drop vertices off every input-to-output path first, as NAS-Bench-101 does (NASLib
        /// and the benchmark's API store cells unpruned, as 7x7 matrices).
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        output: Output,
    },
    /// The NAS-Bench-201 network of a cell string.
    ///
    /// Example: `'|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'`.
    #[command(name = "from-nb201")]
    FromNb201 {
        /// The cell: `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
        arch: String,
        /// Number of classes: 10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120.
        #[arg(long, default_value_t = 10)]
        classes: u32,
        /// Input height and width: 32 for CIFAR, 16 for ImageNet16-120.
        #[arg(long, default_value_t = 32)]
        resolution: u32,
        #[command(flatten)]
        output: Output,
    },
}

/// What to print; by default the summary that `graph info` prints.
#[derive(Args)]
pub struct Output {
    /// Print the graph in cgpredict's JSON format instead of the summary.
    #[arg(long, conflicts_with = "dot")]
    json: bool,
    /// Print the graph in Graphviz DOT instead of the summary.
    #[arg(long)]
    dot: bool,
}

pub fn run(command: BenchmarkCommand) -> Result<()> {
    let (graph, output) = match command {
        BenchmarkCommand::FromNb101 {
            adjacency,
            ops,
            prune,
            output,
        } => (nasbench101(&adjacency, &ops, prune)?, output),
        BenchmarkCommand::FromNb201 {
            arch,
            classes,
            resolution,
            output,
        } => (
            arch.parse::<Nb201Arch>()?.to_graph(classes, resolution)?,
            output,
        ),
    };
    let text = if output.json {
        graph.to_json() + "\n"
    } else if output.dot {
        graph.to_dot()
    } else {
        summary(&graph, false)
    };
    print!("{text}");
    Ok(())
}

fn nasbench101(adjacency: &str, ops: &str, prune: bool) -> Result<Graph> {
    let spec = if prune {
        Nb101Spec::pruned_from_json(adjacency, ops)?
    } else {
        Nb101Spec::from_json(adjacency, ops)?
    };
    spec.canonical().to_graph()
}
