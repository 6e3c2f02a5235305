//! Scorers: the cheap estimate that the predictor-guided search ranks candidates by, and the
//! ranking of graphs by a predictor (`cgp_rank`).

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::space::SearchSpace;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::runtime::Predictor;
use crate::runtime::adapt::{Head, HeadTarget, ROW_EXTRA, RidgeHead, fit_ranking_head};

/// Graphs per model run when scoring many candidates.
const MODEL_BATCH: usize = 128;

/// Scores candidate architectures (higher = more promising) and learns from oracle labels.
pub trait Scorer<A> {
    /// One score per candidate.
    fn score(&mut self, candidates: &[A]) -> Result<Vec<f64>>;

    /// Learns from every architecture queried so far with its accuracy, in query order.
    fn update(&mut self, labeled: &[(A, f64)]) -> Result<()>;

    /// Forgets what [`Scorer::update`] taught, for a new, independent search.
    fn reset(&mut self);
}

/// Indices of `scores`, best first; equal scores keep their order, NaN comes last.
pub fn order_best_first(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let key = |i: usize| {
        if scores[i].is_nan() {
            f64::NEG_INFINITY
        } else {
            scores[i]
        }
    };
    // A stable sort: ties keep index order, and NaN sorts with -inf after every number.
    order.sort_by(|&a, &b| {
        key(b)
            .total_cmp(&key(a))
            .then_with(|| scores[a].is_nan().cmp(&scores[b].is_nan()))
    });
    order
}

/// Indices of `graphs`, best predicted first (by [`Predictor::predict`], which uses the adapted
/// head after [`Predictor::adapt`]); ties keep their order, a NaN score comes last.
pub fn rank_graphs(predictor: &Predictor, graphs: &[&Graph]) -> Result<Vec<usize>> {
    let scores: Vec<f64> = predictor
        .predict(graphs)?
        .into_iter()
        .map(f64::from)
        .collect();
    Ok(order_best_first(&scores))
}

/// A cgpredict model as a scorer, adapted to the search's labels as they come.
///
/// Until `adapt_from` labels are known (and at least two differ), candidates get the model's
/// own score. From then on each [`Scorer::update`] fits a ridge-regression head
/// ([`Head`], as [`Predictor::adapt_ranking`] does) on every labeled architecture's
/// embedding together with the model's own score and its log MACs and log params (or keeps
/// the model's own score, or least squares on the scale alone, where leave-one-out on the
/// labels says either ranks better), and
/// candidates get the head's score: the practical counterpart of the paper's fine-tuning on
/// the labels of the target family. Two choices differ from [`Predictor::adapt`], because a
/// search needs only the order of the best candidates:
/// - the head learns the **ranks** of the accuracies, not the accuracies: a few broken
///   architectures (NAS-Bench-201 cells whose output is cut off train to 10%) would otherwise
///   dominate the squared error and leave the top of the range unresolved;
/// - the model's own score is an input of the head, so a head fitted on a few labels keeps
///   what the model knew where the labels say nothing.
///
/// Each architecture goes through the model once: its embedding and score are cached (the
/// model does not change, only the head).
pub struct PredictorScorer<'a, S: SearchSpace> {
    predictor: &'a Predictor,
    space: &'a S,
    adapt_from: usize,
    /// Per architecture: the head's input row (embedding, score, log MACs, log params).
    rows: HashMap<S::Arch, Vec<f32>>,
    head: Option<Head>,
}

impl<'a, S: SearchSpace> PredictorScorer<'a, S> {
    /// A scorer of `space`'s architectures by `predictor` (used as is: never adapted itself),
    /// adapting from `adapt_from` labels on (at least 2).
    pub fn new(predictor: &'a Predictor, space: &'a S, adapt_from: usize) -> Self {
        PredictorScorer {
            predictor,
            space,
            adapt_from: adapt_from.max(2),
            rows: HashMap::new(),
            head: None,
        }
    }

    /// Runs the model over the `archs` not cached yet, in parallel batches, and caches their
    /// rows.
    fn ensure_rows(&mut self, archs: &[S::Arch]) -> Result<()> {
        let mut seen = HashSet::new();
        let missing: Vec<&S::Arch> = archs
            .iter()
            .filter(|arch| !self.rows.contains_key(arch) && seen.insert(*arch))
            .collect();
        let (predictor, space) = (self.predictor, self.space);
        let dim = predictor.embedding_dim();
        let rows: Vec<Vec<Vec<f32>>> = missing
            .par_chunks(MODEL_BATCH)
            .map(|chunk| {
                let graphs = chunk
                    .iter()
                    .map(|arch| {
                        space
                            .graph(arch)
                            .map_err(|error| error.context(space.describe(arch)))
                    })
                    .collect::<Result<Vec<Graph>>>()?;
                let rows = predictor.head_rows(&graphs.iter().collect::<Vec<&Graph>>())?;
                Ok(rows
                    .chunks_exact(dim + ROW_EXTRA)
                    .map(<[f32]>::to_vec)
                    .collect())
            })
            .collect::<Result<_>>()?;
        self.rows
            .extend(missing.into_iter().cloned().zip(rows.into_iter().flatten()));
        Ok(())
    }

