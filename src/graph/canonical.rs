//! Canonical form: one computation graph per architecture, whichever way it arrives.
//!
//! Exporters and generators spell the same network differently: an ONNX file exported in
//! eval mode has BatchNorm already folded into the preceding convolution, a benchmark
//! generator emits `conv` then `batch_norm`; PyTorch's `sum()` of three branches exports
//! as two binary adds, a generator may write one three-input `add`; one ReLU read by three
//! convolutions or three ReLUs of the same tensor. [`canonicalize`] rewrites every graph to
//! one form, applying these rules until none applies:
//!
//! 1. **Layout nodes go.** `identity`, `flatten` and `reshape` with exactly one predecessor
//!    are removed; their predecessor feeds their successors directly (successors keep the
//!    input shape they recorded).
//! 2. **BatchNorm folds into its convolution.** A `batch_norm` whose only predecessor is a
//!    `conv` or `depthwise_conv` with no other successor, and whose shape is that conv's
//!    output, is removed and the conv gets `has_bias = true` (inference-time folding:
//!    the affine normalization becomes the conv's weight scale and bias).
//! 3. **Sums flatten.** An `add` of two or more inputs whose only successor is another `add`
//!    of the same output shape is merged into it: `(a + b) + c` is `add(a, b, c)`.
//! 4. **Duplicates merge.** Two parameter-free nodes that compute the same function of
//!    the same predecessors (`relu`, `relu6`, `gelu`, `silu`, `hardswish`, `hardsigmoid`,
//!    `sigmoid`, `tanh`, `max_pool`, `avg_pool`, `global_avg_pool`, `zero`, `add`, `mul`,
//!    with equal fields) become one, read by the successors of both.
//! 5. **Zeros drop out of sums.** A `zero` node (the NAS-Bench "none" op, `x * 0`) feeding
//!    an `add` that also has other inputs is cut from it (x + 0 = x); an `add` left with a
//!    single input is then that input. An `add` of zeros only is itself a `zero` node, fed by
//!    the sources of those zeros. A `zero` node that feeds nothing is removed (it has no
//!    parameters and its value is never read). So a generator that leaves `none` edges out
//!    and an exporter that multiplies by zero give the same graph.
//! 6. **Padding folds into its convolution.** A `pad` of the spatial axes (channels kept)
//!    whose only successor is a `conv` or `depthwise_conv` reading its output is removed,
//!    and the convolution reads the unpadded input: exporters write a convolution's padding
//!    either in the convolution or as a Pad before it (TensorFlow-style "same" padding,
//!    ONNX optimizers that fuse the one into the other).
//! 7. **Concatenations flatten.** A `concat` whose only successor is a `concat` along the
//!    same axis (the one axis on which each one's recorded input and output differ) is
//!    merged into it, which then records its widest input: `cat(a, cat(b, c))` is
//!    `cat(a, b, c)`, as some exporters' optimizers write it.
//!
//! Node ids are then renumbered in topological order, ties broken by the original ids.
//! Nothing else changes: op types, shapes, kernels, parameters of the other nodes.
//! [`is_isomorphic`] compares two graphs up to node numbering.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use foldhash::{HashMap, HashMapExt};
use petgraph::algo::is_isomorphic_matching;

use super::id_set::IdSet;
use super::{Graph, Node, NodeId, Op, Shape};
use crate::error::{Error, Result};

/// The canonical form of `graph` (see the module documentation for the rules).
pub fn canonicalize(graph: &Graph) -> Graph {
    // The rules only remove nodes, rewire edges forward and set fields to values that a
    // valid node accepts, so a valid graph always has a valid canonical form.
    borrowed_work(graph)
        .into_graph()
        .expect("the canonical form of a valid graph is valid")
}

/// The canonical form of `graph` as [`canonicalize`] would build it, without building it: its
/// nodes in the order of the canonical graph's ids and its edges in the order that graph
/// stores them. Nodes that the rules leave alone are borrowed from `graph`. For the
/// featurizer, to which building (validating, copying names) would cost more than the rules.
pub(crate) fn canonical_parts(graph: &Graph) -> (Vec<Cow<'_, Node>>, Vec<(NodeId, NodeId)>) {
    borrowed_work(graph).into_parts()
}

