//! Leave one family out, zero-shot: for each family, train on the others and rank all of its
//! labeled graphs with no label of it, beside the cheap baselines on the same graphs.
//!
//! Protocol. The only setting chosen here is the weight of the networks' correction in the
//! score (`model.prior.correction`), and it is chosen without the test family: among
//! `correction_candidates`, the one whose mean SRCC is best when each source family in turn
//! is ranked by a model trained on the other sources (first seed; ties go to the smaller
//! weight). Every other setting is the config's, fixed before the run. The test family's
//! labels are read only to score the finished rankings.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use cgpredict::features::Batch;
use cgpredict::import::dataset::{Family, ZERO_COST_PROXIES, read_zero_cost};
use cgpredict::metrics::spearman;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::baselines::{BASELINES, Baseline};
use crate::config::TrainConfig;
use crate::data::{FamilyData, Sample, Selection, Source, mean_std};
use crate::model::Network;
use crate::pipeline::{FamilyCache, train_sources};
use crate::train::predict;

/// A leave-one-family-out evaluation (`configs/lofo.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LofoConfig {
    /// Model, pre-training and fit settings; families are set per held-out family, and
    /// `finetune` must be null (no target label is used).
    pub base: TrainConfig,
    /// The families; each is held out in turn.
    pub families: Vec<String>,
    /// Most labeled graphs ranked per held-out family (sampled once, the same for every
    /// seed).
    pub test_graphs: usize,
    /// Training seeds per held-out family: `base.seed`, `base.seed + 1`, ...
    pub seeds: usize,
    /// Weights of the networks' correction to choose from by validation (see the module
    /// documentation); needs `base.model.prior`.
    #[serde(default)]
    pub correction_candidates: Vec<f64>,
}

/// One held-out family's results.
#[derive(Debug, Clone, Serialize)]
struct FamilyResult {
    family: String,
    test_graphs: usize,
    /// The correction weight chosen, with each candidate's mean validation SRCC.
    correction: Option<f64>,
    validation: Vec<(f64, f64)>,
    /// Row name → SRCC per seed.
    rows: BTreeMap<String, Vec<f64>>,
    /// The same on the family's zero-cost subset (NASLib's validation accuracy), with the
    /// proxies' rows, and its size; empty for a family without one.
    subset_rows: BTreeMap<String, Vec<f64>>,
    subset_graphs: usize,
    seconds: f64,
}

/// A family's zero-cost subset as labeled samples, with each proxy's scores of them.
struct ZeroCostSubset {
    samples: Vec<Sample>,
    /// Per proxy of [`ZERO_COST_PROXIES`], its score of each sample.
    proxies: Vec<Vec<f64>>,
}

/// The zero-cost subset of `family`; `None` for a family the data has no zero-cost scores of.
fn zero_cost_subset(data_dir: &Path, family: &str) -> Result<Option<ZeroCostSubset>, String> {
    let Ok(parsed) = family.parse::<Family>() else {
        return Ok(None);
    };
    if parsed == Family::OfaMbv3 {
        return Ok(None);
    }
    let records = read_zero_cost(data_dir, parsed).map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let graph = record.spec.graph().map_err(|e| e.to_string())?;
        samples.push(Sample {
            features: Batch::of_canonical(&[&graph]),
            source: Source::Spec(record.spec.clone()),
            label: Some(record.val_accuracy),
            group: format!("zero-cost {index}"),
            spectrum: Vec::new(),
        });
    }
    let proxies = (0..ZERO_COST_PROXIES.len())
        .map(|proxy| records.iter().map(|r| r.scores[proxy]).collect())
        .collect();
    Ok(Some(ZeroCostSubset { samples, proxies }))
}

/// Row names.
const MODEL_ROW: &str = "cgpredict, zero-shot (ours)";
const PRIOR_ROW: &str = "its prior alone (ours)";
const NETWORKS_ROW: &str = "its networks alone (ours)";

