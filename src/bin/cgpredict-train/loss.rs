//! Losses: the paper's spectrally weighted contrastive loss (4.5) and the regression loss
//! (squared error on standardized labels plus a pairwise ranking term).

use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor, TensorData};

/// Loss 4.5 of the paper: `-Σ_i Σ_{s∈P(i)} α_s^(i) χ_{i,s}` averaged over the anchors, with
/// `χ_{i,s} = log(exp(z_i·z_s/τ) / Σ_{r≠i} exp(z_i·z_r/τ))`. `z` holds unit vectors `[n, p]`;
/// `alpha` is `[n, n]`, each row a distribution over the anchor's positives (zero elsewhere,
/// zero on the diagonal).
pub fn contrastive(z: Tensor<2>, alpha: &[f32], temperature: f64, device: &Device) -> Tensor<1> {
    let n = z.dims()[0];
    let similarity = z.clone().matmul(z.transpose()) / temperature;
    let diagonal: Vec<f32> = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    // exp(-1e9) is 0: r = i leaves the denominator.
    let logits =
        similarity - Tensor::<2>::from_data(TensorData::new(diagonal, [n, n]), device) * 1e9;
    let max = logits.clone().max_dim(1).detach();
    let log_denominator = (logits.clone() - max.clone()).exp().sum_dim(1).log() + max;
    let chi = logits - log_denominator;
    let alpha = Tensor::<2>::from_data(TensorData::new(alpha.to_vec(), [n, n]), device);
    -(alpha * chi).sum_dim(1).mean()
}

/// The weights α of loss 4.5: for anchor `i`, the softmax of `-σ(i, s) / temperature` over
/// its positives `s` (same class, `s ≠ i`), so that spectrally nearer graphs weigh more. The
/// paper says "softmax of σ_S(i,*) with temperature 0.05"; the sign makes near graphs the
/// likelier positives, which is the stated intent ("smoothly favors similar computation graphs").
pub fn spectral_weights(classes: &[usize], spectra: &[&[f64]], temperature: f64) -> Vec<f32> {
    let n = classes.len();
    let mut alpha = vec![0f32; n * n];
    for i in 0..n {
        let positives: Vec<(usize, f64)> = (0..n)
            .filter(|&s| s != i && classes[s] == classes[i])
            .map(|s| (s, -distance(spectra[i], spectra[s]) / temperature))
            .collect();
        let max = positives
            .iter()
            .map(|&(_, logit)| logit)
            .fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = positives
            .iter()
            .map(|&(_, logit)| (logit - max).exp())
            .sum();
        for (s, logit) in positives {
            alpha[i * n + s] = ((logit - max).exp() / total) as f32;
        }
    }
    alpha
}

