//! C entry points that import ONNX models as computation graphs.

use std::cell::RefCell;
use std::ffi::c_char;
use std::path::Path;

use super::graph::cgp_graph;
use super::limits::cgp_limits;
use super::{arg_ref, arg_slice, arg_str, cgp_status, ffi_call, into_c_string, out_arg, write_out};
use crate::error::{Error, Result};
use crate::graph::{Graph, Limits};
use crate::import::onnx::{
    ImportOptions, ImportReport, graph_from_onnx_bytes_with, graph_from_onnx_file_with,
};

thread_local! {
    /// The report of this thread's last successful import.
    static LAST_REPORT: RefCell<Option<ImportReport>> = const { RefCell::new(None) };
}

/// Hands an imported graph to C and keeps its report for `cgp_onnx_last_report_json`.
fn deliver(imported: Result<(Graph, ImportReport)>, out: *mut *mut cgp_graph) -> Result<()> {
    let (graph, report) = imported?;
    LAST_REPORT.with(|last| *last.borrow_mut() = Some(report));
    // SAFETY: the callers checked `out` with out_arg.
    unsafe { write_out(out, cgp_graph::into_raw(graph)) };
    Ok(())
}

/// Imports an ONNX model file (plain or gzip-compressed) as a computation graph: structure
/// and shapes only, weights are never read (external data files are not opened). The graph
/// input must have a fixed shape (a symbolic batch axis counts as 1). Errors:
/// `CGP_IO_ERROR` (unreadable file), `CGP_PARSE_ERROR` (not ONNX, inconsistent shapes, a
/// cycle; the message names the node), `CGP_UNSUPPORTED` (an operator whose output shape
/// can be neither inferred nor read from the file's value_info; a model beyond the default
/// limits, see `cgp_limits`).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_file(
    path: *const c_char,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    // SAFETY: the caller's contract is this function's.
    ffi_call(|| unsafe { onnx_file(path, &Limits::DEFAULT, out) })
}

/// `cgp_graph_from_onnx_file` within `limits`: a file larger than `max_onnx_bytes` is not
/// read, and a model graph of more nodes than `max_nodes` is not decoded (`CGP_UNSUPPORTED`).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `limits` is valid; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_file_with_limits(
    path: *const c_char,
    limits: *const cgp_limits,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_ref(limits, "limits")? };
        // SAFETY: the caller's contract is this function's.
        unsafe { onnx_file(path, &limits.limits, out) }
    })
}

/// Imports an ONNX model from `len` bytes of protobuf, as `cgp_graph_from_onnx_file` does.
///
/// # Safety
/// `data` is valid for reads of `len` bytes; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_bytes(
    data: *const u8,
    len: usize,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    // SAFETY: the caller's contract is this function's.
    ffi_call(|| unsafe { onnx_bytes(data, len, &Limits::DEFAULT, out) })
}

/// `cgp_graph_from_onnx_bytes` within `limits` (see `cgp_graph_from_onnx_file_with_limits`).
///
/// # Safety
/// `data` is valid for reads of `len` bytes; `limits` is valid; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_bytes_with_limits(
    data: *const u8,
    len: usize,
    limits: *const cgp_limits,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_ref(limits, "limits")? };
        // SAFETY: the caller's contract is this function's.
        unsafe { onnx_bytes(data, len, &limits.limits, out) }
    })
}

fn options(limits: &Limits) -> ImportOptions {
    ImportOptions {
        limits: *limits,
        ..ImportOptions::default()
    }
}

/// # Safety
/// As `cgp_graph_from_onnx_file`.
unsafe fn onnx_file(path: *const c_char, limits: &Limits, out: *mut *mut cgp_graph) -> Result<()> {
    // SAFETY: NULL is checked; NUL termination is the caller's contract.
    let path = unsafe { arg_str(path, "path")? };
    out_arg(out, "out")?;
    deliver(
        graph_from_onnx_file_with(Path::new(path), &options(limits)),
        out,
    )
}

/// # Safety
/// As `cgp_graph_from_onnx_bytes`.
unsafe fn onnx_bytes(
    data: *const u8,
    len: usize,
    limits: &Limits,
    out: *mut *mut cgp_graph,
) -> Result<()> {
    // SAFETY: validity of `len` bytes is the caller's contract; NULL is checked.
    let bytes = unsafe { arg_slice(data, len, "data")? };
    out_arg(out, "out")?;
    deliver(graph_from_onnx_bytes_with(bytes, &options(limits)), out)
}

