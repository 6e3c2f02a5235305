//! One training run: load the families, pre-train, fit, fine-tune, evaluate on the target's
//! held-out graphs, export the model file and check it under ONNX Runtime.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use cgpredict::metrics::{kendall_tau, spearman};
use cgpredict::runtime::adapt::{Head, HeadTarget, head_rows};
use cgpredict::runtime::{Device as RuntimeDevice, Predictor, PredictorOptions};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::{CrossValidation, FinetuneConfig, TrainConfig};
use crate::data::{
    FamilyData, Sample, Selection, Standardization, load_family, log_scales, standardizations,
};
use crate::export::model_bytes;
use crate::model::{Member, Mlp, Network};
use crate::prior::Prior;
use crate::train::{Curve, finetune, fit, predict, pretrain};

/// Ranking quality on the target's held-out graphs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TargetMetrics {
    pub srcc: f64,
    pub kendall_tau: f64,
    pub test_graphs: usize,
    pub shots: usize,
}

/// How the exported file compares with the trainer's own forward pass.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Equivalence {
    pub graphs: usize,
    pub nodes: usize,
    /// Largest `|ort - burn| / max(1, |burn|)` over scores and embeddings.
    pub max_score_difference: f64,
    pub max_embedding_difference: f64,
}

/// Largest difference allowed between ONNX Runtime and the trainer (relative above 1).
pub const EQUIVALENCE_TOLERANCE: f64 = 1e-4;

/// What a run produced.
pub struct RunOutcome {
    /// Ranking of each fit family's labeled graphs that the fit did not use.
    pub held_out: BTreeMap<String, TargetMetrics>,
    pub curves: Vec<(&'static str, Curve)>,
    pub target: Option<TargetMetrics>,
    /// Target test graphs with labels and predictions (for scatter plots).
    pub target_predictions: Vec<(f64, f64)>,
    pub seconds: BTreeMap<&'static str, f64>,
    pub model_file: Option<(PathBuf, Equivalence)>,
}

/// Where a run writes and which checks it does.
pub struct RunOptions<'a> {
    /// The model file to write (and check under ONNX Runtime); `None` exports nothing.
    pub model: Option<&'a Path>,
    /// Writes the check graphs as JSON lines: each graph, its model inputs and the trainer's
    /// score and embedding, for the tests (Rust runtime) and scripts/check-model-python.py.
    pub check_file: Option<&'a Path>,
    /// Loaded families, shared across the runs of an evaluation.
    pub cache: &'a mut FamilyCache,
    /// Seed of the fine-tuning split and steps.
    pub finetune_seed: u64,
}

/// Families loaded once per (name, selection), reused by the runs of an evaluation.
#[derive(Default)]
pub struct FamilyCache {
    loaded: BTreeMap<(String, bool, Option<usize>, bool, u64), FamilyData>,
}

impl FamilyCache {
    pub fn get(
        &mut self,
        data_dir: &Path,
        name: &str,
        selection: Selection,
        seed: u64,
    ) -> Result<FamilyData, String> {
        let key = (
            name.to_owned(),
            selection.labeled_only,
            selection.limit,
            selection.spectra,
            seed,
        );
        if let Some(family) = self.loaded.get(&key) {
            return Ok(family.clone());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv(name));
        let family = load_family(data_dir, name, selection, &mut rng)?;
        eprintln!(
            "loaded {name}: {} graphs ({} labeled)",
            family.samples.len(),
            family.labeled().count()
        );
        self.loaded.insert(key, family.clone());
        Ok(family)
    }

    /// [`FamilyCache::get`] of each name, in order.
    fn get_all(
        &mut self,
        data_dir: &Path,
        names: &[String],
        selection: Selection,
        seed: u64,
    ) -> Result<Vec<FamilyData>, String> {
        names
            .iter()
            .map(|name| self.get(data_dir, name, selection, seed))
            .collect()
    }
}

