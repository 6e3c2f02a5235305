//! Computation graph → model inputs: the one feature schema shared by the trainer and the
//! runtime.
//!
//! A batch of graphs becomes four tensors, the inputs of every cgpredict model file:
//!
//! | input | type | shape | meaning |
//! |---|---|---|---|
//! | `node_features` | f32 | `[N, NODE_FEATURES]` | every node of every graph, graph after graph |
//! | `edge_index` | i64 | `[2, E]` | row 0 sources, row 1 targets, as batch-wide node indices |
//! | `graph_index` | i64 | `[N]` | the graph (0..B) each node belongs to, non-decreasing |
//! | `graph_features` | f32 | `[B, GRAPH_FEATURES]` | whole-graph features |
//!
//! and a model answers `score` (f32 `[B]`, higher = better predicted accuracy) and
//! `embedding` (f32 `[B, D]`). This concatenated form batches graphs of any sizes without
//! padding; message passing is a gather over `edge_index` and a scatter-add, pooling a
//! scatter-add over `graph_index`.
//!
//! Node features (schema 1), in this order:
//! - one-hot op over [`KNOWN_OPS`] then one slot for any unknown op;
//! - `log2(1 + x) / 12` of in H, W, C and out H, W, C;
//! - `log2(x) / 4` of kernel h, w, stride h, w, dilation h, w;
//! - `log2(groups) / 12`, the bias flag;
//! - `log2(1 + x) / 12` of the first four weight dimensions (0 when absent);
//! - `log2(1 + params) / 24`, `log2(1 + MACs) / 32` of the node.
//!
//! Graph features: `log2(1 + x)` of parameters / 32, MACs / 40, nodes / 16, edges / 16,
//! the longest input-to-output path in nodes / 12, the first input's H / 12 and the last
//! output's C / 12.
//!
//! The scales keep every feature roughly in [0, 1] for the sizes of real networks. Any change
//! to the features, their order or scales, or to [`KNOWN_OPS`] other than appending, needs a
//! new [`SCHEMA_VERSION`]; model files record the version and the vocabulary, and loading
//! checks both.

use std::borrow::Borrow;
use std::sync::LazyLock;

use crate::graph::{Graph, KNOWN_OPS, Node, NodeId, Op, canonical_parts};

/// The version of the feature schema described in the module documentation.
pub const SCHEMA_VERSION: u32 = 1;

/// Features per node: op one-hot (known ops + unknown), 6 sizes, 6 window fields, groups,
/// bias, 4 weight dimensions, parameters, MACs.
pub const NODE_FEATURES: usize = KNOWN_OPS.len() + 1 + 6 + 6 + 2 + 4 + 2;

/// Features per graph: parameters, MACs, nodes, edges, depth, input H, output C.
pub const GRAPH_FEATURES: usize = 7;

/// The divisors of `log2(1 + parameters)` and `log2(1 + MACs)`, the first two graph features.
const PARAMS_SCALE: f32 = 32.0;
const MACS_SCALE: f32 = 40.0;

/// The op vocabulary of this schema, in one-hot order, ending with `unknown`; model files
/// store it so that a model trained on another vocabulary is refused.
pub fn op_vocabulary() -> Vec<&'static str> {
    KNOWN_OPS.iter().map(Op::name).chain(["unknown"]).collect()
}

fn log_size(x: u64, scale: f32) -> f32 {
    log2_1p(x) / scale
}

/// `log2(1 + x)` in f32, from a table for small `x` (sizes, kernels, weight dimensions mostly
/// are): `log2` is a large part of featurizing, and the table holds the same values.
fn log2_1p(x: u64) -> f32 {
    static TABLE: LazyLock<Vec<f32>> =
        LazyLock::new(|| (0..4096u64).map(compute_log2_1p).collect());
    usize::try_from(x)
        .ok()
        .and_then(|i| TABLE.get(i).copied())
        .unwrap_or_else(|| compute_log2_1p(x))
}

fn compute_log2_1p(x: u64) -> f32 {
    (x as f64 + 1.0).log2() as f32
}

