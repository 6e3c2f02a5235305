//! NAS-Bench-101 cells as computation graphs of the whole CIFAR-10 network that the
//! benchmark trained (Ying et al. 2019; `nasbench/lib/model_builder.py`, `base_ops.py`).
//!
//! The network: a stem conv3x3 (128 channels) + BN + ReLU on the 32x32x3 image; 3 stacks of
//! 3 cells, with a 2x2/2 max-pool and doubled channels before stacks 2 and 3; global average
//! pooling; a dense layer (with bias) to 10 classes. Inside a cell, as `build_module` does:
//! - vertex channels follow `compute_vertex_channels`: the cell's output channels are split
//!   evenly among the vertices that feed the output (the first ones get the remainder, one
//!   channel each), and every other vertex takes the largest channel count of its successors;
//! - a vertex sums its inputs (an `add` node; one input needs none): interior inputs truncated
//!   to its channel count (a channel slice, `slice`, where they have one more channel)
//!   and, for an edge from the cell input, a 1x1 projection (conv-bn-relu) of the cell input;
//! - the output concatenates the vertices that feed it (a `concat` node where there are
//!   several) and adds a projection of the cell input if the input feeds the output directly.
//!
//! Each grouped op is its primitive nodes: conv3x3-bn-relu is `conv` (3x3, no bias),
//! `batch_norm` and `relu`; maxpool3x3 is a 3x3/1 `max_pool`. TensorFlow's batch norm learns
//! both gamma and beta (`center` and `scale` default to true), so each BN has 2 parameters per
//! channel; with these, [`Graph::param_count`] equals the benchmark's `trainable_parameters`.
//! `tf.identity` at the cell boundary and `reduce_mean`'s implicit flattening compute nothing
//! and have no node.

use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Graph, Node, Op, Shape};
use crate::import::builder::{NetBuilder, Tensor};

/// The most vertices (input and output included) of a NAS-Bench-101 cell.
pub const NB101_MAX_VERTICES: usize = 7;
/// The most edges of a NAS-Bench-101 cell.
pub const NB101_MAX_EDGES: usize = 9;

const IMAGE_SIZE: u32 = 32;
const STEM_CHANNELS: u32 = 128;
const NUM_STACKS: u32 = 3;
const MODULES_PER_STACK: u32 = 3;
const NUM_CLASSES: u32 = 10;

/// The operation at an interior vertex of a NAS-Bench-101 cell. The variants are in the order
/// of the benchmark's `available_ops`, which is the label order of its graph enumeration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Nb101Op {
    Conv3x3BnRelu,
    Conv1x1BnRelu,
    MaxPool3x3,
}

impl Nb101Op {
    /// Every op, in the benchmark's label order.
    pub const ALL: [Nb101Op; 3] = [
        Nb101Op::Conv3x3BnRelu,
        Nb101Op::Conv1x1BnRelu,
        Nb101Op::MaxPool3x3,
    ];

    /// The benchmark's spelling (`conv3x3-bn-relu`, `conv1x1-bn-relu`, `maxpool3x3`).
    pub fn name(self) -> &'static str {
        match self {
            Nb101Op::Conv3x3BnRelu => "conv3x3-bn-relu",
            Nb101Op::Conv1x1BnRelu => "conv1x1-bn-relu",
            Nb101Op::MaxPool3x3 => "maxpool3x3",
        }
    }

    /// The op of a benchmark spelling, or `None` for anything else.
    pub fn from_name(name: &str) -> Option<Nb101Op> {
        Nb101Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// A valid NAS-Bench-101 cell: `n` vertices (2 to 7) in an upper-triangular adjacency matrix,
/// vertex 0 the input, vertex `n - 1` the output, an op at every other vertex, at most 9
/// edges, and every vertex on a path from the input to the output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nb101Spec {
    n: usize,
    /// Row-major `n x n`: `adjacency[from * n + to]`.
    adjacency: Vec<bool>,
    /// The ops of vertices `1 ..= n - 2`.
    ops: Vec<Nb101Op>,
}

impl Nb101Spec {
    /// Checks a cell given as an `n x n` row-major 0/1 matrix and its `n` op names
    /// (`input`, ..., `output`). A vertex off every input-to-output path is an error here;
    /// [`Nb101Spec::pruned`] removes such vertices as the benchmark's `ModelSpec` does.
    pub fn new(adjacency: &[u8], n: usize, ops: &[&str]) -> Result<Nb101Spec> {
        let spec = Nb101Spec::unchecked(adjacency, n, ops)?;
        spec.check_size()?;
        let disconnected = spec.disconnected_vertices();
        if disconnected
            .iter()
            .any(|&(vertex, _)| vertex == 0 || vertex == n - 1)
        {
            return Err(invalid("the input has no path to the output"));
        }
        if let Some(&(vertex, problem)) = disconnected.first() {
            return Err(invalid(format!(
                "vertex {vertex} ({}) {problem}; NAS-Bench-101 prunes such vertices \
                 (build the cell with Nb101Spec::pruned to do the same)",
                spec.op_name(vertex)
            )));
        }
        Ok(spec)
    }

