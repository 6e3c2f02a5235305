//! `cgpredict graph from-onnx`, run as a user would.

mod common;

use common::{cgpredict, stdout};

use cgpredict::Graph;
use cgpredict::import::onnx::graph_from_onnx_file;

const RESNET18: &str = "data/zoo/torchvision/ResNet18_Weights.IMAGENET1K_V1.onnx.gz";

#[test]
fn from_onnx_prints_summary_graph_and_report() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(RESNET18);
    let (expected, _) = graph_from_onnx_file(&path).unwrap();

    let summary = stdout(&cgpredict(&["graph", "from-onnx", RESNET18]));
    assert!(
        summary.contains(&format!("MACs   {}\n", expected.macs())),
        "{summary}"
    );
    let conv_row: Vec<&str> = summary
        .lines()
        .find(|line| line.starts_with("Conv "))
        .map(|line| line.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(conv_row, ["Conv", "20", "0", "0"], "{summary}");

    let json = stdout(&cgpredict(&["graph", "from-onnx", "--json", RESNET18]));
    assert_eq!(
        Graph::from_json(&json).unwrap().to_json(),
        expected.to_json()
    );

    let dot = stdout(&cgpredict(&["graph", "from-onnx", "--dot", RESNET18]));
    assert!(dot.starts_with("digraph"), "{dot}");

    let report: serde_json::Value = serde_json::from_str(&stdout(&cgpredict(&[
        "graph",
        "from-onnx",
        "--report",
        "--json",
        RESNET18,
    ])))
    .unwrap();
    assert_eq!(report["ops"]["Conv"]["mapped"], 20);
    assert_eq!(report["ops"]["Flatten"]["folded"], 1);
    assert_eq!(
        report["cg_nodes"].as_u64(),
        Some(expected.node_count() as u64)
    );
}

#[test]
fn from_onnx_takes_another_input_shape() {
    let double = stdout(&cgpredict(&[
        "graph",
        "from-onnx",
        "--json",
        "--input-shape",
        "1x3x448x448",
        RESNET18,
    ]));
    let single = stdout(&cgpredict(&["graph", "from-onnx", "--json", RESNET18]));
    let (double, single) = (
        Graph::from_json(&double).unwrap(),
        Graph::from_json(&single).unwrap(),
    );
    // Every feature map doubles in height and width, so convolutions cost four times as
    // much; the classifier after global pooling does not grow.
    let classifier = 512 * 1000;
    assert_eq!(double.macs() - classifier, 4 * (single.macs() - classifier));
}

#[test]
fn from_onnx_takes_input_shapes_by_name() {
    let import = |shape: &str| {
        stdout(&cgpredict(&[
            "graph",
            "from-onnx",
            "--json",
            "--input-shape",
            shape,
            RESNET18,
        ]))
    };
    assert_eq!(import("input=1x3x448x448"), import("1x3x448x448"));
    let output = cgpredict(&[
        "graph",
        "from-onnx",
        "--input-shape",
        "image=1x3x8x8",
        RESNET18,
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("'image', which is not a data input of the graph (its data inputs: 'input')"),
        "{stderr}"
    );
    let twice = [
        "graph",
        "from-onnx",
        "--input-shape",
        "1x3x8x8",
        "--input-shape",
        "2x3x8x8",
        RESNET18,
    ];
    let stderr = String::from_utf8_lossy(&cgpredict(&twice).stderr).into_owned();
    assert!(stderr.contains("--input-shape is given twice"), "{stderr}");
}

#[test]
fn from_onnx_failures_exit_nonzero_with_the_reason() {
    let output = cgpredict(&["graph", "from-onnx", "Cargo.toml"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a valid ONNX protobuf"), "{stderr}");
    let output = cgpredict(&["graph", "from-onnx", "--input-shape", "1x3xfoo", RESNET18]);
    assert!(!output.status.success());
}
