//! The operator vocabulary of a computation graph.

use std::fmt;
use std::str::FromStr;

/// A primitive operator: one node of a computation graph.
///
/// The snake_case names returned by [`Op::name`] are the stable spelling used by the JSON
/// format, the C ABI (`cgp_node_desc.op`) and the feature schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Input,
    Output,
    Conv,
    DepthwiseConv,
    /// A matrix product with a learned weight (Gemm, or MatMul with an initializer).
    Linear,
    /// A matrix product of two activations (attention scores, for example).
    MatMul,
    BatchNorm,
    LayerNorm,
    Relu,
    Relu6,
    Gelu,
    Silu,
    HardSwish,
    HardSigmoid,
    Sigmoid,
    Tanh,
    Softmax,
    Add,
    Mul,
    Concat,
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    Pad,
    Identity,
    /// The NAS-Bench "zero"/"none" operation: an output of zeros.
    Zero,
    Flatten,
    Reshape,
    Transpose,
    Resize,
    /// A contiguous range of channels (NAS-Bench-101's channel truncation, ONNX `Slice`).
    Slice,
    /// An operator outside the vocabulary, carrying its original name (an ONNX op type).
    Unknown(String),
}

/// Every operator of the vocabulary except `Unknown`, in the fixed order used by one-hot
/// features. Appending keeps old indices; anything else needs a new feature-schema version.
pub const KNOWN_OPS: [Op; 31] = [
    Op::Input,
    Op::Output,
    Op::Conv,
    Op::DepthwiseConv,
    Op::Linear,
    Op::MatMul,
    Op::BatchNorm,
    Op::LayerNorm,
    Op::Relu,
    Op::Relu6,
    Op::Gelu,
    Op::Silu,
    Op::HardSwish,
    Op::HardSigmoid,
    Op::Sigmoid,
    Op::Tanh,
    Op::Softmax,
    Op::Add,
    Op::Mul,
    Op::Concat,
    Op::MaxPool,
    Op::AvgPool,
    Op::GlobalAvgPool,
    Op::Pad,
    Op::Identity,
    Op::Zero,
    Op::Flatten,
    Op::Reshape,
    Op::Transpose,
    Op::Resize,
    Op::Slice,
];

impl Op {
    /// The stable snake_case name; for `Unknown`, the carried original name.
    pub fn name(&self) -> &str {
        match self {
            Op::Input => "input",
            Op::Output => "output",
            Op::Conv => "conv",
            Op::DepthwiseConv => "depthwise_conv",
            Op::Linear => "linear",
            Op::MatMul => "matmul",
            Op::BatchNorm => "batch_norm",
            Op::LayerNorm => "layer_norm",
            Op::Relu => "relu",
            Op::Relu6 => "relu6",
            Op::Gelu => "gelu",
            Op::Silu => "silu",
            Op::HardSwish => "hardswish",
            Op::HardSigmoid => "hardsigmoid",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Softmax => "softmax",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Concat => "concat",
            Op::MaxPool => "max_pool",
            Op::AvgPool => "avg_pool",
            Op::GlobalAvgPool => "global_avg_pool",
            Op::Pad => "pad",
            Op::Identity => "identity",
            Op::Zero => "zero",
            Op::Flatten => "flatten",
            Op::Reshape => "reshape",
            Op::Transpose => "transpose",
            Op::Resize => "resize",
            Op::Slice => "slice",
            Op::Unknown(name) => name,
        }
    }

    /// The position in [`KNOWN_OPS`], or `None` for `Unknown`.
    pub fn vocabulary_index(&self) -> Option<usize> {
        KNOWN_OPS.iter().position(|known| known == self)
    }

    /// Convolutions: carry kernel, stride, dilation and groups.
    pub fn is_conv(&self) -> bool {
        matches!(self, Op::Conv | Op::DepthwiseConv)
    }

    /// Windowed pooling: carries kernel and stride.
    pub fn is_windowed_pool(&self) -> bool {
        matches!(self, Op::MaxPool | Op::AvgPool)
    }

    /// Unary ops whose output has the input's shape, whatever the input.
    pub fn preserves_shape(&self) -> bool {
        matches!(
            self,
            Op::BatchNorm
                | Op::LayerNorm
                | Op::Relu
                | Op::Relu6
                | Op::Gelu
                | Op::Silu
                | Op::HardSwish
                | Op::HardSigmoid
                | Op::Sigmoid
                | Op::Tanh
                | Op::Softmax
                | Op::Identity
        )
    }

    /// Normalizations whose `has_bias` means "affine" (a learned scale and shift per channel).
    pub fn is_normalization(&self) -> bool {
        matches!(self, Op::BatchNorm | Op::LayerNorm)
    }
}

/// Writes the spelling that [`Op::from_str`] reads back: the vocabulary name, or
/// `unknown:NAME` so that an unknown op can never be mistaken for a known one.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Unknown(name) => write!(f, "unknown:{name}"),
            known => f.write_str(known.name()),
        }
    }
}

/// The error of parsing a name that is not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOpName(pub String);

impl FromStr for Op {
    type Err = UnknownOpName;

    /// Parses a vocabulary name or the explicit spelling `unknown:NAME`; anything else is
    /// refused, so that a misspelt op is an error rather than a silent `Unknown`.
    fn from_str(name: &str) -> Result<Op, UnknownOpName> {
        if let Some(original) = name.strip_prefix("unknown:") {
            return Ok(Op::Unknown(original.to_owned()));
        }
        KNOWN_OPS
            .iter()
            .find(|op| op.name() == name)
            .cloned()
            .ok_or_else(|| UnknownOpName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_for_every_known_op() {
        for op in KNOWN_OPS.iter() {
            assert_eq!(&op.name().parse::<Op>().unwrap(), op);
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = KNOWN_OPS.iter().map(Op::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KNOWN_OPS.len());
    }

    #[test]
    fn unknown_ops_need_the_explicit_prefix() {
        assert_eq!(
            "unknown:relu".parse::<Op>().unwrap(),
            Op::Unknown("relu".into())
        );
        assert_eq!(Op::Unknown("relu".into()).to_string(), "unknown:relu");
        assert_eq!("Einsum".parse::<Op>(), Err(UnknownOpName("Einsum".into())));
        assert_eq!(Op::Unknown("Einsum".into()).vocabulary_index(), None);
        assert_eq!(Op::Conv.vocabulary_index(), Some(2));
    }
}
