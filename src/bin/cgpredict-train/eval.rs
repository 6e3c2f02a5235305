//! `cgpredict-train eval`: the paper's Table 1 on the vendored data. For each target family,
//! each method trains on the other families (plus the target's unlabeled graphs for
//! pre-training), then fine-tunes on a few target labels with several seeds and ranks the
//! rest; the zero-cost proxies are scored on their subsets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use cgpredict::import::dataset::{Family, ZERO_COST_PROXIES, read_zero_cost};
use cgpredict::metrics::{kendall_tau, spearman};
use cgpredict::runtime::adapt::HeadTarget;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::baselines::BASELINES;
use crate::config::{FinetuneConfig, TrainConfig};
use crate::correction::corrected_scores;
use crate::data::mean_std;
use crate::pipeline::{
    FamilyCache, StepChoice, head_scores, load_target, train_sources, tune_target,
};
use crate::plot;
use crate::train::predict;

/// An evaluation: a base training config varied per target and method.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    /// Model, pre-training and fit settings; its `finetune` is the fine-tuning template
    /// (family, shots and test size come from each target). Families are set per target.
    pub base: TrainConfig,
    pub targets: Vec<EvalTarget>,
    pub methods: Vec<EvalMethod>,
    /// Fine-tuning seeds per target and method.
    pub seeds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalTarget {
    pub family: String,
    pub shots: usize,
    #[serde(default)]
    pub test_graphs: Option<usize>,
    /// The labeled source families.
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalMethod {
    pub name: String,
    /// Contrastive pre-training first (CL); without it the GNN is trained end to end.
    pub pretrain: bool,
    pub fit_encoder_learning_rate_scale: f64,
    pub finetune_encoder_learning_rate_scale: f64,
}

/// The paper's Table 1 (SRCC on NB-101, NB-201, NB-301).
const PAPER: [(&str, [f64; 3]); 8] = [
    ("synflow", [0.361, 0.823, -0.210]),
    ("jacov", [0.358, 0.859, -0.190]),
    ("fisher", [-0.277, 0.687, -0.305]),
    ("grad_norm", [-0.256, 0.714, -0.339]),
    ("grasp", [0.245, 0.637, -0.055]),
    ("snip", [-0.165, 0.718, -0.336]),
    ("GNN-fine-tune", [0.542, 0.884, 0.872]),
    ("CL-fine-tune", [0.553, 0.917, 0.892]),
];
const PAPER_FAMILIES: [&str; 3] = ["nb101", "nb201", "nb301"];

/// How baseline cells' method names begin: they are no method of ours.
const BASELINE_PREFIX: &str = "baseline: ";

/// SRCC and subset size of each zero-cost proxy (outer key) on each family (inner key).
type ProxyTable = BTreeMap<String, BTreeMap<String, (f64, usize)>>;

/// Results of one method on one target over the seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cell {
    method: String,
    family: String,
    srcc: Vec<f64>,
    kendall_tau: Vec<f64>,
    shots: usize,
    test_graphs: usize,
    seconds: f64,
    /// The fine-tuning steps of each seed, with the cross-validation that chose them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    steps: Vec<StepChoice>,
}

impl Cell {
    /// A cell of `method` on `family` with no results yet.
    fn empty(method: String, family: &str) -> Cell {
        Cell {
            method,
            family: family.to_owned(),
            srcc: Vec::new(),
            kendall_tau: Vec::new(),
            shots: 0,
            test_graphs: 0,
            seconds: 0.0,
            steps: Vec::new(),
        }
    }
}

/// One target's results as saved under `OUT_DIR/targets/`, with what they depend on.
#[derive(Debug, Serialize, Deserialize)]
struct TargetRecord {
    key: serde_json::Value,
    cells: Vec<Cell>,
}

/// What one target's results depend on: the evaluation's settings for that target (not the
/// other targets) and the trainer that ran them, so that a record is reused only where a
/// rerun would reproduce it (the evaluation is deterministic).
fn target_key(config: &EvalConfig, target: &EvalTarget, build: &str) -> serde_json::Value {
    json!({
        "base": config.base,
        "methods": config.methods,
        "seeds": config.seeds,
        "target": target,
        "build": build,
    })
}