/// A stable per-name seed offset.
fn fnv(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The distinct groups of `samples` (one architecture's several weights), in sorted order
/// shuffled with `rng`.
fn shuffled_groups<'a>(
    samples: impl IntoIterator<Item = &'a Sample>,
    rng: &mut ChaCha8Rng,
) -> Vec<&'a str> {
    let mut groups: Vec<&str> = samples
        .into_iter()
        .map(|sample| sample.group.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    groups.shuffle(rng);
    groups
}

/// Splits the target's labeled samples into at most `shots` fine-tuning samples and the rest,
/// keeping each group (one architecture's several weights) on one side.
pub fn split_shots<'a>(
    samples: &'a [Sample],
    shots: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<&'a Sample>, Vec<&'a Sample>) {
    let groups = shuffled_groups(samples, rng);
    let mut chosen = BTreeSet::new();
    let mut count = 0;
    for group in groups {
        let size = samples.iter().filter(|s| s.group == group).count();
        if count + size <= shots {
            chosen.insert(group);
            count += size;
        }
        if count == shots {
            break;
        }
    }
    samples
        .iter()
        .partition(|sample| chosen.contains(sample.group.as_str()))
}

/// A network trained on the source families (pre-training and regression).
pub struct SourceTraining {
    pub network: Network,
    pub curves: Vec<(&'static str, Curve)>,
    pub seconds: BTreeMap<&'static str, f64>,
    pub pretrain_families: Vec<FamilyData>,
    pub fit_families: Vec<FamilyData>,
    pub scales: BTreeMap<String, Standardization>,
}

/// Pre-training (when configured) and regression on the fit families.
pub fn train_sources(
    config: &TrainConfig,
    cache: &mut FamilyCache,
    device: &Device,
) -> Result<SourceTraining, String> {
    device.seed(config.seed);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut seconds = BTreeMap::new();
    let mut curves = Vec::new();
    let data_dir = &config.data_dir;
    let started = Instant::now();
    let pretrain_families = match &config.pretrain {
        Some(pretrain) => cache.get_all(
            data_dir,
            &pretrain.families,
            Selection {
                labeled_only: false,
                limit: Some(pretrain.graphs_per_family),
                spectra: true,
            },
            config.seed,
        )?,
        None => Vec::new(),
    };
    let fit_families = cache.get_all(
        data_dir,
        &config.fit.families,
        Selection {
            labeled_only: true,
            limit: Some(config.fit.graphs_per_family),
            spectra: false,
        },
        config.seed,
    )?;
    seconds.insert("load", started.elapsed().as_secs_f64());

    let scales = standardizations(&fit_families);
    let prior = config
        .model
        .prior
        .as_ref()
        .map(|prior| Prior::fit_families(&fit_families, prior));
    let mut members = Vec::with_capacity(config.model.members);
    for member_index in 0..config.model.members {
        let seed = config.seed.wrapping_add(member_index as u64);
        if member_index > 0 {
            device.seed(seed);
            rng = ChaCha8Rng::seed_from_u64(seed);
        }
        let mut member = Member::new(&config.model, device);
        if let Some(pretrain_config) = &config.pretrain {
            let started = Instant::now();
            let embedding = config.model.hidden + config.model.graph_hidden;
            let head = Mlp::new(embedding, embedding, config.model.projection, device);
            let (encoder, curve) = pretrain(
                member.encoder,
                head,
                &pretrain_families,
                pretrain_config,
                &mut rng,
                device,
            )?;
            member.encoder = encoder;
            // The members train alike: the first one's losses stand for all.
            if member_index == 0 {
                curves.push(("pretrain", curve));
            }
            *seconds.entry("pretrain").or_default() += started.elapsed().as_secs_f64();
        }
        let started = Instant::now();
        let (fitted, curve) = fit(
            Network {
                members: vec![member],
                prior: prior.clone(),
            },
            &fit_families,
            &scales,
            &config.fit,
            &mut rng,
            device,
        )?;
        members.extend(fitted.members);
        if member_index == 0 {
            curves.push(("fit", curve));
        }
        *seconds.entry("fit").or_default() += started.elapsed().as_secs_f64();
    }
    let fitted = Network { members, prior };
    Ok(SourceTraining {
        network: fitted,
        curves,
        seconds,
        pretrain_families,
        fit_families,
        scales,
    })
}

/// Most held-out graphs ranked per fit family.
const HELD_OUT_LIMIT: usize = 5000;

/// Ranking quality on the labeled graphs of each fit family that the fit did not use (those
/// beyond `fit.graphs_per_family`: the family is loaded in the same seeded order, so the fit
/// took its first graphs), at most [`HELD_OUT_LIMIT`] each; families the fit used whole are
/// absent.
pub fn held_out(
    config: &TrainConfig,
    network: &Network,
    cache: &mut FamilyCache,
    device: &Device,
) -> Result<BTreeMap<String, TargetMetrics>, String> {
    let mut results = BTreeMap::new();
    for name in &config.fit.families {
        let all = cache.get(
            &config.data_dir,
            name,
            Selection {
                labeled_only: true,
                limit: Some(config.fit.graphs_per_family + HELD_OUT_LIMIT),
                spectra: false,
            },
            config.seed,
        )?;
        let rest: Vec<&Sample> = all
            .samples
            .iter()
            .skip(config.fit.graphs_per_family)
            .collect();
        if rest.len() < 2 {
            continue;
        }
        let (scores, _) = predict(network, &rest, device);
        let predicted: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
        let truth: Vec<f64> = rest.iter().filter_map(|s| s.label).collect();
        let metric = |value: cgpredict::Result<f64>| value.map_err(|e| format!("{name}: {e}"));
        results.insert(
            name.clone(),
            TargetMetrics {
                srcc: metric(spearman(&predicted, &truth))?,
                kendall_tau: metric(kendall_tau(&predicted, &truth))?,
                test_graphs: rest.len(),
                shots: 0,
            },
        );
    }
    Ok(results)
}

/// The target family's labeled graphs (every one; the split takes shots and tests the rest).
pub fn load_target(
    config: &TrainConfig,
    cache: &mut FamilyCache,
) -> Result<Option<FamilyData>, String> {
    config
        .finetune
        .as_ref()
        .map(|finetune| {
            cache.get(
                &config.data_dir,
                &finetune.family,
                Selection {
                    labeled_only: true,
                    limit: None,
                    spectra: false,
                },
                config.seed,
            )
        })
        .transpose()
}

/// Held-out shot indices of each cross-validation fold: the shots' groups (one architecture's
/// several weights) shuffled with `rng` and each dealt to the smallest fold so far, so that no
/// group is on both sides of a fold; fewer folds when there are fewer groups.
pub fn cv_folds(shots: &[&Sample], folds: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let groups = shuffled_groups(shots.iter().copied(), rng);
    let mut held_out = vec![Vec::new(); folds.min(groups.len())];
    for group in groups {
        let smallest = (0..held_out.len())
            .min_by_key(|&fold| held_out[fold].len())
            .expect("at least one fold");
        held_out[smallest].extend((0..shots.len()).filter(|&i| shots[i].group == group));
    }
    held_out
}

/// How one step count ranked the shots in cross-validation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Candidate {
    pub steps: usize,
    /// SRCC of the fine-tuned score on the held-out folds.
    pub srcc: f64,
    /// SRCC of the ranking head ([`head_scores`], fitted on the training folds) there.
    pub ranking_head_srcc: f64,
}

