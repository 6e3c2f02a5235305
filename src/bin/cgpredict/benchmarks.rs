//! `cgpredict graph from-*`: the computation graph of a NAS benchmark's architecture, one
//! subcommand per benchmark family.

use cgpredict::import::darts::{Genotype, darts};
use cgpredict::import::ofa::ofa_mbv3;
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
    /// The NAS-Bench-301 (DARTS space) CIFAR-10 network of a genotype, as NAS-Bench-301
    /// trained it (32 channels, 8 cells).
    FromDarts {
        /// The genotype as JSON:
        /// '{"normal": [["sep_conv_3x3", 0], ... 8 pairs], "reduce": [... 8 pairs]}'.
        genotype: String,
        #[command(flatten)]
        output: Output,
    },
    /// A Once-for-All MobileNetV3 (width 1.0) subnet for ImageNet.
    FromOfa {
        /// 20 kernel sizes (3, 5 or 7), comma-separated; brackets and spaces are allowed,
        /// as in "[3, 5, 7, ...]".
        #[arg(long, value_parser = parse_list)]
        ks: List,
        /// 20 expand ratios (3, 4 or 6).
        #[arg(long, value_parser = parse_list)]
        e: List,
        /// 5 stage depths (2, 3 or 4); stage s runs block slots 4s..4s+d-1.
        #[arg(long, value_parser = parse_list)]
        d: List,
        /// Input resolution: a multiple of 4 from 128 to 224.
        #[arg(long, default_value_t = 224)]
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

/// A list of small integers given as one argument.
#[derive(Clone, Debug, PartialEq)]
pub struct List(Vec<u8>);

fn parse_list(text: &str) -> std::result::Result<List, String> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(inner);
    inner
        .split(',')
        .map(|item| {
            let item = item.trim();
            item.parse::<u8>()
                .map_err(|_| format!("{item:?} is not a small whole number"))
        })
        .collect::<std::result::Result<Vec<u8>, String>>()
        .map(List)
}

pub fn run(command: BenchmarkCommand) -> Result<()> {
    print!("{}", render(command)?);
    Ok(())
}

fn render(command: BenchmarkCommand) -> Result<String> {
    let (graph, output): (Graph, Output) = match command {
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
        BenchmarkCommand::FromDarts { genotype, output } => {
            (darts(&Genotype::from_json(&genotype)?)?, output)
        }
        BenchmarkCommand::FromOfa {
            ks,
            e,
            d,
            resolution,
            output,
        } => (ofa_mbv3(&ks.0, &e.0, &d.0, resolution)?, output),
    };
    Ok(if output.json {
        graph.to_json() + "\n"
    } else if output.dot {
        graph.to_dot()
    } else {
        summary(&graph, false)
    })
}

/// The NAS-Bench-101 network of a cell given as JSON texts (see `Nb101Spec::from_json`),
/// pruned first when `prune`.
pub fn nasbench101(adjacency: &str, ops: &str, prune: bool) -> Result<Graph> {
    let spec = if prune {
        Nb101Spec::pruned_from_json(adjacency, ops)?
    } else {
        Nb101Spec::from_json(adjacency, ops)?
    };
    spec.canonical().to_graph()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: BenchmarkCommand,
    }

    fn render_args(args: &[&str]) -> Result<String> {
        let cli = Cli::try_parse_from(std::iter::once("cgpredict").chain(args.iter().copied()))
            .map_err(|error| cgpredict::Error::invalid(error.to_string()))?;
        render(cli.command)
    }

    const V2: &str = r#"{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]], "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1], ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]}"#;

    #[test]
    fn from_darts_prints_a_summary_json_or_dot() {
        let expected = darts(&Genotype::from_json(V2).unwrap()).unwrap();
        let text = render_args(&["from-darts", V2]).unwrap();
        assert!(text.starts_with("nodes  372\n"), "{text}");
        assert!(
            text.contains(&format!("params {}\n", expected.param_count())),
            "{text}"
        );
        let json = render_args(&["from-darts", V2, "--json"]).unwrap();
        assert_eq!(Graph::from_json(&json).unwrap().node_count(), 372);
        let dot = render_args(&["from-darts", "--dot", V2]).unwrap();
        assert!(dot.starts_with("digraph cg {"));
        assert!(render_args(&["from-darts", V2, "--json", "--dot"]).is_err());
        let err = render_args(&["from-darts", "{\"normal\": []}"]).unwrap_err();
        assert!(err.message.contains("missing field `reduce`"), "{err}");
    }

    #[test]
    fn from_ofa_reads_lists_with_or_without_brackets() {
        let sevens = ["7"; 20].join(",");
        let sixes = format!("[{}]", ["6"; 20].join(", "));
        let text = render_args(&[
            "from-ofa",
            "--ks",
            &sevens,
            "--e",
            &sixes,
            "--d",
            "4,4,4,4,4",
        ])
        .unwrap();
        // The largest subnet at 224, counted by hand in the generator's tests.
        assert!(
            text.contains("params 7664760\nMACs   566170656\n"),
            "{text}"
        );
        let small = render_args(&[
            "from-ofa",
            "--ks",
            &sevens,
            "--e",
            &sixes,
            "--d",
            "4,4,4,4,4",
            "--resolution",
            "160",
        ])
        .unwrap();
        assert!(small.contains("params 7664760\n"), "{small}");
        assert!(!small.contains("MACs   566170656"));

        let err =
            render_args(&["from-ofa", "--ks", &sevens, "--e", &sixes, "--d", "4,4,4"]).unwrap_err();
        assert!(err.message.contains("d has 3 values, expected 5"), "{err}");
        let err = render_args(&["from-ofa", "--ks", "7,x", "--e", &sixes, "--d", "4"]).unwrap_err();
        assert!(
            err.message.contains("\"x\" is not a small whole number"),
            "{err}"
        );
    }
}
