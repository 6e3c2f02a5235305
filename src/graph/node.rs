//! One node of a computation graph: an operator with its tensor sizes and weight layout.

use super::op::Op;

/// Height, width and channels of a tensor. Non-spatial tensors have `h = w = 1`; a
/// sequence of tokens is `h = tokens, w = 1, c = features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Shape {
    pub h: u32,
    pub w: u32,
    pub c: u32,
}

impl Shape {
    pub const fn new(h: u32, w: u32, c: u32) -> Shape {
        Shape { h, w, c }
    }

    /// A non-spatial tensor of `c` features.
    pub const fn vector(c: u32) -> Shape {
        Shape { h: 1, w: 1, c }
    }

    /// Number of elements, without overflow.
    pub fn elements(&self) -> u64 {
        u64::from(self.h) * u64::from(self.w) * u64::from(self.c)
    }
}

/// A primitive operator node.
///
/// `kernel`, `stride` and `dilation` are `[h, w]` pairs. They apply to convolutions, to
/// windowed pooling (not `groups`) and to unknown ops; elsewhere they must be 1 (0 is read
/// as "not given" and stored as 1). `has_bias` means an additive bias of `output.c` values;
/// for normalizations it means "affine" (a learned scale and shift per channel).
///
/// `weight_shape` is the layout of the learned weight, bias excluded. For vocabulary ops it
/// follows from the other fields ([`Node::implied_weight_shape`]): leave it empty and the graph
/// fills it in, or give it and the graph checks it. For `Unknown` ops it is whatever the
/// caller knows (an imported initializer's dimensions), possibly empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub op: Op,
    /// Free-form label (an ONNX node name, a cell position); not part of the structure.
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    pub kernel: [u32; 2],
    pub stride: [u32; 2],
    pub dilation: [u32; 2],
    pub groups: u32,
    pub has_bias: bool,
    pub weight_shape: Vec<u64>,
}

impl Node {
    /// A node with unit kernel, stride, dilation and groups, no bias, and its weight shape
    /// left for the graph to derive.
    pub fn new(op: Op, input: Shape, output: Shape) -> Node {
        Node {
            op,
            name: String::new(),
            input,
            output,
            kernel: [1, 1],
            stride: [1, 1],
            dilation: [1, 1],
            groups: 1,
            has_bias: false,
            weight_shape: Vec::new(),
        }
    }

    /// A node whose input and output have the same shape (activations, normalizations).
    pub fn same_shape(op: Op, shape: Shape) -> Node {
        Node::new(op, shape, shape)
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Node {
        self.name = name.into();
        self
    }

    pub fn with_kernel(mut self, kernel_h: u32, kernel_w: u32) -> Node {
        self.kernel = [kernel_h, kernel_w];
        self
    }

    pub fn with_stride(mut self, stride_h: u32, stride_w: u32) -> Node {
        self.stride = [stride_h, stride_w];
        self
    }

    pub fn with_dilation(mut self, dilation_h: u32, dilation_w: u32) -> Node {
        self.dilation = [dilation_h, dilation_w];
        self
    }

    pub fn with_groups(mut self, groups: u32) -> Node {
        self.groups = groups;
        self
    }

    pub fn with_bias(mut self, has_bias: bool) -> Node {
        self.has_bias = has_bias;
        self
    }

    pub fn with_weight_shape(mut self, weight_shape: Vec<u64>) -> Node {
        self.weight_shape = weight_shape;
        self
    }

    /// The weight layout that a vocabulary op's fields imply, PyTorch order:
    /// convolutions `[out_c, in_c / groups, kernel_h, kernel_w]`, linear `[out_c, in_c]`,
    /// affine normalizations `[c]`, everything else none. `None` for `Unknown` ops.
    pub fn implied_weight_shape(&self) -> Option<Vec<u64>> {
        let (input, output) = (self.input, self.output);
        let shape = match &self.op {
            Op::Unknown(_) => return None,
            Op::Conv | Op::DepthwiseConv => vec![
                u64::from(output.c),
                u64::from(input.c / self.groups.max(1)),
                u64::from(self.kernel[0]),
                u64::from(self.kernel[1]),
            ],
            Op::Linear => vec![u64::from(output.c), u64::from(input.c)],
            op if op.is_normalization() && self.has_bias => vec![u64::from(output.c)],
            _ => Vec::new(),
        };
        Some(shape)
    }

    /// Learned parameters: the weight's elements plus the bias. `None` on overflow.
    pub fn param_count(&self) -> Option<u64> {
        let weights = if self.weight_shape.is_empty() {
            0
        } else {
            self.weight_shape
                .iter()
                .try_fold(1u64, |product, &dim| product.checked_mul(dim))?
        };
        let bias = if self.has_bias {
            u64::from(self.output.c)
        } else {
            0
        };
        weights.checked_add(bias)
    }

    /// Multiply-accumulates of one forward pass, counted for the ops that dominate compute
    /// (convolutions, linear layers, matrix products), as fvcore, thop and NASLib count them:
    /// - convolution: `out_h * out_w * out_c * (in_c / groups) * kernel_h * kernel_w`;
    /// - linear: `out_h * out_w * out_c * in_c` (a token sequence pays per token);
    /// - matmul of two activations: `out_h * out_w * out_c * in_c`, where `in_c` is the
    ///   contracted dimension (the last dimension of the first operand).
    ///
    /// Everything else is 0. `None` on overflow.
    pub fn macs(&self) -> Option<u64> {
        let per_output: u64 = match self.op {
            Op::Conv | Op::DepthwiseConv => u64::from(self.input.c / self.groups.max(1))
                .checked_mul(u64::from(self.kernel[0]) * u64::from(self.kernel[1]))?,
            Op::Linear | Op::MatMul => u64::from(self.input.c),
            _ => return Some(0),
        };
        self.output.elements().checked_mul(per_output)
    }
}
