//! The computation graph (CG): a DAG of primitive operators, validated as it is built.

mod canonical;
mod dot;
mod id_set;
mod json;
mod limits;
mod node;
mod op;
mod order;

use std::collections::BTreeMap;

use foldhash::{HashSet, HashSetExt};
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use order::TopologicalOrder;

pub(crate) use canonical::{canonical_graph, canonical_parts};
pub use canonical::{canonicalize, is_isomorphic};
pub use json::JSON_FORMAT_VERSION;
pub use limits::Limits;
pub use node::{Node, Shape};
pub use op::{KNOWN_OPS, Op, UnknownOpName};

use crate::error::{Error, Result};

/// A node's id: its position in insertion order, from 0.
pub type NodeId = u32;

/// A computation graph. Nodes and edges are checked when added, so a `Graph` is always a
/// DAG of nodes with consistent fields. Edges form a simple graph: adding an edge twice
/// keeps one.
///
/// `Send` and `Sync`, with no interior mutability: a graph may be read from several threads.
#[derive(Debug, Clone)]
pub struct Graph {
    dag: DiGraph<Node, (), u32>,
    /// A topological order of `dag`, kept up to date as edges are added; it is what refuses
    /// a cycle (petgraph's `Acyclic` does the same, but with `RefCell` scratch space, which
    /// would make the graph `!Sync`).
    order: TopologicalOrder,
    /// Every edge, so that adding one again is found in constant time (petgraph's
    /// `find_edge` walks the source's edges: quadratic time for a wide fan-out).
    edge_set: HashSet<(NodeId, NodeId)>,
    /// The learned parameters and multiply-accumulates of all nodes, kept as nodes are
    /// added, which refuses a node that would make either overflow 64 bits.
    params: u64,
    macs: u64,
}

/// The most dimensions of a node's `weight_shape`: above any real tensor's rank, and a bound
/// on what a node may hold.
pub const MAX_WEIGHT_RANK: usize = 16;

impl Default for Graph {
    fn default() -> Graph {
        Graph::new()
    }
}

impl Graph {
    pub fn new() -> Graph {
        Graph {
            dag: DiGraph::default(),
            order: TopologicalOrder::default(),
            edge_set: HashSet::new(),
            params: 0,
            macs: 0,
        }
    }

    /// The graph of these nodes and edges (`(from, to)` by the nodes' positions), checked
    /// as [`Graph::add_node`] and [`Graph::add_edge`] check them, in time linear in their
    /// number: the topological order is computed once, after every edge is in, where adding
    /// edges one by one can reorder the nodes between an edge's ends for every edge (a chain
    /// listed backward). A cycle is refused naming its nodes.
    pub(crate) fn from_parts(
        nodes: impl IntoIterator<Item = Node>,
        edges: impl IntoIterator<Item = (NodeId, NodeId)>,
    ) -> Result<Graph> {
        let mut graph = Graph::new();
        for node in nodes {
            graph.add_node(node)?;
        }
        for (from, to) in edges {
            graph.check_edge_ends(from, to)?;
            if graph.edge_set.insert((from, to)) {
                graph.dag.add_edge(
                    NodeIndex::new(from as usize),
                    NodeIndex::new(to as usize),
                    (),
                );
            }
        }
        graph.order = order::sorted(
            graph.node_count(),
            |id| graph.neighbor_ids(id, Direction::Incoming),
            |id| graph.neighbor_ids(id, Direction::Outgoing),
        )
        .map_err(|cycle| {
            let path: Vec<String> = cycle.iter().map(u32::to_string).collect();
            Error::invalid(format!("the edges form a cycle: {}", path.join(" -> ")))
        })?;
        Ok(graph)
    }

