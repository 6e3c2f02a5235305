//! The `cgpredict` binary, run as a user would.

mod common;

use common::{cgpredict, stdout};

#[test]
fn graph_info_summarizes_the_example_graph() {
    let text = stdout(&cgpredict(&[
        "graph",
        "info",
        "examples/graphs/residual_block.json",
    ]));
    // Hand count: two 3x3 convs of 16->16 (2 * 2304) and two affine BNs (2 * 32).
    assert!(
        text.contains("nodes  9\nedges  9\nparams 4672\nMACs   4718592\n"),
        "{text}"
    );
    assert!(text.contains("  conv             2\n"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&cgpredict(&[
        "graph",
        "info",
        "--json",
        "examples/graphs/residual_block.json",
    ])))
    .unwrap();
    assert_eq!(json["params"], 4672);
    assert_eq!(json["ops"]["batch_norm"], 2);
}

#[test]
fn graph_dot_draws_every_edge() {
    let dot = stdout(&cgpredict(&[
        "graph",
        "dot",
        "examples/graphs/residual_block.json",
    ]));
    assert!(dot.starts_with("digraph cg {"));
    assert_eq!(dot.matches(" -> n").count(), 9);
}

#[test]
fn errors_name_the_file_and_fail() {
    let output = cgpredict(&["graph", "info", "no/such/file.json"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: no/such/file.json: "), "{stderr}");

    let bad = std::env::temp_dir().join("cgpredict-cli-bad.json");
    std::fs::write(
        &bad,
        r#"{"format": "cgpredict-graph", "version": 1, "nodes": [], "edges": [[0, 1]]}"#,
    )
    .unwrap();
    let output = cgpredict(&["graph", "info", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("source node 0 does not exist"), "{stderr}");
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["graph", "--help"],
        &["graph", "info", "--help"],
        &["graph", "dot", "--help"],
    ] {
        let text = stdout(&cgpredict(args));
        assert!(text.contains("Usage:"), "{args:?}: {text}");
    }
}
