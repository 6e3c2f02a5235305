//! The trainer end to end on a tiny configuration (`configs/tiny.json`): it trains, writes a
//! model file the runtime opens, and that file computes what the trainer computed.
#![cfg(feature = "train")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cgpredict::Graph;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};

fn train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cgpredict-train"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cgpredict-train runs")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn train_tiny(dir: &Path) {
    train_with(dir, "configs/tiny.json");
}

fn train_with(dir: &Path, config: &str) {
    let out = dir.to_str().unwrap();
    let check = dir.join("check.jsonl");
    let output = train(&[
        "train",
        "--config",
        config,
        "--out-dir",
        out,
        "--check-file",
        check.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Opens the model file of the run in `dir` and checks that it gives the trainer's own outputs
/// for every check graph (JSON graphs rebuilt here, scored through the library as users do);
/// returns the predictor and the number of graphs compared.
fn open_as_trained(dir: &Path, report: &serde_json::Value) -> (Predictor, u64) {
    let predictor = Predictor::open(&PredictorOptions {
        model: Some(dir.join("model.onnx")),
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .expect("the exported model opens");
    let lines = std::fs::read_to_string(dir.join("check.jsonl")).unwrap();
    let mut compared = 0;
    for line in lines.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let graph = Graph::from_json(&entry["graph"].to_string()).unwrap();
        let score = predictor.predict(&[&graph]).unwrap()[0];
        let expected = entry["score"].as_f64().unwrap() as f32;
        assert!(
            (score - expected).abs() <= 1e-4 * expected.abs().max(1.0),
            "score {score} vs trainer {expected}"
        );
        let (embedding, dim) = predictor.embed(&[&graph]).unwrap();
        let expected = embedding_of(&entry);
        assert_eq!(dim, expected.len());
        for (got, want) in embedding.iter().zip(&expected) {
            assert!((got - want).abs() <= 1e-4 * want.abs().max(1.0));
        }
        compared += 1;
    }
    assert_eq!(
        compared,
        report["equivalence"]["graphs"].as_u64().unwrap(),
        "every graph the trainer checked"
    );
    (predictor, compared)
}

fn embedding_of(check_entry: &serde_json::Value) -> Vec<f32> {
    check_entry["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn report_of(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn the_tiny_pipeline_exports_a_model_that_runs_as_trained() {
    let dir = out_dir("trainer-tiny");
    train_tiny(&dir);

    let report = report_of(&dir);
    assert_eq!(report["target"]["shots"], 20);
    // The reported target SRCC is what the model file's scores of the 60 test graphs (the
    // first check graphs, with their labels) give.
    let srcc = report["target"]["srcc"].as_f64().expect("a target SRCC");
    let predictor = Predictor::open(&PredictorOptions {
        model: Some(dir.join("model.onnx")),
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .unwrap();
    let (scores, labels): (Vec<f64>, Vec<f64>) = std::fs::read_to_string(dir.join("check.jsonl"))
        .unwrap()
        .lines()
        .take(60)
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            let graph = Graph::from_json(&entry["graph"].to_string()).unwrap();
            let score = predictor.predict(&[&graph]).unwrap()[0];
            (
                f64::from(score),
                entry["label"].as_f64().expect("a labeled test graph"),
            )
        })
        .unzip();
    let recomputed = cgpredict::metrics::spearman(&scores, &labels).unwrap();
    assert!((srcc - recomputed).abs() < 1e-6, "{srcc} vs {recomputed}");
    // Even the tiny model learned to rank the fit family's graphs it did not see: SRCC above
    // 0.3 over 4,032 NB-201 cells (a model ranking at random stays within ±0.04).
    let nb201 = report["held_out"]["nb201"]["srcc"].as_f64().unwrap();
    assert!(nb201 > 0.3, "held-out NB-201 SRCC {nb201}");
    for file in ["losses.csv", "curves.png", "target.png"] {
        assert!(dir.join(file).is_file(), "{file} is written");
    }
    let losses = std::fs::read_to_string(dir.join("losses.csv")).unwrap();
    for stage in ["pretrain", "fit", "finetune"] {
        assert!(losses.contains(&format!("\n{stage},")), "{stage} losses");
    }

    let (predictor, compared) = open_as_trained(&dir, &report);
    // 60 target test graphs and 64 graphs of each fit family: configs/tiny.json asks for 200.
    assert_eq!(compared, 188);
    assert_eq!(predictor.embedding_dim(), 16 + 8);
    assert_eq!(predictor.members(), 1);
}

#[test]
fn training_is_deterministic() {
    let (a, b) = (
        out_dir("trainer-determinism-a"),
        out_dir("trainer-determinism-b"),
    );
    train_tiny(&a);
    train_tiny(&b);
    assert_eq!(
        std::fs::read(a.join("model.onnx")).unwrap(),
        std::fs::read(b.join("model.onnx")).unwrap(),
        "the same config and seed give the same model file"
    );
}

#[test]
fn an_ensemble_is_one_model_file_whose_first_member_is_the_single_model() {
    let single = out_dir("trainer-ensemble-single");
    train_tiny(&single);
    let dir = out_dir("trainer-ensemble");
    std::fs::create_dir_all(&dir).unwrap();
    let tiny =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/tiny.json"))
            .unwrap();
    let config = dir.join("config.json");
    let text = tiny.replace(
        "\"regressor_hidden\": 16 }",
        "\"regressor_hidden\": 16, \"members\": 2 }",
    );
    assert_ne!(
        text, tiny,
        "the tiny config's model line changed: update this test"
    );
    std::fs::write(&config, text).unwrap();
    train_with(&dir, config.to_str().unwrap());

    let (predictor, compared) = open_as_trained(&dir, &report_of(&dir));
    assert_eq!(compared, 188);
    assert_eq!(
        predictor.embedding_dim(),
        2 * (16 + 8),
        "the members' embeddings side by side"
    );
    assert_eq!(predictor.members(), 2, "cgpredict.members");
    // Member 0 trains from the config's seed exactly as the single model does, so its half of
    // the embedding is the single model's embedding; member 1 (seed + 1) differs.
    let lines = |dir: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(dir.join("check.jsonl"))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    let (ones, twos) = (lines(&single), lines(&dir));
    assert_eq!(ones.len(), twos.len());
    let mut member_gap = 0.0f32;
    for (one, two) in ones.iter().zip(&twos) {
        let (one, two) = (embedding_of(one), embedding_of(two));
        for (a, b) in one.iter().zip(&two[..24]) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
        }
        member_gap = one
            .iter()
            .zip(&two[24..])
            .map(|(a, b)| (a - b).abs())
            .fold(member_gap, f32::max);
    }
    assert!(member_gap > 1e-3, "the second member is another network");
}

#[test]
fn a_target_among_the_sources_is_refused() {
    let tiny =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/tiny.json"))
            .unwrap();
    // The target as a fit family, and the target as a selection of a fit family's benchmark.
    for (target, fit) in [("nb201", "nb201"), ("nb201_all", "nb201")] {
        let dir = out_dir(&format!("trainer-bad-config-{target}"));
        std::fs::create_dir_all(&dir).unwrap();
        let text = tiny.replace(
            "\"family\": \"nb301\"",
            &format!("\"family\": \"{target}\""),
        );
        let config = dir.join("config.json");
        std::fs::write(&config, text).unwrap();
        let output = train(&[
            "train",
            "--config",
            config.to_str().unwrap(),
            "--out-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "finetune.family {target} and the fit family {fit} are one benchmark"
            )),
            "{stderr}"
        );
        assert!(!dir.join("model.onnx").exists(), "nothing is written");
    }
}

/// `cgpredict-train eval` on the tiny config into `dir`, with `extra` arguments; its stderr.
fn eval_tiny(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "eval",
        "--config",
        "configs/eval-tiny.json",
        "--out-dir",
        dir.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = train(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn targets_run_apart_are_gathered_into_the_table_of_one_run() {
    let whole = out_dir("trainer-eval-whole");
    eval_tiny(&whole, &[]);
    let apart = out_dir("trainer-eval-apart");
    eval_tiny(&apart, &["--only", "nb301"]);
    eval_tiny(&apart, &["--only", "zoo"]);
    assert!(!apart.join("table.md").exists());
    assert!(apart.join("scatter_zoo_GNN-fine-tune.png").exists());
    let gathered = eval_tiny(&apart, &[]);
    assert_eq!(gathered.matches("reusing").count(), 2, "{gathered}");
    let table = |dir: &Path| std::fs::read_to_string(dir.join("table.md")).unwrap();
    assert_eq!(table(&apart), table(&whole));
    // A record of other settings is not reused: the target runs again, to the same table.
    let record = apart.join("targets/zoo.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    saved["key"]["seeds"] = 3.into();
    std::fs::write(&record, saved.to_string()).unwrap();
    let rerun = eval_tiny(&apart, &[]);
    assert_eq!(rerun.matches("reusing").count(), 1, "{rerun}");
    assert!(
        rerun.contains("from another config or trainer build"),
        "{rerun}"
    );
    assert_eq!(table(&apart), table(&whole));
    // A target the config does not have is refused by name.
    let output = train(&[
        "eval",
        "--config",
        "configs/eval-tiny.json",
        "--out-dir",
        apart.to_str().unwrap(),
        "--only",
        "nb101",
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--only nb101: not a target of configs/eval-tiny.json"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_tiny_evaluation_writes_table_1() {
    let dir = out_dir("trainer-eval-tiny");
    eval_tiny(&dir, &[]);
    let table = std::fs::read_to_string(dir.join("table.md")).unwrap();
    for row in [
        "| CL-fine-tune (ours) |",
        "| GNN-fine-tune (ours) |",
        "| CL-fine-tune, no fine-tuning (ours) |",
        "| CL-fine-tune, then ranking head (ours) |",
        "| GNN-fine-tune, then kernel correction (ours) |",
        "| GNN-fine-tune, score or head by CV (ours) |",
        "| GNN-fine-tune, adapt instead (ours) |",
        "| CL-fine-tune, ranking adapt instead (ours) |",
        "| synflow (measured, subset) |",
        "| CL-fine-tune (paper) |",
        "| MACs (baseline, same split) |",
        "| params (baseline, same split) |",
        "| least squares on (log MACs, log params) (baseline, same split) |",
        "| ridge on op histogram + log MACs + log params (baseline, same split) |",
    ] {
        assert!(table.contains(row), "{row} in\n{table}");
    }
    assert!(table.contains("chosen by cross-validation on the shots: nb301 CL-fine-tune"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("eval.json")).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    // 2 targets x (2 methods x (score or head by cross-validation, then a ranking head, then
    // a kernel correction, fine-tuned, not fine-tuned, adapted instead, ranking head instead)
    // + 4 baselines), 2 seeds each.
    assert_eq!(results.len(), 36);
    // One cell per baseline and target, whatever the number of methods.
    let macs: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["method"] == "baseline: MACs")
        .collect();
    assert_eq!(macs.len(), 2);
    for result in results {
        assert_eq!(result["srcc"].as_array().unwrap().len(), 2);
    }
    // Each fine-tuned seed ran the steps that cross-validation on its shots ranked best.
    let tuned: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["method"] == "CL-fine-tune" || r["method"] == "GNN-fine-tune")
        .collect();
    assert_eq!(tuned.len(), 4);
    for result in tuned {
        for choice in result["steps"].as_array().unwrap() {
            let candidates = choice["candidates"].as_array().unwrap();
            assert_eq!(candidates.len(), 2);
            let srcc = |c: &serde_json::Value| c["srcc"].as_f64().unwrap();
            let best = candidates.iter().map(srcc).fold(f64::MIN, f64::max);
            // Candidates are listed in increasing steps; ties go to fewer.
            let first_best = candidates.iter().find(|c| srcc(c) == best).unwrap();
            assert_eq!(choice["steps"], first_best["steps"], "{choice}");
        }
    }
    // Synflow's SRCC on the NB-301 subset as scipy computes it (`scipy.stats.spearmanr` of the
    // `synflow` and `val_accuracy` columns of data/zero_cost/nb301_500.csv.gz, scipy 1.17.1).
    // The paper reports -0.210 on its own sample; this subset gives +0.217.
    let synflow = report["zero_cost"]["synflow"]["nb301"][0].as_f64().unwrap();
    assert!(
        (synflow - 0.216_662_306_649_226_56).abs() < 1e-12,
        "{synflow}"
    );
    for file in [
        "srcc.png",
        "scatter_nb301_CL-fine-tune.png",
        "scatter_zoo_GNN-fine-tune.png",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
}

/// `cgpredict-train lofo` on the tiny config: each family ranked by a model trained on the
/// others, with the correction weight chosen on the sources, beside the baselines.
#[test]
fn the_tiny_leave_one_family_out_evaluation_prints_the_baselines() {
    let dir = out_dir("trainer-lofo-tiny");
    let output = train(&[
        "lofo",
        "--config",
        "configs/lofo-tiny.json",
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = std::fs::read_to_string(dir.join("table.md")).unwrap();
    for row in [
        "| cgpredict, zero-shot (ours) |",
        "| its prior alone (ours) |",
        "| MACs |",
        "| params |",
        "| least squares on (log MACs, log params) |",
        "| ridge on op histogram + log MACs + log params |",
        "| synflow (zero-cost proxy) |",
    ] {
        assert!(table.contains(row), "{row} in\n{table}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lofo.json")).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for result in results {
        // Chosen among the candidates by validation on the other families.
        let correction = result["correction"].as_f64().unwrap();
        assert!(correction == 0.0 || correction == 1.0, "{correction}");
        assert_eq!(result["validation"].as_array().unwrap().len(), 2);
        for srcc in result["rows"]["cgpredict, zero-shot (ours)"]
            .as_array()
            .unwrap()
        {
            assert!(srcc.as_f64().unwrap().is_finite());
        }
        assert_eq!(
            result["rows"]["MACs"].as_array().unwrap().len(),
            2,
            "one value per seed"
        );
    }
    // Synflow on the NB-301 subset as scipy computes it (see the_tiny_evaluation_writes_table_1).
    let nb301 = results.iter().find(|r| r["family"] == "nb301").unwrap();
    let synflow = nb301["subset_rows"]["synflow (zero-cost proxy)"][0]
        .as_f64()
        .unwrap();
    assert!(
        (synflow - 0.216_662_306_649_226_56).abs() < 1e-12,
        "{synflow}"
    );
    assert_eq!(nb301["subset_graphs"], 500);
}