    fn neighbor_ids(&self, id: NodeId, direction: Direction) -> impl Iterator<Item = NodeId> + '_ {
        self.dag
            .neighbors_directed(NodeIndex::new(id as usize), direction)
            .map(|index| index.index() as NodeId)
    }

    /// Refuses an edge to or from a node that does not exist, and a self-loop.
    fn check_edge_ends(&self, from: NodeId, to: NodeId) -> Result<()> {
        let count = self.node_count();
        for (end, id) in [("source", from), ("target", to)] {
            if id as usize >= count {
                return Err(Error::invalid(format!(
                    "edge {from} -> {to}: {end} node {id} does not exist (the graph has {count} nodes)"
                )));
            }
        }
        if from == to {
            return Err(Error::invalid(format!(
                "edge {from} -> {to}: a self-loop on node {from} is not allowed"
            )));
        }
        Ok(())
    }

    /// Checks `node`, fills in its implied weight shape, and adds it; returns its id.
    pub fn add_node(&mut self, mut node: Node) -> Result<NodeId> {
        let id = u32::try_from(self.node_count())
            .ok()
            .filter(|&id| id < u32::MAX)
            .ok_or_else(|| Error::invalid("graph is full: node ids are 32-bit"))?;
        validate_node(&mut node)
            .map_err(|message| Error::invalid(node_error(id, &node, &message)))?;
        // Both counts exist: validate_node refuses a node whose counts overflow.
        let (params, macs) = (
            node.param_count().unwrap_or(u64::MAX),
            node.macs().unwrap_or(u64::MAX),
        );
        let (Some(total_params), Some(total_macs)) =
            (self.params.checked_add(params), self.macs.checked_add(macs))
        else {
            return Err(Error::invalid(node_error(
                id,
                &node,
                "the graph's parameter or MAC count would overflow 64 bits with it",
            )));
        };
        (self.params, self.macs) = (total_params, total_macs);
        self.order.push_node();
        Ok(self.dag.add_node(node).index() as NodeId)
    }

    /// Adds the edge `from -> to`; refuses unknown ids, self-loops and cycles.
    pub fn add_edge(&mut self, from: NodeId, to: NodeId) -> Result<()> {
        self.check_edge_ends(from, to)?;
        if self.edge_set.contains(&(from, to)) {
            return Ok(());
        }
        let (source, target) = (NodeIndex::new(from as usize), NodeIndex::new(to as usize));
        let dag = &self.dag;
        let successors = |id: u32| {
            dag.neighbors_directed(NodeIndex::new(id as usize), Direction::Outgoing)
                .map(|index| index.index() as u32)
        };
        let predecessors = |id: u32| {
            dag.neighbors_directed(NodeIndex::new(id as usize), Direction::Incoming)
                .map(|index| index.index() as u32)
        };
        if !self.order.insert_edge(from, to, successors, predecessors) {
            return Err(Error::invalid(format!(
                "edge {from} -> {to}: it would close a cycle, since node {from} is reachable from node {to}"
            )));
        }
        self.dag.add_edge(source, target, ());
        self.edge_set.insert((from, to));
        Ok(())
    }

    pub fn node_count(&self) -> usize {
        self.dag.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.dag.edge_count()
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.dag.node_weight(NodeIndex::new(id as usize))
    }

    /// Nodes with their ids, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> + '_ {
        self.dag
            .node_indices()
            .map(|index| (index.index() as NodeId, &self.dag[index]))
    }

    /// Edges as `(from, to)`, in the order they were first added.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.dag.edge_references().map(|edge| {
            (
                edge.source().index() as NodeId,
                edge.target().index() as NodeId,
            )
        })
    }

    /// Ids of the nodes with an edge into `id`.
    pub fn predecessors(&self, id: NodeId) -> Vec<NodeId> {
        self.neighbors(id, Direction::Incoming)
    }

    /// Ids of the nodes that `id` has an edge into.
    pub fn successors(&self, id: NodeId) -> Vec<NodeId> {
        self.neighbors(id, Direction::Outgoing)
    }

    fn neighbors(&self, id: NodeId, direction: Direction) -> Vec<NodeId> {
        if id as usize >= self.node_count() {
            return Vec::new();
        }
        let mut ids: Vec<NodeId> = self
            .dag
            .neighbors_directed(NodeIndex::new(id as usize), direction)
            .map(|index| index.index() as NodeId)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Node ids in an order where every edge goes forward.
    pub fn topological_order(&self) -> Vec<NodeId> {
        self.order.nodes().to_vec()
    }

    /// Learned parameters of the whole network (exact: a node that would make the sum
    /// overflow 64 bits is refused).
    pub fn param_count(&self) -> u64 {
        self.params
    }

    /// Multiply-accumulates of one forward pass (see [`Node::macs`]; exact, as
    /// [`Graph::param_count`]).
    pub fn macs(&self) -> u64 {
        self.macs
    }

    /// How many nodes each op has, keyed by the op's spelling (`unknown:X` for unknown ops).
    pub fn op_histogram(&self) -> BTreeMap<String, usize> {
        let mut histogram = BTreeMap::new();
        for (_, node) in self.nodes() {
            *histogram.entry(node.op.to_string()).or_insert(0) += 1;
        }
        histogram
    }
}

