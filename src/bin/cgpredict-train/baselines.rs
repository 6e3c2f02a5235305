//! The cheap baselines that every evaluation prints beside the model, on the same graphs:
//! what a user gets without a learned predictor. Counting MACs or parameters needs no labels;
//! the two fits learn from the labels the model gets (a target's shots, or the source
//! families' labels when the target has none).

use cgpredict::graph::KNOWN_OPS;
use cgpredict::metrics::spearman;
use nalgebra::{DMatrix, DVector};

use crate::data::{Sample, Standardization, mean_std};

/// The baselines, in the order tables print them.
pub const BASELINES: [Baseline; 4] = [
    Baseline::Macs,
    Baseline::Params,
    Baseline::ScaleFit,
    Baseline::HistogramRidge,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The graph's multiply-accumulates: more is better.
    Macs,
    /// The graph's parameters: more is better.
    Params,
    /// Least squares on (log MACs, log params).
    ScaleFit,
    /// Ridge on the op histogram (each op's share of the nodes), log MACs and log params.
    HistogramRidge,
}

impl Baseline {
    pub fn name(self) -> &'static str {
        match self {
            Baseline::Macs => "MACs",
            Baseline::Params => "params",
            Baseline::ScaleFit => "least squares on (log MACs, log params)",
            Baseline::HistogramRidge => "ridge on op histogram + log MACs + log params",
        }
    }

    /// Whether the baseline learns from labels.
    pub fn is_fitted(self) -> bool {
        matches!(self, Baseline::ScaleFit | Baseline::HistogramRidge)
    }

    fn features(self, sample: &Sample) -> Vec<f64> {
        let [log_macs, log_params] = sample.features.log_scales()[0].map(f64::from);
        match self {
            Baseline::Macs => vec![log_macs],
            Baseline::Params => vec![log_params],
            Baseline::ScaleFit => vec![log_macs, log_params],
            Baseline::HistogramRidge => {
                let mut row = op_shares(sample);
                row.extend([log_macs, log_params]);
                row
            }
        }
    }

    /// Scores of `tests` from a fit on the labeled samples of groups (one group per family, or
    /// one group of shots; [`fit_within_groups`]). The unfitted baselines ignore the groups.
    pub fn scores(self, groups: &[Vec<&Sample>], tests: &[&Sample]) -> Vec<f64> {
        let rows = |samples: &[&Sample]| -> Vec<Vec<f64>> {
            samples.iter().map(|sample| self.features(sample)).collect()
        };
        if !self.is_fitted() {
            return rows(tests).into_iter().map(|row| row[0]).collect();
        }
        let labeled: Vec<Vec<(Vec<f64>, f64)>> = groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .filter_map(|sample| Some((self.features(sample), sample.label?)))
                    .collect()
            })
            .collect();
        let weights = fit_within_groups(&labeled, self.penalty());
        rows(tests)
            .into_iter()
            .map(|row| row.iter().zip(&weights).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// Ridge penalty on standardized columns: negligible for the two scale columns, a real
    /// one for the 34 columns of the histogram fit on 40-50 shots.
    fn penalty(self) -> f64 {
        match self {
            Baseline::HistogramRidge => 1.0,
            _ => 1e-6,
        }
    }

    /// SRCC of the baseline's scores against the tests' labels.
    pub fn srcc(self, groups: &[Vec<&Sample>], tests: &[&Sample]) -> Result<f64, String> {
        let truth: Vec<f64> = tests.iter().filter_map(|sample| sample.label).collect();
        spearman(&self.scores(groups, tests), &truth)
            .map_err(|error| format!("baseline {}: {error}", self.name()))
    }
}

/// Each op's share of the graph's nodes (the one-hot columns of the node features, averaged).
fn op_shares(sample: &Sample) -> Vec<f64> {
    let features = &sample.features;
    let width = features.node_features.len() / features.num_nodes().max(1);
    let ops = KNOWN_OPS.len() + 1;
    let mut shares = vec![0.0; ops];
    for node in features.node_features.chunks_exact(width.max(1)) {
        for (share, &hot) in shares.iter_mut().zip(&node[..ops]) {
            *share += f64::from(hot);
        }
    }
    let nodes = features.num_nodes().max(1) as f64;
    shares.iter_mut().for_each(|share| *share /= nodes);
    shares
}

