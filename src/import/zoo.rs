//! The torchvision model zoo vendored under `data/zoo/torchvision/`: real published ImageNet
//! classifiers as computation graphs, each with its published top-1 accuracy.
//!
//! Several entries share one architecture and differ only in their training recipe
//! (`ResNet50_Weights.IMAGENET1K_V1` and `..._V2`); [`ZooModel::architecture`] names the
//! architecture so that an evaluation can keep such entries on the same side of a split.

use std::path::Path;

use rayon::prelude::*;

use super::onnx::{graph_from_onnx_bytes, read_model_file};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Graph;

/// One published model of the zoo.
#[derive(Debug, Clone)]
pub struct ZooModel {
    /// The torchvision weights name, e.g. `ResNet50_Weights.IMAGENET1K_V2`.
    pub name: String,
    /// The architecture the weights belong to, e.g. `ResNet50`.
    pub architecture: String,
    /// Published ImageNet-1k top-1 accuracy, in percent.
    pub top1: f64,
    /// Published parameter count, when the manifest gives it (MobileNet-V2's rows do not).
    pub params: Option<u64>,
    /// Published multiply-accumulates, in billions, when the manifest gives it.
    pub gmacs: Option<f64>,
    /// The imported computation graph (canonical form).
    pub graph: Graph,
}

/// The architecture part of a torchvision weights name: everything before `_Weights`.
pub fn architecture_of(weights_name: &str) -> &str {
    weights_name
        .split_once("_Weights")
        .map_or(weights_name, |(architecture, _)| architecture)
}

/// Reads `zoo_dir/manifest.csv` and imports every listed model (`FILE.gz` beside it), in
/// manifest order, in parallel.
pub fn load_zoo(zoo_dir: &Path) -> Result<Vec<ZooModel>> {
    let manifest = zoo_dir.join("manifest.csv");
    let io = |error: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {error}", manifest.display()),
        )
    };
    let text = std::fs::read_to_string(&manifest).map_err(io)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| Error::parse(format!("{}: {error}", manifest.display())))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            Error::parse(format!(
                "{}: no column {name:?} in the header",
                manifest.display()
            ))
        })
    };
    let [name_at, file_at, top1_at, params_at, gflops_at] =
        ["name", "file", "top1", "params", "gflops"].map(column);
    let (name_at, file_at, top1_at, params_at, gflops_at) =
        (name_at?, file_at?, top1_at?, params_at?, gflops_at?);
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record =
            record.map_err(|error| Error::parse(format!("{}: {error}", manifest.display())))?;
        let field = |at: usize, what: &str| {
            record.get(at).ok_or_else(|| {
                Error::parse(format!(
                    "{} row {}: no {what} field",
                    manifest.display(),
                    line + 1
                ))
            })
        };
        // An empty field is a value the manifest does not give.
        let optional = |at: usize, what: &str| -> Result<Option<f64>> {
            let text = field(at, what)?;
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<f64>().map(Some).map_err(|_| {
                Error::parse(format!(
                    "{} row {}: {what} {text:?} is not a number",
                    manifest.display(),
                    line + 1
                ))
            })
        };
        let top1 = optional(top1_at, "top1")?.ok_or_else(|| {
            Error::parse(format!(
                "{} row {}: top1 is empty",
                manifest.display(),
                line + 1
            ))
        })?;
        rows.push((
            field(name_at, "name")?.to_owned(),
            field(file_at, "file")?.to_owned(),
            top1,
            optional(params_at, "params")?.map(|count| count as u64),
            optional(gflops_at, "gflops")?,
        ));
    }
    rows.into_par_iter()
        .map(|(name, file, top1, params, gmacs)| {
            let path = zoo_dir.join(format!("{file}.gz"));
            let bytes = read_model_file(&path)?;
            let (graph, _) = graph_from_onnx_bytes(&bytes)
                .map_err(|error| error.context(format!("zoo model {name}")))?;
            Ok(ZooModel {
                architecture: architecture_of(&name).to_owned(),
                name,
                top1,
                params,
                gmacs,
                graph,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architecture_is_the_part_before_weights() {
        assert_eq!(
            architecture_of("ResNet50_Weights.IMAGENET1K_V2"),
            "ResNet50"
        );
        assert_eq!(
            architecture_of("ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1"),
            "ViT_B_16"
        );
        assert_eq!(architecture_of("custom"), "custom");
    }
}
