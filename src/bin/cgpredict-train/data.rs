//! Training data: the vendored benchmark families and the torchvision zoo as featurized
//! computation graphs with their labels (and spectra, for pre-training).

use std::collections::BTreeMap;
use std::path::Path;

use cgpredict::features::{Batch, GRAPH_FEATURES, NODE_FEATURES};
use cgpredict::graph::canonicalize;
use cgpredict::import::Nb201Op;
use cgpredict::import::dataset::{Family, Spec, read_family};
use cgpredict::import::zoo::load_zoo;
use cgpredict::spectral::{DEFAULT_K, spectrum};
use cgpredict::{Graph, Result};
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

/// The name of the torchvision zoo among the families (`data/zoo/torchvision`).
pub const ZOO: &str = "zoo";

/// NAS-Bench-201 with the cells that use `none` (all 15,625): what an NB-201 search explores,
/// where the paper's family (`nb201`) is the 4,096 cells without `none`.
pub const NB201_ALL: &str = "nb201_all";

/// The benchmark a family name reads (`nb201_all` is a selection of `nb201`), so that a
/// target and a fit family of the same benchmark are recognized as one.
pub fn benchmark_of(name: &str) -> &str {
    if name == NB201_ALL { "nb201" } else { name }
}

/// Where a sample's graph comes from: a benchmark spec (rebuilt on demand, since keeping tens
/// of thousands of graphs would take gigabytes) or an imported graph.
#[derive(Debug, Clone)]
pub enum Source {
    Spec(Spec),
    Graph(Box<Graph>),
}

impl Source {
    pub fn graph(&self) -> Result<Graph> {
        match self {
            Source::Spec(spec) => spec.graph(),
            Source::Graph(graph) => Ok(Graph::clone(graph)),
        }
    }
}

/// One graph, featurized as the runtime does ([`Batch::of_canonical`]).
#[derive(Debug, Clone)]
pub struct Sample {
    pub source: Source,
    pub features: Batch,
    /// Accuracy in percent, when labeled.
    pub label: Option<f64>,
    /// Samples of one architecture share a group (the zoo's several weights of one network),
    /// so that splits keep them on one side.
    pub group: String,
    /// The `DEFAULT_K` smallest eigenvalues of the canonical graph's normalized Laplacian.
    pub spectrum: Vec<f64>,
}

/// The samples of one family.
#[derive(Debug, Clone)]
pub struct FamilyData {
    pub name: String,
    pub samples: Vec<Sample>,
}

impl FamilyData {
    pub fn labeled(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|sample| sample.label.is_some())
    }
}

/// `[log2(1 + MACs), log2(1 + parameters)]` of each sample (`Batch::log_scales`).
pub fn log_scales(samples: &[&Sample]) -> Vec<[f32; 2]> {
    samples
        .iter()
        .flat_map(|sample| sample.features.log_scales())
        .collect()
}

/// What to load of a family.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    /// Only labeled graphs.
    pub labeled_only: bool,
    /// At most this many (sampled with the rng); `None` keeps all.
    pub limit: Option<usize>,
    /// Compute spectra (pre-training needs them).
    pub spectra: bool,
}