/// The trainer executable's identity: the FNV-1a hash of its bytes, which change with any
/// change to the code that can change a result.
fn build_id() -> Result<String, String> {
    let path = std::env::current_exe()
        .map_err(|error| format!("finding the trainer's executable: {error}"))?;
    let bytes =
        std::fs::read(&path).map_err(|error| format!("reading {}: {error}", path.display()))?;
    Ok(format!("{:016x}", fnv1a(&bytes)))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The saved cells at `path` if it holds a record of `key`; `None` when there is no record,
/// and when the record is stale or unreadable (said on stderr: the target is rerun).
fn reusable_cells(path: &Path, key: &serde_json::Value) -> Option<Vec<Cell>> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str::<TargetRecord>(&text) {
        Ok(record) if &record.key == key => Some(record.cells),
        Ok(_) => {
            eprintln!(
                "   {}: from another config or trainer build; rerunning",
                path.display()
            );
            None
        }
        Err(error) => {
            eprintln!("   {}: unreadable ({error}); rerunning", path.display());
            None
        }
    }
}

fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

impl EvalConfig {
    fn read(path: &Path) -> Result<EvalConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("config {}: {error}", path.display()))?;
        let config: EvalConfig = serde_json::from_str(&text)
            .map_err(|error| format!("config {}: {error}", path.display()))?;
        if config.base.finetune.is_none() {
            return Err(format!(
                "config {}: base.finetune is the fine-tuning template and is required",
                path.display()
            ));
        }
        if config.seeds == 0 || config.targets.is_empty() || config.methods.is_empty() {
            return Err(format!(
                "config {}: seeds, targets and methods must not be empty",
                path.display()
            ));
        }
        Ok(config)
    }

    /// The training config of one method on one target.
    fn train_config(&self, target: &EvalTarget, method: &EvalMethod) -> TrainConfig {
        let mut config = self.base.clone();
        if let Some(pretrain) = &mut config.pretrain {
            pretrain.families = target.sources.clone();
            pretrain.families.push(target.family.clone());
        }
        if !method.pretrain {
            config.pretrain = None;
        }
        config.fit.families = target.sources.clone();
        config.fit.encoder_learning_rate_scale = method.fit_encoder_learning_rate_scale;
        let template = self.base.finetune.as_ref().expect("checked on read");
        config.finetune = Some(FinetuneConfig {
            family: target.family.clone(),
            shots: target.shots,
            test_graphs: target.test_graphs,
            encoder_learning_rate_scale: method.finetune_encoder_learning_rate_scale,
            ..template.clone()
        });
        config
    }
}

