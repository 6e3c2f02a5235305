//! Every input the fuzz targets (`fuzz/`, `make fuzz`) found to break a property, kept as a
//! test so that the fix stays.

use cgpredict::features::Batch;
use cgpredict::graph::canonicalize;
use cgpredict::{Graph, Node, Op, Shape};

const S: Shape = Shape::new(8, 8, 4);

/// The properties the fuzz targets check (fuzz/src/lib.rs), as one assertion per property.
fn check_canonical_fixed_point(graph: &Graph) {
    let canonical = canonicalize(graph);
    let again = canonicalize(&canonical);
    assert_eq!(
        canonical.nodes().collect::<Vec<_>>(),
        again.nodes().collect::<Vec<_>>()
    );
    assert_eq!(
        canonical.edges().collect::<Vec<_>>(),
        again.edges().collect::<Vec<_>>()
    );
    assert_eq!(Batch::of_canonical(&[graph]), Batch::new([&canonical]));
}

/// Canonicalizing a canonical graph changed its edge order: edges were emitted by the
/// successors' original ids, and a node inserted before its sibling (here the `add`, id 1)
/// can get a later canonical id than it (the conv, id 2), so the second pass sorted them
/// the other way.
#[test]
fn canonical_edge_order_is_a_fixed_point() {
    let mut graph = Graph::new();
    for node in [
        Node::same_shape(Op::Input, S),
        Node::same_shape(Op::Add, S),
        Node::new(Op::Conv, S, S).with_kernel(3, 3),
        Node::same_shape(Op::Output, S),
    ] {
        graph.add_node(node).unwrap();
    }
    for (from, to) in [(0, 1), (0, 2), (2, 1), (1, 3)] {
        graph.add_edge(from, to).unwrap();
    }
    let canonical = canonicalize(&graph);
    assert_eq!(
        canonical.edges().collect::<Vec<_>>(),
        [(0, 1), (0, 2), (1, 2), (2, 3)],
        "edges sorted by canonical source, then canonical target"
    );
    check_canonical_fixed_point(&graph);
}

/// `predictor_model` (ASan, libFuzzer's 1 GB limits) found a model file that loads as a
/// cgpredict model and whose ConstantOfShape asks ONNX Runtime for 456 GB when it runs. The
/// fuzzer aborted at the allocation; in a normal build ONNX Runtime's arena refuses it and
/// scoring fails with a runtime error naming the node, which is what this checks.
#[test]
fn a_model_asking_for_456_gb_fails_to_run_with_an_error() {
    use cgpredict::ErrorKind;
    use cgpredict::runtime::{Device, Predictor, PredictorOptions};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/predictor_model_456gb_constant_of_shape.onnx");
    let options = PredictorOptions {
        model: Some(path),
        device: Device::Cpu,
        ..PredictorOptions::default()
    };
    let predictor = Predictor::open(&options).expect("the fuzzed file is a cgpredict model");
    let graph = cgpredict::import::nasbench201(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        10,
    )
    .unwrap();
    let error = predictor.predict(&[&graph]).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Runtime, "{error}");
    assert!(error.message.contains("ConstantOfShape"), "{error}");
}