/// Writes the import report of this thread's last successful `cgp_graph_from_onnx_*` call
/// as JSON: `{"opset", "onnx_nodes", "cg_nodes", "cg_edges", "ops": {"Conv": {"mapped",
/// "folded", "unknown"}, ...}, "fused": {...}, "warnings": [...]}`. Free it with
/// `cgp_string_free`. `CGP_INVALID_ARGUMENT` if this thread has imported nothing yet.
///
/// # Safety
/// `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_onnx_last_report_json(out: *mut *mut c_char) -> cgp_status {
    ffi_call(|| {
        out_arg(out, "out")?;
        let json = LAST_REPORT.with(|last| last.borrow().as_ref().map(ImportReport::to_json));
        let json = json
            .ok_or_else(|| Error::invalid("no ONNX model has been imported on this thread yet"))?;
        let text = into_c_string(json)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, text) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, CString};
    use std::ptr;

    use super::*;
    use crate::ffi::graph::{cgp_graph_free, cgp_graph_node_count};
    use crate::ffi::{cgp_last_error_message, cgp_string_free};

    fn last_error() -> String {
        // SAFETY: never NULL.
        unsafe { CStr::from_ptr(cgp_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    fn fixture() -> CString {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/onnx/nb201_dead_zero.onnx"
        );
        CString::new(path).unwrap()
    }

    #[test]
    fn files_and_bytes_import_with_a_report() {
        let path = fixture();
        let mut graph = ptr::null_mut();
        // SAFETY: valid C string and out-pointer.
        let status = unsafe { cgp_graph_from_onnx_file(path.as_ptr(), &mut graph) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        let mut nodes = 0usize;
        // SAFETY: a live graph.
        assert_eq!(
            unsafe { cgp_graph_node_count(graph, &mut nodes) },
            cgp_status::CGP_OK
        );
        let mut json = ptr::null_mut();
        // SAFETY: valid out-pointer.
        assert_eq!(
            unsafe { cgp_onnx_last_report_json(&mut json) },
            cgp_status::CGP_OK
        );
        // SAFETY: a string from the library.
        let report: serde_json::Value =
            serde_json::from_str(unsafe { CStr::from_ptr(json) }.to_str().unwrap()).unwrap();
        assert_eq!(report["cg_nodes"].as_u64(), Some(nodes as u64));
        assert!(report["ops"]["Conv"]["mapped"].as_u64().unwrap() > 0);
        // SAFETY: each released once.
        unsafe {
            cgp_string_free(json);
            cgp_graph_free(graph);
        }

        let bytes = std::fs::read(path.to_str().unwrap()).unwrap();
        let mut again = ptr::null_mut();
        // SAFETY: the buffer is valid for its length.
        let status = unsafe { cgp_graph_from_onnx_bytes(bytes.as_ptr(), bytes.len(), &mut again) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        let mut nodes_again = 0usize;
        // SAFETY: a live graph, then released once.
        unsafe {
            assert_eq!(
                cgp_graph_node_count(again, &mut nodes_again),
                cgp_status::CGP_OK
            );
            cgp_graph_free(again);
        }
        assert_eq!(nodes, nodes_again);
    }

    #[test]
    fn failures_have_a_status_and_leave_out_untouched() {
        let mut graph = ptr::null_mut();
        let missing = CString::new("/nonexistent/model.onnx").unwrap();
        // SAFETY: valid C string and out-pointer.
        let status = unsafe { cgp_graph_from_onnx_file(missing.as_ptr(), &mut graph) };
        assert_eq!(status, cgp_status::CGP_IO_ERROR);
        assert!(graph.is_null());
        assert!(last_error().contains("/nonexistent/model.onnx"));

        let garbage = b"not a model";
        // SAFETY: the buffer is valid for its length.
        let status =
            unsafe { cgp_graph_from_onnx_bytes(garbage.as_ptr(), garbage.len(), &mut graph) };
        assert_eq!(status, cgp_status::CGP_PARSE_ERROR);
        assert!(graph.is_null());

        // SAFETY: NULL arguments are checked.
        let status = unsafe { cgp_graph_from_onnx_bytes(ptr::null(), 4, &mut graph) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        let status = unsafe { cgp_graph_from_onnx_file(ptr::null(), &mut graph) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        let status = unsafe { cgp_onnx_last_report_json(ptr::null_mut()) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
    }

    #[test]
    fn no_report_before_an_import_on_this_thread() {
        let handle = std::thread::spawn(|| {
            let mut json = ptr::null_mut();
            // SAFETY: valid out-pointer.
            let status = unsafe { cgp_onnx_last_report_json(&mut json) };
            (status, json.is_null(), last_error())
        });
        let (status, untouched, message) = handle.join().unwrap();
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(untouched);
        assert!(message.contains("no ONNX model"), "{message}");
    }
}