/// Ridge weights (`penalty`, as [`ridge`]) on groups of (feature row, label), one group per
/// family or one of shots: each group's rows centered and its labels standardized by its own
/// statistics, so that only differences within a group are learned (a family's level of MACs
/// says nothing about accuracy in another), and each group weighing the same however many
/// rows it has. Groups of fewer than 2 labels are left out.
pub fn fit_within_groups(groups: &[Vec<(Vec<f64>, f64)>], penalty: f64) -> Vec<f64> {
    let mut x: Vec<Vec<f64>> = Vec::new();
    let mut y: Vec<f64> = Vec::new();
    for group in groups {
        if group.len() < 2 {
            continue;
        }
        let labels: Vec<f64> = group.iter().map(|(_, label)| *label).collect();
        let scale = Standardization::of(&labels);
        let weight = (labels.len() as f64).recip().sqrt();
        let rows = center(group.iter().map(|(row, _)| row.clone()).collect());
        x.extend(
            rows.into_iter()
                .map(|row| row.into_iter().map(|v| v * weight).collect()),
        );
        y.extend(labels.iter().map(|&label| scale.apply(label) * weight));
    }
    ridge(&x, &y, penalty)
}

/// Rows minus their column means.
fn center(rows: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let width = rows.first().map_or(0, Vec::len);
    let means: Vec<f64> = (0..width)
        .map(|col| mean_std(&rows.iter().map(|row| row[col]).collect::<Vec<_>>()).0)
        .collect();
    rows.into_iter()
        .map(|row| row.iter().zip(&means).map(|(v, m)| v - m).collect())
        .collect()
}

/// Ridge weights on centered rows, each column scaled to unit deviation for the penalty
/// (`penalty` × rows); the weights returned apply to unscaled rows. A column without spread
/// gets weight 0.
fn ridge(x: &[Vec<f64>], y: &[f64], penalty: f64) -> Vec<f64> {
    let n = x.len();
    let width = x.first().map_or(0, Vec::len);
    let deviations: Vec<f64> = (0..width)
        .map(|col| mean_std(&x.iter().map(|row| row[col]).collect::<Vec<_>>()).1)
        .collect();
    let scaled = DMatrix::from_fn(n, width, |row, col| {
        if deviations[col] > 1e-12 {
            x[row][col] / deviations[col]
        } else {
            0.0
        }
    });
    let mut gram = scaled.transpose() * &scaled;
    for i in 0..width {
        gram[(i, i)] += penalty * n.max(1) as f64;
    }
    let rhs = scaled.transpose() * DVector::from_column_slice(y);
    let solved = gram
        .cholesky()
        .map(|cholesky| cholesky.solve(&rhs))
        .unwrap_or_else(|| DVector::zeros(width));
    (0..width)
        .map(|col| {
            if deviations[col] > 1e-12 {
                solved[col] / deviations[col]
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_with_a_tiny_penalty_is_least_squares() {
        // y = 2 a - 3 b on centered rows, solved exactly.
        let x: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![(i as f64 * 0.7).sin(), (i as f64 * 1.3).cos()])
            .collect();
        let x = center(x);
        let y: Vec<f64> = x.iter().map(|row| 2.0 * row[0] - 3.0 * row[1]).collect();
        let weights = ridge(&x, &y, 1e-9);
        assert!((weights[0] - 2.0).abs() < 1e-6 && (weights[1] + 3.0).abs() < 1e-6);
        // A constant column gets no weight.
        let with_constant: Vec<Vec<f64>> = x.iter().map(|row| vec![row[0], 0.0]).collect();
        assert_eq!(ridge(&with_constant, &y, 1e-9)[1], 0.0);
    }

    #[test]
    fn centering_removes_column_means() {
        let rows = center(vec![vec![1.0, 10.0], vec![3.0, 30.0]]);
        assert_eq!(rows, vec![vec![-1.0, -10.0], vec![1.0, 10.0]]);
    }
}
