//! The training stages: contrastive pre-training of the encoder, regression on labeled source
//! families, fine-tuning on a few target labels.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use cgpredict::spectral::all_nearest_neighbours;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

use crate::config::{FinetuneConfig, FitConfig, PretrainConfig};
use crate::data::{FamilyData, Sample, Standardization, collate};
use crate::loss::{contrastive, regression, spectral_weights};
use crate::model::{BatchTensors, Encoder, Mlp, Network, project};

/// Losses of one stage, one per step.
pub type Curve = Vec<f64>;

/// A progress bar on a terminal; elsewhere (logs, CI) [`report`] prints a line every tenth of
/// the stage instead.
fn progress(steps: usize, stage: &str) -> ProgressBar {
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {elapsed} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(stage.to_owned());
    bar
}

/// Advances the bar by a step of loss `value`.
fn report(bar: &ProgressBar, value: f64) {
    bar.set_message(format!("loss {value:.4}"));
    bar.inc(1);
    let (step, steps) = (bar.position(), bar.length().unwrap_or(0));
    if bar.is_hidden() && (step % (steps / 10).max(1) == 0 || step == steps) {
        eprintln!(
            "{} step {step}/{steps} loss {value:.4} ({:.0} s)",
            bar.prefix(),
            bar.elapsed().as_secs_f64()
        );
    }
}

/// Cosine decay from `base` to a tenth of it over `steps`.
fn learning_rate(base: f64, step: usize, steps: usize) -> f64 {
    let t = step as f64 / steps.max(1) as f64;
    base * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// Adam for one part of the network: gradient clipping by norm keeps the sum aggregation of
/// large graphs from blowing up a step.
fn optimizer() -> ModuleOptimizer {
    AdamConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(5.0)))
        .init()
}

/// Contrastive pre-training (loss 4.5): each batch takes anchors from every family in turn,
/// each with a positive drawn among its spectrally nearest graphs of the same family; the
/// families are the classes.
pub fn pretrain(
    encoder: Encoder,
    head: Mlp,
    families: &[FamilyData],
    config: &PretrainConfig,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<(Encoder, Curve), String> {
    let neighbours: Vec<Vec<Vec<usize>>> = families
        .iter()
        .map(|family| {
            let spectra: Vec<Vec<f64>> = family
                .samples
                .iter()
                .map(|sample| sample.spectrum.clone())
                .collect();
            all_nearest_neighbours(&spectra, config.neighbours)
                .map(|lists| {
                    lists
                        .into_iter()
                        .map(|list| list.into_iter().map(|n| n.index).collect())
                        .collect()
                })
                .map_err(|error| format!("pre-training, family {}: {error}", family.name))
        })
        .collect::<Result<_, _>>()?;
    let usable: Vec<usize> = (0..families.len())
        .filter(|&f| families[f].samples.len() >= 2)
        .collect();
    if usable.is_empty() {
        return Err("pre-training needs a family with at least two graphs".into());
    }
    let total: usize = usable.iter().map(|&f| families[f].samples.len()).sum();
    let steps_per_epoch = total.div_ceil(config.anchors_per_batch).max(1);
    let steps = steps_per_epoch * config.epochs;
    let (mut encoder, mut head) = (encoder, head);
    let (mut encoder_optimizer, mut head_optimizer) = (optimizer(), optimizer());
    let bar = progress(steps, "pretrain");
    let mut curve = Vec::with_capacity(steps);
    for step in 0..steps {
        let mut items: Vec<(usize, usize)> = Vec::with_capacity(2 * config.anchors_per_batch);
        for anchor in 0..config.anchors_per_batch {
            let family = usable[anchor % usable.len()];
            let index = rng.random_range(0..families[family].samples.len());
            let near = &neighbours[family][index];
            let positive = near[rng.random_range(0..near.len())];
            items.push((family, index));
            items.push((family, positive));
        }
        let samples: Vec<&Sample> = items
            .iter()
            .map(|&(family, index)| &families[family].samples[index])
            .collect();
        let classes: Vec<usize> = items.iter().map(|&(family, _)| family).collect();
        let spectra: Vec<&[f64]> = samples.iter().map(|s| s.spectrum.as_slice()).collect();
        let alpha = spectral_weights(&classes, &spectra, config.spectral_temperature);
        let batch = BatchTensors::new(&collate(samples.iter().copied()), device);
        let z = project(&head, encoder.forward(&batch));
        let loss = contrastive(z, &alpha, config.temperature, device);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        let mut grads = loss.backward();
        let encoder_grads = GradientsParams::from_module(&mut grads, &encoder);
        let head_grads = GradientsParams::from_module(&mut grads, &head);
        let lr = learning_rate(config.learning_rate, step, steps);
        encoder = encoder_optimizer.step(lr, encoder, encoder_grads);
        head = head_optimizer.step(lr, head, head_grads);
        curve.push(value);
        report(&bar, value);
    }
    bar.finish();
    Ok((encoder, curve))
}

/// One labeled graph for regression: the sample, its standardized label, its class.
type Labeled<'a> = (&'a Sample, f32, usize);

