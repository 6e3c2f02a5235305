//! Opening the files the library reads for its callers (ONNX networks, model files): only
//! regular files, of a size within a limit, checked before any read. A device such as
//! `/dev/zero` never ends and opening a FIFO blocks until a writer comes, so either would
//! hold the caller's process; a huge file would exhaust its memory.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};

/// The error for an I/O failure on `path`.
pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {error}", path.display()),
        )
    }
}

/// What a file that is not a regular one is, for messages.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Refuses what `metadata` describes unless it is a regular file of at most `max_bytes`
/// bytes (`limit` names the limit in the message); returns its size.
fn check(path: &Path, metadata: &std::fs::Metadata, max_bytes: u64, limit: &str) -> Result<u64> {
    if !metadata.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "cannot read {}: it is {}, and only regular files are read",
                path.display(),
                kind_of(metadata.file_type())
            ),
        ));
    }
    let size = metadata.len();
    if size > max_bytes {
        return Err(Error::unsupported(format!(
            "{} has {size} bytes, more than the limit {limit} = {max_bytes}",
            path.display()
        )));
    }
    Ok(size)
}

/// Opens `path` for reading after checking that it is a regular file of at most `max_bytes`
/// bytes; returns it with its size. The check runs on the path before opening (opening a
/// FIFO would block) and again on the open file (the path may have changed in between).
pub(crate) fn open_regular(path: &Path, max_bytes: u64, limit: &str) -> Result<(File, u64)> {
    let io = io_error(path);
    check(
        path,
        &std::fs::metadata(path).map_err(&io)?,
        max_bytes,
        limit,
    )?;
    let file = File::open(path).map_err(&io)?;
    let size = check(path, &file.metadata().map_err(&io)?, max_bytes, limit)?;
    Ok((file, size))
}

/// Reads a regular file of at most `max_bytes` bytes whole ([`open_regular`]); a file that
/// grows beyond the limit while read is refused after reading one byte past it.
pub(crate) fn read_regular(path: &Path, max_bytes: u64, limit: &str) -> Result<Vec<u8>> {
    let (file, size) = open_regular(path, max_bytes, limit)?;
    // One byte more than the size, so that reading to the end needs no growth.
    let mut bytes = Vec::with_capacity(usize::try_from(size).map_or(0, |size| size + 1));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::unsupported(format!(
            "{} grew beyond the limit {limit} = {max_bytes} bytes while it was read",
            path.display()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = std::env::temp_dir().join(format!("cgp-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("five");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_regular(&file, 5, "max").unwrap(), b"12345");
        let error = read_regular(&file, 4, "max_x").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert!(
            error
                .message
                .ends_with("has 5 bytes, more than the limit max_x = 4"),
            "{error}"
        );
        let error = read_regular(&dir, 5, "max").unwrap_err();
        assert!(error.message.contains("it is a directory"), "{error}");
        #[cfg(unix)]
        {
            let error = read_regular(Path::new("/dev/zero"), 5, "max").unwrap_err();
            assert_eq!(error.kind, ErrorKind::Io);
            assert!(error.message.contains("a character device"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