    /// Like [`Nb101Spec::new`], but first removes the vertices that are not on a path from
    /// the input to the output, exactly as NAS-Bench-101's `ModelSpec` does (its API and
    /// NASLib store cells unpruned, padded to 7 vertices). The size limits apply to the
    /// pruned cell, as in the benchmark's `is_valid`.
    pub fn pruned(adjacency: &[u8], n: usize, ops: &[&str]) -> Result<Nb101Spec> {
        let spec = Nb101Spec::unchecked(adjacency, n, ops)?;
        let dropped: Vec<usize> = spec
            .disconnected_vertices()
            .into_iter()
            .map(|(vertex, _)| vertex)
            .collect();
        if dropped.contains(&0) || dropped.contains(&(n - 1)) {
            return Err(invalid("the input has no path to the output"));
        }
        let kept: Vec<usize> = (0..n).filter(|v| !dropped.contains(v)).collect();
        let pruned = spec.relabeled(&kept);
        pruned.check_size()?;
        Ok(pruned)
    }

    /// [`Nb101Spec::new`] on the JSON form of the benchmark's files and of NASLib: a nested
    /// 0/1 matrix (`[[0, 1], [0, 0]]`) and a list of op names. Every failure is a parse error.
    pub fn from_json(adjacency: &str, ops: &str) -> Result<Nb101Spec> {
        let (matrix, n, ops) = parse_json(adjacency, ops)?;
        let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
        Nb101Spec::new(&matrix, n, &ops).map_err(as_parse_error)
    }

    /// [`Nb101Spec::pruned`] on the JSON form (see [`Nb101Spec::from_json`]).
    pub fn pruned_from_json(adjacency: &str, ops: &str) -> Result<Nb101Spec> {
        let (matrix, n, ops) = parse_json(adjacency, ops)?;
        let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
        Nb101Spec::pruned(&matrix, n, &ops).map_err(as_parse_error)
    }

