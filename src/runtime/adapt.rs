//! Few-shot adaptation: a ridge-regression head fitted on a model's embeddings, or the model's
//! own score or the plain least-squares fit on a network's scale when the labels say that the
//! head does not rank better.
//!
//! Labels are standardized (mean 0, standard deviation 1) and inputs centered before the
//! fit, so one ridge strength suits any label scale; the head answers in the labels' units.
//! The penalty is `RIDGE_ALPHA` times the mean eigenvalue of the centered Gram matrix
//! (its trace over `D`), which keeps the solve well conditioned when the shots are fewer than
//! the embedding's dimensions or the embedding is rank-deficient.
//!
//! A head's input row ([`head_rows`]) is a graph's embedding, the model's score, then
//! `log2(1 + MACs)` and `log2(1 + parameters)`. [`Head::fit`] fits three candidates on it: the
//! model's head (embedding and scale, plus the score when ranking), the model's own score
//! rescaled, and the **scale fit**, least squares on (log MACs, log params) alone, what a user
//! gets for free. It keeps the one whose leave-one-out predictions rank the given labels best
//! (closed form, below), so that a few labels can make adaptation neither worse than that fit
//! nor worse than the model left as it was.

use nalgebra::{DMatrix, DVector};

use crate::error::{Error, Result};
use crate::metrics::{average_ranks, spearman};

/// Relative ridge strength (see the module documentation).
pub const RIDGE_ALPHA: f64 = 1e-3;

/// Columns of a head row after the embedding: the model's score, log2 MACs, log2 params.
pub const ROW_EXTRA: usize = 3;

/// Fewest labels for which [`Head::fit`] chooses by leave-one-out; with fewer, one left-out
/// label decides the choice, so the model's head is kept.
pub const MIN_LABELS_TO_CHOOSE: usize = 5;

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
        let labels: Vec<f64> = labels.iter().map(|&y| f64::from(y)).collect();
        Ok(fit_with_leave_one_out(embeddings, dim, &labels)?.0)
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

/// [`RidgeHead::fit`], with each label's leave-one-out prediction (in standardized units)
/// from the hat matrix: for ridge with an unpenalized intercept,
/// `loo_i = y_i - (y_i - fitted_i) / (1 - h_ii)`, `h_ii = 1/n + x_i (X'X + pI)^-1 x_i'` on
/// centered rows, exact for the penalty `p` of the whole fit, so no refit per label.
fn fit_with_leave_one_out(
    embeddings: &[f32],
    dim: usize,
    labels: &[f64],
) -> Result<(RidgeHead, Vec<f64>)> {
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
    check_finite(labels.iter().copied())?;
    if let Some(i) = embeddings.iter().position(|value| !value.is_finite()) {
        return Err(Error::invalid(format!(
            "the model's embedding of graph {} has a non-finite value ({})",
            i / dim.max(1),
            embeddings[i]
        )));
    }
    let mean = labels.iter().sum::<f64>() / n as f64;
    let variance = labels.iter().map(|&y| (y - mean).powi(2)).sum::<f64>() / n as f64;
    let scale = variance.sqrt();
    if scale == 0.0 {
        return Err(Error::invalid(format!(
            "all {n} labels are equal ({mean}); adaptation needs labels that differ"
        )));
    }
    let x = DMatrix::from_fn(n, dim, |row, col| f64::from(embeddings[row * dim + col]));
    let center: Vec<f64> = (0..dim).map(|col| x.column(col).mean()).collect();
    let centered = DMatrix::from_fn(n, dim, |row, col| x[(row, col)] - center[col]);
    let y = DVector::from_iterator(n, labels.iter().map(|&y| (y - mean) / scale));
    let mut gram = centered.transpose() * &centered;
    let penalty = RIDGE_ALPHA * gram.trace() / dim.max(1) as f64;
    // A constant embedding leaves nothing to fit; a tiny floor keeps the solve defined.
    let penalty = if penalty > 0.0 { penalty } else { RIDGE_ALPHA };
    for i in 0..dim {
        gram[(i, i)] += penalty;
    }
    let cholesky = gram
        .cholesky()
        .ok_or_else(|| Error::invalid("the ridge system is not positive definite"))?;
    // (X'X + pI)^-1 X': its columns give both the weights and the leverages.
    let solved = cholesky.solve(&centered.transpose());
    let weights = &solved * &y;
    let fitted = &centered * &weights;
    let leave_one_out = (0..n)
        .map(|i| {
            let leverage = 1.0 / n as f64 + centered.row(i).dot(&solved.column(i).transpose());
            let residual = y[i] - fitted[i];
            y[i] - residual / (1.0 - leverage).max(1e-9)
        })
        .collect();
    let head = RidgeHead {
        center,
        weights: weights.iter().copied().collect(),
        mean,
        scale,
    };
    Ok((head, leave_one_out))
}

