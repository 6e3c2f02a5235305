//! `cgpredict predict`: score graphs with a predictor model, one score per graph, in the
//! order the graphs were given.

use std::path::{Path, PathBuf};

use cgpredict::import::Nb201Arch;
use cgpredict::import::darts::{Genotype, darts};
use cgpredict::import::ofa::ofa_mbv3;
use cgpredict::import::onnx::{ImportOptions, graph_from_onnx_file_with};
use cgpredict::runtime::{Device, Predictor, PredictorOptions};
use cgpredict::{Error, Graph, Result};
use clap::{ArgMatches, Args, ValueEnum};
use serde::Deserialize;

use crate::benchmarks::nasbench101;
use crate::graph::read_json_graph;
use crate::onnx::{InputShape, import_options, parse_shape};

/// Arguments of `cgpredict predict`. Graphs come from files and from the benchmark options,
/// in any mix; the scores follow the order of the command line.
#[derive(Args)]
pub struct PredictArgs {
    /// The model file [default: the file $CGPREDICT_MODEL names, else the bundled default model].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Where to run: auto tries CUDA and falls back to the CPU.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    device: DeviceArg,
    /// Print a JSON object: the model, the device and the scores.
    #[arg(long)]
    json: bool,
    /// Graph files: ONNX models (.onnx, .onnx.gz) or computation graphs in cgpredict's JSON
    /// format (.json).
    #[arg(value_name = "GRAPH")]
    files: Vec<PathBuf>,
    /// For the ONNX models: this input shape instead of the declared one, `1x3x240x240` for
    /// the first data input or `NAME=1x128` for the input NAME; repeat it for several inputs.
    #[arg(long, value_parser = parse_shape)]
    input_shape: Vec<InputShape>,
    /// A NAS-Bench-201 cell, `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`: its CIFAR-10 network.
    #[arg(long, value_name = "ARCH")]
    nb201: Vec<String>,
    /// A NAS-Bench-101 cell as JSON, `{"matrix": [[0,1,...],...], "ops": ["input",...,"output"]}`
    /// (NAS-Bench-101's ModelSpec; "adjacency" may stand for "matrix"); pruned as the
    /// benchmark prunes.
    #[arg(long = "nb101-json", value_name = "JSON")]
    nb101: Vec<String>,
    /// A NAS-Bench-301 (DARTS) genotype as JSON, `{"normal": [["sep_conv_3x3", 0], ...],
    /// "reduce": [...]}`.
    #[arg(long, value_name = "JSON")]
    darts: Vec<String>,
    /// A Once-for-All MobileNetV3 subnet as JSON, `{"ks": [20 values], "e": [20 values],
    /// "d": [5 values], "r": 224}` (`r`, the resolution, is optional and may be `[224]`).
    #[arg(long, value_name = "JSON")]
    ofa: Vec<String>,
}

/// `--device` values.
#[derive(Clone, Copy, ValueEnum)]
enum DeviceArg {
    Auto,
    Cpu,
    Cuda,
}

/// One graph as given on the command line.
enum Source {
    File(PathBuf),
    Nb201(String),
    Nb101(String),
    Darts(String),
    Ofa(String),
}

impl Source {
    /// How the input appears in the output.
    fn label(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Nb201(text) => format!("nb201:{text}"),
            Source::Nb101(text) => format!("nb101:{text}"),
            Source::Darts(text) => format!("darts:{text}"),
            Source::Ofa(text) => format!("ofa:{text}"),
        }
    }

    fn graph(&self, onnx: &ImportOptions) -> Result<Graph> {
        let build = || match self {
            Source::File(path) => graph_file(path, onnx),
            Source::Nb201(arch) => arch.parse::<Nb201Arch>()?.to_graph(10, 32),
            Source::Nb101(json) => nb101_json(json),
            Source::Darts(json) => darts(&Genotype::from_json(json)?),
            Source::Ofa(json) => ofa_json(json),
        };
        build().map_err(|error| error.context(self.label()))
    }
}