/// Features of one node (see the module documentation).
pub fn node_features(node: &Node) -> [f32; NODE_FEATURES] {
    let mut features = [0.0f32; NODE_FEATURES];
    let slot = node.op.vocabulary_index().unwrap_or(KNOWN_OPS.len());
    features[slot] = 1.0;
    let mut next = KNOWN_OPS.len() + 1;
    let mut push = |value: f32| {
        features[next] = value;
        next += 1;
    };
    let (input, output) = (node.input, node.output);
    for size in [input.h, input.w, input.c, output.h, output.w, output.c] {
        push(log_size(u64::from(size), 12.0));
    }
    for window in [node.kernel, node.stride, node.dilation]
        .into_iter()
        .flatten()
    {
        // log2(x) = log2(1 + (x - 1)), exactly so in f64 for these sizes.
        push(log2_1p(u64::from(window.max(1)) - 1) / 4.0);
    }
    push(log2_1p(u64::from(node.groups.max(1)) - 1) / 12.0);
    push(if node.has_bias { 1.0 } else { 0.0 });
    for index in 0..4 {
        push(
            node.weight_shape
                .get(index)
                .map_or(0.0, |&dim| log_size(dim, 12.0)),
        );
    }
    push(log_size(node.param_count().unwrap_or(u64::MAX), 24.0));
    push(log_size(node.macs().unwrap_or(u64::MAX), 32.0));
    features
}

/// Features of a whole graph (see the module documentation).
pub fn graph_features(graph: &Graph) -> [f32; GRAPH_FEATURES] {
    let nodes: Vec<&Node> = graph.nodes().map(|(_, node)| node).collect();
    whole_graph_features(&nodes, graph.edge_count(), longest_path(graph))
}

/// [`graph_features`] from the nodes (in id order), the edge count and the longest path.
fn whole_graph_features<N: Borrow<Node>>(
    nodes: &[N],
    edges: usize,
    longest_path: u64,
) -> [f32; GRAPH_FEATURES] {
    let nodes = || nodes.iter().map(Borrow::borrow);
    // Saturating sums, as Graph::param_count and Graph::macs.
    let params = nodes()
        .map(|node: &Node| node.param_count().unwrap_or(u64::MAX))
        .fold(0, u64::saturating_add);
    let macs = nodes()
        .map(|node: &Node| node.macs().unwrap_or(u64::MAX))
        .fold(0, u64::saturating_add);
    let input_h = nodes()
        .find(|node: &&Node| node.op == Op::Input)
        .map_or(0, |node| node.input.h);
    let output_c = nodes()
        .filter(|node: &&Node| node.op == Op::Output)
        .last()
        .map_or(0, |node| node.output.c);
    [
        log_size(params, PARAMS_SCALE),
        log_size(macs, MACS_SCALE),
        log_size(nodes().count() as u64, 16.0),
        log_size(edges as u64, 16.0),
        log_size(longest_path, 12.0),
        log_size(u64::from(input_h), 12.0),
        log_size(u64::from(output_c), 12.0),
    ]
}

/// Nodes on the longest path of the DAG (0 for an empty graph).
fn longest_path(graph: &Graph) -> u64 {
    let mut depth = vec![0u64; graph.node_count()];
    let mut longest = 0;
    for id in graph.topological_order() {
        let here = depth[id as usize] + 1;
        longest = longest.max(here);
        for next in graph.successors(id) {
            depth[next as usize] = depth[next as usize].max(here);
        }
    }
    longest
}