impl LofoConfig {
    fn read(path: &Path) -> Result<LofoConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("reading {}: {error}", path.display()))?;
        let config: LofoConfig =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        if config.base.finetune.is_some() {
            return Err("base.finetune must be null: the held-out family gives no label".into());
        }
        if config.families.len() < 3 {
            return Err("families: at least 3 (two sources to validate on)".into());
        }
        if config.seeds == 0 || config.test_graphs < 2 {
            return Err("seeds must be at least 1 and test_graphs at least 2".into());
        }
        if !config.correction_candidates.is_empty() && config.base.model.prior.is_none() {
            return Err("correction_candidates need base.model.prior".into());
        }
        Ok(config)
    }

    /// The base config trained on `sources` with seed offset `seed`.
    fn train_config(&self, sources: &[String], seed: usize) -> TrainConfig {
        let mut config = self.base.clone();
        config.seed = self.base.seed.wrapping_add(seed as u64);
        config.fit.families = sources.to_vec();
        if let Some(pretrain) = &mut config.pretrain {
            pretrain.families = sources.to_vec();
        }
        config
    }
}

/// Scores of `network` on `samples` with the correction weight set to `correction` (the
/// networks alone at `None`, through a prior of zero weights).
fn scores_with(
    network: &mut Network,
    samples: &[&Sample],
    correction: Option<f64>,
    device: &Device,
) -> Vec<f64> {
    let saved = network.prior.clone();
    match (&mut network.prior, correction) {
        (Some(prior), Some(weight)) => prior.correction = weight as f32,
        (prior, None) => *prior = None,
        (None, Some(_)) => {}
    }
    let (scores, _) = predict(network, samples, device);
    network.prior = saved;
    scores.into_iter().map(f64::from).collect()
}

fn srcc(scores: &[f64], samples: &[&Sample]) -> Result<f64, String> {
    let truth: Vec<f64> = samples.iter().filter_map(|sample| sample.label).collect();
    spearman(scores, &truth).map_err(|error| error.to_string())
}

/// The labeled graphs of `family` that are ranked (at most `test_graphs`, sampled with the
/// base seed).
fn ranked_graphs(
    config: &LofoConfig,
    cache: &mut FamilyCache,
    family: &str,
) -> Result<FamilyData, String> {
    cache.get(
        &config.base.data_dir,
        family,
        Selection {
            labeled_only: true,
            limit: Some(config.test_graphs),
            spectra: false,
        },
        config.base.seed,
    )
}

