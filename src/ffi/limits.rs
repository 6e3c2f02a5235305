//! C entry points for resource limits on untrusted input.

use super::{arg_mut, cgp_status, ffi_call, ffi_void, out_arg, write_out};
use crate::error::{Error, Result};
use crate::graph::Limits;

/// Resource limits for the `*_with_limits` readers and importers: the most nodes and edges of
/// a graph and the most bytes of an ONNX model. Create it with `cgp_limits_new` (which holds
/// the defaults: 1,000,000 nodes, 4,000,000 edges, 2 GiB), change it with
/// `cgp_limits_set_*`, release it with `cgp_limits_free`. Input beyond a limit fails with
/// `CGP_UNSUPPORTED` and a message naming the limit and the value found.
pub struct cgp_limits {
    pub(crate) limits: Limits,
}

/// Creates limits holding the defaults.
///
/// # Safety
/// `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_limits_new(out: *mut *mut cgp_limits) -> cgp_status {
    ffi_call(|| {
        out_arg(out, "out")?;
        let limits = Box::new(cgp_limits {
            limits: Limits::DEFAULT,
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, Box::into_raw(limits)) };
        Ok(())
    })
}

/// Releases limits. NULL is a no-op.
///
/// # Safety
/// `l` is NULL or limits from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_limits_free(l: *mut cgp_limits) {
    ffi_void(|| {
        if !l.is_null() {
            // SAFETY: the pointer came from Box::into_raw in cgp_limits_new and is freed once.
            drop(unsafe { Box::from_raw(l) });
        }
    })
}

fn at_least_one(name: &str, value: u64) -> Result<()> {
    if value == 0 {
        return Err(Error::invalid(format!("{name} must be at least 1, not 0")));
    }
    Ok(())
}

/// Sets the most nodes of one graph (at least 1).
///
/// # Safety
/// `l` is valid limits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_limits_set_max_nodes(
    l: *mut cgp_limits,
    max_nodes: usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_mut(l, "l")? };
        at_least_one("max_nodes", max_nodes as u64)?;
        limits.limits.max_nodes = max_nodes;
        Ok(())
    })
}

/// Sets the most edges of one graph (at least 1).
///
/// # Safety
/// `l` is valid limits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_limits_set_max_edges(
    l: *mut cgp_limits,
    max_edges: usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_mut(l, "l")? };
        at_least_one("max_edges", max_edges as u64)?;
        limits.limits.max_edges = max_edges;
        Ok(())
    })
}

/// Sets the most bytes of an ONNX model, after gzip inflation (at least 1).
///
/// # Safety
/// `l` is valid limits.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_limits_set_max_onnx_bytes(
    l: *mut cgp_limits,
    max_onnx_bytes: u64,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let limits = unsafe { arg_mut(l, "l")? };
        at_least_one("max_onnx_bytes", max_onnx_bytes)?;
        limits.limits.max_onnx_bytes = max_onnx_bytes;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::ptr;

    use super::*;
    use crate::ffi::last_error;

    #[test]
    fn setters_change_the_limits_and_refuse_zero() {
        let mut handle = ptr::null_mut();
        // SAFETY: a valid out-pointer; the handle is live until freed at the end.
        unsafe {
            assert_eq!(cgp_limits_new(&mut handle), cgp_status::CGP_OK);
            assert_eq!((*handle).limits, Limits::DEFAULT);
            assert_eq!(cgp_limits_set_max_nodes(handle, 5), cgp_status::CGP_OK);
            assert_eq!(cgp_limits_set_max_edges(handle, 6), cgp_status::CGP_OK);
            assert_eq!(cgp_limits_set_max_onnx_bytes(handle, 7), cgp_status::CGP_OK);
            let expected = Limits {
                max_nodes: 5,
                max_edges: 6,
                max_onnx_bytes: 7,
            };
            assert_eq!((*handle).limits, expected);
            assert_eq!(
                cgp_limits_set_max_nodes(handle, 0),
                cgp_status::CGP_INVALID_ARGUMENT
            );
            assert_eq!(last_error(), "max_nodes must be at least 1, not 0");
            assert_eq!(
                (*handle).limits,
                expected,
                "a refused value changes nothing"
            );
            assert_eq!(
                cgp_limits_set_max_edges(ptr::null_mut(), 1),
                cgp_status::CGP_INVALID_ARGUMENT
            );
            assert_eq!(last_error(), "l is NULL");
            assert_eq!(
                cgp_limits_new(ptr::null_mut()),
                cgp_status::CGP_INVALID_ARGUMENT
            );
            cgp_limits_free(handle);
            cgp_limits_free(ptr::null_mut());
        }
    }
}