/// Gradient steps of the regression loss over `batches`; the encoder learns at
/// `encoder_scale` times the rate (frozen at 0, its embeddings then computed without
/// gradients).
#[allow(clippy::too_many_arguments)]
fn regress<'a>(
    mut network: Network,
    mut batches: impl FnMut(&mut ChaCha8Rng) -> Vec<Labeled<'a>>,
    steps: usize,
    base_rate: f64,
    encoder_scale: f64,
    rank_weight: f64,
    stage: &str,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> (Network, Curve) {
    let mut optimizers: Vec<_> = network
        .members
        .iter()
        .map(|_| (optimizer(), optimizer()))
        .collect();
    let bar = progress(steps, stage);
    let mut curve = Vec::with_capacity(steps);
    for step in 0..steps {
        let items = batches(rng);
        let batch = BatchTensors::new(&collate(items.iter().map(|item| item.0)), device);
        let labels: Vec<f32> = items.iter().map(|item| item.1).collect();
        let classes: Vec<usize> = items.iter().map(|item| item.2).collect();
        // With a prior, each member learns what the prior leaves (its score is added, as a
        // constant), and only differences within a family count: the loss is centered per
        // family, so no member is rewarded for telling families apart.
        let prior = network.prior_scores(&batch);
        let centered = prior.is_some();
        // Each member's own loss, summed: their gradients stay apart.
        let loss = network
            .members
            .iter()
            .map(|member| {
                let embedding = member.encoder.forward(&batch);
                let embedding = if encoder_scale == 0.0 {
                    embedding.detach()
                } else {
                    embedding
                };
                let predictions = member.regressor.forward(embedding).reshape([items.len()]);
                let predictions = match &prior {
                    Some(prior) => predictions + prior.clone(),
                    None => predictions,
                };
                regression(
                    predictions,
                    &labels,
                    &classes,
                    rank_weight,
                    centered,
                    device,
                )
            })
            .reduce(|a, b| a + b)
            .expect("a network has members");
        let value = f64::from(loss.clone().into_scalar::<f32>()) / network.members.len() as f64;
        let mut grads = loss.backward();
        let lr = learning_rate(base_rate, step, steps);
        network.members = std::mem::take(&mut network.members)
            .into_iter()
            .zip(&mut optimizers)
            .map(|(mut member, (encoder_optimizer, regressor_optimizer))| {
                if encoder_scale != 0.0 {
                    let encoder_grads = GradientsParams::from_module(&mut grads, &member.encoder);
                    member.encoder =
                        encoder_optimizer.step(lr * encoder_scale, member.encoder, encoder_grads);
                }
                let regressor_grads = GradientsParams::from_module(&mut grads, &member.regressor);
                member.regressor = regressor_optimizer.step(lr, member.regressor, regressor_grads);
                member
            })
            .collect();
        curve.push(value);
        report(&bar, value);
    }
    bar.finish();
    (network, curve)
}

/// Regression on the labeled graphs of the source families, each family's labels standardized
/// by its own mean and deviation; every batch mixes the families evenly.
pub fn fit(
    network: Network,
    families: &[FamilyData],
    standardization: &BTreeMap<String, Standardization>,
    config: &FitConfig,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Result<(Network, Curve), String> {
    let labeled: Vec<Vec<Labeled>> = families
        .iter()
        .enumerate()
        .map(|(class, family)| {
            let scale = standardization[&family.name];
            family
                .labeled()
                .map(|sample| {
                    let label = sample.label.expect("labeled");
                    (sample, scale.apply(label) as f32, class)
                })
                .collect::<Vec<_>>()
        })
        .filter(|family: &Vec<Labeled>| !family.is_empty())
        .collect();
    if labeled.is_empty() {
        return Err("fit: the fit families have no labeled graphs".into());
    }
    let total: usize = labeled.iter().map(Vec::len).sum();
    let steps = (total.div_ceil(config.batch_size) * config.epochs).max(1);
    let batch_size = config.batch_size;
    let batches = |rng: &mut ChaCha8Rng| {
        (0..batch_size)
            .map(|k| {
                let family = &labeled[k % labeled.len()];
                family[rng.random_range(0..family.len())]
            })
            .collect()
    };
    Ok(regress(
        network,
        batches,
        steps,
        config.learning_rate,
        config.encoder_learning_rate_scale,
        config.rank_weight,
        "fit",
        rng,
        device,
    ))
}

/// Fine-tuning on the target's shots (standardized by the shots' own statistics), full batch.
pub fn finetune(
    network: Network,
    shots: &[&Sample],
    config: &FinetuneConfig,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> (Network, Curve) {
    let labels: Vec<f64> = shots.iter().filter_map(|sample| sample.label).collect();
    let scale = Standardization::of(&labels);
    let items: Vec<Labeled> = shots
        .iter()
        .zip(&labels)
        .map(|(sample, &label)| (*sample, scale.apply(label) as f32, 0))
        .collect();
    regress(
        network,
        |rng: &mut ChaCha8Rng| {
            let mut items = items.clone();
            items.shuffle(rng);
            items
        },
        config.steps,
        config.learning_rate,
        config.encoder_learning_rate_scale,
        config.rank_weight,
        "finetune",
        rng,
        device,
    )
}

/// Scores and embeddings of `samples`, in batches.
pub fn predict(network: &Network, samples: &[&Sample], device: &Device) -> (Vec<f32>, Vec<f32>) {
    // Without autodiff: on the autodiff device each forward pass stays recorded until a
    // backward pass that never comes, and an evaluation's predictions grew its memory by
    // gigabytes.
    let network = network.valid();
    let device = device.clone().inner();
    let mut scores = Vec::with_capacity(samples.len());
    let mut embeddings = Vec::new();
    for chunk in samples.chunks(256) {
        let batch = BatchTensors::new(&collate(chunk.iter().copied()), &device);
        let (score, embedding) = network.forward(&batch);
        scores.extend(crate::model::values(score));
        embeddings.extend(crate::model::values(embedding));
    }
    (scores, embeddings)
}