/// Rows of a head's input: each graph's embedding (width `dim`), the model's score for it,
/// then its `[log2(1 + MACs), log2(1 + parameters)]` (`Batch::log_scales`).
pub fn head_rows(embeddings: &[f32], scores: &[f32], scales: &[[f32; 2]], dim: usize) -> Vec<f32> {
    embeddings
        .chunks_exact(dim.max(1))
        .zip(scores)
        .zip(scales)
        .flat_map(|((embedding, &score), scale)| {
            embedding.iter().copied().chain([score]).chain(*scale)
        })
        .collect()
}

/// A head for ranking: fitted to the **ranks** of `labels` (average ranks for ties) on rows of
/// width `width`. What a search or a ranking evaluation wants: only the order counts, so a
/// few outliers (broken networks at chance accuracy) cannot dominate the squared error. Its
/// predictions are in rank units, not in the labels' units.
pub fn fit_ranking_head(rows: &[f32], width: usize, labels: &[f64]) -> Result<RidgeHead> {
    Ok(fit_part(rows, width, labels, HeadTarget::Ranks)?.0)
}

/// A ridge head on `rows` of width `width` against the labels or their ranks, with its
/// leave-one-out predictions.
fn fit_part(
    rows: &[f32],
    width: usize,
    labels: &[f64],
    target: HeadTarget,
) -> Result<(RidgeHead, Vec<f64>)> {
    match target {
        HeadTarget::Labels => fit_with_leave_one_out(rows, width, labels),
        HeadTarget::Ranks => {
            // Ranking would place a NaN silently; refuse it as the fit on the labels does.
            check_finite(labels.iter().copied())?;
            fit_with_leave_one_out(rows, width, &average_ranks(labels))
        }
    }
}

/// What an adapted [`Head`] learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadTarget {
    /// The labels as they are, from the embedding and the scale (`Predictor::adapt`).
    Labels,
    /// The labels' ranks, from the embedding, the model's score and the scale
    /// (`Predictor::adapt_ranking` and the search's scorer).
    Ranks,
}

/// The candidates a [`Head`] chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    /// The model's head: one ridge per member on its part of the embedding, the score (for
    /// ranks) and the scale, averaged.
    ModelHead,
    /// The model's own score, only rescaled (least squares on the score alone): adapting
    /// changes nothing of the order the model gave.
    Score,
    /// Least squares on (log MACs, log params) alone.
    Scale,
}

/// The fitted candidate a [`Head`] kept.
#[derive(Debug, Clone, PartialEq)]
enum Choice {
    ModelHead(Vec<RidgeHead>),
    Score(RidgeHead),
    Scale(RidgeHead),
}

/// A head over a model's rows ([`head_rows`]) that respects an ensemble model file
/// (`cgpredict.members` = M, its embedding M members' embeddings side by side): the model's
/// candidate fits one [`RidgeHead`] per member, on that member's part of the embedding (with
/// the scale, and the model's score for [`HeadTarget::Ranks`]), and averages them. One ridge
/// over all parts at once would fit M times as many weights from the same 40-50 labels; per
/// member, each head is as well posed as a single model's. Against it stand the model's own
/// score and the scale fit; the candidate whose leave-one-out predictions rank the labels
/// best is kept (see the module documentation), ties going to the one with fewer weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    target: HeadTarget,
    embedding_dim: usize,
    choice: Choice,
    leave_one_out: LeaveOneOut,
}

