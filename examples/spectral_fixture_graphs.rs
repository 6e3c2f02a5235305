//! Writes the graphs of the spectral fixtures as gzipped CG JSON into
//! `tests/fixtures/spectral/graphs/`, for `scripts/fixtures/spectral_fixtures.py` to
//! compute their reference spectra with numpy:
//!
//! ```sh
//! cargo run --example spectral_fixture_graphs
//! python3 scripts/fixtures/spectral_fixtures.py
//! ```
//!
//! Any other `*.json` or `*.json.gz` CG in that folder (a real benchmark network, say) is
//! picked up by the script and the tests alike.

#[path = "../tests/support/cg_like.rs"]
mod cg_like;

use std::io::Write;
use std::path::Path;

use cgpredict::{Graph, Node, NodeId, Op, Shape};
use flate2::Compression;
use flate2::write::GzEncoder;

/// conv3x3-bn-relu, conv3x3-bn, add with the block input, relu, on 32x32x16 (the graph
/// module's test block, rebuilt here through the public API).
fn residual_block() -> Graph {
    let s = Shape::new(32, 32, 16);
    let mut g = Graph::new();
    let mut add = |node: Node| g.add_node(node).expect("valid node");
    let input = add(Node::same_shape(Op::Input, s));
    let conv1 = add(Node::new(Op::Conv, s, s).with_kernel(3, 3));
    let bn1 = add(Node::same_shape(Op::BatchNorm, s).with_bias(true));
    let relu1 = add(Node::same_shape(Op::Relu, s));
    let conv2 = add(Node::new(Op::Conv, s, s).with_kernel(3, 3));
    let bn2 = add(Node::same_shape(Op::BatchNorm, s).with_bias(true));
    let sum = add(Node::same_shape(Op::Add, s));
    let relu2 = add(Node::same_shape(Op::Relu, s));
    let output = add(Node::same_shape(Op::Output, s));
    for (a, b) in [
        (input, conv1),
        (conv1, bn1),
        (bn1, relu1),
        (relu1, conv2),
        (conv2, bn2),
        (bn2, sum),
        (input, sum),
        (sum, relu2),
        (relu2, output),
    ] {
        g.add_edge(a, b).expect("valid edge");
    }
    g
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spectral/graphs");
    std::fs::create_dir_all(&dir).expect("create the fixture folder");
    let mut graphs: Vec<(String, Graph)> = vec![
        ("residual_block".into(), residual_block()),
        ("path_4".into(), cg_like::path(4)),
        ("path_30".into(), cg_like::path(30)),
        ("cycle_12".into(), cg_like::cycle(12)),
        ("star_9".into(), cg_like::star(9)),
        ("complete_7".into(), cg_like::complete(7)),
        (
            "complete_bipartite_3_5".into(),
            cg_like::complete_bipartite(3, 5),
        ),
        ("single_node".into(), cg_like::from_edges(1, &[])),
        ("isolated_5".into(), cg_like::from_edges(5, &[])),
        // A path of 6, a triangle, and two isolated nodes.
        (
            "disconnected_11".into(),
            cg_like::from_edges(
                11,
                &[
                    (0, 1),
                    (1, 2),
                    (2, 3),
                    (3, 4),
                    (4, 5),
                    (6, 7),
                    (7, 8),
                    (6, 8),
                ],
            ),
        ),
        ("spider_12x8".into(), cg_like::spider(12, 8)),
        (
            "parallel_chain_40x3x3".into(),
            cg_like::parallel_chain(40, 3, 3),
        ),
    ];
    for (size, seeds) in [(100, [1, 2, 3]), (1000, [1, 2, 3])] {
        for seed in seeds {
            graphs.push((
                format!("cg_like_{size}_{seed}"),
                cg_like::cg_like(size, seed),
            ));
        }
    }
    for (name, graph) in &graphs {
        let path = dir.join(format!("{name}.json.gz"));
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(graph.to_json().as_bytes())
            .and_then(|()| encoder.finish())
            .and_then(|bytes| std::fs::write(&path, bytes))
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        println!(
            "{} ({} nodes, {} edges)",
            path.display(),
            graph.node_count(),
            graph.edge_count()
        );
    }
}
