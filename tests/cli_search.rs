//! `cgpredict search`, run as a user would. The predictor-guided run uses the runtime's test
//! model (needs ONNX Runtime: run scripts/fetch-onnxruntime.sh first).

mod common;

use common::{cgpredict, stdout};

#[test]
fn baselines_report_accuracy_rank_and_queries_as_json() {
    let text = stdout(&cgpredict(&[
        "search",
        "--space",
        "nb201",
        "--queries",
        "25",
        "--runs",
        "3",
        "--seed",
        "4",
        "--methods",
        "random,evolution",
        "--json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["space"], "nb201");
    assert_eq!(report["table"]["architectures"], 15_625);
    let methods = report["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 2);
    assert_eq!(methods[0]["name"], "random search");
    assert_eq!(methods[1]["config"]["method"], "evolution");
    for method in methods {
        let runs = method["runs"].as_array().unwrap();
        let seeds: Vec<u64> = runs.iter().map(|r| r["seed"].as_u64().unwrap()).collect();
        assert_eq!(seeds, [4, 5, 6]);
        let accuracies: Vec<f64> = runs
            .iter()
            .map(|r| r["accuracy"].as_f64().unwrap())
            .collect();
        let mean = accuracies.iter().sum::<f64>() / 3.0;
        assert!((method["accuracy"]["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
        for run in runs {
            assert_eq!(run["queries"], 25);
            let curve = run["best_so_far"].as_array().unwrap();
            assert_eq!(curve.len(), 25);
            assert_eq!(curve[24], run["accuracy"]);
            let rank = run["rank"].as_u64().unwrap();
            assert!((1..=15_625).contains(&rank));
        }
    }
}

#[test]
fn text_report_has_one_row_per_method() {
    let text = stdout(&cgpredict(&[
        "search",
        "--space",
        "ofa",
        "--queries",
        "20",
        "--runs",
        "2",
        "--methods",
        "random",
    ]));
    assert!(
        text.contains("OFA's published accuracy predictor"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|line| line.starts_with("random search"))
        .unwrap();
    // OFA has no table: no rank.
    assert!(
        row.contains(" - ") && row.trim_end().ends_with("20"),
        "{row}"
    );
}

#[test]
fn predictor_guided_search_runs_with_a_model() {
    let text = stdout(&cgpredict(&[
        "search",
        "--space",
        "nb201",
        "--queries",
        "20",
        "--runs",
        "1",
        "--methods",
        "predictor",
        "--model",
        "tests/fixtures/runtime/good.onnx",
        "--json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["model"], "tests/fixtures/runtime/good.onnx");
    let method = &report["methods"][0];
    assert_eq!(method["name"], "predictor-guided EA");
    // The default warm-up is capped at half the budget.
    assert_eq!(method["config"]["warmup"], 10);
    assert_eq!(method["runs"][0]["queries"], 20);
}

#[test]
fn bad_requests_are_errors_that_say_why() {
    let fails = |args: &[&str], fragment: &str| {
        let output = cgpredict(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(fragment),
            "{stderr}"
        );
    };
    fails(
        &[
            "search",
            "--space",
            "nb201",
            "--queries",
            "10",
            "--model",
            "/nonexistent/m.onnx",
        ],
        "/nonexistent/m.onnx",
    );
    fails(
        &[
            "search",
            "--space",
            "nb201",
            "--queries",
            "0",
            "--methods",
            "random",
        ],
        "at least 1 query",
    );
    fails(
        &[
            "search",
            "--space",
            "nb201",
            "--queries",
            "9",
            "--runs",
            "0",
            "--methods",
            "random",
        ],
        "--runs",
    );
    fails(
        &[
            "search",
            "--space",
            "nb101",
            "--queries",
            "9",
            "--max-macs",
            "300",
            "--methods",
            "random",
        ],
        "--space ofa only",
    );
    fails(&["search", "--space", "nb999", "--queries", "9"], "nb999");
}