/// Leave-one-out SRCC of each candidate on the labels a [`Head`] was fitted to (`None` below
/// [`MIN_LABELS_TO_CHOOSE`] labels, or for predictions that are all equal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaveOneOut {
    pub model_head: Option<f64>,
    pub score: Option<f64>,
    pub scale: Option<f64>,
}

impl Head {
    /// Fits on `labels.len()` rows of width `embedding_dim + ROW_EXTRA` ([`head_rows`]) of a
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
        let width = embedding_dim + ROW_EXTRA;
        if rows.len() != labels.len() * width {
            return Err(Error::invalid(format!(
                "{} row values for {} graphs of width {width} (embedding, score, log MACs and \
                 log params)",
                rows.len(),
                labels.len()
            )));
        }
        let member_dim = embedding_dim / members;
        let mut member_heads = Vec::with_capacity(members);
        let mut model_loo = vec![0.0; labels.len()];
        for member in 0..members {
            let part = member_rows(rows, embedding_dim, member_dim, member, target);
            let part_width = part.len() / labels.len().max(1);
            let (head, loo) = fit_part(&part, part_width, labels, target)?;
            member_heads.push(head);
            // The average of the members' fits without a label is their average's fit.
            for (sum, value) in model_loo.iter_mut().zip(loo) {
                *sum += value / members as f64;
            }
        }
        let (score_head, score_loo) =
            fit_part(&score_rows(rows, embedding_dim), 1, labels, target)?;
        let (scale_head, scale_loo) =
            fit_part(&scale_rows(rows, embedding_dim), 2, labels, target)?;
        let leave_one_out = if labels.len() >= MIN_LABELS_TO_CHOOSE {
            let srcc = |predicted: &[f64]| spearman(predicted, labels).ok();
            LeaveOneOut {
                model_head: srcc(&model_loo),
                score: srcc(&score_loo),
                scale: srcc(&scale_loo),
            }
        } else {
            LeaveOneOut {
                model_head: None,
                score: None,
                scale: None,
            }
        };
        let choice = match leave_one_out.best() {
            Candidate::Score => Choice::Score(score_head),
            Candidate::Scale => Choice::Scale(scale_head),
            Candidate::ModelHead => Choice::ModelHead(member_heads),
        };
        Ok(Head {
            target,
            embedding_dim,
            choice,
            leave_one_out,
        })
    }

    /// The candidate kept.
    pub fn kept(&self) -> Candidate {
        match self.choice {
            Choice::ModelHead(_) => Candidate::ModelHead,
            Choice::Score(_) => Candidate::Score,
            Choice::Scale(_) => Candidate::Scale,
        }
    }

    /// The candidates' leave-one-out SRCC that decided between them.
    pub fn leave_one_out(&self) -> LeaveOneOut {
        self.leave_one_out
    }

    /// The head's score for each row ([`head_rows`]) of the fitted width.
    pub fn predict(&self, rows: &[f32]) -> Vec<f32> {
        match &self.choice {
            Choice::Score(head) => head.predict(&score_rows(rows, self.embedding_dim)),
            Choice::Scale(head) => head.predict(&scale_rows(rows, self.embedding_dim)),
            Choice::ModelHead(member_heads) => {
                let members = member_heads.len();
                let member_dim = self.embedding_dim / members;
                let mut sums = vec![0.0f32; rows.len() / (self.embedding_dim + ROW_EXTRA)];
                for (member, head) in member_heads.iter().enumerate() {
                    let part =
                        member_rows(rows, self.embedding_dim, member_dim, member, self.target);
                    for (sum, value) in sums.iter_mut().zip(head.predict(&part)) {
                        *sum += value;
                    }
                }
                sums.into_iter().map(|sum| sum / members as f32).collect()
            }
        }
    }
}

