//! `cgpredict graph ...`: inspect and convert computation graphs.

use std::path::{Path, PathBuf};

use cgpredict::{Error, Graph, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum GraphCommand {
    /// Print a summary: nodes, edges, parameters, MACs and the op histogram.
    Info {
        /// A computation graph in cgpredict's JSON format.
        file: PathBuf,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the graph in Graphviz DOT (`cgpredict graph dot g.json | dot -Tsvg > g.svg`).
    Dot {
        /// A computation graph in cgpredict's JSON format.
        file: PathBuf,
    },
    #[command(flatten)]
    FromBenchmark(crate::benchmarks::BenchmarkCommand),
    #[command(flatten)]
    FromOnnx(crate::onnx::OnnxCommand),
}

pub fn run(command: GraphCommand) -> Result<()> {
    match command {
        GraphCommand::Info { file, json } => {
            print!("{}", summary(&read_json_graph(&file)?, json));
            Ok(())
        }
        GraphCommand::Dot { file } => {
            print!("{}", read_json_graph(&file)?.to_dot());
            Ok(())
        }
        GraphCommand::FromBenchmark(command) => crate::benchmarks::run(command),
        GraphCommand::FromOnnx(command) => crate::onnx::run(command),
    }
}

pub fn read_json_graph(path: &Path) -> Result<Graph> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Error::from(error).context(path.display()))?;
    Graph::from_json(&text).map_err(|error| error.context(path.display()))
}

/// The summary `graph info` prints, as text or JSON; also used by the `from-*` commands.
pub fn summary(graph: &Graph, json: bool) -> String {
    if json {
        let value = serde_json::json!({
            "nodes": graph.node_count(),
            "edges": graph.edge_count(),
            "params": graph.param_count(),
            "macs": graph.macs(),
            "ops": graph.op_histogram(),
        });
        return format!("{value:#}\n");
    }
    let mut text = format!(
        "nodes  {}\nedges  {}\nparams {}\nMACs   {}\nops\n",
        graph.node_count(),
        graph.edge_count(),
        graph.param_count(),
        graph.macs()
    );
    for (op, count) in graph.op_histogram() {
        text.push_str(&format!("  {op:<16} {count}\n"));
    }
    text
}
