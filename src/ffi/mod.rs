//! The C ABI. This layer only converts and checks arguments; the logic lives in safe Rust.
//!
//! Conventions, in the manner of rustls-ffi:
//! - opaque handles created by `cgp_thing_new`/`_from_*` and released by `cgp_thing_free`
//!   (NULL is a no-op);
//! - every fallible call returns a `cgp_status` and writes its out-parameters only on
//!   success; `cgp_last_error_message()` then holds this thread's message for the failure;
//! - a panic never crosses the boundary: it becomes `CGP_PANIC`;
//! - buffers are passed with their length.

#![allow(non_camel_case_types)]

mod benchmarks;
mod graph;
mod limits;
mod onnx;
mod predictor;
mod search;
mod spectral;

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{Error, ErrorKind, Result};

pub use graph::{cgp_graph, cgp_node_desc};
pub use limits::cgp_limits;
pub use onnx::cgp_onnx_options;
pub use predictor::{cgp_device, cgp_predictor};

/// The outcome of a call. `CGP_OK` is success; for anything else
/// `cgp_last_error_message()` says what went wrong.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum cgp_status {
    /// Success.
    CGP_OK = 0,
    /// An argument is NULL, out of range or inconsistent (bad node id, cycle, zero size).
    CGP_INVALID_ARGUMENT = 1,
    /// Input text or bytes could not be parsed (JSON, ONNX, an architecture string).
    CGP_PARSE_ERROR = 2,
    /// Well-formed input that this library does not handle.
    CGP_UNSUPPORTED = 3,
    /// A file could not be read or written.
    CGP_IO_ERROR = 4,
    /// A model file is not a usable cgpredict model.
    CGP_MODEL_ERROR = 5,
    /// The inference runtime is missing or failed.
    CGP_RUNTIME_ERROR = 6,
    /// An output buffer is too small.
    CGP_BUFFER_TOO_SMALL = 7,
    /// The library hit an internal bug; the message has the details. The call had no effect.
    CGP_PANIC = 99,
}

impl From<ErrorKind> for cgp_status {
    fn from(kind: ErrorKind) -> cgp_status {
        match kind {
            ErrorKind::InvalidArgument => cgp_status::CGP_INVALID_ARGUMENT,
            ErrorKind::Parse => cgp_status::CGP_PARSE_ERROR,
            ErrorKind::Unsupported => cgp_status::CGP_UNSUPPORTED,
            ErrorKind::Io => cgp_status::CGP_IO_ERROR,
            ErrorKind::Model => cgp_status::CGP_MODEL_ERROR,
            ErrorKind::Runtime => cgp_status::CGP_RUNTIME_ERROR,
            ErrorKind::BufferTooSmall => cgp_status::CGP_BUFFER_TOO_SMALL,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // Interior NULs would cut the C string short; they cannot come from our messages
    // except through echoed input, so replace them.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

/// Runs the body of an entry point: catches panics, records the error message, and maps the
/// outcome to a status. Every fallible `extern "C"` function is one call to this.
pub(crate) fn ffi_call(body: impl FnOnce() -> Result<()>) -> cgp_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => cgp_status::CGP_OK,
        Ok(Err(error)) => {
            set_last_error(&error.message);
            error.kind.into()
        }
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(&format!("internal error (please report): {detail}"));
            cgp_status::CGP_PANIC
        }
    }
}

/// Runs the body of an infallible entry point (a `_free`): a panic is swallowed, since the
/// caller has no status to look at and unwinding into C is undefined.
pub(crate) fn ffi_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// A shared reference from a pointer argument, or an error naming the argument.
///
/// # Safety
/// `ptr` is NULL or valid for reads of a `T` for the call's duration.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: the caller guarantees validity when not NULL.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// An exclusive reference from a pointer argument, or an error naming the argument.
///
/// # Safety
/// `ptr` is NULL or valid for reads and writes of a `T`, not aliased, for the call's duration.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: the caller guarantees validity and exclusivity when not NULL.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// Checks that an out-parameter is not NULL, before any work is done.
pub(crate) fn out_arg<T>(ptr: *mut T, name: &str) -> Result<()> {
    if ptr.is_null() {
        Err(Error::invalid(format!("{name} is NULL")))
    } else {
        Ok(())
    }
}

/// Writes a result through an out-parameter already checked by [`out_arg`].
///
/// # Safety
/// `ptr` is valid for a write of a `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, value: T) {
    // SAFETY: checked non-NULL by out_arg; validity is the caller's contract.
    unsafe { ptr.write(value) }
}

/// A UTF-8 string from a NUL-terminated argument, or an error naming the argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the call's duration.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|error| Error::invalid(format!("{name} is not valid UTF-8: {error}")))
}

/// A byte slice from a pointer and length; NULL is allowed only with length 0.
///
/// # Safety
/// `ptr` is valid for reads of `len` elements for the call's duration, unless `len` is 0.
pub(crate) unsafe fn arg_slice<'a, T>(ptr: *const T, len: usize, name: &str) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len
        .checked_mul(size_of::<T>())
        .is_none_or(|bytes| bytes > isize::MAX as usize)
    {
        return Err(Error::invalid(format!("{name}: length {len} is too large")));
    }
    // SAFETY: non-NULL, in bounds of isize, and valid for `len` reads by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Moves a Rust string to C, for release by `cgp_string_free`.
pub(crate) fn into_c_string(text: String) -> Result<*mut c_char> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| Error::invalid("the result contains a NUL byte and cannot be a C string"))
}

/// The library's version, `"MAJOR.MINOR.PATCH"`; a static string, never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn cgp_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(version) => version,
            Err(_) => panic!("the package version has no NUL"),
        };
    VERSION.as_ptr()
}

/// The message of this thread's last failed call; "" if none failed yet. Never NULL.
/// The pointer stays valid until this thread's next failing call.
#[unsafe(no_mangle)]
pub extern "C" fn cgp_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|last| last.borrow().as_ptr())
        .unwrap_or(c"thread is exiting; no error message".as_ptr())
}

/// Releases a string returned by this library (`cgp_graph_to_json`, ...). NULL is a no-op.
///
/// # Safety
/// `s` is NULL or a string from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_string_free(s: *mut c_char) {
    ffi_void(|| {
        if !s.is_null() {
            // SAFETY: the string came from CString::into_raw in into_c_string.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// This thread's last error message, for the FFI layer's own tests.
#[cfg(test)]
pub(crate) fn last_error() -> String {
    // SAFETY: cgp_last_error_message never returns NULL.
    unsafe { CStr::from_ptr(cgp_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_a_status_and_a_message() {
        let status = ffi_call(|| panic!("boom"));
        assert_eq!(status, cgp_status::CGP_PANIC);
        assert!(last_error().contains("boom"));
    }

    #[test]
    fn errors_keep_their_kind_and_message() {
        let status = ffi_call(|| Err(Error::parse("line 3: bad token")));
        assert_eq!(status, cgp_status::CGP_PARSE_ERROR);
        assert_eq!(last_error(), "line 3: bad token");
    }

    #[test]
    fn version_matches_the_package() {
        // SAFETY: a static NUL-terminated string.
        let version = unsafe { CStr::from_ptr(cgp_version()) };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
