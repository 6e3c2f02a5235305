//! C entry points that import ONNX models as computation graphs.

use std::cell::RefCell;
use std::ffi::c_char;
use std::path::Path;

use super::graph::cgp_graph;
use super::limits::cgp_limits;
use super::{
    arg_mut, arg_ref, arg_slice, arg_str, cgp_status, ffi_call, ffi_void, into_c_string, out_arg,
    write_out,
};
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
/// `CGP_IO_ERROR` (unreadable file, or not a regular file: a device, FIFO or directory is
/// refused before any read), `CGP_PARSE_ERROR` (not ONNX, inconsistent shapes, a cycle; the
/// message names the node), `CGP_UNSUPPORTED` (an operator whose output shape can be
/// neither inferred nor read from the file's value_info; a model beyond the default limits,
/// see `cgp_limits`; lists of more elements than their bytes could describe).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_file(
    path: *const c_char,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    // SAFETY: the caller's contract is this function's.
    ffi_call(|| unsafe { onnx_file(path, &ImportOptions::default(), out) })
}

/// `cgp_graph_from_onnx_file` within `limits`: a file larger than `max_onnx_bytes` is not
/// read, a compressed one stops inflating there, and a model graph of more nodes than
/// `max_nodes` is not decoded (`CGP_UNSUPPORTED`).
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
        unsafe { onnx_file(path, &within(&limits.limits), out) }
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
    ffi_call(|| unsafe { onnx_bytes(data, len, &ImportOptions::default(), out) })
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
        unsafe { onnx_bytes(data, len, &within(&limits.limits), out) }
    })
}

/// Options for `cgp_graph_from_onnx_file_with_options` and
/// `cgp_graph_from_onnx_bytes_with_options`: shapes for graph inputs in place of the declared
/// ones (for inputs with symbolic sizes such as height, width or sequence length, or to
/// count a network at another resolution) and resource limits. Create it with
/// `cgp_onnx_options_new`, change it with `cgp_onnx_options_set_*`, release it with
/// `cgp_onnx_options_free`. One options object may serve any number of imports; it is not
/// changed by them.
pub struct cgp_onnx_options {
    options: ImportOptions,
}

/// Creates import options: every input's declared shape, the default limits.
///
/// # Safety
/// `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_onnx_options_new(out: *mut *mut cgp_onnx_options) -> cgp_status {
    ffi_call(|| {
        out_arg(out, "out")?;
        let options = Box::new(cgp_onnx_options {
            options: ImportOptions::default(),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, Box::into_raw(options)) };
        Ok(())
    })
}

/// Releases import options. NULL is a no-op.
///
/// # Safety
/// `o` is NULL or options from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_onnx_options_free(o: *mut cgp_onnx_options) {
    ffi_void(|| {
        if !o.is_null() {
            // SAFETY: the pointer came from Box::into_raw in cgp_onnx_options_new and is
            // freed once.
            drop(unsafe { Box::from_raw(o) });
        }
    })
}

/// Sets the shape of a graph input: `ndims` positive sizes at `dims`, replacing any shape set
/// before for that input. `input_name` names the input; NULL means the first data input
/// (the first graph input that is not a weight). Import fails with `CGP_INVALID_ARGUMENT`
/// when the name is not a data input of the model, when the model declares another number
/// of dimensions, or when the first input gets a shape both by name and through NULL.
/// `CGP_INVALID_ARGUMENT` here for no dimensions or a size of 0 (the options are then
/// unchanged).
///
/// # Safety
/// `o` is valid options; `input_name` is NULL or a NUL-terminated string; `dims` is valid
/// for reads of `ndims` values.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_onnx_options_set_input_shape(
    o: *mut cgp_onnx_options,
    input_name: *const c_char,
    dims: *const u64,
    ndims: usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let options = unsafe { arg_mut(o, "o")? };
        let name = if input_name.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated by the caller's contract.
            Some(unsafe { arg_str(input_name, "input_name")? })
        };
        // SAFETY: validity of `ndims` values is the caller's contract; NULL is checked.
        let dims = unsafe { arg_slice(dims, ndims, "dims")? };
        if dims.is_empty() {
            return Err(Error::invalid(
                "dims: an input shape needs at least one dimension",
            ));
        }
        if let Some(axis) = dims.iter().position(|&size| size == 0) {
            return Err(Error::invalid(format!(
                "dims: size 0 at axis {axis}; sizes must be positive"
            )));
        }
        let options = &mut options.options;
        match name {
            None => options.input_shape = Some(dims.to_vec()),
            Some(name) => {
                options.input_shapes.insert(name.to_owned(), dims.to_vec());
            }
        }
        Ok(())
    })
}

