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
