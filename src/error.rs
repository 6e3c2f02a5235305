//! The one error type of the library. Its kind maps one-to-one onto the C ABI's `cgp_status`.

use std::fmt;

/// What went wrong, broadly; the message says exactly what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// An argument is out of range or inconsistent (a bad node id, a cycle, a zero size).
    InvalidArgument,
    /// Input text or bytes could not be parsed (JSON, ONNX, an architecture string).
    Parse,
    /// Well-formed input that this library does not handle.
    Unsupported,
    /// A file could not be read or written.
    Io,
    /// A model file is not a usable cgpredict model.
    Model,
    /// The inference runtime is missing or failed.
    Runtime,
    /// A caller's output buffer is too small.
    BufferTooSmall,
}

/// An error with its kind and a message that names the offending item (node, field, file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn parse(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Parse, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// The same error with `context` put in front of its message ("in file x.json: ...").
    pub fn context(self, context: impl fmt::Display) -> Error {
        Error {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }

    /// The same message under another kind (a validation failure met while parsing a file
    /// is a parse error for the caller).
    pub fn with_kind(self, kind: ErrorKind) -> Error {
        Error { kind, ..self }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, error.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