/// Loads a family by name: `nb101`, `nb201` (the 4,096 cells without `none`, the paper's
/// NAS-Bench-201 family), `nb201_all` (all 15,625 cells), `nb301` (500 labeled, 11,221
/// unlabeled), `ofa_mbv3` or `zoo`.
pub fn load_family(
    data_dir: &Path,
    name: &str,
    selection: Selection,
    rng: &mut ChaCha8Rng,
) -> std::result::Result<FamilyData, String> {
    let context = |error: cgpredict::Error| format!("family {name}: {error}");
    let mut rows: Vec<(Source, Option<f64>, String)> = if name == ZOO {
        load_zoo(&data_dir.join("zoo/torchvision"))
            .map_err(context)?
            .into_iter()
            .map(|model| {
                (
                    Source::Graph(Box::new(model.graph)),
                    Some(model.top1),
                    model.architecture,
                )
            })
            .collect()
    } else {
        let family: Family = benchmark_of(name)
            .parse()
            .map_err(|error| {
                format!("{error} (or {ZOO}, the torchvision zoo, or {NB201_ALL}, NAS-Bench-201 with `none` cells)")
            })?;
        read_family(data_dir, family)
            .map_err(context)?
            .into_iter()
            .enumerate()
            .filter(|(_, (spec, _))| match spec {
                Spec::Nb201(arch) => name == NB201_ALL || !arch.edges().contains(&Nb201Op::None),
                _ => true,
            })
            .map(|(row, (spec, label))| (Source::Spec(spec), label, format!("{name}:{row}")))
            .collect()
    };
    if selection.labeled_only {
        rows.retain(|(_, label, _)| label.is_some());
    }
    rows.shuffle(rng);
    if let Some(limit) = selection.limit {
        rows.truncate(limit);
    }
    let samples = rows
        .into_par_iter()
        .map(|(source, label, group)| {
            let graph = source.graph()?;
            let features = Batch::of_canonical(&[&graph]);
            let spectrum = if selection.spectra {
                spectrum(&canonicalize(&graph), DEFAULT_K)?
            } else {
                Vec::new()
            };
            Ok(Sample {
                source,
                features,
                label,
                group,
                spectrum,
            })
        })
        .collect::<Result<Vec<Sample>>>()
        .map_err(context)?;
    Ok(FamilyData {
        name: name.to_owned(),
        samples,
    })
}

/// Concatenates single-graph batches into one (the model's input form).
pub fn collate<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Batch {
    let mut batch = Batch::default();
    let mut targets = Vec::new();
    for sample in samples {
        let single = &sample.features;
        let offset = batch.graph_index.len() as i64;
        let edges = single.num_edges();
        batch.node_features.extend_from_slice(&single.node_features);
        batch.graph_index.extend(std::iter::repeat_n(
            batch.num_graphs as i64,
            single.num_nodes(),
        ));
        batch
            .edge_index
            .extend(single.edge_index[..edges].iter().map(|&from| from + offset));
        targets.extend(single.edge_index[edges..].iter().map(|&to| to + offset));
        batch
            .graph_features
            .extend_from_slice(&single.graph_features);
        batch.num_graphs += 1;
    }
    batch.edge_index.extend(targets);
    debug_assert_eq!(batch.node_features.len(), batch.num_nodes() * NODE_FEATURES);
    debug_assert_eq!(
        batch.graph_features.len(),
        batch.num_graphs * GRAPH_FEATURES
    );
    batch
}

/// Mean and standard deviation of a family's training labels: regressors see
/// `(label - mean) / std`, since families' accuracies sit on different scales.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Standardization {
    pub mean: f64,
    pub std: f64,
}

/// Mean and (population) standard deviation of `values`; both 0 when it is empty.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

impl Standardization {
    pub fn of(labels: &[f64]) -> Standardization {
        let (mean, std) = mean_std(labels);
        Standardization {
            mean,
            std: std.max(1e-6),
        }
    }

    pub fn apply(&self, label: f64) -> f64 {
        (label - self.mean) / self.std
    }
}

/// Per-family standardization of the labeled samples of `families`.
pub fn standardizations(families: &[FamilyData]) -> BTreeMap<String, Standardization> {
    families
        .iter()
        .map(|family| {
            let labels: Vec<f64> = family.labeled().filter_map(|sample| sample.label).collect();
            (family.name.clone(), Standardization::of(&labels))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardization_centres_and_scales() {
        let s = Standardization::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - 1.25f64.sqrt()).abs() < 1e-12);
        assert!((s.apply(4.0) - 1.5 / 1.25f64.sqrt()).abs() < 1e-12);
    }
}