/// [`longest_path`] of nodes `0..count` in topological order, with the edges grouped by
/// ascending source (as canonical parts are): each node's depth is final before its edges out.
fn longest_path_forward(count: usize, edges: &[(NodeId, NodeId)]) -> u64 {
    debug_assert!(edges.iter().all(|&(from, to)| from < to));
    debug_assert!(edges.is_sorted_by_key(|&(from, _)| from));
    let mut depth = vec![1u64; count];
    for &(from, to) in edges {
        depth[to as usize] = depth[to as usize].max(depth[from as usize] + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// A batch of graphs in the model's input form (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// `[nodes, NODE_FEATURES]`, row-major.
    pub node_features: Vec<f32>,
    /// `[2, edges]`, row-major: every source, then every target.
    pub edge_index: Vec<i64>,
    /// `[nodes]`.
    pub graph_index: Vec<i64>,
    /// `[graphs, GRAPH_FEATURES]`, row-major.
    pub graph_features: Vec<f32>,
    pub num_graphs: usize,
}

impl Batch {
    /// Featurizes `graphs`, each in its own id order.
    pub fn new<'a>(graphs: impl IntoIterator<Item = &'a Graph>) -> Batch {
        let mut batch = Batch::default();
        let mut targets = Vec::new();
        for graph in graphs {
            let edges: Vec<(NodeId, NodeId)> = graph.edges().collect();
            batch.push(
                graph.nodes().map(|(_, node)| node),
                &edges,
                graph_features(graph),
                &mut targets,
            );
        }
        batch.finish(targets);
        batch
    }

    /// Featurizes the canonical forms of `graphs` ([`crate::graph::canonicalize`]), as the
    /// runtime feeds its models: the same batch as [`Batch::new`] on the canonical graphs,
    /// computed without building them (building, with its checks and copies, would cost more
    /// than the rules).
    pub fn of_canonical(graphs: &[&Graph]) -> Batch {
        let parts: Vec<_> = graphs.iter().map(|graph| canonical_parts(graph)).collect();
        let nodes: usize = parts.iter().map(|(nodes, _)| nodes.len()).sum();
        let edges: usize = parts.iter().map(|(_, edges)| edges.len()).sum();
        let mut batch = Batch {
            node_features: Vec::with_capacity(nodes * NODE_FEATURES),
            edge_index: Vec::with_capacity(2 * edges),
            graph_index: Vec::with_capacity(nodes),
            graph_features: Vec::with_capacity(graphs.len() * GRAPH_FEATURES),
            num_graphs: 0,
        };
        let mut targets = Vec::with_capacity(edges);
        for (nodes, edges) in &parts {
            let features =
                whole_graph_features(nodes, edges.len(), longest_path_forward(nodes.len(), edges));
            batch.push(
                nodes.iter().map(|node| &**node),
                edges,
                features,
                &mut targets,
            );
        }
        batch.finish(targets);
        batch
    }

    /// Appends one graph: node rows, sources (targets collected apart), whole-graph row.
    fn push<'a>(
        &mut self,
        nodes: impl Iterator<Item = &'a Node>,
        edges: &[(NodeId, NodeId)],
        features: [f32; GRAPH_FEATURES],
        targets: &mut Vec<i64>,
    ) {
        let offset = self.graph_index.len() as i64;
        for node in nodes {
            self.node_features.extend(node_features(node));
            self.graph_index.push(self.num_graphs as i64);
        }
        for &(from, to) in edges {
            self.edge_index.push(offset + i64::from(from));
            targets.push(offset + i64::from(to));
        }
        self.graph_features.extend(features);
        self.num_graphs += 1;
    }

    /// Puts the targets after the sources: `edge_index` is `[2, E]`.
    fn finish(&mut self, targets: Vec<i64>) {
        self.edge_index.extend(targets);
    }

    /// `[log2(1 + MACs), log2(1 + parameters)]` of each graph, read back from its whole-graph
    /// features: the scale of a network, which few-shot heads fit beside the embedding.
    pub fn log_scales(&self) -> Vec<[f32; 2]> {
        self.graph_features
            .chunks_exact(GRAPH_FEATURES)
            .map(|row| [row[1] * MACS_SCALE, row[0] * PARAMS_SCALE])
            .collect()
    }

    pub fn num_nodes(&self) -> usize {
        self.graph_index.len()
    }

    pub fn num_edges(&self) -> usize {
        self.edge_index.len() / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Shape;

    #[test]
    fn a_conv_node_by_hand() {
        let node = Node::new(Op::Conv, Shape::new(32, 32, 16), Shape::new(16, 16, 32))
            .with_kernel(3, 3)
            .with_stride(2, 2)
            .with_bias(true);
        let mut g = Graph::new();
        g.add_node(node).unwrap();
        let f = node_features(g.node(0).unwrap());
        let one_hot = KNOWN_OPS.len() + 1;
        assert_eq!(f[..one_hot].iter().filter(|&&x| x == 1.0).count(), 1);
        assert_eq!(f[Op::Conv.vocabulary_index().unwrap()], 1.0);
        let expect =
            |got: f32, want: f64| assert!((f64::from(got) - want).abs() < 1e-6, "{got} vs {want}");
        expect(f[one_hot], 33f64.log2() / 12.0); // in_h
        expect(f[one_hot + 2], 17f64.log2() / 12.0); // in_c
        expect(f[one_hot + 5], 33f64.log2() / 12.0); // out_c
        expect(f[one_hot + 6], 3f64.log2() / 4.0); // kernel_h
        expect(f[one_hot + 8], 0.25); // stride_h = 2
        expect(f[one_hot + 10], 0.0); // dilation_h = 1
        expect(f[one_hot + 12], 0.0); // groups = 1
        expect(f[one_hot + 13], 1.0); // bias
        expect(f[one_hot + 14], 33f64.log2() / 12.0); // weight dim 0 = 32
        expect(f[one_hot + 16], 4f64.log2() / 12.0); // weight dim 2 = 3
        // 32 * 16 * 9 weights + 32 biases = 4640; 16 * 16 * 32 * 16 * 9 MACs = 1,179,648.
        expect(f[one_hot + 18], 4641f64.log2() / 24.0);
        expect(f[one_hot + 19], 1_179_649f64.log2() / 32.0);
        assert_eq!(one_hot + 20, NODE_FEATURES);
    }

    #[test]
    fn log_scales_read_back_the_graphs_macs_and_parameters() {
        // The conv node of `a_conv_node_by_hand`: 4,640 parameters, 1,179,648 MACs.
        let mut g = Graph::new();
        g.add_node(
            Node::new(Op::Conv, Shape::new(32, 32, 16), Shape::new(16, 16, 32))
                .with_kernel(3, 3)
                .with_stride(2, 2)
                .with_bias(true),
        )
        .unwrap();
        let [log_macs, log_params] = Batch::new([&g]).log_scales()[0];
        assert!((f64::from(log_macs) - 1_179_649f64.log2()).abs() < 1e-4);
        assert!((f64::from(log_params) - 4641f64.log2()).abs() < 1e-4);
    }

    #[test]
    fn the_log_table_holds_the_computed_values() {
        for x in (0..5000u64).chain([u64::MAX / 3, u64::MAX]) {
            assert_eq!(log2_1p(x).to_bits(), compute_log2_1p(x).to_bits(), "{x}");
        }
        for x in 1..5000u32 {
            assert_eq!(log2_1p(u64::from(x) - 1), f64::from(x).log2() as f32, "{x}");
        }
    }

    #[test]
    fn unknown_ops_share_the_last_one_hot_slot() {
        let mut g = Graph::new();
        g.add_node(Node::same_shape(
            Op::Unknown("Einsum".into()),
            Shape::vector(4),
        ))
        .unwrap();
        let f = node_features(g.node(0).unwrap());
        assert_eq!(f[KNOWN_OPS.len()], 1.0);
        assert_eq!(op_vocabulary().last(), Some(&"unknown"));
        assert_eq!(op_vocabulary().len(), KNOWN_OPS.len() + 1);
    }

    fn chain(ops: &[Op]) -> Graph {
        let s = Shape::new(8, 8, 4);
        let mut g = Graph::new();
        let mut previous = None;
        for op in ops {
            let id = g.add_node(Node::same_shape(op.clone(), s)).unwrap();
            if let Some(previous) = previous {
                g.add_edge(previous, id).unwrap();
            }
            previous = Some(id);
        }
        g
    }

    /// The runtime's path (canonical parts, never built) featurizes exactly as building the
    /// canonical graphs does, on networks that exercise every canonicalization rule.
    #[test]
    fn of_canonical_featurizes_as_the_canonical_graphs() {
        use crate::graph::canonicalize;
        use crate::import::Nb101Spec;
        use crate::import::darts::{Genotype, darts};
        use crate::import::nasbench201::Nb201Arch;
        use crate::import::ofa::ofa_mbv3;

        let mut graphs: Vec<Graph> = (0..Nb201Arch::COUNT)
            .step_by(97)
            .map(|i| Nb201Arch::from_index(i).unwrap().to_graph(10, 32).unwrap())
            .collect();
        let genotype = r#"{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]], "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1], ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]}"#;
        graphs.push(darts(&Genotype::from_json(genotype).unwrap()).unwrap());
        graphs.push(ofa_mbv3(&[5; 20], &[4; 20], &[2, 3, 4, 3, 2], 192).unwrap());
        let cell = Nb101Spec::from_json(
            "[[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]]",
            r#"["input","conv3x3-bn-relu","maxpool3x3","output"]"#,
        )
        .unwrap();
        graphs.push(cell.to_graph().unwrap());
        graphs.push(chain(&[
            Op::Input,
            Op::Identity,
            Op::Relu,
            Op::Flatten,
            Op::Output,
        ]));

        let canonical: Vec<Graph> = graphs.iter().map(canonicalize).collect();
        let refs: Vec<&Graph> = graphs.iter().collect();
        assert_eq!(Batch::of_canonical(&refs), Batch::new(&canonical));
    }

    #[test]
    fn batches_offset_edges_and_index_graphs() {
        let a = chain(&[Op::Input, Op::Relu, Op::Output]);
        let b = chain(&[Op::Input, Op::Output]);
        let batch = Batch::new([&a, &b]);
        assert_eq!(
            (batch.num_graphs, batch.num_nodes(), batch.num_edges()),
            (2, 5, 3)
        );
        assert_eq!(batch.edge_index, vec![0, 1, 3, 1, 2, 4]);
        assert_eq!(batch.graph_index, vec![0, 0, 0, 1, 1]);
        assert_eq!(batch.node_features.len(), 5 * NODE_FEATURES);
        assert_eq!(batch.graph_features.len(), 2 * GRAPH_FEATURES);
        // Depth: 3 nodes, then 2.
        assert_eq!(batch.graph_features[4], 4f32.log2() / 12.0);
        assert_eq!(batch.graph_features[GRAPH_FEATURES + 4], 3f32.log2() / 12.0);
        // Input H = 8, output C = 4.
        assert_eq!(batch.graph_features[5], 9f32.log2() / 12.0);
        assert_eq!(batch.graph_features[6], 5f32.log2() / 12.0);
    }
}
