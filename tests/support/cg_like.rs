//! Graphs for the spectral tests, fixtures and benchmark: seeded random CG-like networks
//! (chains of residual, bottleneck, inception-like, NB-201-like and inverted-residual
//! blocks, built through the real graph API) and small graphs of known spectrum.
//!
//! Shared through `#[path]` by the library's spectral unit tests (which run optimized, see
//! `[profile.test]`), `tests/spectral.rs`, `examples/spectral_fixture_graphs.rs` and
//! `benches/spectral.rs`; each includer imports `Graph, Node, NodeId, Op, Shape` at its
//! crate root (the library has them there already), and uses only some of it.
#![allow(dead_code)]

use crate::{Graph, Node, NodeId, Op, Shape};

/// SplitMix64: small, seeded, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n ≥ 1; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A network under construction: the graph and the current tensor (node and shape).
struct Builder {
    graph: Graph,
    rng: Rng,
}

impl Builder {
    fn node(&mut self, node: Node, inputs: &[NodeId]) -> NodeId {
        let id = self
            .graph
            .add_node(node)
            .expect("generated nodes are valid");
        for &input in inputs {
            self.graph
                .add_edge(input, id)
                .expect("generated edges go forward");
        }
        id
    }

    fn conv(
        &mut self,
        x: NodeId,
        s: Shape,
        out_c: u32,
        kernel: u32,
        stride: u32,
    ) -> (NodeId, Shape) {
        let out = Shape::new((s.h / stride).max(1), (s.w / stride).max(1), out_c);
        let id = self.node(
            Node::new(Op::Conv, s, out)
                .with_kernel(kernel, kernel)
                .with_stride(stride, stride),
            &[x],
        );
        (id, out)
    }

    fn bn(&mut self, x: NodeId, s: Shape) -> NodeId {
        self.node(Node::same_shape(Op::BatchNorm, s).with_bias(true), &[x])
    }

    fn act(&mut self, op: Op, x: NodeId, s: Shape) -> NodeId {
        self.node(Node::same_shape(op, s), &[x])
    }

    /// conv → batch norm → ReLU.
    fn conv_bn_relu(
        &mut self,
        x: NodeId,
        s: Shape,
        out_c: u32,
        kernel: u32,
        stride: u32,
    ) -> (NodeId, Shape) {
        let (c, out) = self.conv(x, s, out_c, kernel, stride);
        let b = self.bn(c, out);
        (self.act(Op::Relu, b, out), out)
    }

    fn add(&mut self, inputs: &[NodeId], s: Shape) -> NodeId {
        self.node(Node::same_shape(Op::Add, s), inputs)
    }

    /// A ResNet basic block, downsampling with a projection shortcut when `stride` is 2.
    fn basic(&mut self, x: NodeId, s: Shape, stride: u32) -> (NodeId, Shape) {
        let out_c = if stride == 2 { (s.c * 2).min(512) } else { s.c };
        let (a, sa) = self.conv_bn_relu(x, s, out_c, 3, stride);
        let (b, sb) = self.conv(a, sa, out_c, 3, 1);
        let b = self.bn(b, sb);
        let shortcut = if stride == 2 || out_c != s.c {
            let (p, sp) = self.conv(x, s, out_c, 1, stride);
            self.bn(p, sp)
        } else {
            x
        };
        let sum = self.add(&[b, shortcut], sb);
        (self.act(Op::Relu, sum, sb), sb)
    }

    /// A ResNet bottleneck block (1x1 → 3x3 → 1x1, identity shortcut).
    fn bottleneck(&mut self, x: NodeId, s: Shape) -> (NodeId, Shape) {
        let mid = (s.c / 4).max(1);
        let (a, sa) = self.conv_bn_relu(x, s, mid, 1, 1);
        let (b, sb) = self.conv_bn_relu(a, sa, mid, 3, 1);
        let (c, sc) = self.conv(b, sb, s.c, 1, 1);
        let c = self.bn(c, sc);
        let sum = self.add(&[c, x], s);
        (self.act(Op::Relu, sum, s), s)
    }