    /// Number of vertices, input and output included.
    pub fn num_vertices(&self) -> usize {
        self.n
    }

    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.adjacency.iter().filter(|&&edge| edge).count()
    }

    /// Whether the cell has the edge `from -> to` (false for vertices out of range).
    pub fn has_edge(&self, from: usize, to: usize) -> bool {
        from < self.n && to < self.n && self.adjacency[from * self.n + to]
    }

    /// The op at `vertex`, or `None` for the input, the output and vertices out of range.
    pub fn op(&self, vertex: usize) -> Option<Nb101Op> {
        vertex.checked_sub(1).and_then(|i| self.ops.get(i)).copied()
    }

    /// The vertex order that NAS-Bench-101 trained for this cell.
    ///
    /// The benchmark identifies a cell by a hash that ignores the vertex order, and trained
    /// one order per hash: the first that its enumeration (`generate_graphs.py`) met, which
    /// is the order with the smallest edge bit mask (edge `x -> y` is bit `x + y(y-1)/2`),
    /// then the smallest op labels. The order matters for the network: channel remainders go
    /// to the first output-feeding vertices, so two orders of one cell can build networks with
    /// different channel counts. `trainable_parameters` and every other number the benchmark
    /// reports for a cell are those of the network of this order.
    pub fn canonical(&self) -> Nb101Spec {
        let mut search = CanonicalSearch {
            spec: self,
            order: vec![0],
            best: None,
        };
        search.extend();
        match search.best {
            Some((_, order)) => self.relabeled(&order),
            // Unreachable for a valid cell, which always has a topological order.
            None => self.clone(),
        }
    }

    /// The computation graph of the CIFAR-10 network with this cell, for exactly this vertex
    /// order (as `model_builder.py` builds it; NASLib's PyTorch port does the same).
    pub fn to_graph(&self) -> Result<Graph> {
        let mut b = NetBuilder::new();
        let image = b.input(Shape::new(IMAGE_SIZE, IMAGE_SIZE, 3))?;
        let mut net = conv_bn_relu(&mut b, image, STEM_CHANNELS, 3, "stem")?;
        for stack in 0..NUM_STACKS {
            let mut channels = net.shape.c;
            if stack > 0 {
                let name = format!("stack{stack}/downsample");
                net = b.pool(Op::MaxPool, net, 2, 2, name)?;
                channels *= 2;
            }
            for module in 0..MODULES_PER_STACK {
                let scope = format!("stack{stack}/module{module}");
                net = self.build_module(&mut b, net, channels, &scope)?;
            }
        }
        let pooled = b.global_avg_pool(net, "global_pool".into())?;
        let logits = b.linear(pooled, NUM_CLASSES, "dense".into())?;
        b.output(logits)?;
        Ok(b.finish())
    }

    /// One cell (`build_module`): `input` to a tensor of `channels` channels.
    fn build_module(
        &self,
        b: &mut NetBuilder,
        input: Tensor,
        channels: u32,
        scope: &str,
    ) -> Result<Tensor> {
        let n = self.n;
        let vertex_channels = self.vertex_channels(input.shape.c, channels);
        let mut tensors = vec![input];
        let mut output_in = Vec::new();
        for (t, &width) in vertex_channels.iter().enumerate().take(n - 1).skip(1) {
            let vertex = format!("{scope}/vertex{t}");
            let mut add_in = Vec::new();
            for (src, &tensor) in tensors.iter().enumerate().skip(1) {
                if self.has_edge(src, t) {
                    add_in.push(truncate(
                        b,
                        tensor,
                        width,
                        &format!("{vertex}/truncate{src}"),
                    )?);
                }
            }
            if self.has_edge(0, t) {
                add_in.push(conv_bn_relu(
                    b,
                    input,
                    width,
                    1,
                    &format!("{vertex}/projection"),
                )?);
            }
            let summed = match add_in.as_slice() {
                [] => return Err(invalid(format!("vertex {t} has no input"))),
                [single] => *single,
                several => b.add(several, format!("{vertex}/add"))?,
            };
            let value = match self.op(t) {
                Some(Nb101Op::Conv3x3BnRelu) => conv_bn_relu(b, summed, width, 3, &vertex)?,
                Some(Nb101Op::Conv1x1BnRelu) => conv_bn_relu(b, summed, width, 1, &vertex)?,
                Some(Nb101Op::MaxPool3x3) => {
                    b.pool(Op::MaxPool, summed, 3, 1, format!("{vertex}/maxpool"))?
                }
                None => return Err(invalid(format!("vertex {t} has no op"))),
            };
            tensors.push(value);
            if self.has_edge(t, n - 1) {
                output_in.push(value);
            }
        }
        let projection = format!("{scope}/output/projection");
        let joined = match output_in.as_slice() {
            [] => return conv_bn_relu(b, input, channels, 1, &projection),
            [single] => *single,
            several => b.concat(several, format!("{scope}/output/concat"))?,
        };
        if self.has_edge(0, n - 1) {
            let projected = conv_bn_relu(b, input, channels, 1, &projection)?;
            b.add(&[joined, projected], format!("{scope}/output/add"))
        } else {
            Ok(joined)
        }
    }

    /// `compute_vertex_channels`: the output channels of every vertex of one cell.
    fn vertex_channels(&self, input_channels: u32, output_channels: u32) -> Vec<u32> {
        let n = self.n;
        let mut channels = vec![0; n];
        channels[0] = input_channels;
        channels[n - 1] = output_channels;
        if n == 2 {
            return channels;
        }
        // A valid cell with interior vertices has at least one feeding the output.
        let fan_in = (1..n - 1).filter(|&v| self.has_edge(v, n - 1)).count() as u32;
        let share = output_channels.checked_div(fan_in).unwrap_or(0);
        let mut remainder = output_channels.checked_rem(fan_in).unwrap_or(0);
        for (v, width) in channels.iter_mut().enumerate().take(n - 1).skip(1) {
            if self.has_edge(v, n - 1) {
                *width = share;
                if remainder > 0 {
                    *width += 1;
                    remainder -= 1;
                }
            }
        }
        for v in (1..n - 2).rev() {
            if !self.has_edge(v, n - 1) {
                for dst in v + 1..n - 1 {
                    if self.has_edge(v, dst) {
                        channels[v] = channels[v].max(channels[dst]);
                    }
                }
            }
        }
        channels
    }

    /// Reads and checks the parts that need no connectivity: sizes, 0/1 entries, upper
    /// triangularity, op names.
    fn unchecked(adjacency: &[u8], n: usize, ops: &[&str]) -> Result<Nb101Spec> {
        if n < 2 {
            return Err(invalid(format!(
                "n = {n}; a cell has at least 2 vertices (input and output)"
            )));
        }
        let expected = n
            .checked_mul(n)
            .ok_or_else(|| invalid(format!("n = {n} is too large")))?;
        if adjacency.len() != expected {
            return Err(invalid(format!(
                "the adjacency matrix has {} entries; an n x n matrix with n = {n} has {expected}",
                adjacency.len()
            )));
        }
        for (index, &value) in adjacency.iter().enumerate() {
            let (row, col) = (index / n, index % n);
            if value > 1 {
                return Err(invalid(format!(
                    "adjacency[{row}][{col}] = {value}; entries must be 0 or 1"
                )));
            }
            if value == 1 && col <= row {
                return Err(invalid(format!(
                    "adjacency[{row}][{col}] = 1 is on or below the diagonal; the matrix must be \
                     strictly upper triangular (edges go from a lower to a higher vertex)"
                )));
            }
        }
        if ops.len() != n {
            return Err(invalid(format!(
                "{} ops for {n} vertices; give one op per vertex",
                ops.len()
            )));
        }
        for (index, expected) in [(0, "input"), (n - 1, "output")] {
            if ops[index] != expected {
                return Err(invalid(format!(
                    "ops[{index}] = {:?}; the {} op must be {expected:?}",
                    ops[index],
                    if index == 0 { "first" } else { "last" }
                )));
            }
        }
        let interior = ops[1..n - 1]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                Nb101Op::from_name(name).ok_or_else(|| {
                    invalid(format!(
                        "ops[{}] = {name:?} is not a NAS-Bench-101 op (expected one of \
                         conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3)",
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Nb101Spec {
            n,
            adjacency: adjacency.iter().map(|&value| value == 1).collect(),
            ops: interior,
        })
    }

    fn check_size(&self) -> Result<()> {
        if self.n > NB101_MAX_VERTICES {
            return Err(invalid(format!(
                "{} vertices; NAS-Bench-101 cells have at most {NB101_MAX_VERTICES}",
                self.n
            )));
        }
        let edges = self.num_edges();
        if edges > NB101_MAX_EDGES {
            return Err(invalid(format!(
                "{edges} edges; NAS-Bench-101 cells have at most {NB101_MAX_EDGES}"
            )));
        }
        Ok(())
    }

    /// The vertices off every input-to-output path, in order, each with its reason.
    fn disconnected_vertices(&self) -> Vec<(usize, &'static str)> {
        let n = self.n;
        let mut from_input = vec![false; n];
        from_input[0] = true;
        for v in 1..n {
            from_input[v] = (0..v).any(|u| from_input[u] && self.has_edge(u, v));
        }
        let mut to_output = vec![false; n];
        to_output[n - 1] = true;
        for v in (0..n - 1).rev() {
            to_output[v] = (v + 1..n).any(|w| to_output[w] && self.has_edge(v, w));
        }
        (0..n)
            .filter_map(|v| match (from_input[v], to_output[v]) {
                (false, _) => Some((v, "is not reachable from the input")),
                (true, false) => Some((v, "has no path to the output")),
                (true, true) => None,
            })
            .collect()
    }

    /// The cell on the vertices `order` (old ids), renumbered `0, 1, ...` in that order.
    fn relabeled(&self, order: &[usize]) -> Nb101Spec {
        let n = order.len();
        let mut adjacency = vec![false; n * n];
        for (i, &from) in order.iter().enumerate() {
            for (j, &to) in order.iter().enumerate() {
                adjacency[i * n + j] = self.has_edge(from, to);
            }
        }
        let ops = order[1..n - 1]
            .iter()
            .filter_map(|&vertex| self.op(vertex))
            .collect();
        Nb101Spec { n, adjacency, ops }
    }

    fn op_name(&self, vertex: usize) -> &'static str {
        match self.op(vertex) {
            Some(op) => op.name(),
            None if vertex == 0 => "input",
            None => "output",
        }
    }
}

/// A vertex order's position in the benchmark's enumeration: edge bit mask, then op labels.
type OrderKey = (u32, Vec<Nb101Op>);

/// Depth-first enumeration of the topological orders of a cell's vertices (input first,
/// output last), keeping the one whose relabeled cell has the smallest (edge bits, labels).
struct CanonicalSearch<'a> {
    spec: &'a Nb101Spec,
    /// Old vertex ids, in their new order so far.
    order: Vec<usize>,
    best: Option<(OrderKey, Vec<usize>)>,
}

