//! Scorers: the cheap estimate that the predictor-guided search ranks candidates by, and the
//! ranking of graphs by a predictor (`cgp_rank`).

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::space::SearchSpace;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::runtime::Predictor;
use crate::runtime::adapt::RidgeHead;

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
/// own score. From then on each [`Scorer::update`] fits a ridge-regression head on the model's
/// embeddings of every labeled architecture ([`RidgeHead`], the head [`Predictor::adapt`] fits)
/// and candidates get the head's score: the practical counterpart of the paper's fine-tuning
/// on the labels of the target family. Each architecture goes through the model once: its
/// embedding and score are cached (the model does not change, only the head).
pub struct PredictorScorer<'a, S: SearchSpace> {
    predictor: &'a Predictor,
    space: &'a S,
    adapt_from: usize,
    scores: HashMap<S::Arch, f64>,
    embeddings: HashMap<S::Arch, Vec<f32>>,
    head: Option<RidgeHead>,
}

impl<'a, S: SearchSpace> PredictorScorer<'a, S> {
    /// A scorer of `space`'s architectures by `predictor` (used as is: never adapted itself),
    /// adapting from `adapt_from` labels on (at least 2).
    pub fn new(predictor: &'a Predictor, space: &'a S, adapt_from: usize) -> Self {
        PredictorScorer {
            predictor,
            space,
            adapt_from: adapt_from.max(2),
            scores: HashMap::new(),
            embeddings: HashMap::new(),
            head: None,
        }
    }

    /// Runs `model` over the graphs of the `archs` not `cached`, in parallel batches: each
    /// such architecture (once) with its value.
    fn fill<T: Send>(
        &self,
        archs: &[S::Arch],
        cached: impl Fn(&S::Arch) -> bool,
        model: impl Fn(&[&Graph]) -> Result<Vec<T>> + Sync,
    ) -> Result<Vec<(S::Arch, T)>> {
        let mut seen = HashSet::new();
        let missing: Vec<&S::Arch> = archs
            .iter()
            .filter(|arch| !cached(arch) && seen.insert(*arch))
            .collect();
        // Graphs are not Sync (their DAG caches its order): each batch builds its own.
        let values: Vec<Vec<T>> = missing
            .par_chunks(MODEL_BATCH)
            .map(|chunk| {
                let graphs = chunk
                    .iter()
                    .map(|arch| {
                        self.space
                            .graph(arch)
                            .map_err(|error| error.context(self.space.describe(arch)))
                    })
                    .collect::<Result<Vec<Graph>>>()?;
                model(&graphs.iter().collect::<Vec<&Graph>>())
            })
            .collect::<Result<_>>()?;
        Ok(missing
            .into_iter()
            .cloned()
            .zip(values.into_iter().flatten())
            .collect())
    }

    fn ensure_embeddings(&mut self, archs: &[S::Arch]) -> Result<()> {
        let dim = self.predictor.embedding_dim();
        let predictor = self.predictor;
        let new = self.fill(
            archs,
            |arch| self.embeddings.contains_key(arch),
            |graphs| {
                let (values, _) = predictor.embed(graphs)?;
                Ok(values.chunks_exact(dim).map(<[f32]>::to_vec).collect())
            },
        )?;
        self.embeddings.extend(new);
        Ok(())
    }

    fn ensure_scores(&mut self, archs: &[S::Arch]) -> Result<()> {
        let predictor = self.predictor;
        let new = self.fill(
            archs,
            |arch| self.scores.contains_key(arch),
            |graphs| {
                Ok(predictor
                    .predict(graphs)?
                    .into_iter()
                    .map(f64::from)
                    .collect())
            },
        )?;
        self.scores.extend(new);
        Ok(())
    }

    fn stacked(&self, archs: &[S::Arch]) -> Vec<f32> {
        archs
            .iter()
            .flat_map(|arch| self.embeddings[arch].iter().copied())
            .collect()
    }
}

impl<S: SearchSpace> Scorer<S::Arch> for PredictorScorer<'_, S> {
    fn score(&mut self, candidates: &[S::Arch]) -> Result<Vec<f64>> {
        if self.head.is_some() {
            self.ensure_embeddings(candidates)?;
            let head = self.head.as_ref().expect("checked");
            let scores = head.predict(&self.stacked(candidates));
            Ok(scores.into_iter().map(f64::from).collect())
        } else {
            self.ensure_scores(candidates)?;
            Ok(candidates.iter().map(|arch| self.scores[arch]).collect())
        }
    }

    fn update(&mut self, labeled: &[(S::Arch, f64)]) -> Result<()> {
        let distinct = labeled.iter().any(|(_, label)| *label != labeled[0].1);
        if labeled.len() < self.adapt_from || !distinct {
            return Ok(());
        }
        let archs: Vec<S::Arch> = labeled.iter().map(|(arch, _)| arch.clone()).collect();
        self.ensure_embeddings(&archs)?;
        let labels: Vec<f32> = labeled.iter().map(|&(_, label)| label as f32).collect();
        let head = RidgeHead::fit(
            &self.stacked(&archs),
            self.predictor.embedding_dim(),
            &labels,
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