/// One member's input to its head: its part of each row's embedding, the row's score when
/// the target is [`HeadTarget::Ranks`], then the row's log MACs and log params.
fn member_rows(
    rows: &[f32],
    embedding_dim: usize,
    member_dim: usize,
    member: usize,
    target: HeadTarget,
) -> Vec<f32> {
    rows.chunks_exact(embedding_dim + ROW_EXTRA)
        .flat_map(|row| {
            let part = &row[member * member_dim..(member + 1) * member_dim];
            let score = (target == HeadTarget::Ranks).then_some(row[embedding_dim]);
            part.iter()
                .copied()
                .chain(score)
                .chain(row[embedding_dim + 1..].iter().copied())
        })
        .collect()
}

impl LeaveOneOut {
    /// The candidate of highest SRCC; ties go to the one with fewer weights (the score, then
    /// the scale fit). Without any SRCC (too few labels), the model's head.
    pub fn best(&self) -> Candidate {
        [
            (Candidate::Score, self.score),
            (Candidate::Scale, self.scale),
            (Candidate::ModelHead, self.model_head),
        ]
        .into_iter()
        .filter_map(|(candidate, srcc)| srcc.map(|srcc| (candidate, srcc)))
        .fold(
            None,
            |best: Option<(Candidate, f64)>, (candidate, srcc)| match best {
                Some((_, top)) if top >= srcc => best,
                _ => Some((candidate, srcc)),
            },
        )
        .map_or(Candidate::ModelHead, |(candidate, _)| candidate)
    }
}

/// Each row's score.
fn score_rows(rows: &[f32], embedding_dim: usize) -> Vec<f32> {
    rows.chunks_exact(embedding_dim + ROW_EXTRA)
        .map(|row| row[embedding_dim])
        .collect()
}

