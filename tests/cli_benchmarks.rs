//! `cgpredict graph from-nb101` and `from-nb201`, run as a user would.

mod common;

use std::process::Output;

use common::{cgpredict, stdout};

fn stderr(output: &Output) -> String {
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const CHAIN: &str = "[[0,1,0],[0,0,1],[0,0,0]]";
const CHAIN_OPS: &str = r#"["input","conv3x3-bn-relu","output"]"#;

#[test]
fn from_nb101_prints_the_summary_json_or_dot() {
    // Counted by hand in import::nasbench101's tests.
    let text = stdout(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        CHAIN,
        "--ops",
        CHAIN_OPS,
    ]));
    assert!(
        text.starts_with("nodes  63\nedges  62\nparams 10177674\nMACs   1496716288\n"),
        "{text}"
    );
    let json = stdout(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        CHAIN,
        "--ops",
        CHAIN_OPS,
        "--json",
    ]));
    let graph = cgpredict::Graph::from_json(&json).unwrap();
    assert_eq!(graph.param_count(), 10_177_674);
    let dot = stdout(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        CHAIN,
        "--ops",
        CHAIN_OPS,
        "--dot",
    ]));
    assert_eq!(dot.matches(" -> n").count(), 62);
}

#[test]
fn from_nb101_prunes_on_request() {
    // Vertex 2 leads nowhere; pruned, the cell is the chain above.
    let adjacency = "[[0,1,1,0],[0,0,0,1],[0,0,0,0],[0,0,0,0]]";
    let ops = r#"["input","conv3x3-bn-relu","maxpool3x3","output"]"#;
    let err = stderr(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        adjacency,
        "--ops",
        ops,
    ]));
    assert!(
        err.contains("vertex 2 (maxpool3x3) has no path to the output"),
        "{err}"
    );
    let text = stdout(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        adjacency,
        "--ops",
        ops,
        "--prune",
    ]));
    assert!(text.contains("params 10177674\n"), "{text}");
}

#[test]
fn from_nb201_takes_classes_and_resolution() {
    let arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";
    // The smallest NAS-Bench-201 networks: 0.073306M parameters on CIFAR-10, 0.080456M on
    // ImageNet16-120 (benchmark file v1.1).
    let text = stdout(&cgpredict(&["graph", "from-nb201", arch]));
    assert!(text.contains("params 73306\n"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&cgpredict(&[
        "graph",
        "from-nb201",
        arch,
        "--classes",
        "120",
        "--resolution",
        "16",
        "--json",
    ])))
    .unwrap();
    assert_eq!(json["nodes"][0]["output"], serde_json::json!([16, 16, 3]));
    let graph = cgpredict::Graph::from_json(&json.to_string()).unwrap();
    assert_eq!(graph.param_count(), 80_456);
}

#[test]
fn bad_cells_fail_with_the_reason() {
    let err = stderr(&cgpredict(&[
        "graph",
        "from-nb201",
        "|none~0|+|none~0|none~1|",
    ]));
    assert!(err.starts_with("error: NAS-Bench-201 arch "), "{err}");
    assert!(err.contains("2 node(s)"), "{err}");
    let err = stderr(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        "[[0,1],[0]]",
        "--ops",
        r#"["input","output"]"#,
    ]));
    assert!(err.contains("adjacency row 1 has 1 entries"), "{err}");
    let err = stderr(&cgpredict(&[
        "graph",
        "from-nb101",
        "--adjacency",
        CHAIN,
        "--ops",
        CHAIN_OPS,
        "--json",
        "--dot",
    ]));
    assert!(err.contains("cannot be used with"), "{err}");
    for args in [
        ["graph", "from-nb101", "--help"],
        ["graph", "from-nb201", "--help"],
    ] {
        assert!(stdout(&cgpredict(&args)).contains("Usage:"));
    }
}