fn graph_file(path: &Path, onnx: &ImportOptions) -> Result<Graph> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".onnx") || name.ends_with(".onnx.gz") {
        graph_from_onnx_file_with(path, onnx).map(|(graph, _)| graph)
    } else if name.ends_with(".json") {
        read_json_graph(path)
    } else {
        Err(Error::invalid(
            "a graph file is an ONNX model (.onnx, .onnx.gz) or a cgpredict graph (.json)",
        ))
    }
}

/// NAS-Bench-101's `ModelSpec(matrix, ops)` as one JSON object.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nb101Json {
    #[serde(alias = "adjacency")]
    matrix: serde_json::Value,
    ops: serde_json::Value,
}

fn nb101_json(text: &str) -> Result<Graph> {
    let spec: Nb101Json = serde_json::from_str(text)
        .map_err(|error| Error::parse(format!("NAS-Bench-101 cell: {error}")))?;
    nasbench101(&spec.matrix.to_string(), &spec.ops.to_string(), true)
}

/// An OFA subnet as OFA's own code writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfaJson {
    ks: Vec<u8>,
    e: Vec<u8>,
    d: Vec<u8>,
    #[serde(default, alias = "resolution")]
    r: Option<Resolution>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Resolution {
    One(u32),
    List([u32; 1]),
}

fn ofa_json(text: &str) -> Result<Graph> {
    let spec: OfaJson =
        serde_json::from_str(text).map_err(|error| Error::parse(format!("OFA subnet: {error}")))?;
    let resolution = match spec.r {
        None => 224,
        Some(Resolution::One(r) | Resolution::List([r])) => r,
    };
    ofa_mbv3(&spec.ks, &spec.e, &spec.d, resolution)
}

/// The graphs in command-line order: clap keeps each option's values apart, their indices
/// say how they interleave.
fn sources(args: &PredictArgs, matches: &ArgMatches) -> Vec<Source> {
    let mut indexed: Vec<(usize, Source)> = Vec::new();
    let mut add = |id: &str, sources: Vec<Source>| {
        let indices = matches.indices_of(id).into_iter().flatten();
        indexed.extend(indices.zip(sources));
    };
    add(
        "files",
        args.files.iter().cloned().map(Source::File).collect(),
    );
    add(
        "nb201",
        args.nb201.iter().cloned().map(Source::Nb201).collect(),
    );
    add(
        "nb101",
        args.nb101.iter().cloned().map(Source::Nb101).collect(),
    );
    add(
        "darts",
        args.darts.iter().cloned().map(Source::Darts).collect(),
    );
    add("ofa", args.ofa.iter().cloned().map(Source::Ofa).collect());
    indexed.sort_by_key(|(index, _)| *index);
    indexed.into_iter().map(|(_, source)| source).collect()
}

/// Builds every graph, opens the predictor, scores all graphs in one batch and prints.
pub fn run(args: PredictArgs, matches: &ArgMatches) -> Result<()> {
    let sources = sources(&args, matches);
    if sources.is_empty() {
        return Err(Error::invalid(
            "no graphs: give GRAPH files or --nb201, --nb101-json, --darts, --ofa",
        ));
    }
    let onnx = import_options(args.input_shape.clone())?;
    let graphs = sources
        .iter()
        .map(|source| source.graph(&onnx))
        .collect::<Result<Vec<Graph>>>()?;
    let device = match args.device {
        DeviceArg::Auto => Device::Auto,
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::Cuda,
    };
    let predictor = Predictor::open(&PredictorOptions {
        model: args.model,
        device,
        ..PredictorOptions::default()
    })?;
    let scores = predictor.predict(&graphs.iter().collect::<Vec<&Graph>>())?;
    let labels = sources.iter().map(Source::label);
    if args.json {
        let predictions: Vec<serde_json::Value> = labels
            .zip(&scores)
            .map(|(input, score)| serde_json::json!({"input": input, "score": score}))
            .collect();
        let output = serde_json::json!({
            "model": predictor.model_name(),
            "device": predictor.device().name(),
            "predictions": predictions,
        });
        println!("{output:#}");
    } else {
        for (label, score) in labels.zip(&scores) {
            println!("{score}\t{label}");
        }
    }
    Ok(())
}