impl CanonicalSearch<'_> {
    fn extend(&mut self) {
        let n = self.spec.n;
        if self.order.len() == n - 1 {
            self.order.push(n - 1);
            let key = self.key();
            if self.best.as_ref().is_none_or(|(best, _)| key < *best) {
                self.best = Some((key, self.order.clone()));
            }
            self.order.pop();
            return;
        }
        for v in 1..n - 1 {
            let placed = |u: &usize| self.order.contains(u);
            let ready = !placed(&v) && (1..n - 1).all(|u| !self.spec.has_edge(u, v) || placed(&u));
            if ready {
                self.order.push(v);
                self.extend();
                self.order.pop();
            }
        }
    }

    /// `generate_graphs.py`'s enumeration position of the current order: its edge bit mask
    /// (`gen_is_edge_fn`), then its op labels.
    fn key(&self) -> OrderKey {
        let mut bits = 0u32;
        for (x, &from) in self.order.iter().enumerate() {
            for (y, &to) in self.order.iter().enumerate() {
                if self.spec.has_edge(from, to) {
                    bits |= 1 << (x + y * (y - 1) / 2);
                }
            }
        }
        let labels = self.order.iter().filter_map(|&v| self.spec.op(v)).collect();
        (bits, labels)
    }
}

/// The NAS-Bench-101 network (CIFAR-10, 32x32 input, 10 classes) of the cell given as an
/// `n x n` row-major 0/1 `adjacency` matrix and `n` op names, as the computation graph that
/// the benchmark trained: the cell is checked ([`Nb101Spec::new`]), put in the vertex order
/// the benchmark used ([`Nb101Spec::canonical`]) and built ([`Nb101Spec::to_graph`]).
/// Malformed cells are [`ErrorKind::InvalidArgument`] errors naming the problem.
pub fn nasbench101(adjacency: &[u8], n: usize, ops: &[&str]) -> Result<Graph> {
    Nb101Spec::new(adjacency, n, ops)?.canonical().to_graph()
}