    /// Inception-like: four parallel branches of different depths, concatenated.
    fn inception(&mut self, x: NodeId, s: Shape) -> (NodeId, Shape) {
        let branch_c = (s.c / 4).max(1);
        let (b1, _) = self.conv_bn_relu(x, s, branch_c, 1, 1);
        let (b2, s2) = self.conv_bn_relu(x, s, branch_c, 1, 1);
        let (b2, _) = self.conv_bn_relu(b2, s2, branch_c, 3, 1);
        let (b3, s3) = self.conv_bn_relu(x, s, branch_c, 1, 1);
        let (b3, s3) = self.conv_bn_relu(b3, s3, branch_c, 3, 1);
        let (b3, _) = self.conv_bn_relu(b3, s3, branch_c, 3, 1);
        let pool = self.node(Node::same_shape(Op::MaxPool, s).with_kernel(3, 3), &[x]);
        let (b4, _) = self.conv_bn_relu(pool, s, branch_c, 1, 1);
        let out = Shape::new(s.h, s.w, 4 * branch_c);
        let concat = self.node(
            Node::new(Op::Concat, Shape::new(s.h, s.w, branch_c), out),
            &[b1, b2, b3, b4],
        );
        (concat, out)
    }

    /// An NB-201-like cell: four nodes, each earlier node feeding each later one through
    /// a random operation (skip, ReLU-conv-BN 1x1 or 3x3, average pool, or none).
    fn nb201_cell(&mut self, x: NodeId, s: Shape) -> (NodeId, Shape) {
        let mut states = vec![x];
        for j in 1..4 {
            let mut inputs = Vec::new();
            for &from in &states[..j] {
                match self.rng.below(5) {
                    0 => inputs.push(from),
                    1 | 2 => {
                        let kernel = if self.rng.below(2) == 0 { 1 } else { 3 };
                        let r = self.act(Op::Relu, from, s);
                        let (c, sc) = self.conv(r, s, s.c, kernel, 1);
                        inputs.push(self.bn(c, sc));
                    }
                    3 => inputs.push(
                        self.node(Node::same_shape(Op::AvgPool, s).with_kernel(3, 3), &[from]),
                    ),
                    _ => {}
                }
            }
            if inputs.is_empty() {
                inputs.push(states[j - 1]);
            }
            let state = self.add(&inputs, s);
            states.push(state);
        }
        (states[3], s)
    }

    /// A MobileNetV2 inverted residual: expand 1x1, depthwise 3x3, project 1x1, add.
    fn inverted_residual(&mut self, x: NodeId, s: Shape) -> (NodeId, Shape) {
        let wide = Shape::new(s.h, s.w, s.c * 4);
        let e = self.node(Node::new(Op::Conv, s, wide).with_kernel(1, 1), &[x]);
        let e = self.bn(e, wide);
        let e = self.act(Op::Relu6, e, wide);
        let d = self.node(
            Node::new(Op::DepthwiseConv, wide, wide)
                .with_kernel(3, 3)
                .with_groups(wide.c),
            &[e],
        );
        let d = self.bn(d, wide);
        let d = self.act(Op::Relu6, d, wide);
        let p = self.node(Node::new(Op::Conv, wide, s).with_kernel(1, 1), &[d]);
        let p = self.bn(p, s);
        (self.add(&[p, x], s), s)
    }
}