    fn stacked(&self, archs: &[S::Arch]) -> Vec<f32> {
        archs
            .iter()
            .flat_map(|arch| self.rows[arch].iter().copied())
            .collect()
    }
}

impl<S: SearchSpace> Scorer<S::Arch> for PredictorScorer<'_, S> {
    fn score(&mut self, candidates: &[S::Arch]) -> Result<Vec<f64>> {
        self.ensure_rows(candidates)?;
        Ok(match &self.head {
            Some(head) => head
                .predict(&self.stacked(candidates))
                .into_iter()
                .map(f64::from)
                .collect(),
            None => candidates
                .iter()
                .map(|arch| {
                    let row = &self.rows[arch];
                    f64::from(row[row.len() - ROW_EXTRA])
                })
                .collect(),
        })
    }

    fn update(&mut self, labeled: &[(S::Arch, f64)]) -> Result<()> {
        let distinct = labeled.iter().any(|(_, label)| *label != labeled[0].1);
        if labeled.len() < self.adapt_from || !distinct {
            return Ok(());
        }
        let archs: Vec<S::Arch> = labeled.iter().map(|(arch, _)| arch.clone()).collect();
        self.ensure_rows(&archs)?;
        let accuracies: Vec<f64> = labeled.iter().map(|&(_, accuracy)| accuracy).collect();
        let predictor = self.predictor;
        let head = Head::fit(
            &self.stacked(&archs),
            predictor.embedding_dim(),
            predictor.members(),
            &accuracies,
            HeadTarget::Ranks,
        )
        .map_err(|error| {
            Error::new(
                error.kind,
                format!("adapting the predictor: {}", error.message),
            )
        })?;
        self.head = Some(head);
        Ok(())
    }

    fn reset(&mut self) {
        self.head = None;
    }
}

/// The guided search a user gets without a learned predictor: candidates scored by their
/// log MACs until `adapt_from` labels are known, then by least squares on (log MACs, log
/// params) fitted to the labels' ranks.
pub struct ScaleScorer<'a, S: SearchSpace> {
    space: &'a S,
    adapt_from: usize,
    /// Per architecture: log2(1 + MACs), log2(1 + parameters).
    scales: HashMap<S::Arch, [f32; 2]>,
    fit: Option<RidgeHead>,
}

impl<'a, S: SearchSpace> ScaleScorer<'a, S> {
    /// A scorer of `space`'s architectures, fitting from `adapt_from` labels on (at least 2).
    pub fn new(space: &'a S, adapt_from: usize) -> Self {
        ScaleScorer {
            space,
            adapt_from: adapt_from.max(2),
            scales: HashMap::new(),
            fit: None,
        }
    }

    fn rows(&mut self, archs: &[S::Arch]) -> Result<Vec<f32>> {
        let mut rows = Vec::with_capacity(2 * archs.len());
        for arch in archs {
            if !self.scales.contains_key(arch) {
                let graph = self
                    .space
                    .graph(arch)
                    .map_err(|error| error.context(self.space.describe(arch)))?;
                let log = |x: u64| (x as f64 + 1.0).log2() as f32;
                self.scales
                    .insert(arch.clone(), [log(graph.macs()), log(graph.param_count())]);
            }
            rows.extend(self.scales[arch]);
        }
        Ok(rows)
    }
}

impl<S: SearchSpace> Scorer<S::Arch> for ScaleScorer<'_, S> {
    fn score(&mut self, candidates: &[S::Arch]) -> Result<Vec<f64>> {
        let rows = self.rows(candidates)?;
        Ok(match &self.fit {
            Some(fit) => fit.predict(&rows).into_iter().map(f64::from).collect(),
            None => rows.chunks_exact(2).map(|row| f64::from(row[0])).collect(),
        })
    }

    fn update(&mut self, labeled: &[(S::Arch, f64)]) -> Result<()> {
        let distinct = labeled.iter().any(|(_, label)| *label != labeled[0].1);
        if labeled.len() < self.adapt_from || !distinct {
            return Ok(());
        }
        let archs: Vec<S::Arch> = labeled.iter().map(|(arch, _)| arch.clone()).collect();
        let rows = self.rows(&archs)?;
        let accuracies: Vec<f64> = labeled.iter().map(|&(_, accuracy)| accuracy).collect();
        self.fit = Some(fit_ranking_head(&rows, 2, &accuracies)?);
        Ok(())
    }

    fn reset(&mut self) {
        self.fit = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_best_first_with_stable_ties_and_nan_last() {
        assert_eq!(order_best_first(&[]), Vec::<usize>::new());
        assert_eq!(
            order_best_first(&[0.5, f64::NAN, 2.0, 0.5, f64::NEG_INFINITY, 3.0]),
            [5, 2, 0, 3, 4, 1]
        );
    }
}