/// The fine-tuning steps chosen by cross-validation, with every candidate's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepChoice {
    pub steps: usize,
    pub candidates: Vec<Candidate>,
}

impl StepChoice {
    /// Whether the ranking head ranked the held-out folds better than the score at the chosen
    /// steps (ties keep the score).
    pub fn prefers_ranking_head(&self) -> bool {
        self.candidates
            .iter()
            .find(|candidate| candidate.steps == self.steps)
            .is_some_and(|candidate| candidate.ranking_head_srcc > candidate.srcc)
    }
}

/// The scores of a head ([`Head`], one per member, as `Predictor::adapt` and
/// `Predictor::adapt_ranking` fit it) on `network`'s embedding and score and the graphs'
/// scale, fitted to the labels of `shots` and applied to the graphs `tests`, whose
/// `embeddings` and `scores` come from the same network.
pub fn head_scores(
    network: &Network,
    shots: &[&Sample],
    tests: &[&Sample],
    embeddings: &[f32],
    scores: &[f32],
    target: HeadTarget,
    device: &Device,
) -> Result<Vec<f32>, String> {
    let (shot_scores, shot_embeddings) = predict(network, shots, device);
    let dim = shot_embeddings.len() / shots.len().max(1);
    let labels: Vec<f64> = shots.iter().filter_map(|s| s.label).collect();
    let head = Head::fit(
        &head_rows(&shot_embeddings, &shot_scores, &log_scales(shots), dim),
        dim,
        network.members.len(),
        &labels,
        target,
    )
    .map_err(|e| e.to_string())?;
    Ok(head.predict(&head_rows(embeddings, scores, &log_scales(tests), dim)))
}

