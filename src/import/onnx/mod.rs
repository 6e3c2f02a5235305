//! ONNX models as computation graphs: structure and shapes only, weights never loaded.
//!
//! # What is read
//! The protobuf is decoded with types generated from `proto/onnx_read.proto`, the subset of
//! the vendored `proto/onnx.proto` that import reads (strings as slices of the buffer; each
//! node decoded when it is needed, into messages reused from node to node).
//! Initializers contribute their element type and `dims`; their values are read only when
//! stored inline and small (shape constants); external data files are never opened, and a
//! file's large inline values are not even read (`skim.rs`). The
//! graph inputs' shapes must be fixed, except for symbolic sizes (`dim_param`) on axis 0
//! (the batch, read as 1) and sizes named like one of an earlier input, which take that
//! input's size (a recurrent state's batch, an attention mask's sequence length); any
//! input's dimensions can be given instead ([`ImportOptions::input_shape`] for the first,
//! [`ImportOptions::input_shapes`] by name).
//!
//! # Shapes
//! Every tensor's dimensions are inferred from the input shape by this module's own rules
//! (`infer.rs`), evaluating the static shape arithmetic that exporters emit (Shape, Gather,
//! Concat, Slice, Range, Where, ...). Where an operator has no rule, shapes declared in
//! `value_info` (or the graph outputs) are used; with neither, import fails naming the node.
//!
//! A tensor of dimensions `d` becomes a node shape H x W x C per sample:
//! - rank 0: 1 x 1 x 1; rank 1 `[C]`: 1 x 1 x C; rank 2 `[N, C]`: 1 x 1 x C;
//! - rank 3 and more: C is the tensor's channel axis (see below); W is the last remaining
//!   axis after the leading one; H is the product of the leading axis and all others. So
//!   NCHW `[N, C, H, W]` gives H x W x C, tokens `[N, T, C]` give T x 1 x C, NHWC
//!   `[N, H, W, C]` gives H x W x C, and windowed attention `[N*nW, heads, T, d]` gives
//!   (nW*heads) x T x d, so that element counts, and with them MACs, stay exact;
//! - the leading axis is divided by the model's batch size when it is a multiple of it.
//!
//! The channel axis is tracked per tensor: axis 1 for 4-D and 5-D graph inputs and for the
//! outputs of convolutions, pooling and batch norm; the last axis for other inputs and for
//! linear layers, matrix products and layer norm; Transpose moves it with its permutation;
//! a reshape keeps it where the channel size and everything before it survive, else keeps
//! channels-first tensors channels-first and puts the rest last.
//!
//! # Mapping
//! - Conv → `conv` (`groups` from `group`), or `depthwise_conv` when `group` equals the input
//!   channels and exceeds 1; 1-D convolutions get a kernel of k x 1; others `unknown:Conv`.
//! - Gemm, and MatMul whose second operand is a static 2-D tensor → `linear`; MatMul of two
//!   activations, and Einsum equations that are batched matrix products → `matmul`.
//! - BatchNormalization → `batch_norm`, LayerNormalization over the last axis →
//!   `layer_norm` (both affine); Relu, Sigmoid, Tanh, Softmax, HardSwish, HardSigmoid, Gelu
//!   → themselves; Clip(0, 6) → `relu6`, Clip(0, ∞) → `relu`.
//! - Add/Sum and Mul of activations → `add`/`mul`. With one static operand: adding 0,
//!   subtracting 0, multiplying or dividing by 1 are folded away; multiplying by 0 is `zero`;
//!   any other Add, Sub (either way round), Mul, and Div of an activation by the static
//!   operand is `add` (a shift) or `mul` (a scale) with its one incoming edge (a bias, a
//!   normalization, an attention mask or scale); a static tensor divided by an activation is
//!   `unknown:Div`. A per-channel Add right after a bias-free conv or linear layer read by
//!   nothing else becomes that layer's bias (`has_bias`) instead, because PyTorch exports
//!   `nn.Linear` on 3-D and 4-D inputs as MatMul + Add.
//! - Concat → `concat`; MaxPool/AveragePool → `max_pool`/`avg_pool`; GlobalAveragePool, and
//!   ReduceMean over every axis but batch and channels → `global_avg_pool`; Pad → `pad`;
//!   Resize/Upsample → `resize`; Transpose → `transpose`; Slice, and Gather of one static
//!   index or a run of consecutive ones (qkv\[0\], a class token) → `slice`; Split → one
//!   `slice` per output (what exporters that write `unbind` or `chunk` as Slices give).
//! - Patterns: `x * 0.5 * (1 + erf(x / √2))` → `gelu`; `x * sigmoid(x)` → `silu`;
//!   `relu6(x + 3) / 6` (or `* (1/6)`) → `hardsigmoid`; `x * hardsigmoid(x)` and
//!   `x * relu6(x + 3) / 6` → `hardswish` (how Paddle, TensorFlow and PyTorch before opset 14
//!   write MobileNetV3's activations); the pre-opset-17 LayerNorm decomposition (ReduceMean,
//!   Sub, Pow, ReduceMean, Add, Sqrt, Div, optional Mul and Add) → `layer_norm`.
//! - Folded (no node, shapes kept): Identity, Dropout, Cast, Reshape, Flatten, Squeeze,
//!   Unsqueeze, Expand and Tile (copies of the data, as `expand` and `repeat` write them) on
//!   activations, and every node that reads only static tensors
//!   (initializers, constants, shapes): shape arithmetic and weight preprocessing.
//! - Anything else → `unknown:OP` (`unknown:domain:OP` outside the default domain), with
//!   its edges, its first input's and output's shapes, and the dimensions of its first
//!   static operand of two or more elements as `weight_shape`.
//!
//! The result is put in canonical form ([`crate::graph::canonicalize`]).