fn borrowed_work(graph: &Graph) -> Work<'_> {
    let nodes = graph.nodes().map(|(_, node)| Cow::Borrowed(node));
    let edges: Vec<(usize, usize)> = graph
        .edges()
        .map(|(from, to)| (from as usize, to as usize))
        .collect();
    let mut work = Work::new(nodes, &edges).expect("a valid graph's edges join its nodes");
    work.apply_rules();
    work
}

/// The canonical form of the graph with these nodes and edges (indices into `nodes`),
/// checking every node and edge as [`Graph::add_node`] and [`Graph::add_edge`] do. For
/// importers, which would otherwise build and check the graph twice.
pub(crate) fn canonical_graph(nodes: Vec<Node>, edges: &[(usize, usize)]) -> Result<Graph> {
    let mut work = Work::new(nodes.into_iter().map(Cow::Owned), edges)?;
    work.apply_rules();
    work.into_graph()
}

/// Whether `a` and `b` are the same graph up to node numbering: a bijection between their
/// nodes that preserves edges and every node field except the free-form `name`.
pub fn is_isomorphic(a: &Graph, b: &Graph) -> bool {
    if a.node_count() != b.node_count() || a.edge_count() != b.edge_count() {
        return false;
    }
    let mut labels_a: Vec<Signature> = a.nodes().map(|(_, n)| Signature::of(n)).collect();
    let mut labels_b: Vec<Signature> = b.nodes().map(|(_, n)| Signature::of(n)).collect();
    labels_a.sort_unstable();
    labels_b.sort_unstable();
    if labels_a != labels_b {
        return false;
    }
    is_isomorphic_matching(
        &a.dag,
        &b.dag,
        |x: &Node, y: &Node| same_structure(x, y),
        |_: &(), _: &()| true,
    )
}

/// Every field of a node except its name.
fn same_structure(a: &Node, b: &Node) -> bool {
    a.op == b.op
        && a.input == b.input
        && a.output == b.output
        && a.kernel == b.kernel
        && a.stride == b.stride
        && a.dilation == b.dilation
        && a.groups == b.groups
        && a.has_bias == b.has_bias
        && a.weight_shape == b.weight_shape
}

/// Parameter-free ops that compute a function of their inputs only, so that two of them on
/// the same inputs are one (rule 4).
fn is_pure(op: &Op) -> bool {
    matches!(
        op,
        Op::Relu
            | Op::Relu6
            | Op::Gelu
            | Op::Silu
            | Op::HardSwish
            | Op::HardSigmoid
            | Op::Sigmoid
            | Op::Tanh
            | Op::MaxPool
            | Op::AvgPool
            | Op::GlobalAvgPool
            | Op::Zero
            | Op::Add
            | Op::Mul
    )
}

/// The axis a concatenation joins along (0, 1, 2 for H, W, C), from the one axis on which
/// its recorded (widest) input and its output differ.
fn concat_axis(node: &Node) -> Option<u8> {
    let (i, o) = (node.input, node.output);
    match (i.h == o.h, i.w == o.w, i.c == o.c) {
        (false, true, true) => Some(0),
        (true, false, true) => Some(1),
        (true, true, false) => Some(2),
        _ => None,
    }
}

/// Every field of a node except its name, as a sortable, hashable value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Signature {
    op: Op,
    input: (u32, u32, u32),
    output: (u32, u32, u32),
    kernel: [u32; 2],
    stride: [u32; 2],
    dilation: [u32; 2],
    groups: u32,
    has_bias: bool,
    weight_shape: Vec<u64>,
}

impl Signature {
    fn of(node: &Node) -> Signature {
        let (i, o) = (node.input, node.output);
        Signature {
            op: node.op.clone(),
            input: (i.h, i.w, i.c),
            output: (o.h, o.w, o.c),
            kernel: node.kernel,
            stride: node.stride,
            dilation: node.dilation,
            groups: node.groups,
            has_bias: node.has_bias,
            weight_shape: node.weight_shape.clone(),
        }
    }
}

/// A mutable copy of a graph: nodes that can be removed, edges as sets. Nodes are copied only
/// when a rule changes them.
struct Work<'a> {
    nodes: Vec<Option<Cow<'a, Node>>>,
    preds: Vec<IdSet>,
    succs: Vec<IdSet>,
    /// Whether every edge goes from a smaller id to a larger one, as in the graphs that the
    /// generators, the importers and canonicalization itself build; then the ids are a
    /// topological order and no sort is needed. The rules keep it so: they only link a node's
    /// predecessors to its successors.
    ids_ascend_edges: bool,
}

