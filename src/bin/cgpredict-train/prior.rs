//! The model's prior: a linear function of whole-graph quantities (log MACs, log params, log
//! nodes, the share of pooling nodes, ...), fitted in closed form on the fit families before
//! the networks train, which then learn what it leaves. A model file's score is
//! `prior + correction × networks' score`.
//!
//! Why linear, and fitted on differences within each family: a family's level of MACs says
//! nothing about accuracy in another family, but within a family more compute ranks higher.
//! Centering each family's quantities and standardizing its labels, then fitting one weight
//! per quantity over all families, learns only such within-family trends; and a linear score
//! ranks any set of networks the same whether its quantities are centered on that set or not,
//! so one graph's score needs no reference set.
//!
//! The prior reads the model's own inputs: the whole-graph features and the mean of the node
//! features (whose first columns are the op one-hot, so their mean is each op's share), and
//! its weights are one vector over those columns (`export.rs` writes it as one MatMul).

use cgpredict::features::{Batch, GRAPH_FEATURES, NODE_FEATURES};
use cgpredict::graph::Op;
use serde::{Deserialize, Serialize};

use crate::baselines::fit_within_groups;
use crate::data::{FamilyData, Sample};

/// Columns of the prior's input: the whole-graph features, then the mean node features.
pub const PRIOR_INPUTS: usize = GRAPH_FEATURES + NODE_FEATURES;

/// A whole-graph quantity the prior may weigh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// log2(1 + MACs).
    Macs,
    /// log2(1 + parameters).
    Params,
    /// log2(1 + nodes).
    Nodes,
    /// log2(1 + edges).
    Edges,
    /// log2(1 + nodes on the longest path).
    Depth,
    /// log2(1 + input height).
    InputResolution,
    /// The share of max- and average-pooling nodes (windowed pools: operators without weights
    /// that take the place of a convolution).
    PoolShare,
}

impl Quantity {
    /// The prior input columns the quantity reads (their sum, with the graph features' own
    /// scales, which a linear fit absorbs).
    fn columns(self) -> Vec<usize> {
        let one_hot =
            |op: Op| GRAPH_FEATURES + op.vocabulary_index().expect("windowed pools are known ops");
        match self {
            Quantity::Params => vec![0],
            Quantity::Macs => vec![1],
            Quantity::Nodes => vec![2],
            Quantity::Edges => vec![3],
            Quantity::Depth => vec![4],
            Quantity::InputResolution => vec![5],
            Quantity::PoolShare => vec![one_hot(Op::MaxPool), one_hot(Op::AvgPool)],
        }
    }

    fn of(self, inputs: &[f32]) -> f64 {
        self.columns()
            .into_iter()
            .map(|column| f64::from(inputs[column]))
            .sum()
    }
}

/// The prior's settings (`model.prior` of a training config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorConfig {
    /// The quantities it weighs.
    pub quantities: Vec<Quantity>,
    /// The weight of the networks' score in the model's: `prior + correction × networks`.
    pub correction: f64,
}

/// A fitted prior: weights over the [`PRIOR_INPUTS`] columns, and the correction's weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    pub weights: Vec<f32>,
    pub correction: f32,
}

/// The prior's input rows of a batch, `[B, PRIOR_INPUTS]` row-major: each graph's whole-graph
/// features, then the mean of its node features (sums divided by the node count, as the model
/// file computes them).
pub fn inputs(batch: &Batch) -> Vec<f32> {
    let mut rows = vec![0f32; batch.num_graphs * PRIOR_INPUTS];
    let mut counts = vec![0usize; batch.num_graphs];
    for (node, &graph) in batch
        .node_features
        .chunks_exact(NODE_FEATURES)
        .zip(&batch.graph_index)
    {
        let graph = graph as usize;
        counts[graph] += 1;
        let sums = &mut rows[graph * PRIOR_INPUTS + GRAPH_FEATURES..(graph + 1) * PRIOR_INPUTS];
        for (sum, &value) in sums.iter_mut().zip(node) {
            *sum += value;
        }
    }
    for (graph, row) in rows.chunks_exact_mut(PRIOR_INPUTS).enumerate() {
        row[..GRAPH_FEATURES].copy_from_slice(
            &batch.graph_features[graph * GRAPH_FEATURES..(graph + 1) * GRAPH_FEATURES],
        );
        let nodes = counts[graph].max(1) as f32;
        row[GRAPH_FEATURES..]
            .iter_mut()
            .for_each(|sum| *sum /= nodes);
    }
    rows
}

