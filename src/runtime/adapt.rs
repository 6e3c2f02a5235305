//! Few-shot adaptation: a ridge-regression head fitted on a model's embeddings.
//!
//! Labels are standardized (mean 0, standard deviation 1) and embeddings centered before the
//! fit, so one ridge strength suits any label scale; the head answers in the labels' units.
//! The penalty is `RIDGE_ALPHA` times the mean eigenvalue of the centered Gram matrix
//! (its trace over `D`), which keeps the solve well conditioned when the shots are fewer than
//! the embedding's dimensions or the embedding is rank-deficient.

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result};

/// Relative ridge strength (see the module documentation).
pub const RIDGE_ALPHA: f64 = 1e-3;

/// A linear head over embeddings: `mean + scale * (x - center) . weights`.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeHead {
    center: Vec<f64>,
    weights: Vec<f64>,
    mean: f64,
    scale: f64,
}

impl RidgeHead {
    /// Fits the head on `labels.len()` embeddings of width `dim`, row-major in `embeddings`.
    /// Needs at least two labels that differ, all finite.
    pub fn fit(embeddings: &[f32], dim: usize, labels: &[f32]) -> Result<RidgeHead> {
        let n = labels.len();
        if n < 2 {
            return Err(Error::invalid(format!(
                "adaptation needs at least 2 labeled graphs, got {n}"
            )));
        }
        if embeddings.len() != n * dim {
            return Err(Error::invalid(format!(
                "{} embedding values for {n} graphs of width {dim}",
                embeddings.len()
            )));
        }
        check_finite(labels.iter().map(|&label| f64::from(label)))?;
        if let Some(i) = embeddings.iter().position(|value| !value.is_finite()) {
            return Err(Error::invalid(format!(
                "the model's embedding of graph {} has a non-finite value ({})",
                i / dim.max(1),
                embeddings[i]
            )));
        }
        let mean = labels.iter().map(|&y| f64::from(y)).sum::<f64>() / n as f64;
        let variance = labels
            .iter()
            .map(|&y| (f64::from(y) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        let scale = variance.sqrt();
        if scale == 0.0 {
            return Err(Error::invalid(format!(
                "all {n} labels are equal ({mean}); adaptation needs labels that differ"
            )));
        }
        let x = DMatrix::from_fn(n, dim, |row, col| f64::from(embeddings[row * dim + col]));
        let center: Vec<f64> = (0..dim).map(|col| x.column(col).mean()).collect();
        let centered = DMatrix::from_fn(n, dim, |row, col| x[(row, col)] - center[col]);
        let y = DVector::from_iterator(n, labels.iter().map(|&y| (f64::from(y) - mean) / scale));
        let mut gram = centered.transpose() * &centered;
        let penalty = RIDGE_ALPHA * gram.trace() / dim.max(1) as f64;
        // A constant embedding leaves nothing to fit; a tiny floor keeps the solve defined.
        let penalty = if penalty > 0.0 { penalty } else { RIDGE_ALPHA };
        for i in 0..dim {
            gram[(i, i)] += penalty;
        }
        let rhs = centered.transpose() * y;
        let weights = gram
            .cholesky()
            .ok_or_else(|| Error::invalid("the ridge system is not positive definite"))?
            .solve(&rhs);
        Ok(RidgeHead {
            center,
            weights: weights.iter().copied().collect(),
            mean,
            scale,
        })
    }

    /// The head's score for each row of `embeddings` (width = the fitted width).
    pub fn predict(&self, embeddings: &[f32]) -> Vec<f32> {
        embeddings
            .chunks_exact(self.weights.len().max(1))
            .map(|row| {
                let dot: f64 = row
                    .iter()
                    .zip(&self.center)
                    .zip(&self.weights)
                    .map(|((&x, c), w)| (f64::from(x) - c) * w)
                    .sum();
                (self.mean + self.scale * dot) as f32
            })
            .collect()
    }
}

/// Rows of a ranking head's input: each graph's embedding (width `dim`) followed by the
/// model's own score for it.
pub fn rows_with_scores(embeddings: &[f32], scores: &[f32], dim: usize) -> Vec<f32> {
    embeddings
        .chunks_exact(dim.max(1))
        .zip(scores)
        .flat_map(|(embedding, &score)| embedding.iter().copied().chain([score]))
        .collect()
}

/// A head for ranking: fitted to the **ranks** of `labels` (average ranks for ties) on rows of
/// width `width` ([`rows_with_scores`]). What a search or a ranking evaluation wants: only
/// the order counts, so a few outliers (broken networks at chance accuracy) cannot dominate
/// the squared error, and the model's own score as an input keeps what the model knew where
/// a few labels say nothing. Its predictions are in rank units, not in the labels' units.
pub fn fit_ranking_head(rows: &[f32], width: usize, labels: &[f64]) -> Result<RidgeHead> {
    // Ranking would place a NaN silently; refuse it as the fit on the labels themselves does.
    check_finite(labels.iter().copied())?;
    let ranks: Vec<f32> = crate::metrics::average_ranks(labels)
        .into_iter()
        .map(|rank| rank as f32)
        .collect();
    RidgeHead::fit(rows, width, &ranks)
}

/// What an adapted [`Head`] learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadTarget {
    /// The labels as they are, from the embedding alone (`Predictor::adapt`).
    Labels,
    /// The labels' ranks, from the embedding and the model's score ([`fit_ranking_head`];
    /// `Predictor::adapt_ranking` and the search's scorer).
    Ranks,
}

/// A head over a model's rows ([`rows_with_scores`]) that respects an ensemble model file
/// (`cgpredict.members` = M, its embedding M members' embeddings side by side): one
/// [`RidgeHead`] per member, on that member's part of the embedding (and the model's score,
/// for [`HeadTarget::Ranks`]), their predictions averaged. One ridge over all parts at once
/// would fit M times as many weights from the same 40-50 labels; per member, each head is as
/// well posed as a single model's, and averaging them keeps the ensemble's benefit. With one
/// member it is exactly [`RidgeHead::fit`] or [`fit_ranking_head`].
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    target: HeadTarget,
    embedding_dim: usize,
    member_heads: Vec<RidgeHead>,
}