impl<'a> Work<'a> {
    fn new(
        nodes: impl IntoIterator<Item = Cow<'a, Node>>,
        edges: &[(usize, usize)],
    ) -> Result<Work<'a>> {
        let nodes: Vec<Option<Cow<'a, Node>>> = nodes.into_iter().map(Some).collect();
        let count = nodes.len();
        let mut work = Work {
            nodes,
            preds: std::iter::repeat_with(IdSet::default).take(count).collect(),
            succs: std::iter::repeat_with(IdSet::default).take(count).collect(),
            ids_ascend_edges: true,
        };
        for &(from, to) in edges {
            if from >= count || to >= count || from == to {
                return Err(Error::invalid(format!(
                    "edge {from} -> {to}: not an edge between two of the {count} nodes"
                )));
            }
            work.link(from, to);
        }
        Ok(work)
    }

    /// Applies the rules in turn until none applies: it stops once each rule has run on the
    /// current graph without changing it. That is the sequence of runs that repeating whole
    /// passes until a pass changes nothing makes, less that last pass's runs of rules that
    /// already ran on the final graph.
    fn apply_rules(&mut self) {
        let rules: [fn(&mut Self) -> bool; 7] = [
            Self::remove_layout_nodes,
            Self::fold_batch_norms,
            Self::flatten_sums,
            Self::merge_duplicates,
            Self::simplify_zeros,
            Self::fold_pads,
            Self::flatten_concats,
        ];
        let mut runs_without_change = 0;
        for rule in rules.iter().cycle() {
            if rule(self) {
                runs_without_change = 0;
            } else {
                runs_without_change += 1;
                if runs_without_change == rules.len() {
                    break;
                }
            }
        }
    }

    fn link(&mut self, from: usize, to: usize) {
        if from != to {
            self.ids_ascend_edges &= from < to;
            self.succs[from].insert(to);
            self.preds[to].insert(from);
        }
    }

    fn op(&self, id: usize) -> Option<&Op> {
        self.nodes[id].as_ref().map(|node| &node.op)
    }

    /// Removes node `id`, connecting each of its predecessors to each of its successors.
    fn bypass(&mut self, id: usize) {
        let preds = std::mem::take(&mut self.preds[id]);
        let succs = std::mem::take(&mut self.succs[id]);
        for &p in &preds {
            self.succs[p].remove(&id);
        }
        for &s in &succs {
            self.preds[s].remove(&id);
        }
        for &p in &preds {
            for &s in &succs {
                self.link(p, s);
            }
        }
        self.nodes[id] = None;
    }

    /// Moves every successor of `from` onto `to` and removes `from`.
    fn redirect(&mut self, from: usize, to: usize) {
        let succs = std::mem::take(&mut self.succs[from]);
        for &s in &succs {
            self.preds[s].remove(&from);
            self.link(to, s);
        }
        for p in std::mem::take(&mut self.preds[from]) {
            self.succs[p].remove(&from);
        }
        self.nodes[from] = None;
    }

    fn remove_layout_nodes(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.nodes.len() {
            let layout = matches!(self.op(id), Some(Op::Identity | Op::Flatten | Op::Reshape));
            if layout && self.preds[id].len() == 1 {
                self.bypass(id);
                changed = true;
            }
        }
        changed
    }

    fn fold_batch_norms(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.nodes.len() {
            if self.op(id) != Some(&Op::BatchNorm) || self.preds[id].len() != 1 {
                continue;
            }
            let Some(&conv) = self.preds[id].first() else {
                continue;
            };
            let fits = match (&self.nodes[conv], &self.nodes[id]) {
                (Some(c), Some(bn)) => c.op.is_conv() && c.output == bn.input,
                _ => false,
            };
            if fits && self.succs[conv].len() == 1 {
                if let Some(c) = self.nodes[conv].as_mut() {
                    c.to_mut().has_bias = true;
                }
                self.bypass(id);
                changed = true;
            }
        }
        changed
    }

    fn fold_pads(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.nodes.len() {
            if self.op(id) != Some(&Op::Pad)
                || self.preds[id].len() != 1
                || self.succs[id].len() != 1
            {
                continue;
            }
            let Some(&conv) = self.succs[id].first() else {
                continue;
            };
            let unpadded = match (&self.nodes[id], &self.nodes[conv]) {
                // Channel padding would change the convolution's weights: not folded.
                (Some(pad), Some(c))
                    if c.op.is_conv() && c.input == pad.output && pad.input.c == pad.output.c =>
                {
                    pad.input
                }
                _ => continue,
            };
            if let Some(c) = self.nodes[conv].as_mut() {
                c.to_mut().input = unpadded;
            }
            self.bypass(id);
            changed = true;
        }
        changed
    }

    fn flatten_concats(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.nodes.len() {
            if self.op(id) != Some(&Op::Concat) || self.succs[id].len() != 1 {
                continue;
            }
            let Some(&outer) = self.succs[id].first() else {
                continue;
            };
            let same_axis = match (&self.nodes[id], &self.nodes[outer]) {
                (Some(inner), Some(o)) => {
                    let axis = concat_axis(inner);
                    o.op == Op::Concat && axis.is_some() && axis == concat_axis(o)
                }
                _ => false,
            };
            if !same_axis {
                continue;
            }
            self.bypass(id);
            let widest = self.preds[outer]
                .iter()
                .filter_map(|&p| self.nodes[p].as_ref().map(|n| n.output))
                .max_by_key(Shape::elements);
            if let (Some(widest), Some(o)) = (widest, self.nodes[outer].as_mut()) {
                o.to_mut().input = widest;
            }
            changed = true;
        }
        changed
    }

    fn flatten_sums(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.nodes.len() {
            if self.op(id) != Some(&Op::Add)
                || self.preds[id].len() < 2
                || self.succs[id].len() != 1
            {
                continue;
            }
            let Some(&next) = self.succs[id].first() else {
                continue;
            };
            let fits = match (&self.nodes[id], &self.nodes[next]) {
                (Some(a), Some(b)) => b.op == Op::Add && a.output == b.output,
                _ => false,
            };
            if fits {
                self.bypass(id);
                changed = true;
            }
        }
        changed
    }

    fn merge_duplicates(&mut self) -> bool {
        let mut changed = false;
        // Candidates are found by a hash of their op and predecessors, then compared field by
        // field, so that no key is built (building one per node, with its copied op and weight
        // shape, was most of canonicalization's time on NAS-Bench cells). `clashes` holds the
        // nodes whose hash an unequal node took first.
        let hasher = FixedState::default();
        let mut seen: HashMap<u64, usize> = HashMap::with_capacity(64);
        let mut clashes: Vec<usize> = Vec::new();
        for id in self.topological_order() {
            let Some(node) = &self.nodes[id] else {
                continue;
            };
            // A duplicate shares every predecessor, so the first one must feed two nodes.
            let shared = self.preds[id]
                .first()
                .is_some_and(|&p| self.succs[p].len() >= 2);
            if !is_pure(&node.op) || !shared {
                continue;
            }
            // Nodes that share op and predecessors but differ elsewhere (shapes, windows) are
            // rare, and the comparison tells them apart.
            let key = hasher.hash_one((&node.op, &self.preds[id]));
            let twin = match seen.get(&key) {
                None => {
                    seen.insert(key, id);
                    continue;
                }
                Some(&kept) if self.same_function(kept, id) => Some(kept),
                Some(_) => clashes
                    .iter()
                    .copied()
                    .find(|&kept| self.same_function(kept, id)),
            };
            match twin {
                Some(kept) => {
                    self.redirect(id, kept);
                    changed = true;
                }
                None => clashes.push(id),
            }
        }
        changed
    }

    /// Whether live nodes `a` and `b` compute the same function of the same predecessors.
    fn same_function(&self, a: usize, b: usize) -> bool {
        match (&self.nodes[a], &self.nodes[b]) {
            (Some(x), Some(y)) => same_structure(x, y) && self.preds[a] == self.preds[b],
            _ => false,
        }
    }

    fn simplify_zeros(&mut self) -> bool {
        let mut changed = false;
        for id in 0..self.nodes.len() {
            if self.op(id) != Some(&Op::Add) {
                continue;
            }
            let (zeros, others): (Vec<usize>, Vec<usize>) = self.preds[id]
                .iter()
                .partition(|&&p| self.op(p) == Some(&Op::Zero));
            if zeros.is_empty() {
                continue;
            }
            for &z in &zeros {
                self.succs[z].remove(&id);
                self.preds[id].remove(&z);
            }
            match others.len() {
                0 => {
                    // A sum of zeros is a zero computed from the zeros' sources.
                    let sources: Vec<usize> =
                        zeros.iter().flat_map(|&z| self.preds[z].clone()).collect();
                    for source in sources {
                        self.link(source, id);
                    }
                    if let Some(node) = self.nodes[id].as_mut() {
                        node.to_mut().op = Op::Zero;
                    }
                }
                1 => self.bypass(id),
                _ => {}
            }
            changed = true;
        }
        for id in 0..self.nodes.len() {
            if self.op(id) == Some(&Op::Zero) && self.succs[id].is_empty() {
                self.bypass(id);
                changed = true;
            }
        }
        changed
    }

    /// Live node ids in topological order, ties broken by the smaller id.
    fn topological_order(&self) -> Vec<usize> {
        if self.ids_ascend_edges {
            // The smallest live id not yet ordered has all its predecessors ordered.
            return (0..self.nodes.len())
                .filter(|&id| self.nodes[id].is_some())
                .collect();
        }
        let mut pending: Vec<usize> = self.preds.iter().map(IdSet::len).collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..self.nodes.len())
            .filter(|&id| self.nodes[id].is_some() && pending[id] == 0)
            .map(Reverse)
            .collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(Reverse(id)) = ready.pop() {
            order.push(id);
            for &s in &self.succs[id] {
                pending[s] -= 1;
                if pending[s] == 0 {
                    ready.push(Reverse(s));
                }
            }
        }
        order
    }

    /// Live nodes in topological order (the canonical ids), or an error naming the cycle.
    fn canonical_order(&self) -> Result<Vec<usize>> {
        let order = self.topological_order();
        let live = self.nodes.iter().filter(|node| node.is_some()).count();
        if order.len() < live {
            return Err(Error::invalid(format!(
                "the graph has a cycle through {} of its nodes",
                live - order.len()
            )));
        }
        Ok(order)
    }

    fn into_graph(mut self) -> Result<Graph> {
        let order = self.canonical_order()?;
        let mut ids: Vec<NodeId> = vec![0; self.nodes.len()];
        let mut nodes = Vec::with_capacity(order.len());
        for &id in &order {
            let Some(node) = self.nodes[id].take() else {
                continue;
            };
            ids[id] = nodes.len() as NodeId;
            nodes.push(node.into_owned());
        }
        let edges = self.canonical_edges(&order, &ids);
        Graph::from_parts(nodes, edges)
    }

    /// What [`Work::into_graph`] would add to the graph, in the same order. Only for work on
    /// a valid graph, whose canonical form is valid (so nothing needs checking).
    fn into_parts(mut self) -> (Vec<Cow<'a, Node>>, Vec<(NodeId, NodeId)>) {
        let order = self
            .canonical_order()
            .expect("a valid graph's canonical form is acyclic");
        let mut ids: Vec<NodeId> = vec![0; self.nodes.len()];
        let mut nodes = Vec::with_capacity(order.len());
        for &id in &order {
            if let Some(node) = self.nodes[id].take() {
                ids[id] = nodes.len() as NodeId;
                nodes.push(node);
            }
        }
        let edges = self.canonical_edges(&order, &ids);
        (nodes, edges)
    }

    /// The edges in canonical ids, sorted by source then target. Sorting by the new ids, not
    /// the original ones, makes the form a fixed point: canonicalizing it again, where the
    /// original ids are the canonical ones, gives the same edge order.
    fn canonical_edges(&self, order: &[usize], ids: &[NodeId]) -> Vec<(NodeId, NodeId)> {
        let mut edges = Vec::new();
        for &id in order {
            let start = edges.len();
            edges.extend(self.succs[id].iter().map(|&s| (ids[id], ids[s])));
            edges[start..].sort_unstable();
        }
        edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Shape;

    const S: Shape = Shape::new(8, 8, 4);

    fn build(nodes: Vec<Node>, edges: &[(u32, u32)]) -> Graph {
        let mut g = Graph::new();
        for node in nodes {
            g.add_node(node).unwrap();
        }
        for &(a, b) in edges {
            g.add_edge(a, b).unwrap();
        }
        g
    }

    fn ops(g: &Graph) -> Vec<String> {
        g.nodes().map(|(_, n)| n.op.to_string()).collect()
    }

    fn conv() -> Node {
        Node::new(Op::Conv, S, S).with_kernel(3, 3)
    }

    #[test]
    fn layout_nodes_are_bypassed() {
        let g = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::same_shape(Op::Identity, S),
                Node::new(Op::Flatten, S, Shape::vector(256)),
                Node::new(Op::Linear, Shape::vector(256), Shape::vector(10)),
                Node::same_shape(Op::Output, Shape::vector(10)),
            ],
            &[(0, 1), (1, 2), (2, 3), (3, 4)],
        );
        let c = canonicalize(&g);
        assert_eq!(ops(&c), ["input", "linear", "output"]);
        assert_eq!(c.edges().collect::<Vec<_>>(), [(0, 1), (1, 2)]);
        assert_eq!(
            c.node(1).unwrap().input,
            Shape::vector(256),
            "the linear keeps its view"
        );
    }

    #[test]
    fn batch_norm_folds_into_a_private_conv_only() {
        let bn = || Node::same_shape(Op::BatchNorm, S).with_bias(true);
        let folded = canonicalize(&build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                bn(),
                Node::same_shape(Op::Relu, S),
            ],
            &[(0, 1), (1, 2), (2, 3)],
        ));
        assert_eq!(ops(&folded), ["input", "conv", "relu"]);
        assert!(folded.node(1).unwrap().has_bias);
        assert_eq!(folded.param_count(), 4 * 4 * 9 + 4);

        // The conv's output is also read elsewhere: the normalization is not private to it.
        let shared = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                bn(),
                Node::same_shape(Op::Add, S),
            ],
            &[(0, 1), (1, 2), (2, 3), (1, 3)],
        );
        assert_eq!(
            ops(&canonicalize(&shared)),
            ["input", "conv", "batch_norm", "add"]
        );

        // After an add (DenseNet, NB-201's last BN): nothing to fold into.
        let after_add = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::same_shape(Op::Add, S),
                bn(),
            ],
            &[(0, 1), (1, 2)],
        );
        assert_eq!(
            ops(&canonicalize(&after_add)),
            ["input", "add", "batch_norm"]
        );
    }

    #[test]
    fn padding_folds_into_the_convolution_it_alone_feeds() {
        // A 3x3 stride-2 conv on 8x8 with its padding as a Pad (to 9x9, TensorFlow's "same")
        // is the conv with the padding inside it.
        let padded = Shape::new(9, 9, 4);
        let strided = || {
            Node::new(Op::Conv, padded, Shape::new(4, 4, 4))
                .with_kernel(3, 3)
                .with_stride(2, 2)
        };
        let with_pad = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::new(Op::Pad, S, padded),
                strided(),
            ],
            &[(0, 1), (1, 2)],
        );
        let mut inside = strided();
        inside.input = S;
        let without = build(vec![Node::same_shape(Op::Input, S), inside], &[(0, 1)]);
        assert!(is_isomorphic(&canonicalize(&with_pad), &without));

        // A pad that something else also reads, or that feeds a pool, stays.
        let shared = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::new(Op::Pad, S, padded),
                strided(),
                Node::same_shape(Op::Relu, padded),
            ],
            &[(0, 1), (1, 2), (1, 3)],
        );
        assert_eq!(
            ops(&canonicalize(&shared)),
            ["input", "pad", "conv", "relu"]
        );
        let pooled = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::new(Op::Pad, S, padded),
                Node::new(Op::MaxPool, padded, Shape::new(4, 4, 4)).with_kernel(3, 3),
            ],
            &[(0, 1), (1, 2)],
        );
        assert_eq!(ops(&canonicalize(&pooled)), ["input", "pad", "max_pool"]);
        // Padding channels changes what the convolution reads: it stays.
        let wider = Shape::new(8, 8, 6);
        let channel_pad = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::new(Op::Pad, S, wider),
                Node::new(Op::Conv, wider, S).with_kernel(1, 1),
            ],
            &[(0, 1), (1, 2)],
        );
        assert_eq!(ops(&canonicalize(&channel_pad)), ["input", "pad", "conv"]);
    }

    #[test]
    fn nested_concatenations_along_one_axis_flatten() {
        // cat(a, cat(b, c)) on channels is cat(a, b, c), recording its widest input; a
        // concatenation of tokens that feeds one of channels stays.
        let channels = |c: u32| Shape::new(8, 8, c);
        let nested = build(
            vec![
                Node::same_shape(Op::Input, channels(4)),
                Node::new(Op::Conv, channels(4), channels(8)).with_kernel(1, 1),
                Node::new(Op::Conv, channels(4), channels(2)).with_kernel(1, 1),
                Node::new(Op::Concat, channels(8), channels(10)),
                Node::new(Op::Concat, channels(10), channels(14)),
            ],
            &[(0, 1), (0, 2), (1, 3), (2, 3), (0, 4), (3, 4)],
        );
        let flat = build(
            vec![
                Node::same_shape(Op::Input, channels(4)),
                Node::new(Op::Conv, channels(4), channels(8)).with_kernel(1, 1),
                Node::new(Op::Conv, channels(4), channels(2)).with_kernel(1, 1),
                Node::new(Op::Concat, channels(8), channels(14)),
            ],
            &[(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)],
        );
        assert!(is_isomorphic(&canonicalize(&nested), &flat));

        let tokens = build(
            vec![
                Node::same_shape(Op::Input, Shape::new(4, 1, 8)),
                Node::new(Op::Concat, Shape::new(4, 1, 8), Shape::new(8, 1, 8)),
                Node::new(Op::Concat, Shape::new(8, 1, 8), Shape::new(8, 1, 16)),
            ],
            &[(0, 1), (1, 2), (0, 2)],
        );
        assert_eq!(ops(&canonicalize(&tokens)), ["input", "concat", "concat"]);
    }

    #[test]
    fn binary_add_chains_become_one_sum() {
        // in -> three relus -> (r1 + r2) + r3
        let relu = |k: u32| Node::same_shape(Op::Relu, S).with_name(format!("r{k}"));
        let chain = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                conv(),
                conv(),
                Node::same_shape(Op::Add, S),
                Node::same_shape(Op::Add, S),
                relu(0),
            ],
            &[
                (0, 1),
                (0, 2),
                (0, 3),
                (1, 4),
                (2, 4),
                (4, 5),
                (3, 5),
                (5, 6),
            ],
        );
        let c = canonicalize(&chain);
        assert_eq!(ops(&c), ["input", "conv", "conv", "conv", "add", "relu"]);
        assert_eq!(c.predecessors(4), vec![1, 2, 3]);
        let flat = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                conv(),
                conv(),
                Node::same_shape(Op::Add, S),
                relu(1),
            ],
            &[(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4), (4, 5)],
        );
        assert!(is_isomorphic(&c, &canonicalize(&flat)));
        // A one-input add (a bias or a mask) is not a sum to flatten.
        let bias = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                Node::same_shape(Op::Add, S),
                Node::same_shape(Op::Add, S),
            ],
            &[(0, 1), (1, 2), (2, 3), (0, 3)],
        );
        assert_eq!(ops(&canonicalize(&bias)), ["input", "conv", "add", "add"]);
    }

    #[test]
    fn duplicate_activations_merge_but_weighted_nodes_do_not() {
        // One input read by two ReLUs, each feeding its own conv.
        let g = build(
            vec![
                Node::same_shape(Op::Input, S),
                Node::same_shape(Op::Relu, S),
                Node::same_shape(Op::Relu, S),
                conv(),
                conv(),
                Node::same_shape(Op::Add, S),
            ],
            &[(0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5)],
        );
        let c = canonicalize(&g);
        assert_eq!(ops(&c), ["input", "relu", "conv", "conv", "add"]);
        assert_eq!(c.successors(1), vec![2, 3]);
        // ReLUs with different inputs stay apart.
        let apart = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                Node::same_shape(Op::Relu, S),
                Node::same_shape(Op::Relu, S),
            ],
            &[(0, 1), (0, 2), (1, 3)],
        );
        assert_eq!(canonicalize(&apart).node_count(), 4);
    }

    #[test]
    fn zeros_drop_out_of_sums() {
        let zero = || Node::same_shape(Op::Zero, S);
        let add = || Node::same_shape(Op::Add, S);
        // conv(x) + 0*x + 0*x, then relu; and 0*x + 0*x alone feeding a conv.
        let g = build(
            vec![
                Node::same_shape(Op::Input, S), // 0
                conv(),                         // 1
                zero(),                         // 2
                zero(),                         // 3
                add(),                          // 4: 1 + 2
                add(),                          // 5: 4 + 3
                Node::same_shape(Op::Relu, S),  // 6
                conv(),                         // 7
                zero(),                         // 8: 0 * relu
                zero(),                         // 9: 0 * conv 7
                add(),                          // 10: 8 + 9
                conv(),                         // 11
            ],
            &[
                (0, 1),
                (0, 2),
                (0, 3),
                (1, 4),
                (2, 4),
                (4, 5),
                (3, 5),
                (5, 6),
                (6, 7),
                (6, 8),
                (7, 9),
                (8, 10),
                (9, 10),
                (10, 11),
            ],
        );
        let c = canonicalize(&g);
        // The first sum is just the conv; the all-zero sum is one zero of relu and conv 7.
        assert_eq!(ops(&c), ["input", "conv", "relu", "conv", "zero", "conv"]);
        assert_eq!(c.predecessors(2), vec![1]);
        assert_eq!(c.predecessors(4), vec![2, 3]);
        assert_eq!(c.successors(4), vec![5]);
        // A zero read by nothing goes.
        let dead = build(
            vec![Node::same_shape(Op::Input, S), conv(), zero()],
            &[(0, 1), (1, 2)],
        );
        assert_eq!(ops(&canonicalize(&dead)), ["input", "conv"]);
    }

    /// Ids that are not a topological order (edges from larger to smaller ids) take the
    /// sorting path; its result is the form of the same graph numbered in order.
    #[test]
    fn ids_out_of_topological_order_give_the_same_form() {
        let relu = || Node::same_shape(Op::Relu, S);
        let sigmoid = || Node::same_shape(Op::Sigmoid, S);
        // In order: input 0; relu 1, relu 2, sigmoid 3 of the input (the ReLUs merge); conv 4
        // of relu 1, conv 5 of relu 2, conv 6 of the sigmoid; add 7 of the three convs.
        let in_order = build(
            vec![
                Node::same_shape(Op::Input, S),
                relu(),
                relu(),
                sigmoid(),
                conv(),
                conv(),
                conv(),
                Node::same_shape(Op::Add, S),
            ],
            &[
                (0, 1),
                (0, 2),
                (0, 3),
                (1, 4),
                (2, 5),
                (3, 6),
                (4, 7),
                (5, 7),
                (6, 7),
            ],
        );
        // The same graph with the ids reversed: node k here is node 7 - k above.
        let reversed = build(
            vec![
                Node::same_shape(Op::Add, S),
                conv(),
                conv(),
                conv(),
                sigmoid(),
                relu(),
                relu(),
                Node::same_shape(Op::Input, S),
            ],
            &[
                (7, 6),
                (7, 5),
                (7, 4),
                (6, 3),
                (5, 2),
                (4, 1),
                (3, 0),
                (2, 0),
                (1, 0),
            ],
        );
        let (a, b) = (canonicalize(&in_order), canonicalize(&reversed));
        assert_eq!(
            ops(&a),
            ["input", "relu", "sigmoid", "conv", "conv", "conv", "add"]
        );
        assert!(is_isomorphic(&a, &b));
        assert!(
            b.edges().all(|(from, to)| from < to),
            "canonical ids are a topological order"
        );
        assert_eq!(canonicalize(&b).to_json(), b.to_json());
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        let g = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                Node::same_shape(Op::Identity, S),
                Node::same_shape(Op::BatchNorm, S).with_bias(true),
                Node::same_shape(Op::Relu, S),
                Node::same_shape(Op::Relu, S),
            ],
            &[(0, 1), (1, 2), (2, 3), (3, 4), (3, 5)],
        );
        let once = canonicalize(&g);
        // Identity removal exposes conv -> bn, which folds; then the two ReLUs merge.
        assert_eq!(ops(&once), ["input", "conv", "relu"]);
        let twice = canonicalize(&once);
        assert_eq!(once.to_json(), twice.to_json());
    }

    #[test]
    fn isomorphism_ignores_numbering_and_names_only() {
        let a = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                Node::same_shape(Op::Relu, S),
            ],
            &[(0, 1), (1, 2)],
        );
        let b = build(
            vec![
                Node::same_shape(Op::Relu, S).with_name("x"),
                Node::same_shape(Op::Input, S),
                conv(),
            ],
            &[(1, 2), (2, 0)],
        );
        assert!(is_isomorphic(&a, &b));
        let strided = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv().with_stride(2, 2),
                Node::same_shape(Op::Relu, S),
            ],
            &[(0, 1), (1, 2)],
        );
        assert!(!is_isomorphic(&a, &strided));
        let rewired = build(
            vec![
                Node::same_shape(Op::Input, S),
                conv(),
                Node::same_shape(Op::Relu, S),
            ],
            &[(0, 2), (2, 1)],
        );
        assert!(!is_isomorphic(&a, &rewired));
    }
}
