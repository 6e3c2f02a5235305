//! C entry points for building and inspecting computation graphs.

use std::ffi::c_char;

use super::limits::cgp_limits;
use super::{
    arg_mut, arg_ref, arg_slice, arg_str, cgp_status, ffi_call, ffi_void, into_c_string, out_arg,
    write_out,
};
use crate::error::{Error, Result};
use crate::graph::{Graph, Limits, Node, Op, Shape};

/// A computation graph: a DAG of primitive-operator nodes. Create it with `cgp_graph_new`
/// (or a `cgp_graph_from_*` call), release it with `cgp_graph_free`. A graph may be read
/// from several threads at once; changing it needs exclusive access.
pub struct cgp_graph {
    pub(crate) graph: Graph,
}

impl cgp_graph {
    /// Moves a graph to C.
    pub(crate) fn into_raw(graph: Graph) -> *mut cgp_graph {
        Box::into_raw(Box::new(cgp_graph { graph }))
    }
}

/// One node for `cgp_graph_add_node`. `op` is a vocabulary name ("conv", "batch_norm",
/// "relu", ...; see the README) or "unknown:NAME" for an operator outside it. Sizes are
/// height, width and channels (1, 1, C for non-spatial tensors). Kernel, stride, dilation
/// and groups apply to convolutions (kernel, stride and dilation also to max_pool and
/// avg_pool); elsewhere leave them 0 or 1. For batch_norm and layer_norm, `has_bias` means
/// affine (a learned scale and shift per channel). The weight shape follows from these fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cgp_node_desc {
    /// Operator name, NUL-terminated UTF-8.
    pub op: *const c_char,
    /// Input height.
    pub in_h: u32,
    /// Input width.
    pub in_w: u32,
    /// Input channels.
    pub in_c: u32,
    /// Output height.
    pub out_h: u32,
    /// Output width.
    pub out_w: u32,
    /// Output channels.
    pub out_c: u32,
    /// Kernel height.
    pub kernel_h: u32,
    /// Kernel width.
    pub kernel_w: u32,
    /// Stride along the height.
    pub stride_h: u32,
    /// Stride along the width.
    pub stride_w: u32,
    /// Dilation along the height.
    pub dilation_h: u32,
    /// Dilation along the width.
    pub dilation_w: u32,
    /// Convolution groups (in_c for a depthwise convolution).
    pub groups: u32,
    /// Whether the node adds a learned bias (for normalizations: whether it is affine).
    pub has_bias: bool,
}

/// Creates an empty graph.
///
/// # Safety
/// `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_new(out: *mut *mut cgp_graph) -> cgp_status {
    ffi_call(|| {
        out_arg(out, "out")?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, cgp_graph::into_raw(Graph::new())) };
        Ok(())
    })
}

/// Releases a graph. NULL is a no-op.
///
/// # Safety
/// `g` is NULL or a graph from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_free(g: *mut cgp_graph) {
    ffi_void(|| {
        if !g.is_null() {
            // SAFETY: the pointer came from cgp_graph::into_raw and is freed once.
            drop(unsafe { Box::from_raw(g) });
        }
    })
}

/// Adds a node after checking it; writes its id (0, 1, 2, ... in order of addition) to
/// `out_id` unless it is NULL (ids are also the count of nodes added before).
/// A refused node leaves the graph unchanged; the message names the node and the field.
///
/// # Safety
/// `g` and `d` are valid; `d->op` is a NUL-terminated string; `out_id` is NULL or valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_add_node(
    g: *mut cgp_graph,
    d: *const cgp_node_desc,
    out_id: *mut u32,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let (graph, desc) = unsafe { (arg_mut(g, "g")?, arg_ref(d, "d")?) };
        // SAFETY: the caller guarantees `op` is NULL or NUL-terminated.
        let name = unsafe { arg_str(desc.op, "d->op")? };
        let op: Op = name.parse().map_err(|_| {
            Error::invalid(format!(
                "d->op: {name:?} is not in the vocabulary (write \"unknown:{name}\" for an op outside it)"
            ))
        })?;
        let node = Node {
            op,
            name: String::new(),
            input: Shape::new(desc.in_h, desc.in_w, desc.in_c),
            output: Shape::new(desc.out_h, desc.out_w, desc.out_c),
            kernel: [desc.kernel_h, desc.kernel_w],
            stride: [desc.stride_h, desc.stride_w],
            dilation: [desc.dilation_h, desc.dilation_w],
            groups: desc.groups,
            has_bias: desc.has_bias,
            weight_shape: Vec::new(),
        };
        let id = graph.graph.add_node(node)?;
        if !out_id.is_null() {
            // SAFETY: non-NULL, so valid by the caller's contract.
            unsafe { write_out(out_id, id) };
        }
        Ok(())
    })
}