/// Chooses the fine-tuning steps by K-fold cross-validation on the shots alone: for each
/// candidate, a copy of `network` fine-tuned on the other folds scores each fold; the
/// candidate whose scores rank the shots best wins, ties going to fewer steps. Folds and batch
/// orders are drawn from `seed`, so the choice is deterministic. The runs go one after the
/// other: burn's autodiff graph deadlocked with copies of one network training on two threads.
pub fn choose_steps(
    network: &Network,
    shots: &[&Sample],
    config: &FinetuneConfig,
    cv: &CrossValidation,
    seed: u64,
    device: &Device,
) -> Result<StepChoice, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv("cross-validation"));
    let folds = cv_folds(shots, cv.folds, &mut rng);
    if folds.len() < 2 {
        return Err("cross-validation needs shots of at least two groups".into());
    }
    // Held-out (shot index, score, ranking head's prediction) of each run.
    let results: Vec<Vec<(usize, f64, f64)>> = (0..cv.step_candidates.len())
        .flat_map(|candidate| (0..folds.len()).map(move |fold| (candidate, fold)))
        .map(|(candidate, fold)| {
            let held_out = &folds[fold];
            let train: Vec<&Sample> = (0..shots.len())
                .filter(|i| !held_out.contains(i))
                .map(|i| shots[i])
                .collect();
            let validation: Vec<&Sample> = held_out.iter().map(|&i| shots[i]).collect();
            let run_config = FinetuneConfig {
                steps: cv.step_candidates[candidate],
                ..config.clone()
            };
            let mut order = ChaCha8Rng::seed_from_u64(rng_seed(seed, candidate, fold));
            let (tuned, _) = finetune(network.clone(), &train, &run_config, &mut order, device);
            let (scores, embeddings) = predict(&tuned, &validation, device);
            let ranked = head_scores(
                &tuned,
                &train,
                &validation,
                &embeddings,
                &scores,
                HeadTarget::Ranks,
                device,
            )
            .map_err(|e| format!("cross-validation: {e}"))?;
            Ok(held_out
                .iter()
                .zip(scores.iter().zip(ranked))
                .map(|(&i, (&score, rank))| (i, f64::from(score), f64::from(rank)))
                .collect())
        })
        .collect::<Result<_, String>>()?;
    let truth: Vec<f64> = shots.iter().filter_map(|s| s.label).collect();
    let mut candidates = Vec::new();
    for (candidate, &steps) in cv.step_candidates.iter().enumerate() {
        // Pooled over the folds rather than averaged per fold: a fold holds about ten shots,
        // too few for its own SRCC to separate candidates, and every fold's model scores on
        // the scale of its standardized training labels, so their scores are comparable.
        let mut scores = vec![0.0; shots.len()];
        let mut ranked = vec![0.0; shots.len()];
        for run in &results[candidate * folds.len()..(candidate + 1) * folds.len()] {
            for &(i, score, rank) in run {
                scores[i] = score;
                ranked[i] = rank;
            }
        }
        let metric =
            |value: cgpredict::Result<f64>| value.map_err(|e| format!("cross-validation: {e}"));
        candidates.push(Candidate {
            steps,
            srcc: metric(spearman(&scores, &truth))?,
            ranking_head_srcc: metric(spearman(&ranked, &truth))?,
        });
    }
    let best = candidates
        .iter()
        .min_by(|a, b| b.srcc.total_cmp(&a.srcc).then(a.steps.cmp(&b.steps)))
        .expect("candidates checked non-empty");
    Ok(StepChoice {
        steps: best.steps,
        candidates,
    })
}

/// The seed of one cross-validation run's batch order.
fn rng_seed(seed: u64, candidate: usize, fold: usize) -> u64 {
    seed ^ fnv(&format!("cross-validation {candidate} {fold}"))
}