pub fn run_eval(config_path: &Path, out_dir: &Path, only: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let config = EvalConfig::read(config_path)?;
    let families: Vec<String> = config.targets.iter().map(|t| t.family.clone()).collect();
    if let Some(unknown) = only.iter().find(|family| !families.contains(family)) {
        return Err(format!(
            "--only {unknown}: not a target of {} (its targets: {})",
            config_path.display(),
            families.join(", ")
        ));
    }
    let records_dir = out_dir.join("targets");
    std::fs::create_dir_all(&records_dir)
        .map_err(|error| format!("creating {}: {error}", records_dir.display()))?;
    let build = build_id()?;
    let device = Device::flex().autodiff();
    let mut cache = FamilyCache::default();
    let mut cells = Vec::new();
    for target in &config.targets {
        if !only.is_empty() && !only.contains(&target.family) {
            continue;
        }
        let key = target_key(&config, target, &build);
        let record_path = records_dir.join(format!("{}.json", target.family));
        if let Some(saved) = reusable_cells(&record_path, &key) {
            eprintln!(
                "== {}: reusing {} (same config and trainer build)",
                target.family,
                record_path.display()
            );
            cells.extend(saved);
            continue;
        }
        let mut target_cells = Vec::new();
        // The cheap baselines on each seed's split (the same for every method): counts, and
        // fits on the same shots.
        let mut baseline_cells: Vec<Cell> = BASELINES
            .iter()
            .map(|baseline| {
                Cell::empty(
                    format!("{BASELINE_PREFIX}{}", baseline.name()),
                    &target.family,
                )
            })
            .collect();
        for (method_index, method) in config.methods.iter().enumerate() {
            let run_started = Instant::now();
            let train_config = config.train_config(target, method);
            train_config.check().map_err(|error| {
                format!(
                    "config {}, target {}, method {}: {error}",
                    config_path.display(),
                    target.family,
                    method.name
                )
            })?;
            eprintln!("== {} on {}", method.name, target.family);
            let trained = train_sources(&train_config, &mut cache, &device)?;
            let target_data = load_target(&train_config, &mut cache)?.expect("finetune is set");
            let finetune = train_config.finetune.as_ref().expect("finetune is set");
            let mut tuned_cell = Cell::empty(method.name.clone(), &target.family);
            let mut zero_shot = Cell {
                method: format!("{}, no fine-tuning", method.name),
                ..tuned_cell.clone()
            };
            let mut ranked = Cell {
                method: format!("{}, then ranking head", method.name),
                ..tuned_cell.clone()
            };
            let mut corrected = Cell {
                method: format!("{}, then kernel correction", method.name),
                ..tuned_cell.clone()
            };
            let mut adapted = Cell {
                method: format!("{}, adapt instead", method.name),
                ..tuned_cell.clone()
            };
            let mut rank_adapted = Cell {
                method: format!("{}, ranking adapt instead", method.name),
                ..tuned_cell.clone()
            };
            // The fine-tuned score or the ranking head, whichever ranked the shots' held-out
            // folds better.
            let cross_validated = finetune.cross_validation.is_some();
            let mut chosen_head = Cell {
                method: format!("{}, score or head by CV", method.name),
                ..tuned_cell.clone()
            };
            for k in 0..config.seeds {
                let seed = config.base.seed.wrapping_add(1 + k);
                let tuned = tune_target(
                    trained.network.clone(),
                    finetune,
                    &target_data,
                    seed,
                    &device,
                )?;
                let truth: Vec<f64> = tuned.predictions.iter().map(|p| p.0).collect();
                let shot_labels: Vec<f64> = tuned.shots.iter().filter_map(|s| s.label).collect();
                let record = |cell: &mut Cell, predicted: &[f64]| -> Result<(), String> {
                    cell.srcc
                        .push(spearman(predicted, &truth).map_err(|e| e.to_string())?);
                    cell.kendall_tau
                        .push(kendall_tau(predicted, &truth).map_err(|e| e.to_string())?);
                    cell.test_graphs = truth.len();
                    Ok(())
                };
                if method_index == 0 {
                    let shots = vec![tuned.shots.clone()];
                    for (cell, baseline) in baseline_cells.iter_mut().zip(BASELINES) {
                        record(cell, &baseline.scores(&shots, &tuned.test))?;
                        cell.shots = if baseline.is_fitted() {
                            shot_labels.len()
                        } else {
                            0
                        };
                    }
                }
                // The model as trained on the sources, and in place of fine-tuning the heads
                // of `Predictor::adapt` (ridge on the embeddings, labels as they are) and
                // `Predictor::adapt_ranking` (ridge on the embeddings and the model's score,
                // fitted to the labels' ranks).
                let (untuned, test_embeddings) = predict(&trained.network, &tuned.test, &device);
                record(&mut zero_shot, &widen(&untuned))?;
                let adapted_scores = head_scores(
                    &trained.network,
                    &tuned.shots,
                    &tuned.test,
                    &test_embeddings,
                    &untuned,
                    HeadTarget::Labels,
                    &device,
                )?;
                record(&mut adapted, &widen(&adapted_scores))?;
                adapted.shots = shot_labels.len();
                let ranking = head_scores(
                    &trained.network,
                    &tuned.shots,
                    &tuned.test,
                    &test_embeddings,
                    &untuned,
                    HeadTarget::Ranks,
                    &device,
                )?;
                record(&mut rank_adapted, &widen(&ranking))?;
                rank_adapted.shots = shot_labels.len();
                // Fine-tuning, then a ranking head on the fine-tuned model's embedding and
                // score, fitted to the same shots (what the search's scorer fits).
                let test_scores: Vec<f32> = tuned
                    .predictions
                    .iter()
                    .map(|&(_, score)| score as f32)
                    .collect();
                let head_predictions = widen(&head_scores(
                    &tuned.network,
                    &tuned.shots,
                    &tuned.test,
                    &tuned.test_embeddings,
                    &test_scores,
                    HeadTarget::Ranks,
                    &device,
                )?);
                record(&mut ranked, &head_predictions)?;
                ranked.shots = shot_labels.len();
                ranked.steps.push(tuned.steps.clone());
                // Fine-tuning, then kernel ridge on what the fine-tuned score leaves of the
                // shots' ranks (`correction.rs`).
                let (shot_scores, shot_embeddings) = predict(&tuned.network, &tuned.shots, &device);
                let corrected_scores = corrected_scores(
                    &shot_embeddings,
                    &shot_scores,
                    &shot_labels,
                    &tuned.test_embeddings,
                    &test_scores,
                    tuned.network.members.len(),
                )?;
                record(&mut corrected, &corrected_scores)?;
                corrected.shots = shot_labels.len();
                corrected.steps.push(tuned.steps.clone());
                if cross_validated {
                    let predicted: Vec<f64> = if tuned.steps.prefers_ranking_head() {
                        head_predictions
                    } else {
                        tuned.predictions.iter().map(|p| p.1).collect()
                    };
                    record(&mut chosen_head, &predicted)?;
                    chosen_head.shots = shot_labels.len();
                    chosen_head.steps.push(tuned.steps.clone());
                    let candidates: Vec<String> = tuned
                        .steps
                        .candidates
                        .iter()
                        .map(|c| {
                            format!(
                                "{}: {:.3} / head {:.3}",
                                c.steps, c.srcc, c.ranking_head_srcc
                            )
                        })
                        .collect();
                    eprintln!(
                        "   seed {seed}: {} steps, {} (cross-validated SRCC on the shots {})",
                        tuned.steps.steps,
                        if tuned.steps.prefers_ranking_head() {
                            "ranking head"
                        } else {
                            "score"
                        },
                        candidates.join(", ")
                    );
                }
                tuned_cell.srcc.push(tuned.metrics.srcc);
                tuned_cell.kendall_tau.push(tuned.metrics.kendall_tau);
                tuned_cell.shots = tuned.metrics.shots;
                tuned_cell.test_graphs = tuned.metrics.test_graphs;
                tuned_cell.steps.push(tuned.steps);
                if k == 0 {
                    let (truth, predicted): (Vec<f64>, Vec<f64>) =
                        tuned.predictions.iter().copied().unzip();
                    plot::scatter(
                        &out_dir.join(format!("scatter_{}_{}.png", target.family, method.name)),
                        &format!(
                            "{} on {} (SRCC {:.3})",
                            method.name, target.family, tuned.metrics.srcc
                        ),
                        &truth,
                        &predicted,
                    )?;
                }
            }
            tuned_cell.seconds = run_started.elapsed().as_secs_f64();
            let (mean, std) = mean_std(&tuned_cell.srcc);
            eprintln!(
                "   {} on {}: SRCC {mean:.3} ± {std:.3} (then ranking head {:.3}, then kernel \
                 correction {:.3}, no fine-tuning {:.3}, adapt instead {:.3}, ranking adapt \
                 instead {:.3})",
                method.name,
                target.family,
                mean_std(&ranked.srcc).0,
                mean_std(&corrected.srcc).0,
                mean_std(&zero_shot.srcc).0,
                mean_std(&adapted.srcc).0,
                mean_std(&rank_adapted.srcc).0
            );
            ranked.seconds = tuned_cell.seconds;
            corrected.seconds = tuned_cell.seconds;
            if cross_validated {
                eprintln!(
                    "   score or head by CV: {:.3}",
                    mean_std(&chosen_head.srcc).0
                );
                chosen_head.seconds = tuned_cell.seconds;
                target_cells.push(chosen_head);
            }
            target_cells.extend([
                ranked,
                corrected,
                tuned_cell,
                zero_shot,
                adapted,
                rank_adapted,
            ]);
        }
        target_cells.extend(baseline_cells);
        let record = TargetRecord {
            key,
            cells: target_cells,
        };
        write(
            &record_path,
            &serde_json::to_string_pretty(&record).expect("JSON"),
        )?;
        cells.extend(record.cells);
    }
    if !only.is_empty() {
        eprintln!(
            "saved under {}; a run without --only reuses them and writes the table",
            records_dir.display()
        );
        return Ok(());
    }
    let families: Vec<String> = config.targets.iter().map(|t| t.family.clone()).collect();
    let proxies = zero_cost(&config.base.data_dir, &families)?;
    let table = markdown(&cells, &proxies, &families, config_path);
    let seconds = started.elapsed().as_secs_f64();
    write(&out_dir.join("table.md"), &table)?;
    let report = json!({
        "config": config,
        "results": cells,
        "zero_cost": proxies,
        "paper": PAPER.iter().map(|(m, v)| (m.to_string(), v.to_vec())).collect::<BTreeMap<_, _>>(),
        "seconds": seconds,
    });
    write(
        &out_dir.join("eval.json"),
        &serde_json::to_string_pretty(&report).expect("JSON"),
    )?;
    srcc_bars(&out_dir.join("srcc.png"), &cells, &proxies, &families)?;
    eprintln!("{table}\nevaluation took {seconds:.0} s");
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|error| format!("writing {}: {error}", path.display()))
}

