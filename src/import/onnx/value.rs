//! What import knows about one ONNX tensor: element type, dimensions, whether it is static
//! (independent of the model's input data), and, for small static tensors, the values
//! themselves, so that shape arithmetic (Shape → Gather → Concat → Reshape) can be evaluated.

use std::rc::Rc;

use smallvec::SmallVec;

use super::read::TensorProto;

/// Largest tensor whose values are kept. Shape arithmetic works on a handful of integers;
/// the cap keeps import fast on masks and tables that only need their shapes.
pub(super) const VALUE_LIMIT: u64 = 1 << 16;

/// ONNX `TensorProto.DataType` codes used by the inference rules.
pub(super) mod dtype {
    pub const FLOAT: i32 = 1;
    pub const UINT8: i32 = 2;
    pub const INT8: i32 = 3;
    pub const UINT16: i32 = 4;
    pub const INT16: i32 = 5;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const BOOL: i32 = 9;
    pub const FLOAT16: i32 = 10;
    pub const DOUBLE: i32 = 11;
    pub const UINT32: i32 = 12;
    pub const UINT64: i32 = 13;
    pub const BFLOAT16: i32 = 16;

    /// Integer and boolean types, whose values are held as `i64`.
    pub fn is_integer(code: i32) -> bool {
        matches!(
            code,
            UINT8 | INT8 | UINT16 | INT16 | INT32 | INT64 | BOOL | UINT32 | UINT64
        )
    }

    /// Floating-point types, whose values are held as `f64`.
    pub fn is_float(code: i32) -> bool {
        matches!(code, FLOAT | FLOAT16 | DOUBLE | BFLOAT16)
    }
}

/// Element values, flattened in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Data {
    Int(Vec<i64>),
    Float(Vec<f64>),
}

impl Data {
    pub fn len(&self) -> usize {
        match self {
            Data::Int(values) => values.len(),
            Data::Float(values) => values.len(),
        }
    }

    pub fn get_f64(&self, index: usize) -> f64 {
        match self {
            Data::Int(values) => values[index] as f64,
            Data::Float(values) => values[index],
        }
    }

    /// The elements picked by `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Data {
        match self {
            Data::Int(values) => Data::Int(indices.iter().map(|&i| values[i]).collect()),
            Data::Float(values) => Data::Float(indices.iter().map(|&i| values[i]).collect()),
        }
    }

    /// The values converted to the representation of ONNX type `code`, as ONNX `Cast` does:
    /// floats to integers truncate toward zero, anything to bool is "not zero".
    pub fn cast(&self, code: i32) -> Data {
        if code == dtype::BOOL {
            return Data::Int(
                (0..self.len())
                    .map(|i| i64::from(self.get_f64(i) != 0.0))
                    .collect(),
            );
        }
        match self {
            Data::Int(values) if dtype::is_float(code) => {
                Data::Float(values.iter().map(|&v| round_to(v as f64, code)).collect())
            }
            Data::Float(values) if dtype::is_float(code) => {
                Data::Float(values.iter().map(|&v| round_to(v, code)).collect())
            }
            Data::Float(values) => Data::Int(values.iter().map(|&v| v as i64).collect()),
            Data::Int(values) => Data::Int(values.clone()),
        }
    }
}

/// `value` as type `code` would store it (single precision rounds).
fn round_to(value: f64, code: i32) -> f64 {
    if code == dtype::FLOAT {
        f64::from(value as f32)
    } else {
        value
    }
}

/// A tensor's dimensions, inline up to rank 6: shape inference makes and clones several per
/// ONNX node, so that a heap allocation each would be most of its cost.
pub(super) type Dims = SmallVec<[u64; 6]>;

/// Everything known about one tensor.
#[derive(Debug, Clone)]
pub(super) struct Tensor {
    pub dtype: i32,
    pub dims: Dims,
    /// Known values (static tensors of at most [`VALUE_LIMIT`] elements whose inputs were known).
    pub data: Option<Rc<Data>>,
    /// Independent of the model's input data: initializers, constants, shapes, and whatever
    /// is computed from those alone.
    pub is_static: bool,
}

impl Tensor {
    pub fn new(dtype: i32, dims: Dims) -> Tensor {
        Tensor {
            dtype,
            dims,
            data: None,
            is_static: false,
        }
    }

    pub fn with_data(mut self, data: Data) -> Tensor {
        self.data = Some(Rc::new(data));
        self
    }