/// conv (no bias) + BN + ReLU, named `scope/conv`, `scope/bn`, `scope/relu`.
fn conv_bn_relu(
    b: &mut NetBuilder,
    x: Tensor,
    out_c: u32,
    kernel: u32,
    scope: &str,
) -> Result<Tensor> {
    let x = b.conv(x, out_c, kernel, 1, format!("{scope}/conv"))?;
    let x = b.batch_norm(x, format!("{scope}/bn"))?;
    b.relu(x, format!("{scope}/relu"))
}

/// `truncate`: keeps the first `channels` channels of `x` (a slice node where it has more).
fn truncate(b: &mut NetBuilder, x: Tensor, channels: u32, name: &str) -> Result<Tensor> {
    if x.shape.c == channels {
        return Ok(x);
    }
    let output = Shape {
        c: channels,
        ..x.shape
    };
    let node = Node::new(Op::Slice, x.shape, output).with_name(name);
    b.node(node, &[x])
}

/// Reads the nested-list JSON form into a flat matrix, its size and the op names.
fn parse_json(adjacency: &str, ops: &str) -> Result<(Vec<u8>, usize, Vec<String>)> {
    let rows: Vec<Vec<u8>> = serde_json::from_str(adjacency).map_err(|error| {
        parse(format!(
            "the adjacency matrix is not a JSON list of lists of 0/1: {error}"
        ))
    })?;
    let ops: Vec<String> = serde_json::from_str(ops)
        .map_err(|error| parse(format!("the ops are not a JSON list of strings: {error}")))?;
    let n = rows.len();
    if let Some((row, entries)) = rows.iter().enumerate().find(|(_, r)| r.len() != n) {
        return Err(parse(format!(
            "adjacency row {row} has {} entries but the matrix has {n} rows; it must be square",
            entries.len()
        )));
    }
    Ok((rows.concat(), n, ops))
}

fn invalid(message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("NAS-Bench-101 cell: {message}"))
}

fn parse(message: impl std::fmt::Display) -> Error {
    Error::parse(format!("NAS-Bench-101 cell: {message}"))
}