/// A fine-tuned network and how it ranks the target's held-out graphs.
pub struct Tuned<'a> {
    pub network: Network,
    pub curve: Curve,
    pub metrics: TargetMetrics,
    pub scale: Standardization,
    /// (true accuracy, predicted score) of every test graph.
    pub predictions: Vec<(f64, f64)>,
    /// The fine-tuned network's embeddings of the test graphs, row-major.
    pub test_embeddings: Vec<f32>,
    pub shots: Vec<&'a Sample>,
    pub test: Vec<&'a Sample>,
    /// The steps fine-tuned, chosen by cross-validation when configured.
    pub steps: StepChoice,
}

/// Fine-tunes `network` on shots of `target` drawn with `seed` (for steps chosen on the
/// shots alone when configured) and tests on the rest.
pub fn tune_target<'a>(
    network: Network,
    finetune_config: &FinetuneConfig,
    target: &'a FamilyData,
    seed: u64,
    device: &Device,
) -> Result<Tuned<'a>, String> {
    let mut split_rng = ChaCha8Rng::seed_from_u64(seed);
    let (shots, mut test) = split_shots(&target.samples, finetune_config.shots, &mut split_rng);
    if let Some(limit) = finetune_config.test_graphs {
        test.shuffle(&mut split_rng);
        test.truncate(limit);
    }
    let labels: Vec<f64> = shots.iter().filter_map(|s| s.label).collect();
    let scale = Standardization::of(&labels);
    let steps = match &finetune_config.cross_validation {
        Some(cv) => choose_steps(&network, &shots, finetune_config, cv, seed, device)?,
        None => StepChoice {
            steps: finetune_config.steps,
            candidates: Vec::new(),
        },
    };
    let chosen = FinetuneConfig {
        steps: steps.steps,
        ..finetune_config.clone()
    };
    let (network, curve) = finetune(network, &shots, &chosen, &mut split_rng, device);
    let (scores, test_embeddings) = predict(&network, &test, device);
    let truth: Vec<f64> = test.iter().filter_map(|s| s.label).collect();
    let predicted: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
    let metric = |value: cgpredict::Result<f64>| value.map_err(|e| format!("target: {e}"));
    let metrics = TargetMetrics {
        srcc: metric(spearman(&predicted, &truth))?,
        kendall_tau: metric(kendall_tau(&predicted, &truth))?,
        test_graphs: test.len(),
        shots: shots.len(),
    };
    Ok(Tuned {
        network,
        curve,
        metrics,
        scale,
        predictions: truth.into_iter().zip(predicted).collect(),
        test_embeddings,
        shots,
        test,
        steps,
    })
}

/// The whole run of `cgpredict-train train`.
pub fn run(config: &TrainConfig, options: RunOptions) -> Result<RunOutcome, String> {
    let device = Device::flex().autodiff();
    let target = load_target(config, options.cache)?;
    let SourceTraining {
        mut network,
        mut curves,
        mut seconds,
        pretrain_families,
        fit_families,
        scales,
    } = train_sources(config, options.cache, &device)?;
    let held_out = held_out(config, &network, options.cache, &device)?;
    for (family, metrics) in &held_out {
        eprintln!(
            "held-out {family}: SRCC {:.3}, Kendall tau {:.3} on {} graphs",
            metrics.srcc, metrics.kendall_tau, metrics.test_graphs
        );
    }
    let mut target_metrics = None;
    let mut target_predictions = Vec::new();
    let mut target_scale = None;
    let mut check_samples: Vec<&Sample> = Vec::new();
    if let (Some(finetune_config), Some(target)) = (&config.finetune, &target) {
        let started = Instant::now();
        let tuned = tune_target(
            network,
            finetune_config,
            target,
            options.finetune_seed,
            &device,
        )?;
        network = tuned.network;
        curves.push(("finetune", tuned.curve));
        seconds.insert("finetune", started.elapsed().as_secs_f64());
        target_metrics = Some(tuned.metrics);
        target_scale = Some(tuned.scale);
        target_predictions = tuned.predictions;
        check_samples.extend(tuned.test.iter().take(config.check_graphs / 2));
    }

    let mut model_file = None;
    if let Some(path) = options.model {
        let metadata = metadata(
            config,
            &pretrain_families,
            &fit_families,
            &scales,
            target_scale,
            target_metrics,
            &held_out,
        );
        std::fs::write(path, model_bytes(&network, &metadata))
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
        let remaining = config.check_graphs.saturating_sub(check_samples.len());
        let per_family = remaining / fit_families.len().max(1) + 1;
        for family in &fit_families {
            check_samples.extend(family.samples.iter().take(per_family));
        }
        check_samples.truncate(config.check_graphs);
        let equivalence = check_model(&network, path, &check_samples, options.check_file, &device)?;
        model_file = Some((path.to_path_buf(), equivalence));
    }
    Ok(RunOutcome {
        held_out,
        curves,
        target: target_metrics,
        target_predictions,
        seconds,
        model_file,
    })
}