mod einsum;
mod infer;
mod lower;
mod model;
pub mod proto;
mod read;
mod report;
mod skim;
#[cfg(test)]
mod tests;
mod value;
mod wire;

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use prost::bytes::{Buf, Bytes};

pub use report::{ImportReport, OpCounts};

use crate::error::{Error, ErrorKind, Result};
use crate::files::{self, io_error};
use crate::graph::{Graph, Limits, canonical_graph};

/// Choices for an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Dimensions for the model's (first) data input instead of the declared ones, e.g.
    /// `[1, 3, 240, 240]` to count a network at the resolution it is evaluated at.
    pub input_shape: Option<Vec<u64>>,
    /// Dimensions for graph inputs by name instead of the declared ones: any of a model's
    /// data inputs (an image and its mask, token ids and attention mask). Each name must be
    /// a data input, the rank must be the declared one, and no input may get a shape both
    /// here and from `input_shape`; otherwise import fails with `InvalidArgument` naming it.
    pub input_shapes: BTreeMap<String, Vec<u64>>,
    /// Bounds on the file's size, on the model graph's node count (counted on the wire,
    /// before decoding) and on the imported graph's nodes and edges.
    pub limits: Limits,
}

/// Imports an ONNX model (protobuf bytes) as a canonical computation graph, with a report
/// of what became of each ONNX operator type.
pub fn graph_from_onnx_bytes(bytes: &[u8]) -> Result<(Graph, ImportReport)> {
    graph_from_onnx_bytes_with(bytes, &ImportOptions::default())
}

