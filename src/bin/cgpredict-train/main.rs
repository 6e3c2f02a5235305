//! `cgpredict-train`: trains the predictor (contrastive pre-training, regression on source
//! families, fine-tuning on a target) and writes a cgpredict model file; `eval` reproduces the
//! paper's Table 1. Built with `--features train`; the library never links the framework.

mod baselines;
mod config;
mod correction;
mod data;
mod eval;
mod export;
mod lofo;
mod loss;
mod model;
mod pipeline;
mod plot;
mod prior;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::json;

use config::TrainConfig;
use pipeline::{FamilyCache, RunOptions, run};

#[derive(Parser)]
#[command(name = "cgpredict-train", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trains as the config says and writes the model file, a report, losses and curves.
    Train {
        /// A JSON training config (see configs/).
        #[arg(long)]
        config: PathBuf,
        /// Where the report (report.json), losses (losses.csv) and curves (curves.png) go.
        #[arg(long)]
        out_dir: PathBuf,
        /// The model file to write [default: OUT_DIR/model.onnx].
        #[arg(long)]
        model: Option<PathBuf>,
        /// Also writes the check graphs with the trainer's outputs (JSON lines) here.
        #[arg(long)]
        check_file: Option<PathBuf>,
    },
    /// Table 1: every target family, every method, several fine-tuning seeds.
    Eval {
        /// A JSON evaluation config (see configs/eval.json).
        #[arg(long)]
        config: PathBuf,
        /// Where table.md, eval.json and the plots go; each target's results are saved under
        /// OUT_DIR/targets/ and reused by later runs of the same config and trainer build.
        #[arg(long)]
        out_dir: PathBuf,
        /// Runs only this target (repeatable) and writes no table: targets run as separate
        /// processes side by side, then a run without --only gathers them.
        #[arg(long, value_name = "FAMILY")]
        only: Vec<String>,
    },
    /// Leave one family out, zero-shot: each family ranked by a model trained on the others,
    /// beside the cheap baselines (MACs, params, least-squares and ridge fits) on the same
    /// graphs.
    Lofo {
        /// A JSON leave-one-family-out config (see configs/lofo.json).
        #[arg(long)]
        config: PathBuf,
        /// Where table.md and lofo.json go.
        #[arg(long)]
        out_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Train {
            config,
            out_dir,
            model,
            check_file,
        } => train_command(&config, &out_dir, model, check_file),
        Command::Eval {
            config,
            out_dir,
            only,
        } => eval::run_eval(&config, &out_dir, &only),
        Command::Lofo { config, out_dir } => lofo::run_lofo(&config, &out_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cgpredict-train: {error}");
            ExitCode::FAILURE
        }
    }
}

fn create_dir(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|error| format!("creating {}: {error}", dir.display()))
}

fn train_command(
    config_path: &std::path::Path,
    out_dir: &std::path::Path,
    model: Option<PathBuf>,
    check_file: Option<PathBuf>,
) -> Result<(), String> {
    let started = Instant::now();
    let config = TrainConfig::read(config_path)?;
    create_dir(out_dir)?;
    let model = model.unwrap_or_else(|| out_dir.join("model.onnx"));
    if let Some(parent) = model.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    let mut cache = FamilyCache::default();
    let outcome = run(
        &config,
        RunOptions {
            model: Some(&model),
            check_file: check_file.as_deref(),
            cache: &mut cache,
            finetune_seed: config.seed,
        },
    )?;
    let mut losses = String::from("stage,step,loss\n");
    for (stage, curve) in &outcome.curves {
        for (step, loss) in curve.iter().enumerate() {
            losses += &format!("{stage},{step},{loss}\n");
        }
    }
    let losses_path = out_dir.join("losses.csv");
    std::fs::write(&losses_path, losses)
        .map_err(|error| format!("writing {}: {error}", losses_path.display()))?;
    let stages: Vec<(&str, &[f64])> = outcome
        .curves
        .iter()
        .map(|(stage, curve)| (*stage, curve.as_slice()))
        .collect();
    plot::curves(&out_dir.join("curves.png"), &stages)?;
    if let (Some(finetune), false) = (&config.finetune, outcome.target_predictions.is_empty()) {
        let (truth, predicted): (Vec<f64>, Vec<f64>) =
            outcome.target_predictions.iter().copied().unzip();
        plot::scatter(
            &out_dir.join("target.png"),
            &format!("{}: predicted vs true (test graphs)", finetune.family),
            &truth,
            &predicted,
        )?;
    }
    let (model_path, equivalence) = outcome
        .model_file
        .as_ref()
        .expect("train always writes a model");
    let size = std::fs::metadata(model_path).map_or(0, |m| m.len());
    let report = json!({
        "config": config_path,
        "model": model_path,
        "model_bytes": size,
        "seconds": outcome.seconds,
        "total_seconds": started.elapsed().as_secs_f64(),
        "target": outcome.target,
        "held_out": outcome.held_out,
        "equivalence": equivalence,
        "final_losses": outcome.curves.iter().map(|(s, c)| (s.to_string(), c.last().copied())).collect::<std::collections::BTreeMap<_, _>>(),
    });
    let report_path = out_dir.join("report.json");
    std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&report).expect("JSON"),
    )
    .map_err(|error| format!("writing {}: {error}", report_path.display()))?;
    eprintln!(
        "wrote {} ({size} bytes) in {:.0} s; ONNX Runtime vs trainer on {} graphs: scores {:.2e}, embeddings {:.2e}",
        model_path.display(),
        started.elapsed().as_secs_f64(),
        equivalence.graphs,
        equivalence.max_score_difference,
        equivalence.max_embedding_difference
    );
    if let Some(target) = outcome.target {
        eprintln!(
            "target SRCC {:.3}, Kendall tau {:.3} on {} graphs ({} shots)",
            target.srcc, target.kendall_tau, target.test_graphs, target.shots
        );
    }
    Ok(())
}