/// SRCC of each zero-cost proxy against validation accuracy on each family's subset.
fn zero_cost(data_dir: &Path, families: &[String]) -> Result<ProxyTable, String> {
    let mut table: ProxyTable = BTreeMap::new();
    for name in families {
        let Ok(family) = name.parse::<Family>() else {
            continue;
        };
        if family == Family::OfaMbv3 {
            continue;
        }
        let records = read_zero_cost(data_dir, family).map_err(|e| e.to_string())?;
        let accuracy: Vec<f64> = records.iter().map(|r| r.val_accuracy).collect();
        for (index, proxy) in ZERO_COST_PROXIES.iter().enumerate() {
            let scores: Vec<f64> = records.iter().map(|r| r.scores[index]).collect();
            let srcc = spearman(&scores, &accuracy).map_err(|e| e.to_string())?;
            table
                .entry((*proxy).to_owned())
                .or_default()
                .insert(name.clone(), (srcc, records.len()));
        }
    }
    Ok(table)
}

fn markdown(
    cells: &[Cell],
    proxies: &ProxyTable,
    families: &[String],
    config_path: &Path,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "SRCC (mean ± std over fine-tuning seeds; Kendall τ in parentheses) on each target's \
         held-out graphs; the baselines' fits use the same shots. ▼ marks a row of ours below \
         the best baseline on that family. Command: `cgpredict-train eval --config {}`.\n",
        config_path.display()
    );
    let _ = writeln!(out, "| method | {} |", families.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(families.len()));
    let mut methods: Vec<&str> = Vec::new();
    for cell in cells {
        if !methods.contains(&cell.method.as_str()) {
            methods.push(&cell.method);
        }
    }
    // The best baseline's mean on each family, which a row of ours must reach.
    let best_baseline = |family: &str| {
        cells
            .iter()
            .filter(|c| c.family == family && c.method.starts_with(BASELINE_PREFIX))
            .map(|c| mean_std(&c.srcc).0)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    // Ours first, then the baselines.
    methods.sort_by_key(|method| method.starts_with(BASELINE_PREFIX));
    for method in methods {
        let baseline = method.strip_prefix(BASELINE_PREFIX);
        let row: Vec<String> = families
            .iter()
            .map(|family| {
                cells
                    .iter()
                    .find(|c| c.method == method && &c.family == family)
                    .map_or("–".into(), |c| {
                        let (mean, std) = mean_std(&c.srcc);
                        let (tau, _) = mean_std(&c.kendall_tau);
                        let mark = if baseline.is_none() && mean < best_baseline(family) {
                            " ▼"
                        } else {
                            ""
                        };
                        format!("{mean:.3} ± {std:.3} ({tau:.3}){mark}")
                    })
            })
            .collect();
        let name = match baseline {
            Some(name) => format!("{name} (baseline, same split)"),
            None => format!("{method} (ours)"),
        };
        let _ = writeln!(out, "| {name} | {} |", row.join(" | "));
    }
    for (proxy, by_family) in proxies {
        let row: Vec<String> = families
            .iter()
            .map(|family| {
                by_family
                    .get(family)
                    .map_or("–".into(), |(srcc, n)| format!("{srcc:.3} (n={n})"))
            })
            .collect();
        let _ = writeln!(out, "| {proxy} (measured, subset) | {} |", row.join(" | "));
    }
    for (method, values) in PAPER {
        let row: Vec<String> = families
            .iter()
            .map(|family| {
                PAPER_FAMILIES
                    .iter()
                    .position(|f| f == family)
                    .map_or("–".into(), |i| format!("{:.3}", values[i]))
            })
            .collect();
        let _ = writeln!(out, "| {method} (paper) | {} |", row.join(" | "));
    }
    if let Some(cell) = cells.first() {
        let _ = writeln!(
            out,
            "\nShots and test graphs per target: {}.",
            families
                .iter()
                .filter_map(|family| cells
                    .iter()
                    .find(|c| &c.family == family && c.method == cell.method)
                    .map(|c| format!("{family} {} / {}", c.shots, c.test_graphs)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let chosen: Vec<String> = cells
        .iter()
        .filter(|c| c.steps.iter().any(|s| !s.candidates.is_empty()) && !c.method.contains(", "))
        .map(|c| {
            let steps: Vec<String> = c.steps.iter().map(|s| s.steps.to_string()).collect();
            format!("{} {} {}", c.family, c.method, steps.join("/"))
        })
        .collect();
    if !chosen.is_empty() {
        let _ = writeln!(
            out,
            "\nFine-tuning steps of each seed, chosen by cross-validation on the shots: {}.",
            chosen.join("; ")
        );
    }
    out
}

fn srcc_bars(
    path: &Path,
    cells: &[Cell],
    proxies: &ProxyTable,
    families: &[String],
) -> Result<(), String> {
    let mut methods: Vec<String> = Vec::new();
    let mut values: Vec<Vec<f64>> = Vec::new();
    for cell in cells
        .iter()
        .filter(|c| !c.method.contains("no fine-tuning") && !c.method.contains("adapt instead"))
    {
        if !methods.contains(&cell.method) {
            methods.push(cell.method.clone());
            values.push(
                families
                    .iter()
                    .map(|family| {
                        cells
                            .iter()
                            .find(|c| c.method == cell.method && &c.family == family)
                            .map_or(f64::NAN, |c| mean_std(&c.srcc).0)
                    })
                    .collect(),
            );
        }
    }
    for (method, paper) in PAPER.iter().filter(|(m, _)| m.ends_with("fine-tune")) {
        methods.push(format!("{method} (paper)"));
        values.push(
            families
                .iter()
                .map(|family| {
                    PAPER_FAMILIES
                        .iter()
                        .position(|f| f == family)
                        .map_or(f64::NAN, |i| paper[i])
                })
                .collect(),
        );
    }
    if let Some(synflow) = proxies.get("synflow") {
        methods.push("synflow (measured)".into());
        values.push(
            families
                .iter()
                .map(|family| synflow.get(family).map_or(f64::NAN, |v| v.0))
                .collect(),
        );
    }
    plot::bars(
        path,
        "SRCC on held-out target graphs",
        families,
        &methods,
        &values,
    )
}
