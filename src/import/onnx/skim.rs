//! Reading a model file without the inline weights of its large initializers.
//!
//! Exporters store every weight tensor's values in the file (`TensorProto.raw_data`), so that
//! the weights are nearly all of it, while import reads the values of small tensors only
//! (shape constants, at most [`VALUE_LIMIT`] elements). This walk over the protobuf wire format
//! copies the model as it is, except that it seeks past the `raw_data` of the graph's
//! initializers of more than [`VALUE_LIMIT`] elements instead of reading it, and rewrites the lengths of the messages around them:
//! the result is a valid, smaller model that imports to the same graph, read in a fraction of
//! the time and memory. The decoding itself stays with the generated types.
//!
//! Anything unexpected (a malformed field, a length past the end of its message, dimensions
//! after a skipped payload that make its tensor small or invalid) gives up: the caller then
//! reads the whole file, so that what import accepts and the errors it reports do not depend
//! on this shortcut.

use std::io::{self, BufRead, BufReader, Read, Seek};

use smallvec::SmallVec;

use super::value::VALUE_LIMIT;

/// `ModelProto.graph`.
const MODEL_GRAPH: u64 = 7;
/// `GraphProto.initializer`.
const GRAPH_INITIALIZER: u64 = 5;
/// `TensorProto.dims`.
const TENSOR_DIMS: u64 = 1;
/// `TensorProto.raw_data`.
const TENSOR_RAW_DATA: u64 = 9;
/// Payloads (and initializers) shorter than this are copied: seeking past them saves little.
const SKIP_MIN_BYTES: u64 = 4096;
/// The walk's read buffer: a file no larger comes in one read, whatever is skipped.
pub(super) const READ_BUFFER_BYTES: u64 = 64 * 1024;
/// The most memory reserved ahead for a message's copy.
const CAPACITY_BOUND: u64 = 1 << 20;

/// Why a walk stopped before the end.
enum Stop {
    Io(io::Error),
    /// The file is not one this walk can shorten safely; read it whole.
    GiveUp,
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Stop {
        Stop::Io(error)
    }
}

/// The model in `reader` (`size` bytes from its current position) without the large inline
/// payloads of its graph's initializers; `Ok(None)` when it must be read whole instead.
pub(super) fn skim<R: Read + Seek>(reader: R, size: u64) -> io::Result<Option<Vec<u8>>> {
    let mut walk = Walk {
        input: BufReader::with_capacity(READ_BUFFER_BYTES as usize, reader),
        position: 0,
    };
    // Capacities bounded so that a file that is mostly weights does not reserve its size.
    let mut model = Vec::with_capacity(size.min(CAPACITY_BOUND) as usize);
    match walk.message(size, Level::Model, &mut model) {
        Ok(()) => Ok(Some(model)),
        Err(Stop::GiveUp) => Ok(None),
        Err(Stop::Io(error)) => Err(error),
    }
}

/// The message being walked, which decides which fields are descended into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Model,
    Graph,
    Tensor,
}

struct Walk<R> {
    input: BufReader<R>,
    /// Bytes consumed from the start of the model.
    position: u64,
}

/// What a walked tensor was seen to hold.
struct TensorSeen {
    /// The product of its dimensions so far; `None` once a dimension is negative or the
    /// product overflows (import refuses such a tensor).
    elements: Option<u64>,
    skipped_payload: bool,
}