pub fn run_lofo(config_path: &Path, out_dir: &Path) -> Result<(), String> {
    let started = Instant::now();
    let config = LofoConfig::read(config_path)?;
    crate::create_dir(out_dir)?;
    let device = Device::flex().autodiff();
    // The ranked graphs stay loaded; each training loads its sources afresh (a cache of every
    // seed's samples, with their spectra, outgrew the machine's 24 GB).
    let mut cache = FamilyCache::default();
    // Networks trained for validation, by their source families (first seed): each set of
    // sources serves two held-out families.
    let mut validation_networks: BTreeMap<Vec<String>, Network> = BTreeMap::new();
    let mut results = Vec::new();
    for target in &config.families {
        let target_started = Instant::now();
        let sources: Vec<String> = config
            .families
            .iter()
            .filter(|family| *family != target)
            .cloned()
            .collect();
        eprintln!("== {target}: trained on {}", sources.join(", "));
        let mut validation = Vec::new();
        let correction = if config.correction_candidates.is_empty() {
            config
                .base
                .model
                .prior
                .as_ref()
                .map(|prior| prior.correction)
        } else {
            let mut sums = vec![0.0; config.correction_candidates.len()];
            for held in &sources {
                let inner: Vec<String> = sources.iter().filter(|s| *s != held).cloned().collect();
                if !validation_networks.contains_key(&inner) {
                    let trained = train_sources(
                        &config.train_config(&inner, 0),
                        &mut FamilyCache::default(),
                        &device,
                    )?;
                    validation_networks.insert(inner.clone(), trained.network);
                }
                let network = validation_networks.get_mut(&inner).expect("trained above");
                let graphs = ranked_graphs(&config, &mut cache, held)?;
                let samples: Vec<&Sample> = graphs.samples.iter().collect();
                for (sum, &candidate) in sums.iter_mut().zip(&config.correction_candidates) {
                    let scores = scores_with(network, &samples, Some(candidate), &device);
                    *sum += srcc(&scores, &samples)? / sources.len() as f64;
                }
            }
            validation = config
                .correction_candidates
                .iter()
                .copied()
                .zip(sums)
                .collect();
            let best = validation
                .iter()
                .fold(None::<(f64, f64)>, |best, &(weight, value)| match best {
                    Some((_, top)) if top >= value => best,
                    _ => Some((weight, value)),
                });
            eprintln!("{target}: validation {validation:?}");
            best.map(|(weight, _)| weight)
        };
        let tests = ranked_graphs(&config, &mut cache, target)?;
        let test_samples: Vec<&Sample> = tests.samples.iter().collect();
        let mut rows: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let subset = zero_cost_subset(&config.base.data_dir, target)?;
        let subset_samples: Vec<&Sample> = subset
            .as_ref()
            .map(|subset| subset.samples.iter().collect())
            .unwrap_or_default();
        let mut subset_rows: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        if let Some(subset) = &subset {
            for (name, scores) in ZERO_COST_PROXIES.iter().zip(&subset.proxies) {
                let row = format!("{name} (zero-cost proxy)");
                subset_rows.insert(row, vec![srcc(scores, &subset_samples)?]);
            }
        }
        for seed in 0..config.seeds {
            let trained = train_sources(
                &config.train_config(&sources, seed),
                &mut FamilyCache::default(),
                &device,
            )?;
            let mut network = trained.network;
            let mut record = |name: &str, value: f64| {
                rows.entry(name.to_owned()).or_default().push(value);
            };
            let scores = scores_with(&mut network, &test_samples, correction, &device);
            record(MODEL_ROW, srcc(&scores, &test_samples)?);
            if network.prior.is_some() {
                let prior = scores_with(&mut network, &test_samples, Some(0.0), &device);
                record(PRIOR_ROW, srcc(&prior, &test_samples)?);
                let networks = scores_with(&mut network, &test_samples, None, &device);
                record(NETWORKS_ROW, srcc(&networks, &test_samples)?);
            }
            let groups: Vec<Vec<&Sample>> = trained
                .fit_families
                .iter()
                .map(|family| family.labeled().collect())
                .collect();
            for baseline in BASELINES {
                record(baseline.name(), baseline.srcc(&groups, &test_samples)?);
            }
            if !subset_samples.is_empty() {
                let mut record = |name: &str, value: f64| {
                    subset_rows.entry(name.to_owned()).or_default().push(value);
                };
                let scores = scores_with(&mut network, &subset_samples, correction, &device);
                record(MODEL_ROW, srcc(&scores, &subset_samples)?);
                for baseline in BASELINES {
                    record(baseline.name(), baseline.srcc(&groups, &subset_samples)?);
                }
            }
            eprintln!(
                "{target} seed {seed}: {:.3} (MACs {:.3})",
                rows[MODEL_ROW].last().copied().unwrap_or(f64::NAN),
                rows[Baseline::Macs.name()]
                    .last()
                    .copied()
                    .unwrap_or(f64::NAN)
            );
        }
        results.push(FamilyResult {
            family: target.clone(),
            test_graphs: test_samples.len(),
            correction,
            validation,
            rows,
            subset_rows,
            subset_graphs: subset_samples.len(),
            seconds: target_started.elapsed().as_secs_f64(),
        });
    }
    let table = markdown(&results, &config, config_path);
    write(&out_dir.join("table.md"), &table)?;
    let report = json!({
        "config": config,
        "results": results,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    write(&out_dir.join("lofo.json"), &text)?;
    print!("{table}");
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|error| format!("writing {}: {error}", path.display()))
}

/// The mean of each row in `rows`.
fn means(rows: &BTreeMap<String, Vec<f64>>) -> BTreeMap<&str, f64> {
    rows.iter()
        .map(|(name, values)| (name.as_str(), mean_std(values).0))
        .collect()
}

/// Writes a table of `names` (those present) over `results`, SRCC per family from `rows_of`;
/// a row of ours below the best of the `bar` rows on a family gets ▼.
fn write_table(
    out: &mut String,
    results: &[&FamilyResult],
    names: &[String],
    rows_of: impl Fn(&FamilyResult) -> &BTreeMap<String, Vec<f64>>,
    bar: impl Fn(&str) -> bool,
) {
    let families: Vec<&str> = results.iter().map(|r| r.family.as_str()).collect();
    let _ = writeln!(out, "| ranking | {} | mean |", families.join(" | "));
    let _ = writeln!(out, "|---|{}---|", "---|".repeat(families.len()));
    for name in names {
        if results.iter().all(|r| !rows_of(r).contains_key(name)) {
            continue;
        }
        let ours = name.ends_with("(ours)");
        let mut row_means = Vec::new();
        let cells: Vec<String> = results
            .iter()
            .map(|result| match rows_of(result).get(name) {
                Some(values) => {
                    let (mean, std) = mean_std(values);
                    row_means.push(mean);
                    let best_bar = means(rows_of(result))
                        .into_iter()
                        .filter(|(row, _)| bar(row))
                        .map(|(_, value)| value)
                        .fold(f64::NEG_INFINITY, f64::max);
                    let mark = if ours && mean < best_bar { " ▼" } else { "" };
                    if values.len() > 1 {
                        format!("{mean:.3} ± {std:.3}{mark}")
                    } else {
                        format!("{mean:.3}{mark}")
                    }
                }
                None => "–".into(),
            })
            .collect();
        let mean = row_means.iter().sum::<f64>() / row_means.len().max(1) as f64;
        let _ = writeln!(out, "| {name} | {} | {mean:.3} |", cells.join(" | "));
    }
}

fn markdown(results: &[FamilyResult], config: &LofoConfig, config_path: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Leave one family out, zero-shot: SRCC on each held-out family's labeled graphs (mean ± \
         std over {} training seeds) of a model trained on the other families, beside the \
         cheap baselines on the same graphs (fitted ones on the same source labels). ▼ marks a \
         row of ours below the better of MACs and params. Command: `cgpredict-train lofo \
         --config {}`.\n",
        config.seeds,
        config_path.display()
    );
    let all: Vec<&FamilyResult> = results.iter().collect();
    let mut names: Vec<String> = vec![MODEL_ROW.into(), PRIOR_ROW.into(), NETWORKS_ROW.into()];
    names.extend(BASELINES.iter().map(|b| b.name().to_owned()));
    let counting = [Baseline::Macs.name(), Baseline::Params.name()];
    write_table(
        &mut out,
        &all,
        &names,
        |r| &r.rows,
        |row| counting.contains(&row),
    );
    let with_subset: Vec<&FamilyResult> = results
        .iter()
        .filter(|r| !r.subset_rows.is_empty())
        .collect();
    if !with_subset.is_empty() {
        let sizes: Vec<String> = with_subset
            .iter()
            .map(|r| format!("{} {}", r.family, r.subset_graphs))
            .collect();
        let _ = writeln!(
            out,
            "\nThe same models on the zero-cost subsets (NAS-Bench-Suite-Zero: {}; labels: \
             NASLib's validation accuracy), beside the zero-cost proxies. ▼ marks a row of ours \
             below the best of MACs, params and the proxies.\n",
            sizes.join(", ")
        );
        let mut subset_names = vec![MODEL_ROW.to_owned()];
        subset_names.extend(BASELINES.iter().map(|b| b.name().to_owned()));
        subset_names.extend(
            ZERO_COST_PROXIES
                .iter()
                .map(|proxy| format!("{proxy} (zero-cost proxy)")),
        );
        write_table(
            &mut out,
            &with_subset,
            &subset_names,
            |r| &r.subset_rows,
            |row| counting.contains(&row) || row.ends_with("(zero-cost proxy)"),
        );
    }
    let _ = writeln!(out);
    for result in results {
        let validation: Vec<String> = result
            .validation
            .iter()
            .map(|(weight, value)| format!("{weight}: {value:.3}"))
            .collect();
        let _ = writeln!(
            out,
            "- {}: {} graphs ranked; correction weight {} (validation SRCC by weight: {}); {:.0} s",
            result.family,
            result.test_graphs,
            result
                .correction
                .map_or("none".into(), |weight| weight.to_string()),
            if validation.is_empty() {
                "not chosen".into()
            } else {
                validation.join(", ")
            },
            result.seconds
        );
    }
    out
}
