//! A small helper for writing a network's computation graph layer by layer, used by the
//! benchmark importers: each call adds one primitive node fed by the given tensors.
//!
//! Conventions shared by every importer:
//! - spatial ops use "same" padding, so a stride `s` maps `h` to `ceil(h / s)`;
//! - a node with several inputs (`add`, `concat`, `zero`) records its first operand's shape
//!   as `input`; its `output` is the result's shape.

use crate::error::{Error, Result};
use crate::graph::{Graph, Node, NodeId, Op, Shape};

/// A tensor of the network being built: the node that produces it and its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tensor {
    pub id: NodeId,
    pub shape: Shape,
}

/// Builds a [`Graph`] from layer calls; see the module documentation.
#[derive(Debug, Default)]
pub(crate) struct NetBuilder {
    graph: Graph,
}

impl NetBuilder {
    pub fn new() -> NetBuilder {
        NetBuilder::default()
    }

    /// Adds `node` with an edge from each of `inputs`, in order.
    pub fn node(&mut self, node: Node, inputs: &[Tensor]) -> Result<Tensor> {
        let shape = node.output;
        let id = self.graph.add_node(node)?;
        for input in inputs {
            self.graph.add_edge(input.id, id)?;
        }
        Ok(Tensor { id, shape })
    }

    /// The network's input image.
    pub fn input(&mut self, shape: Shape) -> Result<Tensor> {
        self.node(Node::same_shape(Op::Input, shape).with_name("input"), &[])
    }

    /// Marks `x` as the network's output.
    pub fn output(&mut self, x: Tensor) -> Result<Tensor> {
        self.node(
            Node::same_shape(Op::Output, x.shape).with_name("output"),
            &[x],
        )
    }

    /// A bias-free `kernel x kernel` convolution to `out_c` channels.
    pub fn conv(
        &mut self,
        x: Tensor,
        out_c: u32,
        kernel: u32,
        stride: u32,
        name: String,
    ) -> Result<Tensor> {
        self.dense_conv(x, out_c, kernel, stride, false, name)
    }

    /// A stride-1 `kernel x kernel` convolution to `out_c` channels with a bias.
    pub fn conv_with_bias(
        &mut self,
        x: Tensor,
        out_c: u32,
        kernel: u32,
        name: String,
    ) -> Result<Tensor> {
        self.dense_conv(x, out_c, kernel, 1, true, name)
    }

    fn dense_conv(
        &mut self,
        x: Tensor,
        out_c: u32,
        kernel: u32,
        stride: u32,
        bias: bool,
        name: String,
    ) -> Result<Tensor> {
        let output = Shape::new(
            x.shape.h.div_ceil(stride),
            x.shape.w.div_ceil(stride),
            out_c,
        );
        let node = Node::new(Op::Conv, x.shape, output)
            .with_kernel(kernel, kernel)
            .with_stride(stride, stride)
            .with_bias(bias)
            .with_name(name);
        self.node(node, &[x])
    }

    /// A bias-free depthwise convolution (one `kernel x kernel` filter per channel).
    pub fn depthwise_conv(
        &mut self,
        x: Tensor,
        kernel: u32,
        stride: u32,
        dilation: u32,
        name: String,
    ) -> Result<Tensor> {
        let output = Shape::new(
            x.shape.h.div_ceil(stride),
            x.shape.w.div_ceil(stride),
            x.shape.c,
        );
        let node = Node::new(Op::DepthwiseConv, x.shape, output)
            .with_kernel(kernel, kernel)
            .with_stride(stride, stride)
            .with_dilation(dilation, dilation)
            .with_groups(x.shape.c)
            .with_name(name);
        self.node(node, &[x])
    }

    /// Batch normalization with a learned scale and shift (2 parameters per channel).
    pub fn batch_norm(&mut self, x: Tensor, name: String) -> Result<Tensor> {
        self.batch_norm_affine(x, true, name)
    }

    /// Batch normalization, affine (a learned scale and shift) or not (no parameters).
    pub fn batch_norm_affine(&mut self, x: Tensor, affine: bool, name: String) -> Result<Tensor> {
        let node = Node::same_shape(Op::BatchNorm, x.shape)
            .with_bias(affine)
            .with_name(name);
        self.node(node, &[x])
    }

    pub fn relu(&mut self, x: Tensor, name: String) -> Result<Tensor> {
        self.unary(Op::Relu, x, name)
    }

    /// A shape-preserving op on `x` (an activation, `identity`).
    pub fn unary(&mut self, op: Op, x: Tensor, name: String) -> Result<Tensor> {
        self.node(Node::same_shape(op, x.shape).with_name(name), &[x])
    }

    /// Windowed pooling (`Op::MaxPool` or `Op::AvgPool`).
    pub fn pool(
        &mut self,
        op: Op,
        x: Tensor,
        kernel: u32,
        stride: u32,
        name: String,
    ) -> Result<Tensor> {
        let output = Shape::new(
            x.shape.h.div_ceil(stride),
            x.shape.w.div_ceil(stride),
            x.shape.c,
        );
        let node = Node::new(op, x.shape, output)
            .with_kernel(kernel, kernel)
            .with_stride(stride, stride)
            .with_name(name);
        self.node(node, &[x])
    }

    /// The element-wise sum of `xs` (all of one shape).
    pub fn add(&mut self, xs: &[Tensor], name: String) -> Result<Tensor> {
        self.multi_input(Op::Add, xs, |first| first, name)
    }

    /// The element-wise product of `xs`, shaped like `xs[0]` (later operands broadcast, as
    /// a squeeze-excite scale of 1 x 1 x C does).
    pub fn mul(&mut self, xs: &[Tensor], name: String) -> Result<Tensor> {
        self.multi_input(Op::Mul, xs, |first| first, name)
    }

    /// `xs` concatenated along channels.
    pub fn concat(&mut self, xs: &[Tensor], name: String) -> Result<Tensor> {
        let channels = xs.iter().map(|x| x.shape.c).sum();
        self.multi_input(
            Op::Concat,
            xs,
            |first| Shape {
                c: channels,
                ..first
            },
            name,
        )
    }

    /// A tensor of zeros shaped like `xs[0]`, computed from `xs` (NAS-Bench's `none` op).
    pub fn zero(&mut self, xs: &[Tensor], name: String) -> Result<Tensor> {
        self.multi_input(Op::Zero, xs, |first| first, name)
    }

    /// A node fed by all of `xs`, whose output shape follows from the first operand's.
    fn multi_input(
        &mut self,
        op: Op,
        xs: &[Tensor],
        output: impl FnOnce(Shape) -> Shape,
        name: String,
    ) -> Result<Tensor> {
        let first = xs
            .first()
            .ok_or_else(|| Error::invalid(format!("{name}: {op} needs at least one input")))?
            .shape;
        self.node(Node::new(op, first, output(first)).with_name(name), xs)
    }

    /// Global average pooling to one value per channel.
    pub fn global_avg_pool(&mut self, x: Tensor, name: String) -> Result<Tensor> {
        let node = Node::new(Op::GlobalAvgPool, x.shape, Shape::vector(x.shape.c)).with_name(name);
        self.node(node, &[x])
    }

    /// A fully connected layer with bias.
    pub fn linear(&mut self, x: Tensor, out_c: u32, name: String) -> Result<Tensor> {
        let node = Node::new(Op::Linear, x.shape, Shape::vector(out_c))
            .with_bias(true)
            .with_name(name);
        self.node(node, &[x])
    }

    pub fn finish(self) -> Graph {
        self.graph
    }
}