    /// Number of elements, or `None` on overflow.
    pub fn elements(&self) -> Option<u64> {
        element_count(&self.dims)
    }

    /// The values as integers, if known and integer-typed.
    pub fn ints(&self) -> Option<&[i64]> {
        match self.data.as_deref() {
            Some(Data::Int(values)) => Some(values),
            _ => None,
        }
    }

    /// The single value shared by every element, if the values are known and all equal.
    pub fn uniform_value(&self) -> Option<f64> {
        let data = self.data.as_deref()?;
        let first = (data.len() > 0).then(|| data.get_f64(0))?;
        (1..data.len())
            .all(|i| data.get_f64(i) == first)
            .then_some(first)
    }
}

/// Product of `dims`, or `None` on overflow.
pub(super) fn element_count(dims: &[u64]) -> Option<u64> {
    dims.iter()
        .try_fold(1u64, |product, &dim| product.checked_mul(dim))
}

/// The tensor described by an initializer or a `Constant` attribute: type and dims always,
/// values when they are stored inline and small. External data is never opened.
pub(super) fn tensor_from_proto(proto: &TensorProto) -> Result<Tensor, String> {
    let code = proto.data_type.unwrap_or(0);
    let mut dims = Dims::with_capacity(proto.dims.len());
    for (axis, &dim) in proto.dims.iter().enumerate() {
        let dim = u64::try_from(dim)
            .map_err(|_| format!("dimension {axis} is {dim}; dimensions must be at least 0"))?;
        dims.push(dim);
    }
    let count = element_count(&dims).ok_or_else(|| format!("its dimensions {dims:?} overflow"))?;
    let mut tensor = Tensor::new(code, dims);
    tensor.is_static = true;
    let external = proto.data_location == Some(1) || !proto.external_data.is_empty();
    if !external
        && count <= VALUE_LIMIT
        && let Some(data) = inline_values(proto, code, count as usize)?
    {
        tensor.data = Some(Rc::new(data));
    }
    Ok(tensor)
}

/// Decodes the inline values of `proto`; `None` when none are stored or the type is one
/// that shape arithmetic never needs (strings, complex numbers, 4- and 8-bit floats).
fn inline_values(proto: &TensorProto, code: i32, count: usize) -> Result<Option<Data>, String> {
    if let Some(raw) = proto.raw_data.as_deref() {
        return raw_values(raw, code, count);
    }
    let data = match code {
        dtype::FLOAT => Data::Float(proto.float_data.iter().map(|&v| f64::from(v)).collect()),
        dtype::DOUBLE => Data::Float(proto.double_data.clone()),
        dtype::INT64 => Data::Int(proto.int64_data.clone()),
        dtype::UINT32 | dtype::UINT64 => Data::Int(
            proto
                .uint64_data
                .iter()
                .map(|&v| i64::try_from(v).unwrap_or(i64::MAX))
                .collect(),
        ),
        dtype::FLOAT16 => Data::Float(
            proto
                .int32_data
                .iter()
                .map(|&bits| f64::from(f16_to_f32(bits as u16)))
                .collect(),
        ),
        dtype::BFLOAT16 => Data::Float(
            proto
                .int32_data
                .iter()
                .map(|&bits| f64::from(f32::from_bits((bits as u32) << 16)))
                .collect(),
        ),
        code if dtype::is_integer(code) => {
            Data::Int(proto.int32_data.iter().map(|&v| i64::from(v)).collect())
        }
        _ => return Ok(None),
    };
    match data.len() {
        0 if count > 0 => Ok(None),
        len if len == count => Ok(Some(data)),
        len => Err(format!(
            "it stores {len} values but its dimensions hold {count}"
        )),
    }
}

