//! MIT's published accuracy predictor for OFA-MobileNetV3 (mit-han-lab/once-for-all,
//! `ofa/tutorial/accuracy_predictor.py`), vendored as `data/ofa_mbv3/ofa_official_acc_predictor.npz`.
//!
//! The network: Linear(128, 400), ReLU, Linear(400, 400), ReLU, Linear(400, 400), ReLU,
//! Linear(400, 1), weights `0.weight` ... `6.bias` in PyTorch's `[out, in]` layout. Its input
//! (`spec2feats`): for each of the 20 block slots a one-hot of the kernel size over (3, 5, 7),
//! then for each slot a one-hot of the expand ratio over (3, 4, 6), both all zero for a slot
//! its stage's depth leaves out; then a one-hot of `(r - 112) / 16` over 8 values. Its output
//! is ImageNet top-1 accuracy as a fraction.
//!
//! It stands in for evaluating a subnet with the OFA supernet, which this project cannot run:
//! on the 2,223 subnets measured with the supernet (`ofa_mbv3_subnets_2223.csv.gz`) its ranking
//! agrees with the measurements (Spearman 0.98), its values about 5.9 points higher.

use std::collections::BTreeMap;
use std::path::Path;

use super::Oracle;
use crate::error::{Error, Result};
use crate::import::ofa::{OFA_BLOCK_SLOTS, OFA_EXPAND_RATIOS, OFA_KERNEL_SIZES};
use crate::search::npz::{Array, read_npz};
use crate::search::space::OfaArch;

/// Width of the predictor's input.
pub const OFA_FEATURES: usize = 2 * 3 * OFA_BLOCK_SLOTS + RESOLUTION_BUCKETS;
const RESOLUTION_BUCKETS: usize = 8;
const HIDDEN: usize = 400;

/// One linear layer, `y = W x + b` with `W` row-major `[outputs, inputs]`.
#[derive(Debug, Clone)]
struct Linear {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

impl Linear {
    fn from_arrays(
        arrays: &BTreeMap<String, Array>,
        index: usize,
        inputs: usize,
        outputs: usize,
    ) -> Result<Linear> {
        let get = |name: String, shape: &[usize]| -> Result<Vec<f32>> {
            let array = arrays
                .get(&name)
                .ok_or_else(|| Error::parse(format!("OFA predictor: no array {name:?}")))?;
            if array.shape != shape {
                return Err(Error::parse(format!(
                    "OFA predictor: {name:?} has shape {:?}, expected {shape:?}",
                    array.shape
                )));
            }
            Ok(array.data.clone())
        };
        Ok(Linear {
            weight: get(format!("{index}.weight"), &[outputs, inputs])?,
            bias: get(format!("{index}.bias"), &[outputs])?,
            inputs,
        })
    }

    fn forward(&self, x: &[f32]) -> Vec<f32> {
        self.weight
            .chunks_exact(self.inputs)
            .zip(&self.bias)
            .map(|(row, bias)| row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>() + bias)
            .collect()
    }
}

/// The OFA accuracy predictor, as an [`Oracle`] of OFA subnets (accuracy in percent: 100 times
/// the network's output).
#[derive(Debug, Clone)]
pub struct OfaAccuracyPredictor {
    layers: [Linear; 4],
}

impl OfaAccuracyPredictor {
    /// Loads the weights from the `.npz` file.
    pub fn from_npz(path: &Path) -> Result<OfaAccuracyPredictor> {
        OfaAccuracyPredictor::from_arrays(&read_npz(path)?)
            .map_err(|error| error.context(path.display()))
    }

    /// The predictor of these arrays (`0.weight`, `0.bias`, `2.weight`, ... `6.bias`).
    pub fn from_arrays(arrays: &BTreeMap<String, Array>) -> Result<OfaAccuracyPredictor> {
        Ok(OfaAccuracyPredictor {
            layers: [
                Linear::from_arrays(arrays, 0, OFA_FEATURES, HIDDEN)?,
                Linear::from_arrays(arrays, 2, HIDDEN, HIDDEN)?,
                Linear::from_arrays(arrays, 4, HIDDEN, HIDDEN)?,
                Linear::from_arrays(arrays, 6, HIDDEN, 1)?,
            ],
        })
    }

    /// The network's input for `arch` (see the module documentation).
    pub fn features(arch: &OfaArch) -> [f32; OFA_FEATURES] {
        let mut features = [0.0; OFA_FEATURES];
        let one_hot = |choices: &[u8], value: u8| choices.iter().position(|&c| c == value);
        for slot in (0..OFA_BLOCK_SLOTS).filter(|&slot| arch.is_active(slot)) {
            if let Some(k) = one_hot(&OFA_KERNEL_SIZES, arch.ks()[slot]) {
                features[3 * slot + k] = 1.0;
            }
            if let Some(e) = one_hot(&OFA_EXPAND_RATIOS, arch.e()[slot]) {
                features[3 * OFA_BLOCK_SLOTS + 3 * slot + e] = 1.0;
            }
        }
        // OfaArch resolutions are 128..=224, buckets 1..=7.
        let bucket = (arch.resolution().saturating_sub(112) / 16) as usize;
        features[6 * OFA_BLOCK_SLOTS + bucket.min(RESOLUTION_BUCKETS - 1)] = 1.0;
        features
    }

    /// The network's output for `arch`: predicted top-1 accuracy as a fraction.
    pub fn predict(&self, arch: &OfaArch) -> f32 {
        let mut x = OfaAccuracyPredictor::features(arch).to_vec();
        for (index, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x);
            if index + 1 < self.layers.len() {
                x.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        x[0]
    }
}

impl Oracle<OfaArch> for OfaAccuracyPredictor {
    fn accuracy(&self, arch: &OfaArch) -> Result<f64> {
        Ok(100.0 * f64::from(self.predict(arch)))
    }
}