fn node_error(id: NodeId, node: &Node, message: &str) -> String {
    match node.name.as_str() {
        "" => format!("node {id} ({}): {message}", node.op),
        name => format!("node {id} '{name}' ({}): {message}", node.op),
    }
}

/// Checks the fields of a node that is about to join a graph, normalizing the fields that
/// do not apply to its op (0 or 1 become 1) and filling in the implied weight shape.
fn validate_node(node: &mut Node) -> std::result::Result<(), String> {
    for (tensor, shape) in [("input", node.input), ("output", node.output)] {
        for (field, value) in [("h", shape.h), ("w", shape.w), ("c", shape.c)] {
            if value == 0 {
                return Err(format!(
                    "{tensor} {field} is 0; every size must be at least 1"
                ));
            }
        }
    }
    let op = node.op.clone();
    let unknown = matches!(op, Op::Unknown(_));
    let windowed = op.is_conv() || op.is_windowed_pool() || unknown;
    for (fields, pair) in [
        (["kernel_h", "kernel_w"], &mut node.kernel),
        (["stride_h", "stride_w"], &mut node.stride),
        (["dilation_h", "dilation_w"], &mut node.dilation),
    ] {
        for (field, value) in fields.into_iter().zip(pair.iter_mut()) {
            *value = settle_field(&op, field, *value, windowed, unknown)?;
        }
    }
    node.groups = settle_field(&op, "groups", node.groups, op.is_conv() || unknown, unknown)?;
    let (input, output, groups) = (node.input, node.output, node.groups);
    match op {
        Op::Conv if input.c % groups != 0 || output.c % groups != 0 => {
            return Err(format!(
                "in_c = {} and out_c = {} must both be divisible by groups = {groups}",
                input.c, output.c
            ));
        }
        Op::DepthwiseConv if groups != input.c || output.c % input.c != 0 => {
            return Err(format!(
                "a depthwise convolution needs groups = in_c and out_c a multiple of in_c \
                 (in_c = {}, out_c = {}, groups = {groups})",
                input.c, output.c
            ));
        }
        _ if op.preserves_shape() && input != output => {
            return Err(format!(
                "input {}x{}x{} and output {}x{}x{} (HxWxC) must be equal for {op}",
                input.h, input.w, input.c, output.h, output.w, output.c
            ));
        }
        _ => {}
    }
    if node.weight_shape.len() > MAX_WEIGHT_RANK {
        return Err(format!(
            "weight_shape has {} dimensions, more than {MAX_WEIGHT_RANK}",
            node.weight_shape.len()
        ));
    }
    if let Some(implied) = node.implied_weight_shape() {
        if node.weight_shape.is_empty() {
            node.weight_shape = implied;
        } else if node.weight_shape != implied {
            return Err(format!(
                "weight_shape {:?} differs from {:?}, which its channels, kernel and groups imply",
                node.weight_shape, implied
            ));
        }
    }
    if node.param_count().is_none() || node.macs().is_none() {
        return Err("its parameter or MAC count overflows 64 bits".into());
    }
    Ok(())
}

