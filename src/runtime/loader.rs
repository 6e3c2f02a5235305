//! Finding and loading ONNX Runtime's shared library, once per process.
//!
//! `ort` (with `load-dynamic`) panics at its first use when it cannot load the library, and
//! keeps the first library it loaded for the life of the process. So this module picks the
//! path itself, checks that the file exists, loads it through `ort::init_from` (which checks
//! the version), and remembers the outcome.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use crate::error::{Error, ErrorKind, Result};

/// The ONNX Runtime release that `scripts/fetch-onnxruntime.sh` fetches and `ort` targets.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";

const FIX: &str = "run scripts/fetch-onnxruntime.sh (it puts ONNX Runtime into the cache), \
                   or set ORT_DYLIB_PATH to a libonnxruntime.so of version 1.31 or newer";

/// The library loaded in this process and its environment, once one was.
static LOADED: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// The cache directory that `scripts/fetch-onnxruntime.sh` fills:
/// `${CGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cgpredict}/onnxruntime/`.
pub fn cache_dir() -> Option<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let base = nonempty("CGP_CACHE_DIR").map(PathBuf::from).or_else(|| {
        nonempty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| nonempty("HOME").map(|home| Path::new(&home).join(".cache")))
            .map(|cache| cache.join("cgpredict"))
    })?;
    Some(base.join("onnxruntime"))
}

/// Where the library is taken from, in order: `explicit`, `ORT_DYLIB_PATH`, the cache, the
/// system loader's search path. Explicit and environment paths must exist.
fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return existing(path, "the runtime path given");
    }
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|value| !value.is_empty()) {
        return existing(Path::new(&path), "ORT_DYLIB_PATH");
    }
    if let Some(cached) = cache_dir()
        .map(|dir| dir.join(format!("libonnxruntime.so.{ONNXRUNTIME_VERSION}")))
        .filter(|path| path.is_file())
    {
        return Ok(cached);
    }
    // A bare name: dlopen searches LD_LIBRARY_PATH, the ld.so cache and the system directories.
    Ok(PathBuf::from("libonnxruntime.so"))
}

fn existing(path: &Path, source: &str) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(Error::new(
            ErrorKind::Runtime,
            format!(
                "ONNX Runtime not found: {source} {} is not a file; {FIX}",
                path.display()
            ),
        ))
    }
}

/// Loads ONNX Runtime (from where `locate` finds it) unless this process already did, and
/// returns the process's ONNX Runtime environment. Asking for a different explicit library after one is
/// loaded is an error: a process holds one ONNX Runtime.
pub fn ensure_loaded(explicit: Option<&Path>) -> Result<Environment> {
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((path, environment)) = loaded.as_ref() {
        if let Some(wanted) = explicit {
            let same = wanted.canonicalize().ok() == path.canonicalize().ok();
            if !same {
                existing(wanted, "the runtime path given")?;
                return Err(Error::new(
                    ErrorKind::Runtime,
                    format!(
                        "ONNX Runtime is already loaded in this process from {}; cannot load {} as well",
                        path.display(),
                        wanted.display()
                    ),
                ));
            }
        }
        return Ok(environment.clone());
    }
    let path = locate(explicit)?;
    let fail = |error: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::Runtime,
            format!(
                "cannot load ONNX Runtime from {}: {error}; {FIX}",
                path.display()
            ),
        )
    };
    let environment = ort::init_from(&path)
        .map_err(|error| fail(&error))?
        .with_name("cgpredict")
        .build()
        .map_err(|error| fail(&error))?;
    *loaded = Some((path, environment.clone()));
    Ok(environment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_explicit_path_says_how_to_fix_it() {
        let error = locate(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Runtime);
        assert!(error.message.contains("/nonexistent/libonnxruntime.so"));
        assert!(error.message.contains("fetch-onnxruntime.sh"));
        assert!(error.message.contains("ORT_DYLIB_PATH"));
    }
}