fn as_parse_error(error: Error) -> Error {
    error.with_kind(ErrorKind::Parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN: &str = "input";
    const OUT: &str = "output";
    const C3: &str = "conv3x3-bn-relu";
    const C1: &str = "conv1x1-bn-relu";
    const MP: &str = "maxpool3x3";

    fn flat(rows: &[&[u8]]) -> Vec<u8> {
        rows.concat()
    }

    /// input -> conv3x3 -> output. Every cell is: projection (conv1x1-bn-relu) of the cell
    /// input to C channels, then conv3x3-bn-relu; the vertex has one input (no add) and is
    /// the only output vertex (no concat).
    #[test]
    fn tiny_cell_counted_by_hand() {
        let g = nasbench101(
            &flat(&[&[0, 1, 0], &[0, 0, 1], &[0, 0, 0]]),
            3,
            &[IN, C3, OUT],
        )
        .unwrap();
        // Nodes: input; stem conv, bn, relu (3); 9 cells x 6; 2 downsampling max-pools;
        // global pool, dense, output: 1 + 3 + 54 + 2 + 3 = 63. The graph is a chain, so 62 edges.
        assert_eq!(g.node_count(), 63);
        assert_eq!(g.edge_count(), 62);
        // Parameters (BN: 2 per channel):
        //   stem 3*128*9 + 256 = 3712;
        //   stack 0 (C = 128, in 128): 3 * [(128*128 + 256) + (128*128*9 + 256)] = 493056;
        //   stack 1 (C = 256): first (128*256 + 512) + (256*256*9 + 512) = 623616,
        //            then 2 * [(256*256 + 512) + 590336] = 1312768;
        //   stack 2 (C = 512): first (256*512 + 1024) + (512*512*9 + 1024) = 2492416,
        //            then 2 * [(512*512 + 1024) + 2360320] = 5246976;
        //   dense 512*10 + 10 = 5130.
        let expected = 3712 + 493056 + 623616 + 1312768 + 2492416 + 5246976 + 5130;
        assert_eq!(expected, 10_177_674);
        assert_eq!(g.param_count(), expected);
        // MACs: stem 32*32*128*27 = 3538944; stack 0 at 32x32: 3 * 1024*128*(128 + 128*9)
        // = 503316480; stacks 1 (16x16) and 2 (8x8): 159383552 + 2 * 167772160 each; dense 5120.
        assert_eq!(
            g.macs(),
            3538944 + 503316480 + 2 * (159383552 + 2 * 167772160) + 5120
        );
        let histogram = g.op_histogram();
        assert_eq!(histogram["conv"], 1 + 9 * 2);
        assert_eq!(histogram["max_pool"], 2);
        assert_eq!(g.node(0).unwrap().op, Op::Input);
        assert_eq!(g.node(62).unwrap().output, Shape::vector(10));
    }

    /// input -> output only: every cell is a projection of its input. NAS-Bench-101 reports
    /// 882570 trainable parameters for this cell (hash 043721b9c7fe8c5fad811d47d83132ec in
    /// data/nasbench101); by hand: 3712 + 3*16640 + 33280 + 2*66048 + 132096 + 2*263168 + 5130.
    #[test]
    fn input_to_output_cell_is_a_projection() {
        let g = nasbench101(&[0, 1, 0, 0], 2, &[IN, OUT]).unwrap();
        assert_eq!(g.param_count(), 882_570);
        assert_eq!(
            3712 + 3 * 16640 + 33280 + 2 * 66048 + 132096 + 2 * 263168 + 5130,
            882_570
        );
        // 1 + 3 + 9 * 3 + 2 + 3 nodes in a chain.
        assert_eq!((g.node_count(), g.edge_count()), (36, 35));
    }

    /// The Inception-like cell of the benchmark's README (its Figure (b)): input -> conv1x1,
    /// conv3x3, conv3x3 -> conv3x3, maxpool; all but the first 3x3 feed the output.
    #[test]
    fn inception_cell_counted_by_hand() {
        let adjacency = flat(&[
            &[0, 1, 1, 1, 0, 1, 0],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 1, 0, 0],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0; 7],
        ]);
        let ops = [IN, C1, C3, C3, C3, MP, OUT];
        let g = nasbench101(&adjacency, 7, &ops).unwrap();
        // Per cell: 4 input projections (12 nodes, 12 edges); ops at vertices 1-4 (12 nodes,
        // 12 edges: each reads one tensor, so no add); the max-pool (1 node, 1 edge); the
        // concat of the 4 output vertices (1 node, 4 edges): 26 nodes, 29 edges. Four equal
        // shares of C, so no truncation.
        // Network: input, stem (3 nodes, 3 edges), 9 cells, 2 max-pools (2 edges), global
        // pool, dense, output (3 edges).
        assert_eq!(g.node_count(), 1 + 3 + 9 * 26 + 2 + 3);
        assert_eq!(g.edge_count(), 3 + 9 * 29 + 2 + 3);
        let histogram = g.op_histogram();
        assert_eq!(histogram["concat"], 9);
        assert!(!histogram.contains_key("add"));
        assert!(!histogram.contains_key("slice"));
        // The first cell's concat: 4 x 32 channels at 32x32.
        let concat = g.nodes().find(|(_, node)| node.op == Op::Concat).unwrap().1;
        assert_eq!(concat.output, Shape::new(32, 32, 128));
        assert_eq!(concat.name, "stack0/module0/output/concat");
    }

    /// A cell of data/nasbench101 (hash 000191735c964ed3522167de6c847cfe) whose vertex order
    /// there differs from the benchmark's. Output fan-in is 3, so 128 = 43 + 43 + 42 and the
    /// remainders go to the first two output vertices. In the file's order the conv3x3 chain
    /// 2 -> 3 -> 4 (max-pool) -> output gets 43 channels; in the benchmark's order the two
    /// max-pools swap places and that chain gets 42. NAS-Bench-101 reports 2479416 trainable
    /// parameters, which only the benchmark's order reproduces.
    #[test]
    fn the_benchmark_vertex_order_decides_the_channels() {
        let adjacency = flat(&[
            &[0, 1, 0, 0, 0, 0, 0],
            &[0, 0, 1, 0, 0, 0, 1],
            &[0, 0, 0, 1, 0, 1, 0],
            &[0, 0, 0, 0, 1, 0, 0],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0; 7],
        ]);
        let ops = [IN, C1, C3, C3, MP, MP, OUT];
        let spec = Nb101Spec::new(&adjacency, 7, &ops).unwrap();
        assert_eq!(
            spec.vertex_channels(128, 128),
            [128, 43, 43, 43, 43, 42, 128]
        );
        let canonical = spec.canonical();
        // Vertices 3 and 4 of the file's order become 4 and 5; its vertex 5 becomes 3.
        assert_eq!(canonical.op(3), Some(Nb101Op::MaxPool3x3));
        assert!(canonical.has_edge(2, 3) && canonical.has_edge(2, 4) && canonical.has_edge(4, 5));
        assert_eq!(
            canonical.vertex_channels(128, 128),
            [128, 43, 43, 43, 42, 42, 128]
        );
        assert_eq!(
            nasbench101(&adjacency, 7, &ops).unwrap().param_count(),
            2_479_416
        );
        assert_ne!(spec.to_graph().unwrap().param_count(), 2_479_416);
    }

    /// Every topological relabeling of a cell has the same canonical form, which is its own
    /// canonical form.
    #[test]
    fn canonical_form_ignores_the_vertex_order() {
        let adjacency = flat(&[
            &[0, 1, 1, 0, 0, 1, 0],
            &[0, 0, 1, 0, 0, 0, 0],
            &[0, 0, 0, 1, 0, 0, 1],
            &[0, 0, 0, 0, 1, 0, 0],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 0, 1],
            &[0; 7],
        ]);
        let spec = Nb101Spec::new(&adjacency, 7, &[IN, C3, C1, MP, MP, C3, OUT]).unwrap();
        let canonical = spec.canonical();
        assert_eq!(canonical.canonical(), canonical);
        let mut relabelings = 0;
        let interior = [1, 2, 3, 4, 5];
        for a in interior {
            for b in interior {
                for c in interior {
                    for d in interior {
                        for e in interior {
                            let order = [0, a, b, c, d, e, 6];
                            let distinct = (1..6).all(|i| !order[i + 1..6].contains(&order[i]));
                            let topological =
                                (0..7).all(|i| (0..i).all(|j| !spec.has_edge(order[i], order[j])));
                            if distinct && topological {
                                relabelings += 1;
                                assert_eq!(spec.relabeled(&order).canonical(), canonical);
                            }
                        }
                    }
                }
            }
        }
        // 1 -> 2 -> 3 -> 4 is a chain and 5 is free: 5 can go in any of 5 places.
        assert_eq!(relabelings, 5);
        assert_eq!(spec.num_edges(), canonical.num_edges());
    }

    #[test]
    fn pruning_removes_dangling_vertices_as_the_benchmark_does() {
        // Vertex 2 has no path to the output, vertex 3 is unreachable from the input.
        let adjacency = flat(&[
            &[0, 1, 1, 0, 0],
            &[0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0],
            &[0, 0, 0, 0, 1],
            &[0; 5],
        ]);
        let ops = [IN, C3, MP, C1, OUT];
        let err = Nb101Spec::new(&adjacency, 5, &ops).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(
            err.message
                .contains("vertex 2 (maxpool3x3) has no path to the output"),
            "{err}"
        );
        let pruned = Nb101Spec::pruned(&adjacency, 5, &ops).unwrap();
        let expected = Nb101Spec::new(
            &flat(&[&[0, 1, 0], &[0, 0, 1], &[0, 0, 0]]),
            3,
            &[IN, C3, OUT],
        )
        .unwrap();
        assert_eq!(pruned, expected);
        let err = Nb101Spec::pruned(&[0, 0, 0, 0], 2, &[IN, OUT]).unwrap_err();
        assert!(
            err.message.contains("the input has no path to the output"),
            "{err}"
        );
    }

    #[test]
    fn malformed_cells_name_the_problem() {
        let chain = flat(&[&[0, 1, 0], &[0, 0, 1], &[0, 0, 0]]);
        let cases: Vec<(Vec<u8>, usize, Vec<&str>, &str)> = vec![
            (vec![0], 1, vec![IN], "n = 1"),
            (
                vec![0, 1, 0],
                2,
                vec![IN, OUT],
                "has 3 entries; an n x n matrix with n = 2 has 4",
            ),
            (vec![0, 2, 0, 0], 2, vec![IN, OUT], "adjacency[0][1] = 2"),
            (
                vec![0, 1, 1, 0],
                2,
                vec![IN, OUT],
                "adjacency[1][0] = 1 is on or below the diagonal",
            ),
            (vec![1, 1, 0, 0], 2, vec![IN, OUT], "adjacency[0][0] = 1"),
            (chain.clone(), 3, vec![IN, OUT], "2 ops for 3 vertices"),
            (
                chain.clone(),
                3,
                vec![C3, C3, OUT],
                "ops[0] = \"conv3x3-bn-relu\"; the first op must be \"input\"",
            ),
            (
                chain.clone(),
                3,
                vec![IN, C3, MP],
                "ops[2] = \"maxpool3x3\"; the last op must be \"output\"",
            ),
            (
                chain.clone(),
                3,
                vec![IN, "conv5x5", OUT],
                "ops[1] = \"conv5x5\" is not a NAS-Bench-101 op",
            ),
            (
                chain.clone(),
                3,
                vec![IN, IN, OUT],
                "ops[1] = \"input\" is not a NAS-Bench-101 op",
            ),
            (
                vec![0, 0, 0, 0],
                2,
                vec![IN, OUT],
                "the input has no path to the output",
            ),
            (
                flat(&[&[0, 1, 0, 0], &[0, 0, 0, 1], &[0, 0, 0, 1], &[0; 4]]),
                4,
                vec![IN, C3, C1, OUT],
                "vertex 2 (conv1x1-bn-relu) is not reachable from the input; NAS-Bench-101 prunes",
            ),
        ];
        for (adjacency, n, ops, expected) in cases {
            let err = nasbench101(&adjacency, n, &ops).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidArgument);
            assert!(err.message.starts_with("NAS-Bench-101 cell: "), "{err}");
            assert!(err.message.contains(expected), "{expected:?} not in {err}");
        }
    }

    #[test]
    fn cells_beyond_the_search_space_are_refused() {
        // 8 vertices in a chain.
        let mut chain = vec![0u8; 64];
        for v in 0..7 {
            chain[v * 8 + v + 1] = 1;
        }
        let ops = [IN, C3, C3, C3, C3, C3, C3, OUT];
        let err = nasbench101(&chain, 8, &ops).unwrap_err();
        assert!(
            err.message
                .contains("8 vertices; NAS-Bench-101 cells have at most 7"),
            "{err}"
        );
        // 7 vertices, 10 edges: a chain plus 4 shortcuts from the input.
        let mut dense = vec![0u8; 49];
        for v in 0..6 {
            dense[v * 7 + v + 1] = 1;
        }
        for to in [2, 3, 4, 5] {
            dense[to] = 1;
        }
        let err = nasbench101(&dense, 7, &[IN, C3, C3, C3, C3, C3, OUT]).unwrap_err();
        assert!(
            err.message
                .contains("10 edges; NAS-Bench-101 cells have at most 9"),
            "{err}"
        );
    }

    #[test]
    fn json_form_is_read_and_checked() {
        let spec = Nb101Spec::from_json(
            "[[0, 1, 0], [0, 0, 1], [0, 0, 0]]",
            r#"["input", "maxpool3x3", "output"]"#,
        )
        .unwrap();
        assert_eq!(spec.num_vertices(), 3);
        assert_eq!(spec.op(1), Some(Nb101Op::MaxPool3x3));
        assert_eq!((spec.op(0), spec.op(2), spec.op(9)), (None, None, None));
        let cases = [
            (
                "[[0, 1], [0]]",
                r#"["input", "output"]"#,
                "adjacency row 1 has 1 entries but the matrix has 2 rows",
            ),
            (
                "[[0, 1], [0, -1]]",
                r#"["input", "output"]"#,
                "not a JSON list of lists of 0/1",
            ),
            (
                "[[0, 1], [0, 0]]",
                r#"["input", 3]"#,
                "not a JSON list of strings",
            ),
            (
                "[[0, 1], [1, 0]]",
                r#"["input", "output"]"#,
                "adjacency[1][0] = 1",
            ),
        ];
        for (adjacency, ops, expected) in cases {
            let err = Nb101Spec::from_json(adjacency, ops).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Parse);
            assert!(err.message.contains(expected), "{expected:?} not in {err}");
        }
    }

    #[test]
    fn a_truncated_input_is_a_slice_node() {
        // Output fan-in 3 (vertices 1, 2, 3): 128 = 43 + 43 + 42. Vertex 2 (43) feeds
        // vertex 3 (42), so its tensor loses one channel before the sum.
        let adjacency = flat(&[
            &[0, 1, 1, 1, 0],
            &[0, 0, 0, 0, 1],
            &[0, 0, 0, 1, 1],
            &[0, 0, 0, 0, 1],
            &[0; 5],
        ]);
        let spec = Nb101Spec::new(&adjacency, 5, &[IN, C1, C3, C3, OUT]).unwrap();
        assert_eq!(spec.vertex_channels(128, 128), [128, 43, 43, 42, 128]);
        let g = spec.to_graph().unwrap();
        let slices: Vec<_> = g.nodes().filter(|(_, node)| node.op == Op::Slice).collect();
        // Shares at C = 128: 43, 43, 42; at 256: 86, 85, 85 (no slice); at 512: 171, 171, 170.
        assert_eq!(slices.len(), 6);
        let (id, slice) = slices[0];
        assert_eq!((slice.input.c, slice.output.c), (43, 42));
        assert_eq!(slice.name, "stack0/module0/vertex3/truncate2");
        assert_eq!(slice.param_count(), Some(0));
        // The slice and the input projection feed vertex 3's add.
        let add = g.successors(id)[0];
        assert_eq!(g.node(add).unwrap().op, Op::Add);
        assert_eq!(g.predecessors(add).len(), 2);
    }
}