impl Head {
    /// Fits on `labels.len()` rows of width `embedding_dim + 1` (embedding, then score) of a
    /// model of `members` members; `embedding_dim` must be a multiple of `members`.
    pub fn fit(
        rows: &[f32],
        embedding_dim: usize,
        members: usize,
        labels: &[f64],
        target: HeadTarget,
    ) -> Result<Head> {
        if members == 0 || !embedding_dim.is_multiple_of(members) {
            return Err(Error::invalid(format!(
                "an embedding of width {embedding_dim} does not split into {members} members"
            )));
        }
        let width = embedding_dim + 1;
        if rows.len() != labels.len() * width {
            return Err(Error::invalid(format!(
                "{} row values for {} graphs of width {width} (embedding and score)",
                rows.len(),
                labels.len()
            )));
        }
        let member_dim = embedding_dim / members;
        let member_heads = (0..members)
            .map(|member| {
                let part = member_rows(rows, embedding_dim, member_dim, member, target);
                match target {
                    HeadTarget::Labels => {
                        let labels: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
                        RidgeHead::fit(&part, member_dim, &labels)
                    }
                    HeadTarget::Ranks => fit_ranking_head(&part, member_dim + 1, labels),
                }
            })
            .collect::<Result<_>>()?;
        Ok(Head {
            target,
            embedding_dim,
            member_heads,
        })
    }