/// Adds the edge `from -> to` (data flows from `from` into `to`). Unknown ids, self-loops
/// and edges that would close a cycle are refused; adding an existing edge again is a no-op.
///
/// # Safety
/// `g` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_add_edge(g: *mut cgp_graph, from: u32, to: u32) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let graph = unsafe { arg_mut(g, "g")? };
        graph.graph.add_edge(from, to)
    })
}

/// Reads one number off a graph into an out-parameter.
fn read_graph<T>(g: *const cgp_graph, out: *mut T, read: impl FnOnce(&Graph) -> T) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract of every function that calls this.
        let graph = unsafe { arg_ref(g, "g")? };
        out_arg(out, "out")?;
        let value = read(&graph.graph);
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, value) };
        Ok(())
    })
}

/// Writes the number of nodes.
///
/// # Safety
/// `g` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_node_count(g: *const cgp_graph, out: *mut usize) -> cgp_status {
    read_graph(g, out, Graph::node_count)
}

/// Writes the number of edges.
///
/// # Safety
/// `g` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_edge_count(g: *const cgp_graph, out: *mut usize) -> cgp_status {
    read_graph(g, out, Graph::edge_count)
}

/// Writes the number of learned parameters (weights and biases; affine normalizations count
/// their scale and shift).
///
/// # Safety
/// `g` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_param_count(g: *const cgp_graph, out: *mut u64) -> cgp_status {
    read_graph(g, out, Graph::param_count)
}

/// Writes the multiply-accumulates of one forward pass (convolutions, linear layers and
/// matrix products).
///
/// # Safety
/// `g` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_macs(g: *const cgp_graph, out: *mut u64) -> cgp_status {
    read_graph(g, out, Graph::macs)
}

/// Writes the graph as a JSON document (the format in the README); free it with
/// `cgp_string_free`.
///
/// # Safety
/// `g` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_to_json(
    g: *const cgp_graph,
    out: *mut *mut c_char,
) -> cgp_status {
    write_text(g, out, Graph::to_json)
}

/// Writes the graph in Graphviz DOT; free it with `cgp_string_free`.
///
/// # Safety
/// `g` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_to_dot(
    g: *const cgp_graph,
    out: *mut *mut c_char,
) -> cgp_status {
    write_text(g, out, Graph::to_dot)
}

fn write_text(
    g: *const cgp_graph,
    out: *mut *mut c_char,
    render: impl FnOnce(&Graph) -> String,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract of every function that calls this.
        let graph = unsafe { arg_ref(g, "g")? };
        out_arg(out, "out")?;
        let text = into_c_string(render(&graph.graph))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, text) };
        Ok(())
    })
}

/// Reads a graph from `len` bytes of JSON (no NUL terminator needed) and validates it as the
/// builder would. Errors are `CGP_PARSE_ERROR` with the position or the node at fault, and
/// `CGP_UNSUPPORTED` beyond the default limits (see `cgp_limits`).
///
/// # Safety
/// `json` is valid for reads of `len` bytes; `out` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_json(
    json: *const c_char,
    len: usize,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    // SAFETY: the caller's contract is this function's.
    ffi_call(|| unsafe { graph_from_json(json, len, &Limits::DEFAULT, out) })
}

/// `cgp_graph_from_json` within `limits`: a document of more nodes or edges than they allow
/// fails with `CGP_UNSUPPORTED` before the graph is built.
///
/// # Safety
/// `json` is valid for reads of `len` bytes; `limits` is valid; `out` is valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_json_with_limits(
    json: *const c_char,
    len: usize,
    limits: *const cgp_limits,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_ref(limits, "limits")? };
        // SAFETY: the caller's contract is this function's.
        unsafe { graph_from_json(json, len, &limits.limits, out) }
    })
}

/// # Safety
/// As `cgp_graph_from_json`.
unsafe fn graph_from_json(
    json: *const c_char,
    len: usize,
    limits: &Limits,
    out: *mut *mut cgp_graph,
) -> Result<()> {
    // SAFETY: validity of `len` bytes is the caller's contract.
    let bytes = unsafe { arg_slice(json.cast::<u8>(), len, "json")? };
    out_arg(out, "out")?;
    let text = std::str::from_utf8(bytes)
        .map_err(|error| Error::parse(format!("json is not UTF-8: {error}")))?;
    let graph = Graph::from_json_with_limits(text, limits)?;
    // SAFETY: checked non-NULL.
    unsafe { write_out(out, cgp_graph::into_raw(graph)) };
    Ok(())
}
