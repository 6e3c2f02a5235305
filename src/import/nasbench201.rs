//! NAS-Bench-201 cells as computation graphs of the whole "infer" network that the benchmark
//! trained (Dong & Yang 2020; xautodl `models/cell_infers/tiny_network.py`, `cells.py`,
//! `cell_operations.py`): `TinyNetwork(C = 16, N = 5)`.
//!
//! The network: stem conv3x3 (16 channels, no bias) + BN; three stages of 5 cells with 16, 32
//! and 64 channels; between stages a ResNet basic block of stride 2 (ReLU-conv3x3/2-BN,
//! ReLU-conv3x3-BN, shortcut avg-pool 2x2/2 + conv1x1, summed); then BN + ReLU, global average
//! pooling and a linear classifier. Every BN is affine (2 parameters per channel).
//!
//! A cell has nodes 0 (its input) to 3 (its output); node `j` sums one op per edge from each
//! node `i < j`. In the graph:
//! - `nor_conv_kxk` is `relu`, `conv` (kxk, no bias), `batch_norm`;
//! - `avg_pool_3x3` is a 3x3/1 `avg_pool`;
//! - `skip_connect` is a direct edge: the sum reads the source tensor itself. Only where one
//!   tensor would enter the same sum twice (for example node 1 = `skip_connect~0`, then
//!   `skip_connect~0` and `skip_connect~1` into node 2, which computes x + x) does the second
//!   copy go through an `identity` node, since a graph edge cannot carry a multiplicity;
//! - `none` contributes zeros to the sum, so its edge is left out;
//! - a node summing two or more tensors is an `add` node; a node with one is that tensor (no
//!   node); a node whose every incoming edge is `none` is a `zero` node fed by the sources of
//!   those edges, as the network computes it (`x.mul(0.)`) and passes it on. A cell whose
//!   output is such a node outputs zeros, which the next layers still process.
//!
//! The network also computes the branches that do not reach a cell's output (an op on an edge
//! into a node that feeds nothing, or out of a zero node), and counts their parameters; the
//! graph keeps them too, so they end in nodes without successors. The `view` flattening the
//! pooled features computes nothing and has no node.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::graph::{Graph, Node, Op, Shape};
use crate::import::builder::{NetBuilder, Tensor};

const STEM_CHANNELS: u32 = 16;
const NUM_STAGES: u32 = 3;
const CELLS_PER_STAGE: u32 = 5;
/// Nodes of a cell after its input: nodes 1, 2 and 3.
const CELL_NODES: usize = 3;
/// Edges of a cell: one into node `j` from each node `i < j`.
const CELL_EDGES: usize = 6;

/// The operation on an edge of a NAS-Bench-201 cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nb201Op {
    None,
    SkipConnect,
    NorConv1x1,
    NorConv3x3,
    AvgPool3x3,
}

impl Nb201Op {
    /// Every op, in the benchmark's order (`NAS_BENCH_201` in `cell_operations.py`).
    pub const ALL: [Nb201Op; 5] = [
        Nb201Op::None,
        Nb201Op::SkipConnect,
        Nb201Op::NorConv1x1,
        Nb201Op::NorConv3x3,
        Nb201Op::AvgPool3x3,
    ];

    /// The benchmark's spelling (`none`, `skip_connect`, `nor_conv_1x1`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Nb201Op::None => "none",
            Nb201Op::SkipConnect => "skip_connect",
            Nb201Op::NorConv1x1 => "nor_conv_1x1",
            Nb201Op::NorConv3x3 => "nor_conv_3x3",
            Nb201Op::AvgPool3x3 => "avg_pool_3x3",
        }
    }

    /// The op of a benchmark spelling, or `None` for anything else.
    pub fn from_name(name: &str) -> Option<Nb201Op> {
        Nb201Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// A NAS-Bench-201 cell: the op on each of its 6 edges. Parsed from and written as the
/// benchmark's string, `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (node 1, node 2, node 3; `op~i`
/// is the edge from node `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nb201Arch {
    /// Edge `i -> j` (`0 <= i < j <= 3`) at index `j(j-1)/2 + i`.
    edges: [Nb201Op; CELL_EDGES],
}