/// The model file's properties beside the runtime's: training data and sizes, seed, label
/// standardization and the run's evaluation.
fn metadata(
    config: &TrainConfig,
    pretrain: &[FamilyData],
    fit: &[FamilyData],
    scales: &BTreeMap<String, Standardization>,
    target_scale: Option<Standardization>,
    target: Option<TargetMetrics>,
    held_out: &BTreeMap<String, TargetMetrics>,
) -> Vec<(String, String)> {
    let sizes = |families: &[FamilyData], labeled: bool| -> BTreeMap<String, usize> {
        families
            .iter()
            .map(|f| {
                let count = if labeled {
                    f.labeled().count()
                } else {
                    f.samples.len()
                };
                (f.name.clone(), count)
            })
            .collect()
    };
    let mut standardization = json!({ "fit": scales });
    if let (Some(finetune), Some(scale)) = (&config.finetune, target_scale) {
        standardization["finetune"] = json!({ finetune.family.clone(): scale });
    }
    let training = json!({
        "seed": config.seed,
        "pretrain_graphs": sizes(pretrain, false),
        "fit_labeled_graphs": sizes(fit, true),
        "finetune": config.finetune.as_ref().map(|f| json!({"family": f.family, "shots": f.shots})),
        "config": config,
    });
    let mut evaluation = json!({ "held_out_fit_families": held_out });
    if let (Some(finetune), Some(metrics)) = (&config.finetune, target) {
        evaluation["target"] = json!({ finetune.family.clone(): metrics });
    }
    vec![
        (
            "cgpredict.label_standardization".into(),
            standardization.to_string(),
        ),
        ("cgpredict.training".into(), training.to_string()),
        ("cgpredict.evaluation".into(), evaluation.to_string()),
    ]
}

/// Runs the exported file with ONNX Runtime (through the library's predictor, as users do) on
/// `samples` and compares with the trainer's forward pass; fails beyond
/// [`EQUIVALENCE_TOLERANCE`].
fn check_model(
    network: &Network,
    path: &Path,
    samples: &[&Sample],
    check_file: Option<&Path>,
    device: &Device,
) -> Result<Equivalence, String> {
    let predictor = Predictor::open(&PredictorOptions {
        model: Some(path.to_path_buf()),
        device: RuntimeDevice::Cpu,
        ..PredictorOptions::default()
    })
    .map_err(|error| format!("opening the exported model: {error}"))?;
    let graphs = samples
        .iter()
        .map(|sample| sample.source.graph())
        .collect::<cgpredict::Result<Vec<_>>>()
        .map_err(|error| error.to_string())?;
    let refs: Vec<&cgpredict::Graph> = graphs.iter().collect();
    let (burn_scores, burn_embeddings) = predict(network, samples, device);
    let mut ort_scores = Vec::new();
    let mut ort_embeddings = Vec::new();
    for chunk in refs.chunks(64) {
        ort_scores.extend(predictor.predict(chunk).map_err(|e| e.to_string())?);
        ort_embeddings.extend(predictor.embed(chunk).map_err(|e| e.to_string())?.0);
    }
    let difference = |ort: &[f32], burn: &[f32]| {
        ort.iter()
            .zip(burn)
            .map(|(&a, &b)| f64::from((a - b).abs()) / f64::from(b.abs()).max(1.0))
            .fold(0.0, f64::max)
    };
    let equivalence = Equivalence {
        graphs: samples.len(),
        nodes: samples.iter().map(|s| s.features.num_nodes()).sum(),
        max_score_difference: difference(&ort_scores, &burn_scores),
        max_embedding_difference: difference(&ort_embeddings, &burn_embeddings),
    };
    if let Some(check_file) = check_file {
        let dim = burn_embeddings.len() / samples.len().max(1);
        let lines: Vec<String> = graphs
            .iter()
            .enumerate()
            .map(|(i, graph)| {
                let features = &samples[i].features;
                json!({
                    "graph": serde_json::from_str::<serde_json::Value>(&graph.to_json())
                        .expect("graph JSON"),
                    "node_features": features.node_features,
                    "edge_index": features.edge_index,
                    "graph_features": features.graph_features,
                    "label": samples[i].label,
                    "score": burn_scores[i],
                    "embedding": &burn_embeddings[i * dim..(i + 1) * dim],
                })
                .to_string()
            })
            .collect();
        std::fs::write(check_file, lines.join("\n") + "\n")
            .map_err(|error| format!("writing {}: {error}", check_file.display()))?;
    }
    if equivalence.max_score_difference > EQUIVALENCE_TOLERANCE
        || equivalence.max_embedding_difference > EQUIVALENCE_TOLERANCE
    {
        return Err(format!(
            "the exported model disagrees with the trainer beyond {EQUIVALENCE_TOLERANCE}: {equivalence:?}"
        ));
    }
    Ok(equivalence)
}