/// A random CG-like network of about `target_nodes` nodes (a little more: the last block
/// and the classifier head are completed): input, stem, a chain of random blocks with
/// occasional downsampling, global pooling, a linear layer and the output.
pub fn cg_like(target_nodes: usize, seed: u64) -> Graph {
    let mut b = Builder {
        graph: Graph::new(),
        rng: Rng::new(seed),
    };
    let s = Shape::new(32, 32, 3);
    let input = b.node(Node::same_shape(Op::Input, s), &[]);
    let (mut x, mut s) = b.conv_bn_relu(input, s, 16, 3, 1);
    while b.graph.node_count() + 4 < target_nodes {
        (x, s) = match b.rng.below(10) {
            0 if s.h >= 2 => b.basic(x, s, 2),
            0..=2 => b.basic(x, s, 1),
            3 | 4 => b.bottleneck(x, s),
            5 | 6 => b.inception(x, s),
            7 | 8 => b.nb201_cell(x, s),
            _ => b.inverted_residual(x, s),
        };
    }
    let pooled = Shape::new(1, 1, s.c);
    let gap = b.node(Node::new(Op::GlobalAvgPool, s, pooled), &[x]);
    let logits = Shape::new(1, 1, 10);
    let fc = b.node(
        Node::new(Op::Linear, pooled, logits).with_bias(true),
        &[gap],
    );
    b.node(Node::same_shape(Op::Output, logits), &[fc]);
    b.graph
}

/// `n` identity nodes joined by `edges`, each oriented from the lower id to the higher, so
/// that any undirected graph becomes a DAG with that skeleton.
pub fn from_edges(n: usize, edges: &[(usize, usize)]) -> Graph {
    let mut graph = Graph::new();
    for _ in 0..n {
        graph
            .add_node(Node::same_shape(Op::Identity, Shape::new(1, 1, 1)))
            .expect("identity nodes are valid");
    }
    for &(a, b) in edges {
        graph
            .add_edge(a.min(b) as NodeId, a.max(b) as NodeId)
            .expect("low-to-high edges cannot close a cycle");
    }
    graph
}

pub fn path(n: usize) -> Graph {
    from_edges(n, &(1..n).map(|i| (i - 1, i)).collect::<Vec<_>>())
}

pub fn cycle(n: usize) -> Graph {
    from_edges(n, &(0..n).map(|i| (i, (i + 1) % n)).collect::<Vec<_>>())
}

/// `K_{1,n-1}`: node 0 joined to every other node.
pub fn star(n: usize) -> Graph {
    from_edges(n, &(1..n).map(|i| (0, i)).collect::<Vec<_>>())
}

pub fn complete(n: usize) -> Graph {
    let edges: Vec<_> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect();
    from_edges(n, &edges)
}

/// `K_{a,b}`: nodes `0..a` joined to nodes `a..a+b`.
pub fn complete_bipartite(a: usize, b: usize) -> Graph {
    let edges: Vec<_> = (0..a)
        .flat_map(|i| (a..a + b).map(move |j| (i, j)))
        .collect();
    from_edges(a + b, &edges)
}

/// A "spider": node 0 with `legs` paths of `length` nodes each. Its antisymmetric leg
/// modes repeat `legs − 1` times, low in the spectrum: a hard case for Lanczos.
pub fn spider(legs: usize, length: usize) -> Graph {
    let mut edges = Vec::new();
    for leg in 0..legs {
        let first = 1 + leg * length;
        edges.push((0, first));
        edges.extend((first..first + length - 1).map(|i| (i, i + 1)));
    }
    from_edges(1 + legs * length, &edges)
}

/// A chain of `blocks` identical blocks, each `branches` parallel paths of `length` nodes
/// from one junction node to the next: every block repeats the same local modes.
pub fn parallel_chain(blocks: usize, branches: usize, length: usize) -> Graph {
    let mut edges = Vec::new();
    let mut next = 1;
    let mut junction = 0;
    for _ in 0..blocks {
        let end = next + branches * length;
        for branch in 0..branches {
            let first = next + branch * length;
            edges.push((junction, first));
            edges.extend((first..first + length - 1).map(|i| (i, i + 1)));
            edges.push((first + length - 1, end));
        }
        junction = end;
        next = end + 1;
    }
    from_edges(next, &edges)
}

/// The disjoint union of `graphs` (skeletons only), numbered one after the other.
pub fn disjoint_union(graphs: &[Graph]) -> Graph {
    let mut edges = Vec::new();
    let mut offset = 0;
    for graph in graphs {
        edges.extend(
            graph
                .edges()
                .map(|(a, b)| (offset + a as usize, offset + b as usize)),
        );
        offset += graph.node_count();
    }
    from_edges(offset, &edges)
}
