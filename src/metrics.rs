//! Rank correlations between predicted scores and true accuracies, the paper's evaluation
//! measures: Spearman's ρ (ties take their average rank) and Kendall's τ-b.

use crate::error::{Error, Result};

/// Checks that two samples can be compared: same length, at least two values, all finite.
fn check_pair(x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(Error::invalid(format!(
            "rank correlation of samples of different lengths ({} and {})",
            x.len(),
            y.len()
        )));
    }
    if x.len() < 2 {
        return Err(Error::invalid(format!(
            "rank correlation needs at least 2 values, got {}",
            x.len()
        )));
    }
    for (name, sample) in [("first", x), ("second", y)] {
        if let Some(position) = sample.iter().position(|value| !value.is_finite()) {
            return Err(Error::invalid(format!(
                "{name} sample has a non-finite value {} at position {position}",
                sample[position]
            )));
        }
    }
    Ok(())
}

/// Ranks from 1 to n; tied values share the average of the ranks they span (scipy's
/// `rankdata(method="average")`). Values must be finite.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        start = end;
    }
    ranks
}

/// Pearson correlation; `Err` when either sample is constant.
fn pearson(x: &[f64], y: &[f64]) -> Result<f64> {
    let n = x.len() as f64;
    let (mean_x, mean_y) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        sxy += (a - mean_x) * (b - mean_y);
        sxx += (a - mean_x) * (a - mean_x);
        syy += (b - mean_y) * (b - mean_y);
    }
    if sxx == 0.0 || syy == 0.0 {
        return Err(Error::invalid(
            "rank correlation of a constant sample is undefined",
        ));
    }
    Ok(sxy / (sxx * syy).sqrt())
}

/// Spearman's rank correlation ρ: the Pearson correlation of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64> {
    check_pair(x, y)?;
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Kendall's τ-b (scipy's default), which corrects for ties in either sample:
/// (concordant − discordant) / √((n₀ − ties in x)(n₀ − ties in y)) over all n₀ pairs.
/// Quadratic in the sample size: about a second for 30,000 values.
pub fn kendall_tau(x: &[f64], y: &[f64]) -> Result<f64> {
    check_pair(x, y)?;
    let (mut score, mut untied_x, mut untied_y) = (0i64, 0i64, 0i64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let dx = x[i].total_cmp(&x[j]) as i64;
            let dy = y[i].total_cmp(&y[j]) as i64;
            score += dx * dy;
            untied_x += dx.abs();
            untied_y += dy.abs();
        }
    }
    if untied_x == 0 || untied_y == 0 {
        return Err(Error::invalid(
            "rank correlation of a constant sample is undefined",
        ));
    }
    Ok(score as f64 / ((untied_x as f64) * (untied_y as f64)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 20.0, 5.0, 20.0]),
            vec![2.0, 4.0, 4.0, 1.0, 4.0]
        );
    }

    #[test]
    fn a_small_case_by_hand() {
        // x = 1..4, y = [1, 3, 2, 4]: d² = 0 + 1 + 1 + 0, ρ = 1 − 6·2 / (4·15) = 0.8;
        // pairs: 5 concordant, 1 discordant, τ = 4 / 6.
        let (x, y) = ([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]);
        assert!((spearman(&x, &y).unwrap() - 0.8).abs() < 1e-12);
        assert!((kendall_tau(&x, &y).unwrap() - 4.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn bad_samples_are_refused() {
        let error = spearman(&[1.0, 2.0], &[1.0]).unwrap_err().to_string();
        assert!(error.contains("different lengths (2 and 1)"), "{error}");
        let error = kendall_tau(&[1.0, f64::NAN], &[1.0, 2.0])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("non-finite value NaN at position 1"),
            "{error}"
        );
        assert!(spearman(&[3.0, 3.0, 3.0], &[1.0, 2.0, 3.0]).is_err());
        assert!(kendall_tau(&[1.0], &[1.0]).is_err());
    }
}
