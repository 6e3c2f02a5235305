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
        if let Some(i) = labels.iter().position(|label| !label.is_finite()) {
            return Err(Error::invalid(format!(
                "labels[{i}] is {}, not a finite number",
                labels[i]
            )));
        }
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