impl Nb201Arch {
    /// The cell with these ops, edges ordered as in the string: 1<-0, 2<-0, 2<-1, 3<-0,
    /// 3<-1, 3<-2.
    pub fn new(edges: [Nb201Op; CELL_EDGES]) -> Nb201Arch {
        Nb201Arch { edges }
    }

    /// The number of cells in the space: 5 ops on each of 6 edges.
    pub const COUNT: usize = 15_625;

    /// Cell number `index` (`0..COUNT`) of the space, read as six base-5 digits, the first
    /// edge's op the least significant ([`Nb201Op::ALL`] order); `None` beyond the space. A
    /// way to enumerate or sample the space, not the benchmark's own row order.
    pub fn from_index(index: usize) -> Option<Nb201Arch> {
        (index < Self::COUNT).then(|| {
            let mut rest = index;
            Nb201Arch::new(std::array::from_fn(|_| {
                let op = Nb201Op::ALL[rest % Nb201Op::ALL.len()];
                rest /= Nb201Op::ALL.len();
                op
            }))
        })
    }

    /// The op on the edge `from -> to`, or `None` unless `from < to <= 3`.
    pub fn op(&self, from: usize, to: usize) -> Option<Nb201Op> {
        (from < to && to <= CELL_NODES).then(|| self.edges[edge_index(from, to)])
    }

    /// The ops in string order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2).
    pub fn edges(&self) -> [Nb201Op; CELL_EDGES] {
        self.edges
    }

    /// The computation graph of the network with this cell, for `num_classes` classes and
    /// `resolution x resolution` RGB input (CIFAR: 32; ImageNet16-120: 16). The resolution
    /// must be a multiple of 4 (two stride-2 reductions whose branches must agree).
    pub fn to_graph(&self, num_classes: u32, resolution: u32) -> Result<Graph> {
        if num_classes == 0 {
            return Err(Error::invalid(
                "NAS-Bench-201 network: num_classes is 0; it must be at least 1",
            ));
        }
        if resolution == 0 || !resolution.is_multiple_of(4) {
            return Err(Error::invalid(format!(
                "NAS-Bench-201 network: resolution {resolution} is not a positive multiple of 4"
            )));
        }
        let mut b = NetBuilder::new();
        let image = b.input(Shape::new(resolution, resolution, 3))?;
        let stem = b.conv(image, STEM_CHANNELS, 3, 1, "stem/conv".into())?;
        let mut net = b.batch_norm(stem, "stem/bn".into())?;
        for stage in 0..NUM_STAGES {
            if stage > 0 {
                net = reduction_block(&mut b, net, &format!("reduction{stage}"))?;
            }
            for cell in 0..CELLS_PER_STAGE {
                net = self.build_cell(&mut b, net, &format!("stage{stage}/cell{cell}"))?;
            }
        }
        let net = b.batch_norm(net, "lastact/bn".into())?;
        let net = b.relu(net, "lastact/relu".into())?;
        let pooled = b.global_avg_pool(net, "global_pool".into())?;
        let logits = b.linear(pooled, num_classes, "classifier".into())?;
        b.output(logits)?;
        Ok(b.finish())
    }