impl<R: Read + Seek> Walk<R> {
    /// Copies the fields of a message ending at `end` into `out`, descending into the graph,
    /// its large initializers and their payloads.
    fn message(&mut self, end: u64, level: Level, out: &mut Vec<u8>) -> Result<(), Stop> {
        let mut seen = TensorSeen {
            elements: Some(1),
            skipped_payload: false,
        };
        while self.position < end {
            let key_start = out.len();
            let key = self.varint(out, end)?;
            let field = key >> 3;
            match key & 7 {
                0 => {
                    let value = self.varint(out, end)?;
                    if level == Level::Tensor && field == TENSOR_DIMS {
                        seen.dimension(value);
                    }
                }
                1 => self.copy(8, out, end)?,
                5 => self.copy(4, out, end)?,
                2 => {
                    let mut length: SmallVec<[u8; 10]> = SmallVec::new();
                    let len = self.varint(&mut length, end)?;
                    let field_end = self
                        .position
                        .checked_add(len)
                        .filter(|&field_end| field_end <= end)
                        .ok_or(Stop::GiveUp)?;
                    let child = match (level, field) {
                        (Level::Model, MODEL_GRAPH) => Some(Level::Graph),
                        (Level::Graph, GRAPH_INITIALIZER) if len >= SKIP_MIN_BYTES => {
                            Some(Level::Tensor)
                        }
                        _ => None,
                    };
                    // Dimensions come before the payload in any file written in field order.
                    let unread = seen.elements.is_some_and(|elements| elements > VALUE_LIMIT);
                    if level == Level::Tensor
                        && field == TENSOR_RAW_DATA
                        && len >= SKIP_MIN_BYTES
                        && unread
                    {
                        // The key is already in `out`: take it back with the payload.
                        out.truncate(key_start);
                        self.skip(len)?;
                        seen.skipped_payload = true;
                    } else if let Some(child) = child {
                        let mut inner = Vec::with_capacity(len.min(CAPACITY_BOUND) as usize);
                        self.message(field_end, child, &mut inner)?;
                        encode_varint(inner.len() as u64, out);
                        out.extend_from_slice(&inner);
                    } else {
                        out.extend_from_slice(&length);
                        if level == Level::Tensor && field == TENSOR_DIMS {
                            let start = out.len();
                            self.copy(len, out, end)?;
                            seen.packed_dimensions(&out[start..])?;
                        } else {
                            self.copy(len, out, end)?;
                        }
                    }
                }
                // Groups (3, 4) are not in ONNX's schema; 6 and 7 do not exist.
                _ => return Err(Stop::GiveUp),
            }
        }
        if self.position != end {
            return Err(Stop::GiveUp);
        }
        // Dimensions after a skipped payload may make the tensor small after all, or invalid:
        // import reads the values of small tensors and refuses invalid ones.
        if seen.skipped_payload && seen.elements.is_none_or(|elements| elements <= VALUE_LIMIT) {
            return Err(Stop::GiveUp);
        }
        Ok(())
    }

    /// Reads a varint, appending its bytes as they are to `out`.
    fn varint(&mut self, out: &mut impl Extend<u8>, end: u64) -> Result<u64, Stop> {
        let mut value = 0u64;
        for index in 0..10 {
            if self.position >= end {
                return Err(Stop::GiveUp);
            }
            let byte = match self.input.fill_buf()?.first() {
                Some(&byte) => byte,
                None => return Err(Stop::GiveUp),
            };
            self.input.consume(1);
            self.position += 1;
            out.extend([byte]);
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Stop::GiveUp)
    }

    fn copy(&mut self, len: u64, out: &mut Vec<u8>, end: u64) -> Result<(), Stop> {
        if self.position.checked_add(len).is_none_or(|to| to > end) {
            return Err(Stop::GiveUp);
        }
        let start = out.len();
        let copied = (&mut self.input).take(len).read_to_end(out)?;
        if copied as u64 != len {
            out.truncate(start);
            return Err(Stop::GiveUp);
        }
        self.position += len;
        Ok(())
    }

    fn skip(&mut self, len: u64) -> Result<(), Stop> {
        let offset = i64::try_from(len).map_err(|_| Stop::GiveUp)?;
        self.input.seek_relative(offset)?;
        self.position += len;
        Ok(())
    }
}

impl TensorSeen {
    fn dimension(&mut self, value: u64) {
        // Dimensions are int64: a negative one is a huge varint.
        self.elements = self
            .elements
            .zip(
                i64::try_from(value)
                    .ok()
                    .and_then(|d| u64::try_from(d).ok()),
            )
            .and_then(|(product, dim)| product.checked_mul(dim));
    }

    fn packed_dimensions(&mut self, mut bytes: &[u8]) -> Result<(), Stop> {
        while !bytes.is_empty() {
            let mut value = 0u64;
            let mut read = None;
            for (index, &byte) in bytes.iter().enumerate().take(10) {
                value |= u64::from(byte & 0x7f) << (7 * index);
                if byte & 0x80 == 0 {
                    read = Some(index + 1);
                    break;
                }
            }
            bytes = &bytes[read.ok_or(Stop::GiveUp)?..];
            self.dimension(value);
        }
        Ok(())
    }
}

fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use prost::Message;

    use super::super::proto::{GraphProto, ModelProto, NodeProto, TensorProto};
    use super::*;

    const FLOAT: i32 = 1;

    fn tensor(name: &str, dims: &[i64], raw_bytes: usize) -> TensorProto {
        TensorProto {
            name: Some(name.into()),
            dims: dims.to_vec(),
            data_type: Some(FLOAT),
            raw_data: Some(vec![7; raw_bytes]),
            ..TensorProto::default()
        }
    }

    fn model(initializers: Vec<TensorProto>) -> Vec<u8> {
        ModelProto {
            ir_version: Some(8),
            producer_name: Some("test".into()),
            graph: Some(GraphProto {
                node: vec![NodeProto {
                    op_type: Some("Conv".into()),
                    input: vec!["x".into(), "w".into()],
                    output: vec!["y".into()],
                    ..NodeProto::default()
                }],
                initializer: initializers,
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }
        .encode_to_vec()
    }

    fn skimmed(bytes: &[u8]) -> Option<Vec<u8>> {
        skim(Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    #[test]
    fn large_payloads_are_left_out_and_the_rest_kept() {
        // 300 x 300 floats: more elements than import ever reads values of.
        let weight = tensor("w", &[300, 300], 4 * 300 * 300);
        let shape = tensor("shape", &[4], 4 * 4);
        let bytes = model(vec![weight.clone(), shape.clone()]);
        let short = skimmed(&bytes).expect("a model it can skim");
        assert!(short.len() < 200, "{} bytes left", short.len());
        let mut expected = ModelProto::decode(bytes.as_slice()).unwrap();
        expected.graph.as_mut().unwrap().initializer[0].raw_data = None;
        assert_eq!(ModelProto::decode(short.as_slice()).unwrap(), expected);
    }

    /// Length-delimited field `field` holding `payload`.
    fn delimited(field: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_varint(field << 3 | 2, &mut out);
        encode_varint(payload.len() as u64, &mut out);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn packed_dimensions_count_too() {
        let mut dims = Vec::new();
        encode_varint(300, &mut dims);
        encode_varint(300, &mut dims);
        let tensor = [
            delimited(TENSOR_DIMS, &dims),
            delimited(TENSOR_RAW_DATA, &vec![0; 4 * 300 * 300]),
        ]
        .concat();
        let bytes = delimited(MODEL_GRAPH, &delimited(GRAPH_INITIALIZER, &tensor));
        let short = skimmed(&bytes).expect("a model it can skim");
        let model = ModelProto::decode(short.as_slice()).unwrap();
        let initializer = &model.graph.unwrap().initializer[0];
        assert_eq!(initializer.dims, [300, 300]);
        assert_eq!(initializer.raw_data, None);
    }

    /// A real export's weights: every external initializer of the vendored ResNet-18 stored
    /// inline instead, as exporters write it. (`tests/onnx_import.rs` checks that such files
    /// import as their bytes do.)
    #[test]
    fn an_exported_resnet_is_skimmed_to_its_structure() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/zoo/torchvision/ResNet18_Weights.IMAGENET1K_V1.onnx.gz");
        let structure = super::super::read_model_file(&path).unwrap();
        let mut model = ModelProto::decode(structure.as_slice()).unwrap();
        for tensor in &mut model.graph.as_mut().unwrap().initializer {
            if tensor.data_location == Some(1) {
                let elements: i64 = tensor.dims.iter().product();
                tensor.raw_data = Some(vec![0; 4 * elements as usize]);
                tensor.data_location = None;
                tensor.external_data.clear();
            }
        }
        let bytes = model.encode_to_vec();
        assert!(bytes.len() > 40_000_000, "{} bytes", bytes.len());
        let short = skimmed(&bytes).expect("a model it can skim");
        // What is left is mostly the values of tensors of at most VALUE_LIMIT elements.
        assert!(short.len() < 1_000_000, "{} bytes", short.len());
    }

    #[test]
    fn models_without_large_payloads_are_copied_unchanged() {
        let bytes = model(vec![tensor("shape", &[4], 16)]);
        assert_eq!(skimmed(&bytes), Some(bytes.clone()));
        // Payloads of tensors whose values import reads (at most VALUE_LIMIT elements), even
        // a wrong-sized one that import then refuses.
        let small = tensor("conv1", &[64, 3, 7, 7], 4 * 64 * 3 * 7 * 7);
        let bytes = model(vec![small, tensor("w", &[10], 8192)]);
        assert_eq!(skimmed(&bytes), Some(bytes.clone()));
        assert_eq!(skimmed(&[]), Some(Vec::new()));
    }

    #[test]
    fn doubtful_payloads_give_up() {
        // Dimensions after a skipped payload that make its tensor small (0 elements), or
        // invalid (negative, overflowing).
        let dims_field = |dims: &[i64]| {
            let mut out = Vec::new();
            for &dim in dims {
                encode_varint(TENSOR_DIMS << 3, &mut out);
                encode_varint(dim as u64, &mut out);
            }
            out
        };
        for later in [&[0i64][..], &[-1], &[1 << 40, 1 << 40]] {
            let tensor = [
                dims_field(&[300, 300]),
                delimited(TENSOR_RAW_DATA, &[0; 8192]),
                dims_field(later),
            ]
            .concat();
            let bytes = delimited(MODEL_GRAPH, &delimited(GRAPH_INITIALIZER, &tensor));
            assert!(skimmed(&bytes).is_none(), "{later:?}");
        }
        // Truncated, or a length past the end: read whole, for the decoder to refuse.
        let bytes = model(vec![tensor("w", &[300, 300], 4 * 300 * 300)]);
        assert_eq!(skimmed(&bytes[..bytes.len() - 1]), None);
        assert_eq!(skimmed(&bytes[..bytes.len() / 2]), None);
        assert_eq!(skimmed(&[0x3a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2]), None);
        assert_eq!(skimmed(&[0xff; 16]), None);
    }
}