#[cfg(test)]
mod tests {
    use cgpredict::features::Batch;
    use cgpredict::import::Nb201Arch;
    use cgpredict::import::dataset::Spec;

    use super::*;
    use crate::data::Source;

    /// Labeled NB-201 samples, two per group (as the zoo's several weights of one network).
    fn samples(count: usize) -> Vec<Sample> {
        (0..count)
            .map(|i| Sample {
                source: Source::Spec(Spec::Nb201(Nb201Arch::from_index(i).expect("a cell"))),
                features: Batch::default(),
                label: Some(i as f64),
                group: format!("architecture {}", i / 2),
                spectrum: Vec::new(),
            })
            .collect()
    }

    fn folds_of(shots: &[&Sample], folds: usize, seed: u64) -> Vec<Vec<usize>> {
        cv_folds(shots, folds, &mut ChaCha8Rng::seed_from_u64(seed))
    }

    #[test]
    fn folds_hold_out_every_shot_once_and_only_shots() {
        let all = samples(100);
        let (shots, test) = split_shots(&all, 40, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(shots.len(), 40);
        let folds = folds_of(&shots, 4, 3);
        assert_eq!(folds.len(), 4);
        let mut held_out: Vec<usize> = folds.concat();
        held_out.sort_unstable();
        assert_eq!(held_out, (0..shots.len()).collect::<Vec<_>>());
        for fold in &folds {
            assert!((9..=11).contains(&fold.len()), "unbalanced fold {fold:?}");
            // A group's samples are all on one side of the fold.
            for &i in fold {
                let group = &shots[i].group;
                assert!(
                    (0..shots.len())
                        .filter(|&j| &shots[j].group == group)
                        .all(|j| fold.contains(&j))
                );
            }
        }
        // The folds index the shots, none of which is a test graph.
        let test_groups: BTreeSet<&str> = test.iter().map(|s| s.group.as_str()).collect();
        assert!(
            folds
                .iter()
                .flatten()
                .all(|&i| !test_groups.contains(shots[i].group.as_str()))
        );
    }

    #[test]
    fn folds_are_deterministic_by_seed() {
        let all = samples(50);
        let shots: Vec<&Sample> = all.iter().collect();
        assert_eq!(folds_of(&shots, 5, 11), folds_of(&shots, 5, 11));
        assert_ne!(folds_of(&shots, 5, 11), folds_of(&shots, 5, 12));
    }

    #[test]
    fn fewer_groups_than_folds_give_fewer_folds() {
        let all = samples(6);
        let shots: Vec<&Sample> = all.iter().collect();
        let folds = folds_of(&shots, 5, 1);
        assert_eq!(folds.len(), 3);
        assert!(folds.iter().all(|fold| fold.len() == 2));
    }
}