/// Sets the limits of imports with these options (copied: `limits` may be freed after).
///
/// # Safety
/// `o` is valid options; `limits` is valid limits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_onnx_options_set_limits(
    o: *mut cgp_onnx_options,
    limits: *const cgp_limits,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let options = unsafe { arg_mut(o, "o")? };
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_ref(limits, "limits")? };
        options.options.limits = limits.limits;
        Ok(())
    })
}

/// `cgp_graph_from_onnx_file` with `options`: input shapes given in place of the declared
/// ones, and the options' limits.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `options` is valid options; `out` is valid
/// for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_file_with_options(
    path: *const c_char,
    options: *const cgp_onnx_options,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let options = unsafe { arg_ref(options, "options")? };
        // SAFETY: the caller's contract is this function's.
        unsafe { onnx_file(path, &options.options, out) }
    })
}

/// `cgp_graph_from_onnx_bytes` with `options` (see `cgp_graph_from_onnx_file_with_options`).
///
/// # Safety
/// `data` is valid for reads of `len` bytes; `options` is valid options; `out` is valid for
/// a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_onnx_bytes_with_options(
    data: *const u8,
    len: usize,
    options: *const cgp_onnx_options,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let options = unsafe { arg_ref(options, "options")? };
        // SAFETY: the caller's contract is this function's.
        unsafe { onnx_bytes(data, len, &options.options, out) }
    })
}

fn within(limits: &Limits) -> ImportOptions {
    ImportOptions {
        limits: *limits,
        ..ImportOptions::default()
    }
}

/// # Safety
/// As `cgp_graph_from_onnx_file`.
unsafe fn onnx_file(
    path: *const c_char,
    options: &ImportOptions,
    out: *mut *mut cgp_graph,
) -> Result<()> {
    // SAFETY: NULL is checked; NUL termination is the caller's contract.
    let path = unsafe { arg_str(path, "path")? };
    out_arg(out, "out")?;
    deliver(graph_from_onnx_file_with(Path::new(path), options), out)
}

