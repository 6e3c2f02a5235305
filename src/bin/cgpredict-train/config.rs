//! The trainer's configuration: one JSON file under `configs/` per run (README: Training).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::prior::PriorConfig;

/// Everything a training run needs; a run is a pure function of this and the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seeds sampling, initialization and batch order.
    pub seed: u64,
    /// The vendored data (`data/` of the repository).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    pub model: ModelConfig,
    /// Contrastive pre-training of the encoder; `None` skips it (the GNN baseline).
    pub pretrain: Option<PretrainConfig>,
    /// Regression on labeled source families.
    pub fit: FitConfig,
    /// Fine-tuning on a few labels of a target family; `None` skips it.
    pub finetune: Option<FinetuneConfig>,
    /// Graphs on which the exported model is checked against the trainer's forward pass.
    #[serde(default = "default_check_graphs")]
    pub check_graphs: usize,
}

fn default_check_graphs() -> usize {
    300
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// Sizes of the encoder (GraphConv layers), its whole-graph branch, the projection head and the
/// regressor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub layers: usize,
    pub hidden: usize,
    pub graph_hidden: usize,
    pub projection: usize,
    pub regressor_hidden: usize,
    /// Networks trained alike from seeds `seed`, `seed + 1`, ... whose scores the model
    /// averages (`model.rs`, `Network`).
    #[serde(default = "one_member")]
    pub members: usize,
    /// A linear prior on whole-graph quantities that the networks correct (`prior.rs`);
    /// absent, the score is the networks' alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<PriorConfig>,
}

fn one_member() -> usize {
    1
}

/// Contrastive pre-training (the paper's loss 4.5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    /// Families whose graphs (labeled or not) the encoder sees.
    pub families: Vec<String>,
    /// At most this many graphs of each family (sampled with the seed).
    pub graphs_per_family: usize,
    pub epochs: usize,
    /// Anchors per batch; each brings a spectrally near positive, so batches hold twice this.
    pub anchors_per_batch: usize,
    pub learning_rate: f64,
    /// τ of the cosine similarity.
    pub temperature: f64,
    /// Temperature of the softmax of spectral distances that weighs the positives (the
    /// paper's 0.05; Table 1 uses 0.005, README "Spectral temperature").
    pub spectral_temperature: f64,
    /// A positive is drawn among this many spectrally nearest graphs of the anchor's family.
    pub neighbours: usize,
}

/// Regression on labeled source families, labels standardized per family.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitConfig {
    pub families: Vec<String>,
    pub graphs_per_family: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// The encoder's learning rate relative to the regressor's; 0 freezes it.
    pub encoder_learning_rate_scale: f64,
    /// Weight of the pairwise ranking loss beside the squared error.
    pub rank_weight: f64,
}

/// Fine-tuning on `shots` labeled graphs of the target family.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinetuneConfig {
    pub family: String,
    pub shots: usize,
    /// At most this many of the other labeled graphs are the test set (sampled); `None`
    /// tests on all of them.
    #[serde(default)]
    pub test_graphs: Option<usize>,
    pub steps: usize,
    pub learning_rate: f64,
    pub encoder_learning_rate_scale: f64,
    pub rank_weight: f64,
    /// Chooses `steps` by cross-validation on the shots; `None` fine-tunes `steps` as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validation: Option<CrossValidation>,
}

/// K-fold cross-validation of the fine-tuning steps on the shots alone (the test graphs stay
/// out of every choice).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossValidation {
    /// Step counts tried, each a run of its own: the learning-rate schedule spans the steps.
    pub step_candidates: Vec<usize>,
    pub folds: usize,
}

impl TrainConfig {
    pub fn read(path: &Path) -> Result<TrainConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("config {}: {error}", path.display()))?;
        let config: TrainConfig = serde_json::from_str(&text)
            .map_err(|error| format!("config {}: {error}", path.display()))?;
        config
            .check()
            .map_err(|error| format!("config {}: {error}", path.display()))?;
        Ok(config)
    }

    pub fn check(&self) -> Result<(), String> {
        let model = &self.model;
        for (name, value) in [
            ("model.layers", model.layers),
            ("model.hidden", model.hidden),
            ("model.graph_hidden", model.graph_hidden),
            ("model.projection", model.projection),
            ("model.regressor_hidden", model.regressor_hidden),
            ("model.members", model.members),
            ("fit.batch_size", self.fit.batch_size),
            ("fit.graphs_per_family", self.fit.graphs_per_family),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.fit.families.is_empty() {
            return Err("fit.families is empty".into());
        }
        if let Some(prior) = &model.prior {
            if prior.quantities.is_empty() {
                return Err("model.prior.quantities is empty".into());
            }
            if !(prior.correction.is_finite() && prior.correction >= 0.0) {
                return Err(format!(
                    "model.prior.correction must be a finite number >= 0, got {}",
                    prior.correction
                ));
            }
        }
        if let Some(pretrain) = &self.pretrain {
            if pretrain.families.is_empty() {
                return Err("pretrain.families is empty".into());
            }
            if pretrain.anchors_per_batch < 2 || pretrain.neighbours == 0 {
                return Err(
                    "pretrain.anchors_per_batch must be at least 2 and neighbours at least 1"
                        .into(),
                );
            }
            if pretrain.temperature <= 0.0 || pretrain.spectral_temperature <= 0.0 {
                return Err("pretrain temperatures must be positive".into());
            }
        }
        if let Some(finetune) = &self.finetune {
            if finetune.shots < 2 {
                return Err("finetune.shots must be at least 2".into());
            }
            if let Some(cv) = &finetune.cross_validation {
                if cv.step_candidates.is_empty() || cv.step_candidates.contains(&0) {
                    return Err(
                        "finetune.cross_validation.step_candidates must be a non-empty \
                                list of positive step counts"
                            .into(),
                    );
                }
                if cv.folds < 2 || cv.folds > finetune.shots {
                    return Err(format!(
                        "finetune.cross_validation.folds must be between 2 and the {} shots",
                        finetune.shots
                    ));
                }
            }
            let target = crate::data::benchmark_of(&finetune.family);
            if let Some(fit) = self
                .fit
                .families
                .iter()
                .find(|family| crate::data::benchmark_of(family) == target)
            {
                return Err(format!(
                    "finetune.family {} and the fit family {fit} are one benchmark: a target \
                     must be unseen",
                    finetune.family
                ));
            }
        }
        Ok(())
    }
}
