//! The torchvision model zoo vendored under `data/zoo/torchvision/`: real published ImageNet
//! classifiers as computation graphs, each with its published top-1 accuracy.
//!
//! Several entries share one architecture and differ only in their training recipe
//! (`ResNet50_Weights.IMAGENET1K_V1` and `..._V2`); [`ZooModel::architecture`] names the
//! architecture so that an evaluation can keep such entries on the same side of a split.

use std::path::Path;

use rayon::prelude::*;

use super::dataset::read_table;
use super::onnx::{graph_from_onnx_bytes, read_model_file};
use crate::error::{Error, Result};
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
    let rows = read_table(zoo_dir, "manifest.csv", |row| {
        let top1 = row
            .optional_number("top1")?
            .ok_or_else(|| Error::parse("column top1 is empty"))?;
        Ok((
            row.get("name")?.to_owned(),
            row.get("file")?.to_owned(),
            top1,
            row.optional_number("params")?.map(|count| count as u64),
            row.optional_number("gflops")?,
        ))
    })?;
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