    /// One `InferCell` (stride 1, channels unchanged) on `input`; returns node 3.
    fn build_cell(&self, b: &mut NetBuilder, input: Tensor, scope: &str) -> Result<Tensor> {
        let mut nodes = vec![input];
        for to in 1..=CELL_NODES {
            let node_scope = format!("{scope}/node{to}");
            let mut summands: Vec<Tensor> = Vec::new();
            let mut zeroed = Vec::new();
            for (from, &source) in nodes.iter().enumerate() {
                let edge = format!("{node_scope}/edge{from}");
                let value = match self.edges[edge_index(from, to)] {
                    Nb201Op::None => {
                        zeroed.push(source);
                        continue;
                    }
                    Nb201Op::SkipConnect if summands.contains(&source) => {
                        let copy = Node::same_shape(Op::Identity, source.shape)
                            .with_name(format!("{edge}/identity"));
                        b.node(copy, &[source])?
                    }
                    Nb201Op::SkipConnect => source,
                    Nb201Op::NorConv1x1 => relu_conv_bn(b, source, 1, 1, source.shape.c, &edge)?,
                    Nb201Op::NorConv3x3 => relu_conv_bn(b, source, 3, 1, source.shape.c, &edge)?,
                    Nb201Op::AvgPool3x3 => {
                        b.pool(Op::AvgPool, source, 3, 1, format!("{edge}/avgpool"))?
                    }
                };
                summands.push(value);
            }
            let node = match summands.as_slice() {
                [] => b.zero(&zeroed, format!("{node_scope}/zero"))?,
                [single] => *single,
                several => b.add(several, format!("{node_scope}/add"))?,
            };
            nodes.push(node);
        }
        Ok(nodes[CELL_NODES])
    }
}

impl FromStr for Nb201Arch {
    type Err = Error;

    /// Parses the benchmark's string. Each node `j` must list exactly `j` edges `op~i`
    /// with `i = 0, 1, ...` in order; errors are [`crate::ErrorKind::Parse`] errors naming the
    /// node, the edge and the offending text.
    fn from_str(arch: &str) -> Result<Nb201Arch> {
        let fail =
            |message: String| Error::parse(format!("NAS-Bench-201 arch {arch:?}: {message}"));
        let nodes: Vec<&str> = arch.split('+').collect();
        if nodes.len() != CELL_NODES {
            return Err(fail(format!(
                "{} node(s) separated by '+'; a cell string has {CELL_NODES}",
                nodes.len()
            )));
        }
        let mut edges = [Nb201Op::None; CELL_EDGES];
        for (to, node) in (1..=CELL_NODES).zip(nodes) {
            let inner = node
                .strip_prefix('|')
                .and_then(|rest| rest.strip_suffix('|'))
                .filter(|inner| !inner.is_empty())
                .ok_or_else(|| {
                    fail(format!(
                        "node {to} is {node:?}; it must look like |op~0|...| (ops between '|')"
                    ))
                })?;
            let tokens: Vec<&str> = inner.split('|').collect();
            if tokens.len() != to {
                return Err(fail(format!(
                    "node {to} has {} edge(s); node {to} has exactly {to} (one from each earlier node)",
                    tokens.len()
                )));
            }
            for (from, token) in tokens.into_iter().enumerate() {
                let (name, source) = token.split_once('~').ok_or_else(|| {
                    fail(format!(
                        "node {to}, edge {from}: {token:?} is not of the form op~{from}"
                    ))
                })?;
                let op = Nb201Op::from_name(name).ok_or_else(|| {
                    fail(format!(
                        "node {to}, edge {from}: op {name:?} is not a NAS-Bench-201 op (expected \
                         one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)"
                    ))
                })?;
                if source != from.to_string() {
                    return Err(fail(format!(
                        "node {to}, edge {from}: {token:?} reads node {source:?}; edge {from} \
                         of a node must read node {from}"
                    )));
                }
                edges[edge_index(from, to)] = op;
            }
        }
        Ok(Nb201Arch { edges })
    }
}

impl fmt::Display for Nb201Arch {
    /// The benchmark's string, which [`Nb201Arch::from_str`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for to in 1..=CELL_NODES {
            if to > 1 {
                f.write_str("+")?;
            }
            f.write_str("|")?;
            for from in 0..to {
                write!(f, "{}~{from}|", self.edges[edge_index(from, to)].name())?;
            }
        }
        Ok(())
    }
}

