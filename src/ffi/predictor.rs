//! C entry points of the predictor runtime.

use std::ffi::c_char;
use std::path::PathBuf;

use super::{
    arg_mut, arg_ref, arg_slice, arg_str, cgp_graph, cgp_status, ffi_call, ffi_void, out_arg,
    write_out,
};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::Graph;
use crate::runtime::{Device, Predictor, PredictorOptions};

/// A cgpredict model in ONNX Runtime. Open it with `cgp_predictor_open`, release it with
/// `cgp_predictor_free`. Any number of threads may call `cgp_predict`, `cgp_embed` and the
/// getters on one predictor at once; `cgp_predictor_adapt` needs exclusive access.
pub struct cgp_predictor {
    pub(super) predictor: Predictor,
}

/// Where a predictor runs.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum cgp_device {
    /// CUDA when available, else the CPU.
    CGP_DEVICE_AUTO = 0,
    /// The CPU.
    CGP_DEVICE_CPU = 1,
    /// An NVIDIA GPU through ONNX Runtime's CUDA execution provider; fails when CUDA cannot
    /// run.
    CGP_DEVICE_CUDA = 2,
}

/// Graph references from a C array of graph pointers.
///
/// # Safety
/// `graphs` is valid for reads of `n` pointers, each NULL or a valid graph.
pub(super) unsafe fn graph_refs<'a>(
    graphs: *const *const cgp_graph,
    n: usize,
) -> Result<Vec<&'a Graph>> {
    // SAFETY: the caller's contract.
    let pointers = unsafe { arg_slice(graphs, n, "graphs")? };
    pointers
        .iter()
        .enumerate()
        // SAFETY: each pointer is NULL or valid by the caller's contract.
        .map(|(i, &g)| unsafe { arg_ref(g, &format!("graphs[{i}]")) }.map(|g| &g.graph))
        .collect()
}

/// Copies `values` into a caller's buffer of `out_len` floats.
///
/// # Safety
/// `out` is valid for writes of `out_len` floats unless NULL.
unsafe fn write_floats(values: &[f32], out: *mut f32, out_len: usize, name: &str) -> Result<()> {
    if out_len < values.len() {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!("{name} holds {out_len} floats, {} are needed", values.len()),
        ));
    }
    if values.is_empty() {
        return Ok(());
    }
    out_arg(out, name)?;
    // SAFETY: non-NULL and valid for out_len >= values.len() writes by the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), out, values.len()) };
    Ok(())
}

/// Opens a model file. `model_path` NULL asks for the default model: the file that the
/// environment variable `CGPREDICT_MODEL` names, else the model compiled into the library
/// (a build without one gives `CGP_MODEL_ERROR`, saying so). `device` is a `cgp_device` value;
/// another value is `CGP_INVALID_ARGUMENT`. ONNX Runtime's library is found through
/// `ORT_DYLIB_PATH`, the cache of `scripts/fetch-onnxruntime.sh`, then the system; a missing or
/// incompatible one is `CGP_RUNTIME_ERROR`, as is `CGP_DEVICE_CUDA` when CUDA cannot run (a
/// build without the `cuda` feature, no CUDA-enabled ONNX Runtime, libraries, driver or GPU);
/// `CGP_DEVICE_AUTO` then runs on the CPU. A file that is not a cgpredict model of this
/// build's feature schema is `CGP_MODEL_ERROR`. The file must be a regular file
/// (`CGP_IO_ERROR` for a device, FIFO or directory, before any read) of at most 256 MiB
/// (`CGP_UNSUPPORTED` beyond, from its size, before any read).
///
/// # Safety
/// `model_path` is NULL or NUL-terminated; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_open(
    model_path: *const c_char,
    device: u32,
    out: *mut *mut cgp_predictor,
) -> cgp_status {
    ffi_call(|| {
        out_arg(out, "out")?;
        let model = if model_path.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated by the caller's contract.
            Some(PathBuf::from(unsafe { arg_str(model_path, "model_path")? }))
        };
        let device = match device {
            0 => Device::Auto,
            1 => Device::Cpu,
            2 => Device::Cuda,
            other => {
                return Err(Error::invalid(format!(
                    "device {other} is not a cgp_device (0 auto, 1 cpu, 2 cuda)"
                )));
            }
        };
        let predictor = Predictor::open(&PredictorOptions {
            model,
            device,
            ..PredictorOptions::default()
        })?;
        let raw = Box::into_raw(Box::new(cgp_predictor { predictor }));
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, raw) };
        Ok(())
    })
}

/// Releases a predictor. NULL is a no-op.
///
/// # Safety
/// `p` is NULL or a predictor from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_free(p: *mut cgp_predictor) {
    ffi_void(|| {
        if !p.is_null() {
            // SAFETY: the pointer came from Box::into_raw in cgp_predictor_open.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// Writes the device that runs the model (`CGP_DEVICE_CPU` or `CGP_DEVICE_CUDA`).
///
/// # Safety
/// `p` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_device(
    p: *const cgp_predictor,
    out: *mut cgp_device,
) -> cgp_status {
    // SAFETY: the caller's contract, passed on.
    unsafe {
        write_property(p, out, |predictor| match predictor.device() {
            Device::Cuda => cgp_device::CGP_DEVICE_CUDA,
            Device::Cpu | Device::Auto => cgp_device::CGP_DEVICE_CPU,
        })
    }
}

/// Writes `property` of the predictor behind `p` to `out`, both checked non-NULL.
///
/// # Safety
/// `p` and `out` are valid or NULL.
unsafe fn write_property<T>(
    p: *const cgp_predictor,
    out: *mut T,
    property: impl FnOnce(&Predictor) -> T,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let p = unsafe { arg_ref(p, "p")? };
        out_arg(out, "out")?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, property(&p.predictor)) };
        Ok(())
    })
}

