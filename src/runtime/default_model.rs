//! Which model a predictor opens when the caller names none.
//!
//! In order: the file named by the `CGPREDICT_MODEL` environment variable, then the model
//! compiled into the library. `build.rs` compiles `models/cgpredict-default.onnx` in when the
//! file is there at build time (cfg `cgp_bundled_model`), so an installed library carries its
//! default model and needs no file beside it.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::files;

/// The environment variable that names a model file to use instead of the bundled one.
pub const MODEL_ENV: &str = "CGPREDICT_MODEL";

#[cfg(cgp_bundled_model)]
const BUNDLED: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/cgpredict-default.onnx"
)));

#[cfg(not(cgp_bundled_model))]
const BUNDLED: Option<&[u8]> = None;

/// Whether this build carries a default model (`models/cgpredict-default.onnx` was present
/// when it was compiled).
pub fn has_bundled_model() -> bool {
    BUNDLED.is_some()
}

/// The bytes of the model to open and a name for messages: `explicit` when given, else
/// [`MODEL_ENV`]'s file, else the bundled model.
/// A file must be a regular one of at most `max_bytes` bytes.
pub(super) fn model_bytes(
    explicit: Option<&Path>,
    max_bytes: u64,
) -> Result<(Cow<'static, [u8]>, String)> {
    let read = |path: &Path, name: String| {
        files::read_regular(path, max_bytes, "max_model_bytes")
            .map(|bytes| (Cow::Owned(bytes), name))
    };
    if let Some(path) = explicit {
        return read(path, path.display().to_string());
    }
    if let Some(path) = std::env::var_os(MODEL_ENV).filter(|value| !value.is_empty()) {
        let path = Path::new(&path);
        return read(path, format!("{} (from {MODEL_ENV})", path.display()))
            .map_err(|error| error.context(MODEL_ENV));
    }
    match BUNDLED {
        Some(bytes) => Ok((
            Cow::Borrowed(bytes),
            "cgpredict-default.onnx (bundled)".to_owned(),
        )),
        None => Err(Error::new(
            ErrorKind::Model,
            format!(
                "no bundled default model in this build: models/cgpredict-default.onnx was \
                 absent when cgpredict was compiled; give a model file, set {MODEL_ENV} to one, \
                 or rebuild cgpredict with the trainer's model at models/cgpredict-default.onnx"
            ),
        )),
    }
}
