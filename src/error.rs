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

/// The most characters of a caller's input that a message repeats.
const EXCERPT_CHARS: usize = 200;

/// The most characters of a message: enough for any message the library writes, with
/// excerpts of the input, so that a message never grows with the input.
const MESSAGE_CHARS: usize = 2000;

/// `text`, a piece of a caller's input to repeat in a message, cut to its first 200
/// characters with an ellipsis and the count of the rest when longer.
pub(crate) fn excerpt(text: &str) -> std::borrow::Cow<'_, str> {
    cut(text, EXCERPT_CHARS)
}

fn cut(text: &str, chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(chars) {
        None => text.into(),
        Some((end, _)) => format!(
            "{}... ({} more characters)",
            &text[..end],
            text[end..].chars().count()
        )
        .into(),
    }
}

/// `message` cut to [`MESSAGE_CHARS`].
fn capped(message: String) -> String {
    match cut(&message, MESSAGE_CHARS) {
        std::borrow::Cow::Borrowed(_) => message,
        std::borrow::Cow::Owned(cut) => cut,
    }
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
            message: capped(message.into()),
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
            message: capped(format!("{context}: {}", self.message)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut_in_messages() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(10_000_000);
        let cut = excerpt(&long);
        assert!(cut.starts_with(&"é".repeat(200)), "{}", &cut[..10]);
        assert!(cut.ends_with("é... (9999800 more characters)"), "{cut}");
        let error = Error::parse(format!("bad: {long}")).context("in x");
        assert!(
            error.message.chars().count() < 2100,
            "{}",
            error.message.len()
        );
        assert!(error.message.starts_with("in x: bad: éé"));
    }
}