/// [`graph_from_onnx_bytes`] with options.
pub fn graph_from_onnx_bytes_with(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<(Graph, ImportReport)> {
    // One copy into shared memory, which decoding then slices, rather than a copy of every
    // node and tensor (checked first, so that an oversized input is not copied).
    options
        .limits
        .check_onnx_bytes("the ONNX model", bytes.len() as u64)?;
    graph_from_buffer(Bytes::copy_from_slice(bytes), options)
}

/// The import from a byte slice, or from [`Bytes`] that decoding slices instead of copying
/// the tensor data stored inline.
fn graph_from_buffer(
    buffer: impl Buf + AsRef<[u8]>,
    options: &ImportOptions,
) -> Result<(Graph, ImportReport)> {
    let model = model::Model::decode(buffer, &options.limits)?;
    let lowered = lower::lower(
        &model,
        lower::GivenShapes {
            first: options.input_shape.as_deref(),
            named: &options.input_shapes,
        },
    )?;
    options
        .limits
        .check_nodes("the imported graph", lowered.nodes.len())?;
    options
        .limits
        .check_edges("the imported graph", lowered.edges.len())?;
    let graph = canonical_graph(lowered.nodes, &lowered.edges).map_err(|error| {
        error
            .with_kind(ErrorKind::Parse)
            .context("ONNX model: an imported node is invalid")
    })?;
    let mut report = lowered.report;
    report.cg_nodes = graph.node_count();
    report.cg_edges = graph.edge_count();
    Ok((graph, report))
}

/// Imports an ONNX file (optionally gzip-compressed) as [`graph_from_onnx_bytes`] does.
pub fn graph_from_onnx_file(path: &Path) -> Result<(Graph, ImportReport)> {
    graph_from_onnx_file_with(path, &ImportOptions::default())
}

/// [`graph_from_onnx_file`] with options.
pub fn graph_from_onnx_file_with(
    path: &Path,
    options: &ImportOptions,
) -> Result<(Graph, ImportReport)> {
    let bytes = Bytes::from(read_model_structure(path, &options.limits)?);
    graph_from_buffer(bytes, options)
        .map_err(|error| error.context(format!("in {}", path.display())))
}

/// The dimensions the importer infers for every tensor of the model (node outputs,
/// initializers, graph inputs) whose shape is known, by name: the shape inference behind
/// [`graph_from_onnx_bytes`], exposed for inspection and testing.
pub fn tensor_shapes_from_onnx_bytes(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u64>>> {
    let model = model::Model::decode(bytes, &Limits::DEFAULT)?;
    let lowered = lower::lower(
        &model,
        lower::GivenShapes {
            first: None,
            named: &BTreeMap::new(),
        },
    )?;
    Ok(lowered
        .names
        .into_iter()
        .zip(lowered.tensors)
        .filter_map(|(name, tensor)| Some((name.to_owned(), tensor?.dims.to_vec())))
        .collect())
}

/// Reads a model file, inflating it first if it is gzip-compressed (`.onnx.gz`), within
/// [`Limits::DEFAULT`].
pub fn read_model_file(path: &Path) -> Result<Vec<u8>> {
    read_model_file_with(path, &Limits::DEFAULT)
}

/// The first bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What import needs of a model file: an uncompressed file is read without the inline
/// values of its large initializers, which import never reads (see `skim.rs`); a
/// gzip-compressed one, one that the skim gives up on, or one small enough to come in a single
/// read of the skim's buffer (so that seeking would save nothing) is read whole.
fn read_model_structure(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let io = io_error(path);
    let (mut file, size) = open_model_file(path, limits)?;
    if size <= skim::READ_BUFFER_BYTES {
        return read_open_model_file(file, size, path, limits);
    }
    let mut magic = [0u8; 2];
    let compressed = file.read_exact(&mut magic).is_ok() && magic == GZIP_MAGIC;
    file.rewind().map_err(&io)?;
    if !compressed && let Some(model) = skim::skim(&mut file, size).map_err(&io)? {
        return Ok(model);
    }
    file.rewind().map_err(&io)?;
    read_open_model_file(file, size, path, limits)
}

/// [`read_model_file`], refusing a file (or its inflated content) larger than
/// `limits.max_onnx_bytes` without reading more than one byte beyond the limit.
pub fn read_model_file_with(path: &Path, limits: &Limits) -> Result<Vec<u8>> {
    let (file, size) = open_model_file(path, limits)?;
    read_open_model_file(file, size, path, limits)
}

/// Opens a model file and returns it with its size, refusing anything but a regular file
/// and a file larger than `limits.max_onnx_bytes` before reading any of it.
fn open_model_file(path: &Path, limits: &Limits) -> Result<(std::fs::File, u64)> {
    files::open_regular(path, limits.max_onnx_bytes, "max_onnx_bytes")
}

/// Reads the `size` bytes of an open model file, inflating them if they are gzip data.
fn read_open_model_file(
    file: std::fs::File,
    size: u64,
    path: &Path,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let io = io_error(path);
    let what = path.display().to_string();
    let max = limits.max_onnx_bytes;
    // The size read first (growing by doubling would copy a large file about twice over);
    // one byte more, so that reading to the end needs no growth.
    let mut bytes = Vec::with_capacity(usize::try_from(size).map_or(0, |size| size + 1));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(&io)?;
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(max.saturating_add(1))
            .read_to_end(&mut inflated)
            .map_err(|error| {
                Error::parse(format!("{}: gzip data is corrupt: {error}", path.display()))
            })?;
        bytes = inflated;
    }
    limits.check_onnx_bytes(&what, bytes.len() as u64)?;
    Ok(bytes)
}