/// Each row's log MACs and log params.
fn scale_rows(rows: &[f32], embedding_dim: usize) -> Vec<f32> {
    rows.chunks_exact(embedding_dim + ROW_EXTRA)
        .flat_map(|row| row[embedding_dim + 1..].iter().copied())
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

    /// 25 noisy rows of width 4.
    fn noisy_rows() -> (Vec<f32>, Vec<f64>) {
        let rows: Vec<f32> = (0..100)
            .map(|k| (0.71 * k as f32 + (k % 4) as f32).sin())
            .collect();
        let labels = rows
            .chunks_exact(4)
            .enumerate()
            .map(|(i, row)| f64::from(row[0] - 2.0 * row[3]) + 0.3 * (i as f64 * 1.3).cos())
            .collect();
        (rows, labels)
    }

    #[test]
    fn leave_one_out_in_closed_form_is_refitting_without_each_label() {
        let (rows, labels) = noisy_rows();
        let (_, loo) = fit_with_leave_one_out(&rows, 4, &labels).unwrap();
        let (mean, std) = {
            let n = labels.len() as f64;
            let mean = labels.iter().sum::<f64>() / n;
            let var = labels.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        };
        for left_out in 0..labels.len() {
            let (rest_rows, rest_labels): (Vec<f32>, Vec<f32>) = {
                let keep = |i: &usize| *i != left_out;
                let rows = (0..labels.len())
                    .filter(keep)
                    .flat_map(|i| rows[4 * i..4 * i + 4].to_vec())
                    .collect();
                let labels = (0..labels.len())
                    .filter(keep)
                    .map(|i| labels[i] as f32)
                    .collect();
                (rows, labels)
            };
            // The refit's penalty comes from its own Gram matrix, a little apart from the
            // whole fit's: the two agree to the order of that difference.
            let refit = RidgeHead::fit(&rest_rows, 4, &rest_labels).unwrap();
            let predicted = f64::from(refit.predict(&rows[4 * left_out..4 * left_out + 4])[0]);
            let expected = mean + std * loo[left_out];
            assert!(
                (predicted - expected).abs() < 1e-3 * std,
                "label {left_out}: refit {predicted}, closed form {expected}"
            );
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
        let scales = vec![[20.0, 10.0]; 31];
        let rows = head_rows(&embeddings, &scores, &scales, 4);
        assert_eq!(rows.len(), 31 * 7);
        assert_eq!(
            &rows[..7],
            &[
                embeddings[0],
                embeddings[1],
                embeddings[2],
                embeddings[3],
                0.5,
                20.0,
                10.0
            ]
        );
        let others = |predicted: Vec<f32>| {
            let (p, y): (Vec<f64>, Vec<f64>) = (0..31)
                .filter(|&i| i != 15)
                .map(|i| (f64::from(predicted[i]), labels[i]))
                .unzip();
            crate::metrics::spearman(&p, &y).unwrap()
        };
        let ranking = others(fit_ranking_head(&rows, 7, &labels).unwrap().predict(&rows));
        let raw: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
        let squares = others(RidgeHead::fit(&rows, 7, &raw).unwrap().predict(&rows));
        assert!(
            ranking > 0.95 && squares < ranking - 0.1,
            "{ranking} vs {squares}"
        );
    }

    /// Rows ([`head_rows`]: embedding of `members` parts of width 3, a score, log MACs and
    /// log params) of 40 graphs. Without `from_scale`, the label is a linear function of the
    /// last member's part and the scale is the same for all; with it, the first 10 graphs'
    /// labels are log MACs plus noise, and the embedding is unrelated to them.
    fn ensemble_rows(members: usize, from_scale: bool) -> (Vec<f32>, Vec<f64>) {
        let (mut rows, mut labels) = (Vec::new(), Vec::new());
        let count = if from_scale { 10 } else { 40 };
        for i in 0..count {
            let embedding: Vec<f32> = (0..3 * members)
                .map(|k| (0.29 * i as f32 * (k + 1) as f32 + k as f32).sin())
                .collect();
            let scale = if from_scale {
                [
                    20.0 + (0.53 * i as f32).cos(),
                    15.0 + (1.7 * i as f32).sin(),
                ]
            } else {
                [20.0, 15.0]
            };
            let last = 3 * (members - 1);
            labels.push(if from_scale {
                f64::from(scale[0]) + 0.3 * (2.9 * i as f64).sin()
            } else {
                f64::from(2.0 * embedding[last] - embedding[last + 2])
            });
            rows.extend(embedding);
            rows.push((0.9 * i as f32).sin());
            rows.extend(scale);
        }
        (rows, labels)
    }

    #[test]
    fn one_member_heads_are_the_single_model_heads() {
        let (rows, labels) = ensemble_rows(1, false);
        let head = Head::fit(&rows, 3, 1, &labels, HeadTarget::Ranks).unwrap();
        assert_eq!(
            head.kept(),
            Candidate::ModelHead,
            "{:?}",
            head.leave_one_out()
        );
        // Ranks: the whole row (embedding, score, scale).
        let single = fit_ranking_head(&rows, 6, &labels).unwrap();
        assert_eq!(head.predict(&rows), single.predict(&rows));
        // Labels: the embedding and the scale, without the score.
        let head = Head::fit(&rows, 3, 1, &labels, HeadTarget::Labels).unwrap();
        assert_eq!(
            head.kept(),
            Candidate::ModelHead,
            "{:?}",
            head.leave_one_out()
        );
        let without_score: Vec<f32> = rows
            .chunks_exact(6)
            .flat_map(|row| [&row[..3], &row[4..]].concat())
            .collect();
        let raw: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
        let single = RidgeHead::fit(&without_score, 5, &raw).unwrap();
        assert_eq!(head.predict(&rows), single.predict(&without_score));
    }

    #[test]
    fn member_heads_average_heads_on_each_members_part() {
        let (rows, labels) = ensemble_rows(2, false);
        let head = Head::fit(&rows, 6, 2, &labels, HeadTarget::Labels).unwrap();
        assert_eq!(
            head.kept(),
            Candidate::ModelHead,
            "{:?}",
            head.leave_one_out()
        );
        // Member 1's head recovers the labels; member 0's part carries nothing of them, so
        // its head predicts about their mean: the average is halfway between.
        let mean = labels.iter().sum::<f64>() / labels.len() as f64;
        let part = |member: usize| -> Vec<f32> {
            rows.chunks_exact(9)
                .flat_map(|row| [&row[3 * member..3 * member + 3], &row[7..]].concat())
                .collect()
        };
        let raw: Vec<f32> = labels.iter().map(|&y| y as f32).collect();
        let heads = [0, 1].map(|member| RidgeHead::fit(&part(member), 5, &raw).unwrap());
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
    fn labels_that_follow_the_scale_keep_the_scale_fit() {
        for target in [HeadTarget::Labels, HeadTarget::Ranks] {
            for members in [1, 3] {
                let (rows, labels) = ensemble_rows(members, true);
                let head = Head::fit(&rows, 3 * members, members, &labels, target).unwrap();
                let loo = head.leave_one_out();
                assert_eq!(
                    head.kept(),
                    Candidate::Scale,
                    "{target:?}, {members} members: {loo:?}"
                );
                assert!(loo.scale.unwrap() > 0.75, "{loo:?}");
                // Exactly the least-squares fit on the scale columns.
                let scale_rows: Vec<f32> = rows
                    .chunks_exact(3 * members + ROW_EXTRA)
                    .flat_map(|row| row[3 * members + 1..].to_vec())
                    .collect();
                let (fit, _) = fit_part(&scale_rows, 2, &labels, target).unwrap();
                assert_eq!(head.predict(&rows), fit.predict(&scale_rows));
            }
        }
    }

    #[test]
    fn few_labels_keep_the_models_head() {
        let (rows, labels) = ensemble_rows(1, true);
        let few = MIN_LABELS_TO_CHOOSE - 1;
        let head = Head::fit(&rows[..6 * few], 3, 1, &labels[..few], HeadTarget::Ranks).unwrap();
        assert_eq!(head.kept(), Candidate::ModelHead);
        assert_eq!(
            head.leave_one_out(),
            LeaveOneOut {
                model_head: None,
                score: None,
                scale: None
            }
        );
    }

    #[test]
    fn labels_the_score_already_ranks_keep_the_score() {
        // Labels that the model's score orders exactly, the embedding and the scale unrelated
        // to them: every fit can only add noise.
        let (mut rows, _) = ensemble_rows(1, true);
        let labels: Vec<f64> = rows
            .chunks_exact_mut(6)
            .enumerate()
            .map(|(i, row)| {
                row[3] = (1.3 * i as f32).sin();
                f64::from(row[3]).exp()
            })
            .collect();
        for target in [HeadTarget::Labels, HeadTarget::Ranks] {
            let head = Head::fit(&rows, 3, 1, &labels, target).unwrap();
            assert_eq!(head.kept(), Candidate::Score, "{:?}", head.leave_one_out());
            let predicted: Vec<f64> = head.predict(&rows).into_iter().map(f64::from).collect();
            assert_eq!(spearman(&predicted, &labels).unwrap(), 1.0);
        }
    }

    #[test]
    fn ties_go_to_the_candidate_with_fewer_weights() {
        let tie = |model_head, score, scale| {
            LeaveOneOut {
                model_head,
                score,
                scale,
            }
            .best()
        };
        assert_eq!(tie(Some(0.9), Some(0.9), Some(0.9)), Candidate::Score);
        assert_eq!(tie(Some(0.9), Some(0.5), Some(0.9)), Candidate::Scale);
        assert_eq!(tie(Some(0.91), Some(0.9), None), Candidate::ModelHead);
        assert_eq!(tie(None, None, None), Candidate::ModelHead);
    }

    #[test]
    fn member_heads_refuse_rows_that_do_not_fit() {
        let (rows, labels) = ensemble_rows(2, false);
        let error = Head::fit(&rows, 6, 4, &labels, HeadTarget::Ranks).unwrap_err();
        assert!(
            error.message.contains("does not split into 4 members"),
            "{error}"
        );
        let error = Head::fit(&rows[1..], 6, 2, &labels, HeadTarget::Ranks).unwrap_err();
        assert!(error.message.contains("of width 9"), "{error}");
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
        let error = fit_ranking_head(&[1.0, 2.0], 1, &[3.0, f64::NAN]).unwrap_err();
        assert!(error.message.contains("labels[1]"), "{error}");
    }
}
