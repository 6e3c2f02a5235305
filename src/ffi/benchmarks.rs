//! C entry points that build the computation graph of a NAS benchmark's architecture, one
//! function per benchmark family.

use std::ffi::c_char;

use super::{arg_slice, arg_str, cgp_graph, cgp_status, ffi_call, out_arg, write_out};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::import::{nasbench101, nasbench201};

/// Writes a freshly built graph through a checked out-parameter.
fn write_graph(out: *mut *mut cgp_graph, build: impl FnOnce() -> Result<Graph>) -> Result<()> {
    out_arg(out, "out")?;
    let graph = build()?;
    // SAFETY: checked non-NULL; validity is the caller's contract.
    unsafe { write_out(out, cgp_graph::into_raw(graph)) };
    Ok(())
}

/// Builds the NAS-Bench-101 network (CIFAR-10: 32x32 input, 10 classes) of a cell, as the
/// benchmark trained it: `adjacency` is the cell's `n x n` 0/1 matrix, row-major
/// (`adjacency[i * n + j]` = edge i -> j, strictly upper triangular), `ops` its `n` op names
/// ("input", then "conv3x3-bn-relu", "conv1x1-bn-relu" or "maxpool3x3" for each inner
/// vertex, then "output"). Every vertex must lie on a path from the input to the output;
/// at most 7 vertices and 9 edges. The cell is put in the vertex order the benchmark used,
/// which decides how channels are split, so the graph's parameter count is the benchmark's
/// `trainable_parameters`. A malformed cell is `CGP_INVALID_ARGUMENT` with a message naming
/// the entry, op or vertex at fault. Release the graph with `cgp_graph_free`.
///
/// # Safety
/// `adjacency` is valid for reads of `n * n` bytes; `ops` for reads of `n` pointers, each a
/// NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_nasbench101(
    adjacency: *const u8,
    n: usize,
    ops: *const *const c_char,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        write_graph(out, || {
            let entries = n
                .checked_mul(n)
                .ok_or_else(|| Error::invalid(format!("n = {n}: n * n overflows")))?;
            // SAFETY: validity of n * n bytes and n pointers is the caller's contract.
            let adjacency = unsafe { arg_slice(adjacency, entries, "adjacency")? };
            let pointers = unsafe { arg_slice(ops, n, "ops")? };
            let names = pointers
                .iter()
                .enumerate()
                // SAFETY: each pointer is NULL or NUL-terminated by the caller's contract.
                .map(|(i, &name)| unsafe { arg_str(name, &format!("ops[{i}]")) })
                .collect::<Result<Vec<&str>>>()?;
            nasbench101(adjacency, n, &names)
        })
    })
}

/// Builds the NAS-Bench-201 network of the cell `arch`, the benchmark's string
/// (`|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|`),
/// for `num_classes` classes on 32x32 input (CIFAR-10: 10, CIFAR-100: 100). A malformed string
/// is `CGP_PARSE_ERROR` naming the node, edge and op; `num_classes` 0 is
/// `CGP_INVALID_ARGUMENT`. Release the graph with `cgp_graph_free`.
///
/// # Safety
/// `arch` is a NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_nasbench201(
    arch: *const c_char,
    num_classes: u32,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        write_graph(out, || {
            // SAFETY: NULL or NUL-terminated by the caller's contract.
            let arch = unsafe { arg_str(arch, "arch")? };
            nasbench201(arch, num_classes)
        })
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, CString};
    use std::ptr;

    use super::*;
    use crate::ffi::cgp_last_error_message;
    use crate::ffi::graph::{cgp_graph_free, cgp_graph_param_count};

    fn last_error() -> String {
        // SAFETY: never NULL.
        unsafe { CStr::from_ptr(cgp_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    fn params(g: *mut cgp_graph) -> u64 {
        let mut count = 0;
        // SAFETY: a live graph and a valid out-parameter.
        assert_eq!(
            unsafe { cgp_graph_param_count(g, &mut count) },
            cgp_status::CGP_OK
        );
        // SAFETY: a live graph, freed once.
        unsafe { cgp_graph_free(g) };
        count
    }

    #[test]
    fn nasbench101_from_c_arrays() {
        let names = ["input", "conv3x3-bn-relu", "output"].map(|s| CString::new(s).unwrap());
        let ops = names.each_ref().map(|name| name.as_ptr());
        let adjacency = [0u8, 1, 0, 0, 0, 1, 0, 0, 0];
        let mut g = ptr::null_mut();
        // SAFETY: arrays of 9 bytes and 3 strings.
        let status =
            unsafe { cgp_graph_from_nasbench101(adjacency.as_ptr(), 3, ops.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // Worked out by hand in import::nasbench101's tests.
        assert_eq!(params(g), 10_177_674);

        // Vertex 1 is not reachable from the input.
        let bad = [0u8, 0, 1, 0, 0, 1, 0, 0, 0];
        let mut g = ptr::null_mut();
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_nasbench101(bad.as_ptr(), 3, ops.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(
            last_error().contains("vertex 1 (conv3x3-bn-relu)"),
            "{}",
            last_error()
        );
        assert!(g.is_null(), "no graph on failure");
        let with_null = [ops[0], ptr::null(), ops[2]];
        // SAFETY: as above; the NULL op is the point.
        let status = unsafe {
            cgp_graph_from_nasbench101(adjacency.as_ptr(), 3, with_null.as_ptr(), &mut g)
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "ops[1] is NULL");
        // SAFETY: NULL arrays with non-zero n are refused before any read.
        let status = unsafe { cgp_graph_from_nasbench101(ptr::null(), 3, ops.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(
            last_error().contains("adjacency is NULL"),
            "{}",
            last_error()
        );
        // SAFETY: an n whose square overflows is refused before any read.
        let status = unsafe {
            cgp_graph_from_nasbench101(adjacency.as_ptr(), usize::MAX, ops.as_ptr(), &mut g)
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(last_error().contains("overflows"), "{}", last_error());
        // SAFETY: a NULL out-parameter is refused.
        let status = unsafe {
            cgp_graph_from_nasbench101(adjacency.as_ptr(), 3, ops.as_ptr(), ptr::null_mut())
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "out is NULL");
    }

    #[test]
    fn nasbench201_from_c_string() {
        let arch = CString::new("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").unwrap();
        let mut g = ptr::null_mut();
        // SAFETY: a NUL-terminated string and a valid out-parameter.
        let status = unsafe { cgp_graph_from_nasbench201(arch.as_ptr(), 10, &mut g) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // The benchmark's smallest CIFAR-10 network.
        assert_eq!(params(g), 73_306);
        g = ptr::null_mut();

        let typo = CString::new("|none~0|+|none~0|nor_conv3x3~1|+|none~0|none~1|none~2|").unwrap();
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_nasbench201(typo.as_ptr(), 10, &mut g) };
        assert_eq!(status, cgp_status::CGP_PARSE_ERROR);
        assert!(
            last_error().contains("node 2, edge 1: op \"nor_conv3x3\""),
            "{}",
            last_error()
        );
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_nasbench201(arch.as_ptr(), 0, &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        // SAFETY: a NULL string is refused.
        let status = unsafe { cgp_graph_from_nasbench201(ptr::null(), 10, &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "arch is NULL");
        assert!(g.is_null());
    }
}