/// `[n, n]`, row-major: `1 / |class of i|` where `i` and `j` share a class, else 0, so that
/// its product with a vector gives each entry its class's mean.
fn class_mean_matrix(classes: &[usize]) -> Vec<f32> {
    let n = classes.len();
    let mut matrix = vec![0f32; n * n];
    for i in 0..n {
        let size = classes.iter().filter(|&&c| c == classes[i]).count() as f32;
        for j in 0..n {
            if classes[j] == classes[i] {
                matrix[i * n + j] = 1.0 / size;
            }
        }
    }
    matrix
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Mean squared error on standardized labels plus `rank_weight` times the mean logistic loss
/// `log(1 + exp(-(p_i - p_j)))` over the pairs of one class with `y_i > y_j`: ranking is what
/// the predictor is judged by, and the pairs carry it directly. `centered`: predictions and
/// labels are compared after subtracting each class's mean in the batch, so that a constant
/// per class costs nothing.
pub fn regression(
    predictions: Tensor<1>,
    labels: &[f32],
    classes: &[usize],
    rank_weight: f64,
    centered: bool,
    device: &Device,
) -> Tensor<1> {
    let n = labels.len();
    let targets = Tensor::<1>::from_data(TensorData::new(labels.to_vec(), [n]), device);
    let difference = predictions.clone() - targets;
    let difference = if centered {
        let class_means =
            Tensor::<2>::from_data(TensorData::new(class_mean_matrix(classes), [n, n]), device);
        difference.clone()
            - class_means
                .matmul(difference.unsqueeze_dim::<2>(1))
                .reshape([n])
    } else {
        difference
    };
    let squared_error = difference.powi_scalar(2).mean();
    if rank_weight == 0.0 {
        return squared_error;
    }
    let mut pairs = vec![0f32; n * n];
    let mut count = 0usize;
    for i in 0..n {
        for j in 0..n {
            if classes[i] == classes[j] && labels[i] > labels[j] {
                pairs[i * n + j] = 1.0;
                count += 1;
            }
        }
    }
    if count == 0 {
        return squared_error;
    }
    let differences = predictions.clone().unsqueeze_dim::<2>(1) - predictions.unsqueeze_dim(0);
    let pairs = Tensor::<2>::from_data(TensorData::new(pairs, [n, n]), device);
    let ranking = (softplus(-differences, 1.0) * pairs).sum() / count as f64;
    squared_error + ranking * rank_weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_favour_near_positives_and_sum_to_one() {
        let spectra: Vec<Vec<f64>> = vec![vec![0.0], vec![0.01], vec![0.2], vec![5.0]];
        let refs: Vec<&[f64]> = spectra.iter().map(Vec::as_slice).collect();
        let alpha = spectral_weights(&[0, 0, 0, 1], &refs, 0.05);
        let row0 = &alpha[0..4];
        assert_eq!(row0[0], 0.0);
        assert_eq!(row0[3], 0.0, "another class is never a positive");
        assert!((row0.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // exp(-0.2) : exp(-4) by the softmax at temperature 0.05.
        let expected = 1.0 / (1.0 + (-(0.2 - 0.01) / 0.05f64).exp());
        assert!((f64::from(row0[1]) - expected).abs() < 1e-6);
        assert!(
            alpha[3 * 4..].iter().all(|&a| a == 0.0),
            "no positive, no weight"
        );
    }

    #[test]
    fn contrastive_loss_by_hand() {
        let device = Device::flex();
        // Two unit vectors per class; the anchors' positives are their class mates.
        let z = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.6, 0.8, 0.0, 1.0, -1.0, 0.0], [4, 2]),
            &device,
        );
        let alpha = spectral_weights(&[0, 0, 1, 1], &[&[0.0][..], &[0.0], &[0.0], &[0.0]], 0.05);
        let loss = contrastive(z, &alpha, 0.5, &device).into_scalar::<f32>();
        let v = [[1.0f64, 0.0], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0]];
        let sim = |i: usize, j: usize| (v[i][0] * v[j][0] + v[i][1] * v[j][1]) / 0.5;
        let mut expected = 0.0;
        for (i, positive) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
            let denominator: f64 = (0..4).filter(|&r| r != i).map(|r| sim(i, r).exp()).sum();
            expected -= sim(i, positive) - denominator.ln();
        }
        expected /= 4.0;
        assert!(
            (f64::from(loss) - expected).abs() < 1e-5,
            "{loss} vs {expected}"
        );
    }

    #[test]
    fn regression_loss_by_hand() {
        let device = Device::flex();
        let predictions = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, -0.5], [2]), &device);
        let loss =
            regression(predictions, &[1.0, 0.0], &[0, 0], 2.0, false, &device).into_scalar::<f32>();
        let expected = (0.25 + 0.25) / 2.0 + 2.0 * (1.0 + (-1.0f64).exp()).ln();
        assert!(
            (f64::from(loss) - expected).abs() < 1e-5,
            "{loss} vs {expected}"
        );
    }

    #[test]
    fn centered_regression_ignores_a_constant_per_class() {
        let device = Device::flex();
        let loss = |predictions: Vec<f32>, centered: bool| {
            let predictions = Tensor::<1>::from_data(TensorData::new(predictions, [4]), &device);
            let labels = [1.0, 0.0, 2.0, -1.0];
            regression(predictions, &labels, &[0, 0, 1, 1], 0.0, centered, &device)
                .into_scalar::<f32>()
        };
        // Class 0 off by +10 and class 1 by -3 everywhere: no error once centered.
        let shifted = vec![11.0, 10.0, -1.0, -4.0];
        assert!(loss(shifted.clone(), true).abs() < 1e-5);
        assert!(loss(shifted, false) > 40.0);
        // Within-class differences still count: pairs (0.5, -0.5) and (0.5, -0.5) against
        // (0.5, -0.5) and (1.5, -1.5) leave errors 0, 0, 1, 1.
        let loss = loss(vec![0.5, -0.5, 0.5, -0.5], true);
        assert!((f64::from(loss) - 0.5).abs() < 1e-5, "{loss}");
    }
}