/// Decodes little-endian `raw_data`.
fn raw_values(raw: &[u8], code: i32, count: usize) -> Result<Option<Data>, String> {
    let width = match code {
        dtype::UINT8 | dtype::INT8 | dtype::BOOL => 1,
        dtype::UINT16 | dtype::INT16 | dtype::FLOAT16 | dtype::BFLOAT16 => 2,
        dtype::INT32 | dtype::UINT32 | dtype::FLOAT => 4,
        dtype::INT64 | dtype::UINT64 | dtype::DOUBLE => 8,
        _ => return Ok(None),
    };
    if raw.len() != count * width {
        return Err(format!(
            "raw_data has {} bytes but {count} elements of {width} bytes need {}",
            raw.len(),
            count * width
        ));
    }
    let chunks = raw.chunks_exact(width);
    let data = match code {
        dtype::UINT8 | dtype::BOOL => Data::Int(raw.iter().map(|&b| i64::from(b)).collect()),
        dtype::INT8 => Data::Int(raw.iter().map(|&b| i64::from(b as i8)).collect()),
        dtype::UINT16 => Data::Int(
            chunks
                .map(|c| i64::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        dtype::INT16 => Data::Int(
            chunks
                .map(|c| i64::from(i16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        dtype::FLOAT16 => Data::Float(
            chunks
                .map(|c| f64::from(f16_to_f32(u16::from_le_bytes([c[0], c[1]]))))
                .collect(),
        ),
        dtype::BFLOAT16 => Data::Float(
            chunks
                .map(|c| {
                    f64::from(f32::from_bits(
                        u32::from(u16::from_le_bytes([c[0], c[1]])) << 16,
                    ))
                })
                .collect(),
        ),
        dtype::INT32 => Data::Int(
            chunks
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        dtype::UINT32 => Data::Int(
            chunks
                .map(|c| i64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        dtype::FLOAT => Data::Float(
            chunks
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        dtype::INT64 => Data::Int(chunks.map(|c| i64::from_le_bytes(eight(c))).collect()),
        dtype::UINT64 => Data::Int(
            chunks
                .map(|c| i64::try_from(u64::from_le_bytes(eight(c))).unwrap_or(i64::MAX))
                .collect(),
        ),
        _ => Data::Float(chunks.map(|c| f64::from_le_bytes(eight(c))).collect()),
    };
    Ok(Some(data))
}

fn eight(chunk: &[u8]) -> [u8; 8] {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    bytes
}

/// IEEE half precision to single precision (exact: every half value is a float).
fn f16_to_f32(bits: u16) -> f32 {
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f32::from(bits & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa * 2f32.powi(-24),
        0x1f if mantissa == 0.0 => f32::INFINITY,
        0x1f => f32::NAN,
        _ => (1.0 + mantissa / 1024.0) * 2f32.powi(exponent - 15),
    };
    if bits & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Row-major strides of `dims`.
pub(super) fn strides(dims: &[u64]) -> Vec<usize> {
    let mut strides = vec![1usize; dims.len()];
    for axis in (0..dims.len().saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * dims[axis + 1] as usize;
    }
    strides
}

/// For every element of a tensor of shape `out`, the index of the element of a tensor of
/// shape `input` that numpy-style broadcasting reads (`input` right-aligned, size-1 axes
/// repeated). The caller guarantees the shapes broadcast and `out` is small.
pub(super) fn broadcast_indices(input: &[u64], out: &[u64]) -> Vec<usize> {
    let offset = out.len() - input.len();
    let input_strides = strides(input);
    let count = element_count(out).unwrap_or(0) as usize;
    let mut indices = Vec::with_capacity(count);
    let mut position = vec![0u64; out.len()];
    for _ in 0..count {
        let mut index = 0;
        for (axis, &dim) in input.iter().enumerate() {
            if dim != 1 {
                index += position[axis + offset] as usize * input_strides[axis];
            }
        }
        indices.push(index);
        for axis in (0..out.len()).rev() {
            position[axis] += 1;
            if position[axis] < out[axis] {
                break;
            }
            position[axis] = 0;
        }
    }
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_decodes() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3800), 0.5);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn broadcasting_repeats_unit_axes() {
        // [2, 1] against [2, 3]: each row repeats its one element.
        assert_eq!(broadcast_indices(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        // [3] against [2, 3]: the row repeats.
        assert_eq!(broadcast_indices(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn raw_data_of_the_wrong_length_is_refused() {
        let proto = TensorProto {
            dims: vec![3],
            data_type: Some(dtype::INT64),
            raw_data: Some(vec![0; 16].into()),
            ..TensorProto::default()
        };
        let error = tensor_from_proto(&proto).unwrap_err();
        assert!(error.contains("raw_data has 16 bytes"), "{error}");
    }

    #[test]
    fn casts_truncate_toward_zero() {
        let data = Data::Float(vec![2.7, -2.7, 0.0]);
        assert_eq!(data.cast(dtype::INT64), Data::Int(vec![2, -2, 0]));
        assert_eq!(data.cast(dtype::BOOL), Data::Int(vec![1, 1, 0]));
    }
}
