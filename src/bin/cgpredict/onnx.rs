//! `cgpredict graph from-onnx`: the computation graph of an ONNX model.

use std::path::PathBuf;

use cgpredict::import::onnx::{ImportOptions, graph_from_onnx_file_with};
use cgpredict::{Error, Result};
use clap::Subcommand;

use crate::graph::summary;

/// The ONNX subcommand of `cgpredict graph`.
#[derive(Subcommand)]
pub enum OnnxCommand {
    /// Import an ONNX model (plain or .onnx.gz): structure and shapes only, weights are
    /// never read. Prints the graph summary and the import report by default.
    FromOnnx {
        /// The model file.
        model: PathBuf,
        /// Print the graph in cgpredict's JSON format (with --report: the report as JSON).
        #[arg(long, conflicts_with = "dot")]
        json: bool,
        /// Print the graph in Graphviz DOT.
        #[arg(long, conflicts_with = "report")]
        dot: bool,
        /// Print only the import report: what became of each ONNX operator type.
        #[arg(long)]
        report: bool,
        /// Use this input shape instead of the declared one: `1x3x240x240` for the first
        /// data input, `NAME=1x128` for the input NAME; repeat it for several inputs.
        #[arg(long, value_parser = parse_shape)]
        input_shape: Vec<InputShape>,
    },
}

/// Input dimensions given as one argument, for the input named or the first.
#[derive(Clone, Debug, PartialEq)]
pub struct InputShape {
    input: Option<String>,
    dims: Vec<u64>,
}

pub fn parse_shape(text: &str) -> std::result::Result<InputShape, String> {
    let (input, dims) = match text.rsplit_once('=') {
        Some((name, dims)) if !name.is_empty() => (Some(name.to_owned()), dims),
        Some(_) => return Err(format!("{text:?} names no input before '='")),
        None => (None, text),
    };
    let dims = dims
        .split(['x', 'X', ','])
        .map(|part| {
            part.trim()
                .parse::<u64>()
                .ok()
                .filter(|&d| d > 0)
                .ok_or_else(|| format!("{part:?} in {text:?} is not a positive dimension"))
        })
        .collect::<std::result::Result<Vec<u64>, String>>()?;
    Ok(InputShape { input, dims })
}

/// Import options from the `--input-shape` arguments: at most one without a name (the first
/// data input), each name once.
pub fn import_options(shapes: Vec<InputShape>) -> Result<ImportOptions> {
    let mut options = ImportOptions::default();
    for shape in shapes {
        let repeated = match shape.input {
            None => options.input_shape.replace(shape.dims).is_some(),
            Some(name) => options.input_shapes.insert(name, shape.dims).is_some(),
        };
        if repeated {
            return Err(Error::invalid(
                "--input-shape is given twice for one input (without a name it is the first \
                 data input's)",
            ));
        }
    }
    Ok(options)
}

/// Imports the model and prints what the flags ask for.
pub fn run(command: OnnxCommand) -> Result<()> {
    let OnnxCommand::FromOnnx {
        model,
        json,
        dot,
        report,
        input_shape,
    } = command;
    let (graph, import_report) = graph_from_onnx_file_with(&model, &import_options(input_shape)?)?;
    let text = match (json, dot, report) {
        (true, _, true) => format!("{}\n", import_report.to_json()),
        (false, _, true) => import_report.to_string(),
        (true, _, false) => format!("{}\n", graph.to_json()),
        (_, true, _) => graph.to_dot(),
        _ => format!("{}{import_report}", summary(&graph, false)),
    };
    print!("{text}");
    if import_report.unknown_total() > 0 && !(json || dot) {
        let unknown = import_report.unknown_ops().join(", ");
        eprintln!("note: operators outside the vocabulary became unknown nodes: {unknown}");
    }
    Ok(())
}