/// The NAS-Bench-201 network of the cell `arch` (the benchmark's string) for `num_classes`
/// classes on 32x32 input (CIFAR-10: 10, CIFAR-100: 100), as a computation graph. For
/// ImageNet16-120 use `arch.parse::<Nb201Arch>()?.to_graph(120, 16)`. A malformed string is a
/// [`crate::ErrorKind::Parse`] error naming the node, edge and op.
pub fn nasbench201(arch: &str, num_classes: u32) -> Result<Graph> {
    arch.parse::<Nb201Arch>()?.to_graph(num_classes, 32)
}

fn edge_index(from: usize, to: usize) -> usize {
    to * (to - 1) / 2 + from
}

/// `ReLUConvBN`: ReLU, a bias-free conv to `out_c` channels, affine BN.
fn relu_conv_bn(
    b: &mut NetBuilder,
    x: Tensor,
    kernel: u32,
    stride: u32,
    out_c: u32,
    scope: &str,
) -> Result<Tensor> {
    let x = b.relu(x, format!("{scope}/relu"))?;
    let x = b.conv(x, out_c, kernel, stride, format!("{scope}/conv"))?;
    b.batch_norm(x, format!("{scope}/bn"))
}

/// `ResNetBasicblock(C, 2C, stride = 2)`: halves the size and doubles the channels.
fn reduction_block(b: &mut NetBuilder, x: Tensor, scope: &str) -> Result<Tensor> {
    let out_c = x.shape.c * 2;
    let a = relu_conv_bn(b, x, 3, 2, out_c, &format!("{scope}/conv_a"))?;
    let main = relu_conv_bn(b, a, 3, 1, out_c, &format!("{scope}/conv_b"))?;
    let pooled = b.pool(Op::AvgPool, x, 2, 2, format!("{scope}/downsample/avgpool"))?;
    let shortcut = b.conv(pooled, out_c, 1, 1, format!("{scope}/downsample/conv"))?;
    b.add(&[shortcut, main], format!("{scope}/add"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The best CIFAR-10 cell of the benchmark.
    const BEST: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    const ALL_NONE: &str = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

    #[test]
    fn indices_enumerate_every_cell_once() {
        assert_eq!(Nb201Arch::from_index(0).unwrap().to_string(), ALL_NONE);
        // 1 + 4*5 + 3*25 ...: digits 1, 4, 3, 2, 0, 3 from the first edge on.
        let index = 1 + 4 * 5 + 3 * 25 + 2 * 125 + 3 * 3125;
        assert_eq!(
            Nb201Arch::from_index(index).unwrap().to_string(),
            "|skip_connect~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|"
        );
        assert_eq!(Nb201Arch::from_index(Nb201Arch::COUNT), None);
        let all: std::collections::HashSet<Nb201Arch> = (0..Nb201Arch::COUNT)
            .map(|i| Nb201Arch::from_index(i).unwrap())
            .collect();
        assert_eq!(all.len(), Nb201Arch::COUNT);
    }

    #[test]
    fn best_cell_counted_by_hand() {
        let g = nasbench201(BEST, 10).unwrap();
        // Per cell: 5 conv edges of 3 nodes (relu, conv, bn) and 3 edges each (source -> relu
        // -> conv -> bn); node 1 has one input (no node); node 2 adds 2 tensors; node 3 adds
        // the cell input (skip edge), and two convs: 17 nodes, 15 + 2 + 3 = 20 edges.
        // Reduction block: relu, conv, bn, relu, conv, bn, avg-pool, conv, add: 9 nodes, 10
        // edges (x -> relu, x -> avg-pool, 6 along the two branches, 2 into the add).
        // Network: input, stem conv + bn (2 nodes, 2 edges), 15 cells, 2 reductions, last BN +
        // ReLU, global pool, classifier, output (5 nodes, 5 edges).
        assert_eq!(g.node_count(), 1 + 2 + 15 * 17 + 2 * 9 + 5);
        assert_eq!(g.edge_count(), 2 + 15 * 20 + 2 * 10 + 5);
        // Parameters: the cell-free network has 73306 (see the all-none test); each
        // nor_conv_3x3 adds 9C^2 + 2C, 5 per cell, 5 cells per stage at C = 16, 32, 64:
        // 25 * (2336 + 9280 + 36992) = 1215200.
        assert_eq!(g.param_count(), 73306 + 1_215_200);
        let histogram = g.op_histogram();
        assert_eq!(histogram["add"], 15 * 2 + 2);
        assert_eq!(histogram["conv"], 1 + 15 * 5 + 2 * 3);
        assert!(!histogram.contains_key("identity"));
        assert!(!histogram.contains_key("zero"));
        // The skip edge of the first cell: the stem BN feeds node 3's add directly.
        let add = g
            .nodes()
            .find(|(_, node)| node.name == "stage0/cell0/node3/add")
            .unwrap()
            .0;
        assert_eq!(g.predecessors(add)[0], 2);
        assert_eq!(g.node(2).unwrap().name, "stem/bn");
    }

    /// Every edge `none`: each node is zeros computed from its inputs. Published: the smallest
    /// NAS-Bench-201 network has 0.073306M parameters on CIFAR-10 (benchmark file v1.1).
    #[test]
    fn all_none_cell_counted_by_hand() {
        let g = nasbench201(ALL_NONE, 10).unwrap();
        // Per cell: zero nodes 1, 2, 3 fed by 1, 2 and 3 earlier nodes: 3 nodes, 6 edges.
        assert_eq!(g.node_count(), 1 + 2 + 15 * 3 + 2 * 9 + 5);
        assert_eq!(g.edge_count(), 2 + 15 * 6 + 2 * 10 + 5);
        // Stem 3*16*9 + 32 = 464; reductions 16->32: 4608 + 64 + 9216 + 64 + 512 = 14464,
        // 32->64: 18432 + 128 + 36864 + 128 + 2048 = 57600; last BN 128; classifier 650.
        assert_eq!(464 + 14464 + 57600 + 128 + 650, 73306);
        assert_eq!(g.param_count(), 73306);
        assert_eq!(g.op_histogram()["zero"], 45);
        // The last cell's output is zeros; the last BN reads it.
        let bn = g.nodes().find(|(_, n)| n.name == "lastact/bn").unwrap().0;
        let zero = g.predecessors(bn)[0];
        assert_eq!(g.node(zero).unwrap().op, Op::Zero);
        assert_eq!(g.predecessors(zero).len(), 3);
    }

    /// Node 1 is the cell input itself, so node 2 = x + x: the second copy is an identity
    /// node. Node 3 reads node 2 alone (no node).
    #[test]
    fn a_tensor_summed_twice_keeps_its_multiplicity() {
        let arch =
            "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|skip_connect~2|";
        let g = nasbench201(arch, 10).unwrap();
        // Per cell: identity + add, edges x -> identity, x -> add, identity -> add.
        assert_eq!(g.node_count(), 1 + 2 + 15 * 2 + 2 * 9 + 5);
        assert_eq!(g.edge_count(), 2 + 15 * 3 + 2 * 10 + 5);
        assert_eq!(g.op_histogram()["identity"], 15);
        assert_eq!(g.param_count(), 73306);
    }

    /// Node 2 feeds nothing (edge 2 -> 3 is none) but the network still computes it.
    #[test]
    fn branches_off_the_output_are_kept() {
        let arch = "|nor_conv_1x1~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|none~2|";
        let g = nasbench201(arch, 10).unwrap();
        let dead_end = g
            .nodes()
            .find(|(_, node)| node.name == "stage0/cell0/node2/add")
            .unwrap()
            .0;
        assert!(g.successors(dead_end).is_empty());
        // Each cell: nor_conv_1x1 (C^2 + 2C) and nor_conv_3x3 (9C^2 + 2C) = 10C^2 + 4C.
        let per_cell: u64 = [16u64, 32, 64]
            .iter()
            .map(|c| 5 * (10 * c * c + 4 * c))
            .sum();
        assert_eq!(g.param_count(), 73306 + per_cell);
    }

    #[test]
    fn imagenet16_network_has_smaller_maps() {
        let arch: Nb201Arch = BEST.parse().unwrap();
        let g = arch.to_graph(120, 16).unwrap();
        assert_eq!(g.node(0).unwrap().output, Shape::new(16, 16, 3));
        let gap = g
            .nodes()
            .find(|(_, n)| n.op == Op::GlobalAvgPool)
            .unwrap()
            .1;
        assert_eq!(gap.input, Shape::new(4, 4, 64));
        let last = g.node(g.node_count() as u32 - 1).unwrap();
        assert_eq!(
            (last.op.clone(), last.output),
            (Op::Output, Shape::vector(120))
        );
        for (classes, resolution, expected) in
            [(0, 32, "num_classes is 0"), (10, 30, "resolution 30")]
        {
            let err = arch.to_graph(classes, resolution).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidArgument);
            assert!(err.message.contains(expected), "{err}");
        }
    }

    #[test]
    fn strings_round_trip() {
        let arch: Nb201Arch = BEST.parse().unwrap();
        assert_eq!(arch.to_string(), BEST);
        assert_eq!(arch.op(0, 3), Some(Nb201Op::SkipConnect));
        assert_eq!(arch.op(2, 3), Some(Nb201Op::NorConv3x3));
        assert_eq!((arch.op(3, 3), arch.op(0, 4)), (None, None));
        let edges = [
            Nb201Op::AvgPool3x3,
            Nb201Op::NorConv1x1,
            Nb201Op::SkipConnect,
            Nb201Op::None,
            Nb201Op::NorConv3x3,
            Nb201Op::None,
        ];
        let built = Nb201Arch::new(edges);
        assert_eq!(
            built.to_string(),
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|none~2|"
        );
        assert_eq!(
            built.to_string().parse::<Nb201Arch>().unwrap().edges(),
            edges
        );
    }

    #[test]
    fn malformed_strings_name_the_problem() {
        let cases = [
            ("", "1 node(s) separated by '+'"),
            ("|none~0|+|none~0|none~1|", "2 node(s)"),
            (
                "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|",
                "4 node(s)",
            ),
            (
                "none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                "node 1 is \"none~0|\"",
            ),
            (
                "||+|none~0|none~1|+|none~0|none~1|none~2|",
                "node 1 is \"||\"",
            ),
            (
                "|none~0|+|none~0|+|none~0|none~1|none~2|",
                "node 2 has 1 edge(s)",
            ),
            (
                "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|none~3|",
                "node 3 has 4 edge(s)",
            ),
            (
                "|none~0|+|none~0|none1|+|none~0|none~1|none~2|",
                "node 2, edge 1: \"none1\" is not of the form op~1",
            ),
            (
                "|none~0|+|none~0|none~1|+|none~0|conv_3x3~1|none~2|",
                "node 3, edge 1: op \"conv_3x3\" is not a NAS-Bench-201 op",
            ),
            (
                "|none~0|+|none~1|none~0|+|none~0|none~1|none~2|",
                "node 2, edge 0: \"none~1\" reads node \"1\"",
            ),
            (
                "|none~0|+|none~0|none~01|+|none~0|none~1|none~2|",
                "reads node \"01\"",
            ),
        ];
        for (arch, expected) in cases {
            let err = nasbench201(arch, 10).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Parse);
            assert!(err.message.starts_with("NAS-Bench-201 arch "), "{err}");
            assert!(err.message.contains(expected), "{expected:?} not in {err}");
        }
    }
}
