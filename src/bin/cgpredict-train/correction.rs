//! A kernel correction of a fine-tuned model's score: kernel ridge regression on what the
//! score leaves of the shots' ranks, a Gaussian process whose prior mean is the model.
//!
//! The shots' ranks and the model's scores are standardized by the shots; the ranks are
//! fitted linearly on the score, and per member an RBF kernel over the member's embedding
//! fits the residuals. Each embedding dimension is standardized by the shots first, so that
//! no dimension's scale decides the distance, and the kernel's width is the median squared
//! distance between shots, so that it needs no tuning per family. The noise ratio is 1: with
//! 40-50 shots the correction stays smooth. Prediction is the linear part plus the members'
//! corrections averaged, in standardized rank units.

use cgpredict::metrics::average_ranks;
use nalgebra::{DMatrix, DVector};

use crate::data::mean_std;

/// Ridge added to the kernel matrix, relative to its unit diagonal.
const NOISE_RATIO: f64 = 1.0;

/// Scores of `test` graphs corrected by the shots: `shot_embeddings` and `test_embeddings`
/// are row-major with `members` parts side by side per row, the scores those of the same
/// model. Fails on fewer than 2 shots, labels that are all equal or rows of the wrong width.
pub fn corrected_scores(
    shot_embeddings: &[f32],
    shot_scores: &[f32],
    labels: &[f64],
    test_embeddings: &[f32],
    test_scores: &[f32],
    members: usize,
) -> Result<Vec<f64>, String> {
    let n = labels.len();
    if n < 2 || shot_scores.len() != n {
        return Err(format!(
            "kernel correction: {n} labels for {} shot scores (at least 2 needed)",
            shot_scores.len()
        ));
    }
    let width = shot_embeddings.len() / n;
    if members == 0
        || !width.is_multiple_of(members)
        || shot_embeddings.len() != n * width
        || test_embeddings.len() != test_scores.len() * width
    {
        return Err(format!(
            "kernel correction: embeddings of width {width} do not fit {members} members"
        ));
    }
    let ranks = average_ranks(labels);
    let (rank_mean, rank_std) = mean_std(&ranks);
    if rank_std == 0.0 {
        return Err("kernel correction: all shot labels are equal".into());
    }
    let y: Vec<f64> = ranks.iter().map(|r| (r - rank_mean) / rank_std).collect();
    let widened: Vec<f64> = shot_scores.iter().map(|&s| f64::from(s)).collect();
    let (score_mean, score_std) = mean_std(&widened);
    let score_scale = if score_std > 0.0 { score_std } else { 1.0 };
    let unit = |s: f64| (s - score_mean) / score_scale;
    let shot_units: Vec<f64> = widened.iter().map(|&s| unit(s)).collect();
    let norm = shot_units.iter().map(|s| s * s).sum::<f64>();
    let slope = if norm > 0.0 {
        shot_units.iter().zip(&y).map(|(s, y)| s * y).sum::<f64>() / norm
    } else {
        0.0
    };
    let residuals =
        DVector::from_iterator(n, y.iter().zip(&shot_units).map(|(y, s)| y - slope * s));
    let member_width = width / members;
    let mut corrections = vec![0.0; test_scores.len()];
    for member in 0..members {
        let part = |rows: &[f32], row: usize, col: usize| {
            f64::from(rows[row * width + member * member_width + col])
        };
        let (centers, scales): (Vec<f64>, Vec<f64>) = (0..member_width)
            .map(|col| {
                let column: Vec<f64> = (0..n).map(|row| part(shot_embeddings, row, col)).collect();
                let (mean, std) = mean_std(&column);
                (mean, if std > 1e-9 { std } else { 1.0 })
            })
            .unzip();
        let standardized = |rows: &[f32], row: usize| -> Vec<f64> {
            (0..member_width)
                .map(|col| (part(rows, row, col) - centers[col]) / scales[col])
                .collect()
        };
        let shots: Vec<Vec<f64>> = (0..n)
            .map(|row| standardized(shot_embeddings, row))
            .collect();
        let squared =
            |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>();
        let mut distances: Vec<f64> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| squared(&shots[i], &shots[j]))
            .filter(|&d| d > 0.0)
            .collect();
        distances.sort_by(f64::total_cmp);
        let bandwidth = distances.get(distances.len() / 2).copied().unwrap_or(1.0);
        let kernel = |a: &[f64], b: &[f64]| (-squared(a, b) / bandwidth).exp();
        let gram = DMatrix::from_fn(n, n, |i, j| {
            kernel(&shots[i], &shots[j]) + if i == j { NOISE_RATIO } else { 0.0 }
        });
        let weights = gram
            .cholesky()
            .ok_or("kernel correction: the kernel system is not positive definite")?
            .solve(&residuals);
        for (row, correction) in corrections.iter_mut().enumerate() {
            let x = standardized(test_embeddings, row);
            *correction += shots
                .iter()
                .zip(weights.iter())
                .map(|(shot, w)| w * kernel(&x, shot))
                .sum::<f64>()
                / members as f64;
        }
    }
    Ok(test_scores
        .iter()
        .zip(corrections)
        .map(|(&s, correction)| slope * unit(f64::from(s)) + correction)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_linear_in_the_score_leave_the_score_order() {
        // The shots' ranks follow the score exactly: nothing is left to correct.
        let scores = [0.1f32, 0.5, 0.2, 0.9, 0.7];
        let labels = [1.0, 5.0, 2.0, 9.0, 7.0];
        let embeddings: Vec<f32> = (0..5).flat_map(|i| [i as f32, (i * i) as f32]).collect();
        let test_scores = [0.3f32, 0.8, 0.0];
        let test_embeddings = [0.5f32, 1.0, 3.5, 12.0, 9.0, 2.0];
        let corrected = corrected_scores(
            &embeddings,
            &scores,
            &labels,
            &test_embeddings,
            &test_scores,
            1,
        )
        .unwrap();
        assert!(
            corrected[2] < corrected[0] && corrected[0] < corrected[1],
            "{corrected:?}"
        );
    }

    #[test]
    fn the_embedding_corrects_what_the_score_misses() {
        // The score is constant; the label is the first embedding coordinate. A test graph
        // next to the best shot ranks above one next to the worst.
        let shots: Vec<f32> = (0..10).flat_map(|i| [i as f32, 1.0]).collect();
        let labels: Vec<f64> = (0..10).map(f64::from).collect();
        let corrected = corrected_scores(
            &shots,
            &[0.5; 10],
            &labels,
            &[8.9, 1.0, 0.1, 1.0],
            &[0.5, 0.5],
            1,
        )
        .unwrap();
        assert!(corrected[0] > corrected[1] + 0.5, "{corrected:?}");
    }

    #[test]
    fn bad_shapes_and_equal_labels_are_errors() {
        let rows = [0.0f32; 4];
        assert!(corrected_scores(&rows, &[0.0, 1.0], &[1.0, 1.0], &[], &[], 1).is_err());
        assert!(corrected_scores(&rows, &[0.0], &[1.0, 2.0], &[], &[], 1).is_err());
        assert!(corrected_scores(&rows, &[0.0, 1.0], &[1.0, 2.0], &[], &[], 3).is_err());
    }
}