/// # Safety
/// As `cgp_graph_from_onnx_bytes`.
unsafe fn onnx_bytes(
    data: *const u8,
    len: usize,
    options: &ImportOptions,
    out: *mut *mut cgp_graph,
) -> Result<()> {
    // SAFETY: validity of `len` bytes is the caller's contract; NULL is checked.
    let bytes = unsafe { arg_slice(data, len, "data")? };
    out_arg(out, "out")?;
    deliver(graph_from_onnx_bytes_with(bytes, options), out)
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

    /// MACs of the fixture imported with `options`, or the status and message of the failure.
    fn macs_with(
        options: *const cgp_onnx_options,
    ) -> std::result::Result<u64, (cgp_status, String)> {
        let path = fixture();
        let mut graph = ptr::null_mut();
        // SAFETY: valid C string, options and out-pointer.
        let status =
            unsafe { cgp_graph_from_onnx_file_with_options(path.as_ptr(), options, &mut graph) };
        if status != cgp_status::CGP_OK {
            assert!(graph.is_null(), "a failed import writes no graph");
            return Err((status, last_error()));
        }
        let mut macs = 0u64;
        // SAFETY: a live graph, released once.
        unsafe {
            assert_eq!(
                crate::ffi::graph::cgp_graph_macs(graph, &mut macs),
                cgp_status::CGP_OK
            );
            cgp_graph_free(graph);
        }
        Ok(macs)
    }

    #[test]
    fn options_give_input_shapes_by_name_or_to_the_first_input() {
        let mut options = ptr::null_mut();
        // SAFETY: a valid out-pointer; the options live until freed at the end.
        unsafe { assert_eq!(cgp_onnx_options_new(&mut options), cgp_status::CGP_OK) };
        let declared = macs_with(options).unwrap();
        let doubled = [1u64, 3, 64, 64];
        let image = CString::new("image").unwrap();
        // SAFETY: live options, a valid name and dimensions.
        let status = unsafe {
            cgp_onnx_options_set_input_shape(options, image.as_ptr(), doubled.as_ptr(), 4)
        };
        assert_eq!(status, cgp_status::CGP_OK);
        let by_name = macs_with(options).unwrap();
        // The NB-201 network's 32x32 input doubled: every feature map has four times the
        // pixels, all but the classifier (64 x 10 after global pooling) cost four times as much.
        assert_eq!(by_name - 640, 4 * (declared - 640));

        // The same input also through NULL (the first data input): refused at import.
        // SAFETY: live options and valid dimensions.
        let status =
            unsafe { cgp_onnx_options_set_input_shape(options, ptr::null(), doubled.as_ptr(), 4) };
        assert_eq!(status, cgp_status::CGP_OK);
        let (status, message) = macs_with(options).unwrap_err();
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(
            message.contains("'image' is given a shape twice"),
            "{message}"
        );

        let mut fresh = ptr::null_mut();
        let mask = CString::new("mask").unwrap();
        // SAFETY: a valid out-pointer, live options, valid names and dimensions; each
        // released once.
        unsafe {
            assert_eq!(cgp_onnx_options_new(&mut fresh), cgp_status::CGP_OK);
            let status = cgp_onnx_options_set_input_shape(fresh, ptr::null(), doubled.as_ptr(), 4);
            assert_eq!(status, cgp_status::CGP_OK);
            assert_eq!(macs_with(fresh).unwrap(), by_name);
            let status = cgp_onnx_options_set_input_shape(fresh, ptr::null(), doubled.as_ptr(), 3);
            assert_eq!(status, cgp_status::CGP_OK);
            let (status, message) = macs_with(fresh).unwrap_err();
            assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
            assert!(
                message.contains("has 3 dimensions; the model declares 4"),
                "{message}"
            );
            let status = cgp_onnx_options_set_input_shape(fresh, ptr::null(), doubled.as_ptr(), 4);
            assert_eq!(
                status,
                cgp_status::CGP_OK,
                "a shape set again replaces the first"
            );
            let status =
                cgp_onnx_options_set_input_shape(fresh, mask.as_ptr(), doubled.as_ptr(), 4);
            assert_eq!(status, cgp_status::CGP_OK);
            let (_, message) = macs_with(fresh).unwrap_err();
            assert!(
                message.contains("'mask', which is not a data input"),
                "{message}"
            );

            let zero = [1u64, 0];
            let status = cgp_onnx_options_set_input_shape(options, ptr::null(), zero.as_ptr(), 2);
            assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
            assert_eq!(
                last_error(),
                "dims: size 0 at axis 1; sizes must be positive"
            );
            let status = cgp_onnx_options_set_input_shape(options, ptr::null(), ptr::null(), 4);
            assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
            let status = cgp_onnx_options_set_input_shape(options, ptr::null(), zero.as_ptr(), 0);
            assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
            let status =
                cgp_onnx_options_set_input_shape(ptr::null_mut(), ptr::null(), zero.as_ptr(), 1);
            assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
            assert_eq!(last_error(), "o is NULL");
            cgp_onnx_options_free(fresh);
            cgp_onnx_options_free(options);
            cgp_onnx_options_free(ptr::null_mut());
        }
    }

    #[test]
    fn options_carry_limits() {
        let (mut options, mut limits) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: valid out-pointers; each handle released once.
        unsafe {
            assert_eq!(cgp_onnx_options_new(&mut options), cgp_status::CGP_OK);
            assert_eq!(
                crate::ffi::limits::cgp_limits_new(&mut limits),
                cgp_status::CGP_OK
            );
            assert_eq!(
                crate::ffi::limits::cgp_limits_set_max_nodes(limits, 10),
                cgp_status::CGP_OK
            );
            assert_eq!(
                cgp_onnx_options_set_limits(options, limits),
                cgp_status::CGP_OK
            );
            crate::ffi::limits::cgp_limits_free(limits);
            let (status, message) = macs_with(options).unwrap_err();
            assert_eq!(status, cgp_status::CGP_UNSUPPORTED);
            assert!(message.contains("10"), "{message}");
            assert_eq!(
                cgp_onnx_options_set_limits(options, ptr::null()),
                cgp_status::CGP_INVALID_ARGUMENT
            );
            let bytes = std::fs::read(fixture().to_str().unwrap()).unwrap();
            let mut graph = ptr::null_mut();
            let status = cgp_graph_from_onnx_bytes_with_options(
                bytes.as_ptr(),
                bytes.len(),
                options,
                &mut graph,
            );
            assert_eq!(status, cgp_status::CGP_UNSUPPORTED);
            assert!(graph.is_null());
            let status = cgp_graph_from_onnx_bytes_with_options(
                bytes.as_ptr(),
                bytes.len(),
                ptr::null(),
                &mut graph,
            );
            assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
            assert_eq!(last_error(), "options is NULL");
            cgp_onnx_options_free(options);
        }
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