    /// The head's score for each row (embedding, then score) of the fitted width.
    pub fn predict(&self, rows: &[f32]) -> Vec<f32> {
        let members = self.member_heads.len();
        let member_dim = self.embedding_dim / members;
        let mut sums = vec![0.0f32; rows.len() / (self.embedding_dim + 1)];
        for (member, head) in self.member_heads.iter().enumerate() {
            let part = member_rows(rows, self.embedding_dim, member_dim, member, self.target);
            for (sum, value) in sums.iter_mut().zip(head.predict(&part)) {
                *sum += value;
            }
        }
        sums.into_iter().map(|sum| sum / members as f32).collect()
    }
}

/// One member's input to its head: its part of each row's embedding, followed by the row's
/// score when the target is [`HeadTarget::Ranks`].
fn member_rows(
    rows: &[f32],
    embedding_dim: usize,
    member_dim: usize,
    member: usize,
    target: HeadTarget,
) -> Vec<f32> {
    rows.chunks_exact(embedding_dim + 1)
        .flat_map(|row| {
            let part = &row[member * member_dim..(member + 1) * member_dim];
            let score = (target == HeadTarget::Ranks).then_some(row[embedding_dim]);
            part.iter().copied().chain(score)
        })
        .collect()
}

/// Every label a finite number, or an error naming the first that is not.
fn check_finite(labels: impl Iterator<Item = f64>) -> Result<()> {
    for (i, label) in labels.enumerate() {
        if !label.is_finite() {
            return Err(Error::invalid(format!(
                "labels[{i}] is {label}, not a finite number"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_linear_function() {
        // 40 points in 3 dimensions, label = 2 x0 - x1 + 0.5 x2 + 7.
        let mut embeddings = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40 {
            let row = [
                (i as f32 * 0.37).sin(),
                (i as f32 * 0.11).cos(),
                (i % 7) as f32 / 7.0,
            ];
            labels.push(2.0 * row[0] - row[1] + 0.5 * row[2] + 7.0);
            embeddings.extend(row);
        }
        let head = RidgeHead::fit(&embeddings, 3, &labels).unwrap();
        for (got, want) in head.predict(&embeddings).iter().zip(&labels) {
            assert!((got - want).abs() < 1e-2, "{got} vs {want}");
        }
    }

    #[test]
    fn a_ranking_head_is_not_thrown_by_an_outlier() {
        // 30 networks whose accuracy is linear in the embedding, and one broken one at -1000
        // in the middle of the range: least squares on the labels bends to the outlier, the
        // ranking head still orders the other 30.
        let mut embeddings = Vec::new();
        let mut labels = Vec::new();
        for i in 0..31 {
            let row: [f32; 4] =
                std::array::from_fn(|k| (0.37 * i as f32 * (k + 1) as f32 + k as f32).sin());
            labels.push(if i == 15 {
                -1000.0
            } else {
                f64::from(3.0 * row[0] - row[1])
            });
            embeddings.extend(row);
        }
        let scores = vec![0.5; 31];
        let rows = rows_with_scores(&embeddings, &scores, 4);
        assert_eq!(rows.len(), 31 * 5);
        assert_eq!(
            &rows[..5],
            &[
                embeddings[0],
                embeddings[1],
                embeddings[2],
                embeddings[3],
                0.5
            ]
        );
        let others = |predicted: Vec<f32>| {
            let (p, y): (Vec<f64>, Vec<f64>) = (0..31)
                .filter(|&i| i != 15)
                .map(|i| (f64::from(predicted[i]), labels[i]))
                .unzip();
            crate::metrics::spearman(&p, &y).unwrap()
        };
        let ranking = others(fit_ranking_head(&rows, 5, &labels).unwrap().predict(&rows));
        let raw: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
        let squares = others(RidgeHead::fit(&rows, 5, &raw).unwrap().predict(&rows));
        assert!(
            ranking > 0.95 && squares < ranking - 0.1,
            "{ranking} vs {squares}"
        );
    }

    /// Rows (embedding of `members` parts of width 3, then a score) of 40 graphs whose label
    /// is a linear function of the last member's part only.
    fn ensemble_rows(members: usize) -> (Vec<f32>, Vec<f64>) {
        let (mut rows, mut labels) = (Vec::new(), Vec::new());
        for i in 0..40 {
            let embedding: Vec<f32> = (0..3 * members)
                .map(|k| (0.29 * i as f32 * (k + 1) as f32 + k as f32).sin())
                .collect();
            let last = 3 * (members - 1);
            labels.push(f64::from(2.0 * embedding[last] - embedding[last + 2]));
            rows.extend(embedding);
            rows.push(i as f32);
        }
        (rows, labels)
    }

    #[test]
    fn one_member_heads_are_the_single_model_heads() {
        let (rows, labels) = ensemble_rows(1);
        let head = Head::fit(&rows, 3, 1, &labels, HeadTarget::Ranks).unwrap();
        let single = fit_ranking_head(&rows, 4, &labels).unwrap();
        assert_eq!(head.predict(&rows), single.predict(&rows));
        let head = Head::fit(&rows, 3, 1, &labels, HeadTarget::Labels).unwrap();
        let embeddings: Vec<f32> = rows
            .chunks_exact(4)
            .flat_map(|row| row[..3].to_vec())
            .collect();
        let raw: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
        let single = RidgeHead::fit(&embeddings, 3, &raw).unwrap();
        assert_eq!(head.predict(&rows), single.predict(&embeddings));
    }

    #[test]
    fn member_heads_average_heads_on_each_members_part() {
        let (rows, labels) = ensemble_rows(2);
        let head = Head::fit(&rows, 6, 2, &labels, HeadTarget::Labels).unwrap();
        // Member 1's head recovers the labels; member 0's part carries nothing of them, so
        // its head predicts about their mean: the average is halfway between.
        let mean = labels.iter().sum::<f64>() / labels.len() as f64;
        let part = |member: usize| -> Vec<f32> {
            rows.chunks_exact(7)
                .flat_map(|row| row[3 * member..3 * member + 3].to_vec())
                .collect()
        };
        let raw: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
        let heads = [0, 1].map(|member| RidgeHead::fit(&part(member), 3, &raw).unwrap());
        let expected: Vec<f32> = heads[0]
            .predict(&part(0))
            .iter()
            .zip(heads[1].predict(&part(1)))
            .map(|(a, b)| (a + b) / 2.0)
            .collect();
        let predicted = head.predict(&rows);
        assert_eq!(predicted, expected);
        for (&got, &label) in predicted.iter().zip(&labels) {
            let halfway = (label + mean) / 2.0;
            assert!(
                (f64::from(got) - halfway).abs() < 0.35,
                "{got} vs {halfway}"
            );
        }
    }

    #[test]
    fn member_heads_refuse_rows_that_do_not_fit() {
        let (rows, labels) = ensemble_rows(2);
        let error = Head::fit(&rows, 6, 4, &labels, HeadTarget::Ranks).unwrap_err();
        assert!(
            error.message.contains("does not split into 4 members"),
            "{error}"
        );
        let error = Head::fit(&rows[1..], 6, 2, &labels, HeadTarget::Ranks).unwrap_err();
        assert!(error.message.contains("of width 7"), "{error}");
        let error = Head::fit(&rows, 6, 0, &labels, HeadTarget::Labels).unwrap_err();
        assert!(error.message.contains("0 members"), "{error}");
    }

    #[test]
    fn refuses_too_few_or_constant_or_non_finite_labels() {
        assert!(RidgeHead::fit(&[1.0], 1, &[1.0]).is_err());
        let error = RidgeHead::fit(&[1.0, 2.0], 1, &[3.0, 3.0]).unwrap_err();
        assert!(error.message.contains("labels are equal"), "{error}");
        let error = RidgeHead::fit(&[1.0, 2.0], 1, &[3.0, f32::NAN]).unwrap_err();
        assert!(error.message.contains("labels[1]"), "{error}");
        let error = RidgeHead::fit(&[1.0, 2.0, 3.0], 1, &[3.0, 4.0]).unwrap_err();
        assert!(error.message.contains("3 embedding values"), "{error}");
    }
}