/// The stored value of a kernel/stride/dilation/groups field. Where the field applies to the
/// op it must be at least 1 (unknown ops may leave it 0: "not given"); where it does not
/// apply, 0 and 1 both mean "unset" and anything else is a caller's mistake.
fn settle_field(
    op: &Op,
    field: &str,
    value: u32,
    applies: bool,
    optional: bool,
) -> std::result::Result<u32, String> {
    match value {
        0 | 1 if optional || !applies => Ok(1),
        0 => Err(format!("{field} is 0; it must be at least 1")),
        value if applies => Ok(value),
        value => Err(format!(
            "{field} = {value} does not apply to {op}; leave it 0 or 1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// conv3x3(16->16)-bn-relu, conv3x3-bn, add with the block input, relu; on 32x32.
    pub(crate) fn residual_block() -> Graph {
        let s = Shape::new(32, 32, 16);
        let mut g = Graph::new();
        let input = g.add_node(Node::same_shape(Op::Input, s)).unwrap();
        let conv1 = g
            .add_node(Node::new(Op::Conv, s, s).with_kernel(3, 3))
            .unwrap();
        let bn1 = g
            .add_node(Node::same_shape(Op::BatchNorm, s).with_bias(true))
            .unwrap();
        let relu1 = g.add_node(Node::same_shape(Op::Relu, s)).unwrap();
        let conv2 = g
            .add_node(Node::new(Op::Conv, s, s).with_kernel(3, 3))
            .unwrap();
        let bn2 = g
            .add_node(Node::same_shape(Op::BatchNorm, s).with_bias(true))
            .unwrap();
        let add = g.add_node(Node::same_shape(Op::Add, s)).unwrap();
        let relu2 = g.add_node(Node::same_shape(Op::Relu, s)).unwrap();
        let output = g.add_node(Node::same_shape(Op::Output, s)).unwrap();
        for (a, b) in [
            (input, conv1),
            (conv1, bn1),
            (bn1, relu1),
            (relu1, conv2),
            (conv2, bn2),
            (bn2, add),
            (input, add),
            (add, relu2),
            (relu2, output),
        ] {
            g.add_edge(a, b).unwrap();
        }
        g
    }

    /// Compiles only while `Graph` is `Send + Sync`: the C ABI promises that a graph may be
    /// read from several threads at once.
    #[test]
    fn graphs_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Graph>();
        let graph = residual_block();
        let counts: Vec<u64> = std::thread::scope(|scope| {
            let readers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| graph.param_count()))
                .collect();
            readers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert!(counts.iter().all(|&count| count == graph.param_count()));
    }

    #[test]
    fn residual_block_counts_by_hand() {
        let g = residual_block();
        assert_eq!(g.node_count(), 9);
        assert_eq!(g.edge_count(), 9);
        // Two 3x3 convs of 16x16x3x3 = 2304 weights, two affine BNs of 2 * 16.
        assert_eq!(g.param_count(), 2 * 2304 + 2 * 32);
        // Each conv: 32 * 32 * 16 outputs, 16 * 9 MACs each.
        assert_eq!(g.macs(), 2 * 32 * 32 * 16 * 16 * 9);
        assert_eq!(g.node(1).unwrap().weight_shape, vec![16, 16, 3, 3]);
        assert_eq!(g.node(2).unwrap().weight_shape, vec![16]);
        assert_eq!(g.predecessors(6), vec![0, 5]);
        assert_eq!(g.op_histogram()["conv"], 2);
    }

    #[test]
    fn topological_order_puts_every_edge_forward() {
        let mut g = residual_block();
        // A node added last but placed first by an edge.
        let late = g
            .add_node(Node::same_shape(Op::Identity, Shape::new(32, 32, 16)))
            .unwrap();
        g.add_edge(late, 0).unwrap();
        let order = g.topological_order();
        let position = |id: NodeId| order.iter().position(|&x| x == id).unwrap();
        for (a, b) in g.edges() {
            assert!(position(a) < position(b), "edge {a} -> {b}");
        }
    }

    #[test]
    fn bad_edges_are_refused_with_their_reason() {
        let mut g = residual_block();
        let err = g.add_edge(0, 42).unwrap_err();
        assert!(
            err.message.contains("target node 42 does not exist"),
            "{err}"
        );
        let err = g.add_edge(3, 3).unwrap_err();
        assert!(err.message.contains("self-loop on node 3"), "{err}");
        let err = g.add_edge(8, 0).unwrap_err();
        assert!(err.message.contains("cycle"), "{err}");
        assert_eq!(g.edge_count(), 9, "refused edges leave the graph as it was");
        g.add_edge(0, 1).unwrap();
        assert_eq!(g.edge_count(), 9, "a repeated edge is the same edge");
    }

    #[test]
    fn impossible_fields_are_refused_naming_the_node() {
        let mut g = residual_block();
        let s = Shape::new(8, 8, 6);
        let err = g
            .add_node(Node::new(Op::Conv, s, Shape::new(8, 8, 8)).with_groups(4))
            .unwrap_err();
        assert!(
            err.message
                .starts_with("node 9 (conv): in_c = 6 and out_c = 8"),
            "{err}"
        );
        let err = g
            .add_node(Node::new(Op::Relu, s, Shape::new(8, 0, 6)))
            .unwrap_err();
        assert!(err.message.contains("output w is 0"), "{err}");
        let err = g
            .add_node(Node::new(Op::Conv, s, s).with_kernel(0, 3))
            .unwrap_err();
        assert!(err.message.contains("kernel_h is 0"), "{err}");
        let err = g
            .add_node(Node::same_shape(Op::Relu, s).with_kernel(3, 3))
            .unwrap_err();
        assert!(
            err.message.contains("kernel_h = 3 does not apply to relu"),
            "{err}"
        );
        let err = g
            .add_node(Node::new(Op::DepthwiseConv, s, s).with_groups(3))
            .unwrap_err();
        assert!(err.message.contains("depthwise"), "{err}");
        let err = g
            .add_node(Node::new(Op::Linear, s, s).with_weight_shape(vec![6, 5]))
            .unwrap_err();
        assert!(
            err.message
                .contains("weight_shape [6, 5] differs from [6, 6]"),
            "{err}"
        );
        let err = g
            .add_node(Node::new(Op::Relu, s, Shape::new(8, 8, 7)))
            .unwrap_err();
        assert!(err.message.contains("must be equal for relu"), "{err}");
        assert_eq!(g.node_count(), 9, "refused nodes are not added");
    }

    #[test]
    fn fields_that_do_not_apply_are_normalized() {
        let mut g = Graph::new();
        let mut relu = Node::same_shape(Op::Relu, Shape::vector(4));
        relu.kernel = [0, 0];
        relu.groups = 0;
        let id = g.add_node(relu).unwrap();
        let stored = g.node(id).unwrap();
        assert_eq!((stored.kernel, stored.groups), ([1, 1], 1));
    }

    #[test]
    fn unknown_ops_keep_their_weights() {
        let mut g = Graph::new();
        let lstm = Node::new(
            Op::Unknown("LSTM".into()),
            Shape::new(10, 1, 8),
            Shape::new(10, 1, 16),
        )
        .with_weight_shape(vec![1, 64, 8]);
        let id = g.add_node(lstm).unwrap();
        assert_eq!(g.node(id).unwrap().param_count(), Some(512));
        assert_eq!(g.op_histogram()["unknown:LSTM"], 1);
    }

    #[test]
    fn overflowing_counts_are_refused() {
        let mut g = Graph::new();
        let huge = Shape::new(u32::MAX, u32::MAX, u32::MAX);
        let err = g
            .add_node(Node::new(Op::Conv, huge, huge).with_kernel(u32::MAX, u32::MAX))
            .unwrap_err();
        assert!(err.message.contains("overflows"), "{err}");
    }
}
