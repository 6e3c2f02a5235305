//! A reader for NumPy `.npz` files (a zip archive of `.npy` arrays) holding float arrays, as
//! `numpy.savez` writes them: enough to load published weight files such as OFA's accuracy
//! predictor.
//!
//! Supported: `.npy` format versions 1 to 3, C order, little-endian `f4` or `f8` data (read as
//! `f32`), stored or deflated archive members. Anything else is an error naming the array and
//! the problem.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// A float array: its shape and its values in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Reads every array of an `.npz` file, keyed by name (the member name without `.npy`).
pub fn read_npz(path: &Path) -> Result<BTreeMap<String, Array>> {
    let bytes = std::fs::read(path).map_err(|error| Error::from(error).context(path.display()))?;
    parse_npz(&bytes).map_err(|error| error.context(path.display()))
}

/// [`read_npz`] on the bytes of an `.npz` file.
pub fn parse_npz(bytes: &[u8]) -> Result<BTreeMap<String, Array>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|error| Error::parse(format!("not an npz (zip) archive: {error}")))?;
    let mut arrays = BTreeMap::new();
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .map_err(|error| Error::parse(format!("npz member {index}: {error}")))?;
        let name = member
            .name()
            .map_err(|error| Error::parse(format!("npz member {index}: {error}")))?
            .into_owned();
        let Some(key) = name.strip_suffix(".npy") else {
            return Err(Error::parse(format!(
                "npz member {name:?} is not a .npy array"
            )));
        };
        let mut content = Vec::new();
        member
            .read_to_end(&mut content)
            .map_err(|error| Error::parse(format!("npz member {name:?}: {error}")))?;
        let array = parse_npy(&content).map_err(|error| error.context(format!("array {key:?}")))?;
        arrays.insert(key.to_owned(), array);
    }
    Ok(arrays)
}

/// The element types this reader converts to `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F64,
}

/// Parses one `.npy` file.
pub fn parse_npy(bytes: &[u8]) -> Result<Array> {
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or_else(|| Error::parse("not a .npy array (no \\x93NUMPY magic)"))?;
    let (header_len, header_start) = match rest {
        [1, _, a, b, ..] => (usize::from(u16::from_le_bytes([*a, *b])), 10),
        [2 | 3, _, a, b, c, d, ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, 12),
        [major, ..] => {
            return Err(Error::parse(format!(
                ".npy format version {major} is not supported (1 to 3 are)"
            )));
        }
        [] => return Err(Error::parse(".npy file ends after its magic")),
    };
    let header_end = header_start + header_len;
    let header = bytes
        .get(header_start..header_end)
        .ok_or_else(|| Error::parse(".npy header is cut short"))?;
    let header = std::str::from_utf8(header)
        .map_err(|_| Error::parse(".npy header is not text"))?
        .trim();
    let dtype = match dict_value(header, "descr")?.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => Dtype::F32,
        "<f8" => Dtype::F64,
        other => {
            return Err(Error::unsupported(format!(
                ".npy dtype {other:?} is not supported (little-endian f4 or f8 are)"
            )));
        }
    };
    match dict_value(header, "fortran_order")? {
        "False" => {}
        "True" => {
            return Err(Error::unsupported(
                "Fortran-order .npy arrays are not supported",
            ));
        }
        other => return Err(Error::parse(format!(".npy fortran_order is {other:?}"))),
    }
    let shape = parse_shape(dict_value(header, "shape")?)?;
    let count = shape
        .iter()
        .try_fold(1usize, |count, &dim| count.checked_mul(dim))
        .ok_or_else(|| Error::parse(format!(".npy shape {shape:?} overflows")))?;
    let width = match dtype {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
    };
    let body = &bytes[header_end..];
    if count.checked_mul(width) != Some(body.len()) {
        return Err(Error::parse(format!(
            ".npy shape {shape:?} needs {count} values of {width} bytes, the file has {} bytes of data",
            body.len()
        )));
    }
    let data = match dtype {
        Dtype::F32 => body
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => body
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
            .collect(),
    };
    Ok(Array { shape, data })
}

/// The text of `key`'s value in the header's Python dict literal
/// (`{'descr': '<f4', 'fortran_order': False, 'shape': (400, 128), }`).
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let missing = || Error::parse(format!(".npy header has no {key:?}: {header}"));
    let start = header
        .find(&format!("'{key}':"))
        .or_else(|| header.find(&format!("\"{key}\":")))
        .ok_or_else(missing)?
        + key.len()
        + 3;
    let value = header[start..].trim_start();
    // The shape is a tuple, whose commas do not end the value.
    let end = if value.starts_with('(') {
        value.find(')').map(|i| i + 1)
    } else {
        value.find([',', '}'])
    }
    .ok_or_else(missing)?;
    Ok(value[..end].trim())
}

/// Parses a shape tuple: `()`, `(5,)`, `(400, 128)`.
fn parse_shape(text: &str) -> Result<Vec<usize>> {
    let inner = text
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| Error::parse(format!(".npy shape {text:?} is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse()
                .map_err(|_| Error::parse(format!(".npy shape {text:?} has a bad size {part:?}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 1 `.npy` file as `numpy.save` writes it (header padded to 64 bytes).
    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(body);
        bytes
    }

    #[test]
    fn reads_f4_and_f8_arrays_of_any_rank() {
        let body: Vec<u8> = [1.5f32, -2.0, 3.25, 0.0, 7.0, 8.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let array = parse_npy(&npy("<f4", "(2, 3)", &body)).unwrap();
        assert_eq!(array.shape, [2, 3]);
        assert_eq!(array.data, [1.5, -2.0, 3.25, 0.0, 7.0, 8.0]);

        let body: Vec<u8> = [0.25f64].iter().flat_map(|v| v.to_le_bytes()).collect();
        let array = parse_npy(&npy("<f8", "(1,)", &body)).unwrap();
        assert_eq!((array.shape, array.data), (vec![1], vec![0.25]));
        let array = parse_npy(&npy("<f8", "()", &body)).unwrap();
        assert_eq!((array.shape, array.data), (vec![], vec![0.25]));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let four = [0u8; 16];
        let error = parse_npy(&npy("<i8", "(2,)", &four)).unwrap_err();
        assert!(error.message.contains("dtype \"<i8\""), "{error}");
        let error = parse_npy(&npy("<f4", "(5,)", &four)).unwrap_err();
        assert!(error.message.contains("needs 5 values"), "{error}");
        let error = parse_npy(b"\x93NUMPY\x01\x00\xff\xff{").unwrap_err();
        assert!(error.message.contains("cut short"), "{error}");
        assert!(
            parse_npy(b"PK\x03\x04")
                .unwrap_err()
                .message
                .contains("magic")
        );
        assert!(
            parse_npz(b"not a zip")
                .unwrap_err()
                .message
                .contains("not an npz")
        );
    }
}
