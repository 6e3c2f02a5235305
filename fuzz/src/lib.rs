//! Properties every fuzz target checks on each graph its input produced.

use cgpredict::Graph;
use cgpredict::features::Batch;
use cgpredict::graph::canonicalize;

/// A graph that an importer or reader accepted must survive the library's own passes:
/// canonical form is a fixed point (nodes and edges, in order), the featurizer's shortcut
/// agrees with featurizing the canonical graph, and JSON round-trips exactly.
pub fn check_graph(graph: &Graph) {
    let canonical = canonicalize(graph);
    let again = canonicalize(&canonical);
    assert_eq!(
        canonical.nodes().collect::<Vec<_>>(),
        again.nodes().collect::<Vec<_>>(),
        "canonicalize is not idempotent on nodes"
    );
    assert_eq!(
        canonical.edges().collect::<Vec<_>>(),
        again.edges().collect::<Vec<_>>(),
        "canonicalize is not idempotent on edge order"
    );
    assert_eq!(
        Batch::of_canonical(&[graph]),
        Batch::new([&canonical]),
        "Batch::of_canonical differs from Batch::new of the canonical graph"
    );
    let json = graph.to_json();
    let read = Graph::from_json(&json).expect("a graph's own JSON reads back");
    assert_eq!(json, read.to_json(), "JSON does not round-trip");
}