impl Prior {
    /// Fits the quantities' weights on the labeled graphs of `families` (see the module
    /// documentation): each family centered and its labels standardized, each family weighing
    /// the same.
    pub fn fit(families: &[&[&Sample]], config: &PriorConfig) -> Prior {
        let groups: Vec<Vec<(Vec<f64>, f64)>> = families
            .iter()
            .map(|samples| {
                samples
                    .iter()
                    .filter_map(|sample| {
                        let inputs = inputs(&sample.features);
                        let row = config
                            .quantities
                            .iter()
                            .map(|quantity| quantity.of(&inputs))
                            .collect();
                        Some((row, sample.label?))
                    })
                    .collect()
            })
            .collect();
        let quantity_weights = fit_within_groups(&groups, 1e-3);
        let mut weights = vec![0f32; PRIOR_INPUTS];
        for (quantity, weight) in config.quantities.iter().zip(quantity_weights) {
            for column in quantity.columns() {
                weights[column] += weight as f32;
            }
        }
        Prior {
            weights,
            correction: config.correction as f32,
        }
    }

    /// The prior's fit on the labeled graphs of whole families.
    pub fn fit_families(families: &[FamilyData], config: &PriorConfig) -> Prior {
        let samples: Vec<Vec<&Sample>> = families
            .iter()
            .map(|family| family.samples.iter().collect())
            .collect();
        let slices: Vec<&[&Sample]> = samples.iter().map(Vec::as_slice).collect();
        Prior::fit(&slices, config)
    }
}

#[cfg(test)]
mod tests {
    use cgpredict::import::Nb201Arch;
    use cgpredict::import::dataset::Spec;

    use super::*;
    use crate::data::Source;

    /// NB-201 cells `indices` as samples labeled by `label` of their log MACs.
    fn family(indices: std::ops::Range<usize>, label: impl Fn(f64) -> f64) -> Vec<Sample> {
        indices
            .map(|i| {
                let spec = Spec::Nb201(Nb201Arch::from_index(i).unwrap());
                let graph = spec.graph().unwrap();
                let features = cgpredict::features::Batch::of_canonical(&[&graph]);
                let log_macs = f64::from(features.log_scales()[0][0]);
                Sample {
                    source: Source::Spec(spec),
                    features,
                    label: Some(label(log_macs)),
                    group: i.to_string(),
                    spectrum: Vec::new(),
                }
            })
            .collect()
    }

    #[test]
    fn the_prior_learns_a_trend_shared_within_families_whatever_their_levels() {
        // Two families at labels 100 apart, accuracy rising with MACs in both; a fit across
        // them without centering would see the levels, not the trend.
        let a = family(0..60, |log_macs| 50.0 + log_macs);
        let b = family(3000..3060, |log_macs| -50.0 + 3.0 * log_macs);
        let (a_refs, b_refs): (Vec<&Sample>, Vec<&Sample>) =
            (a.iter().collect(), b.iter().collect());
        let config = PriorConfig {
            quantities: vec![Quantity::Macs],
            correction: 0.5,
        };
        let prior = Prior::fit(&[&a_refs, &b_refs], &config);
        assert_eq!(prior.correction, 0.5);
        assert!(
            prior.weights[1] > 0.0,
            "{:?}",
            &prior.weights[..GRAPH_FEATURES]
        );
        let nonzero = prior.weights.iter().filter(|&&w| w != 0.0).count();
        assert_eq!(nonzero, 1, "only the MACs column is weighed");
        // Its score orders each family as the labels do.
        for family in [&a_refs, &b_refs] {
            let scores: Vec<f64> = family
                .iter()
                .map(|sample| {
                    inputs(&sample.features)
                        .iter()
                        .zip(&prior.weights)
                        .map(|(&x, &w)| f64::from(x * w))
                        .sum()
                })
                .collect();
            let labels: Vec<f64> = family.iter().filter_map(|sample| sample.label).collect();
            let srcc = cgpredict::metrics::spearman(&scores, &labels).unwrap();
            assert!(srcc > 0.999, "{srcc}");
        }
    }

    #[test]
    fn quantities_read_their_columns() {
        let mut inputs = vec![0f32; PRIOR_INPUTS];
        inputs[1] = 0.5;
        inputs[GRAPH_FEATURES + Op::MaxPool.vocabulary_index().unwrap()] = 0.25;
        inputs[GRAPH_FEATURES + Op::AvgPool.vocabulary_index().unwrap()] = 0.125;
        assert_eq!(Quantity::Macs.of(&inputs), 0.5);
        assert_eq!(Quantity::PoolShare.of(&inputs), 0.375);
        assert_eq!(Quantity::Params.of(&inputs), 0.0);
    }
}