/// Writes the width of the model's embeddings.
///
/// # Safety
/// `p` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_embedding_dim(
    p: *const cgp_predictor,
    out: *mut usize,
) -> cgp_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { write_property(p, out, Predictor::embedding_dim) }
}

/// Writes the number of networks the model averages (its `cgpredict.members`; 1 for a
/// single network). Its embedding is theirs side by side, `embedding_dim / members` floats
/// each, and `cgp_predictor_adapt` and `cgp_predictor_adapt_ranking` fit one head per member.
///
/// # Safety
/// `p` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_members(
    p: *const cgp_predictor,
    out: *mut usize,
) -> cgp_status {
    // SAFETY: the caller's contract, passed on.
    unsafe { write_property(p, out, Predictor::members) }
}

/// Scores `n` graphs in one batch into `out_scores[0..n]` (higher = better predicted
/// accuracy; the adapted head's scores after `cgp_predictor_adapt`). `out_len` < `n` is
/// `CGP_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `p` is valid; `graphs` holds `n` valid graph pointers; `out_scores` is valid for
/// `out_len` writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predict(
    p: *const cgp_predictor,
    graphs: *const *const cgp_graph,
    n: usize,
    out_scores: *mut f32,
    out_len: usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: the caller's contract; NULLs are checked.
        let (p, graphs) = unsafe { (arg_ref(p, "p")?, graph_refs(graphs, n)?) };
        if out_len < n {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("out_scores holds {out_len} floats, {n} are needed"),
            ));
        }
        let scores = p.predictor.predict(&graphs)?;
        // SAFETY: the caller's contract.
        unsafe { write_floats(&scores, out_scores, out_len, "out_scores") }
    })
}

/// Writes the model's embeddings of `n` graphs, row-major `n * dim` floats
/// (`cgp_predictor_embedding_dim`). `out_len` < `n * dim` is `CGP_BUFFER_TOO_SMALL`;
/// `n * dim` beyond `SIZE_MAX` is `CGP_INVALID_ARGUMENT`.
///
/// # Safety
/// `p` is valid; `graphs` holds `n` valid graph pointers; `out` is valid for `out_len` writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_embed(
    p: *const cgp_predictor,
    graphs: *const *const cgp_graph,
    n: usize,
    out: *mut f32,
    out_len: usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: the caller's contract; NULLs are checked.
        let (p, graphs) = unsafe { (arg_ref(p, "p")?, graph_refs(graphs, n)?) };
        let dim = p.predictor.embedding_dim();
        let needed = n.checked_mul(dim).ok_or_else(|| {
            Error::invalid(format!(
                "n = {n} graphs of {dim} floats each overflow a buffer size"
            ))
        })?;
        if out_len < needed {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("out holds {out_len} floats, {needed} are needed"),
            ));
        }
        let (embeddings, _) = p.predictor.embed(&graphs)?;
        // SAFETY: the caller's contract.
        unsafe { write_floats(&embeddings, out, out_len, "out") }
    })
}

/// Fits a new head on the model's embeddings and the log MACs and log params of `n` labeled
/// graphs (closed-form ridge regression; labels in any scale, higher = better; at least 2
/// that differ), which `cgp_predict` uses from then on. From 5 labels on, the model's own
/// score (rescaled) or least squares on log MACs and log params alone is kept instead when
/// leave-one-out on the labels ranks them better with it. On failure the predictor keeps its
/// previous head.
///
/// # Safety
/// `p` is valid and not used by another thread during the call; `graphs` holds `n` valid
/// graph pointers; `labels` holds `n` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_adapt(
    p: *mut cgp_predictor,
    graphs: *const *const cgp_graph,
    labels: *const f32,
    n: usize,
) -> cgp_status {
    // SAFETY: the caller's contract is this function's.
    unsafe { fit_head(p, graphs, labels, n, Predictor::adapt) }
}

/// Fits a head for ranking on the model's embeddings, its own scores and the log MACs and
/// log params of `n` labeled graphs, against the ranks of `labels` (any scale, higher =
/// better; at least 2 that differ), which `cgp_predict` uses from then on; its scores are in
/// rank units. Only the order of the labels counts, so a few broken networks among them
/// cannot dominate the fit, and the model's score keeps what it knew: what a search that only
/// orders candidates wants (the search of `cgpredict search` fits this head). From 5 labels
/// on, the model's own score or least squares on log MACs and log params alone is kept
/// instead when leave-one-out on the labels ranks them better with it. Replaces any earlier
/// head; on failure the predictor keeps its previous head.
///
/// # Safety
/// `p` is valid and not used by another thread during the call; `graphs` holds `n` valid
/// graph pointers; `labels` holds `n` floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_predictor_adapt_ranking(
    p: *mut cgp_predictor,
    graphs: *const *const cgp_graph,
    labels: *const f32,
    n: usize,
) -> cgp_status {
    // SAFETY: the caller's contract is this function's.
    unsafe { fit_head(p, graphs, labels, n, Predictor::adapt_ranking) }
}

/// Checks the arguments of an adaptation and fits the head with `fit`.
///
/// # Safety
/// As `cgp_predictor_adapt`.
unsafe fn fit_head(
    p: *mut cgp_predictor,
    graphs: *const *const cgp_graph,
    labels: *const f32,
    n: usize,
    fit: fn(&mut Predictor, &[&Graph], &[f32]) -> Result<()>,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: the caller's contract; NULLs are checked.
        let (p, graphs, labels) = unsafe {
            (
                arg_mut(p, "p")?,
                graph_refs(graphs, n)?,
                arg_slice(labels, n, "labels")?,
            )
        };
        fit(&mut p.predictor, &graphs, labels)
    })
}
