//! A walk over the protobuf wire format that counts, without decoding, what decoding a
//! model would allocate: the model graph's nodes and every element of every repeated field
//! that the importer decodes (attributes, initializers, dims, inputs, outputs, value infos,
//! tensor values), at the size each takes decoded. Limits are checked on these counts before
//! decoding allocates anything, so that a file of empty elements (two bytes each on the wire,
//! a hundred or more decoded) cannot decode into a hundred times its size.

use std::mem::size_of;

use prost::bytes::Bytes;

use super::read::{
    AttributeProto, OperatorSetIdProto, TensorProto, ValueInfoProto, tensor_shape_proto,
};

/// `ModelProto.graph`.
const MODEL_GRAPH_FIELD: u64 = 7;
/// `ModelProto.opset_import`.
const MODEL_OPSET_FIELD: u64 = 8;
/// `GraphProto.node`.
const GRAPH_NODE_FIELD: u64 = 1;
/// `GraphProto.initializer`.
const GRAPH_INITIALIZER_FIELD: u64 = 5;
/// `GraphProto.input`, `output` and `value_info`.
const GRAPH_VALUE_INFO_FIELDS: [u64; 3] = [11, 12, 13];
/// `NodeProto.input` and `output`.
const NODE_LINK_FIELDS: [u64; 2] = [1, 2];
/// `NodeProto.attribute`.
const NODE_ATTRIBUTE_FIELD: u64 = 5;

/// What the index keeps per node input or output of the whole graph (the tensor's number,
/// the input's name until every output is numbered, a share of the name tables).
const INDEX_BYTES_PER_LINK: u64 = 24;

/// What decoding a model would allocate, counted on the wire.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Census {
    /// `NodeProto`s in the model's graph.
    pub nodes: usize,
    /// Bytes the decoded model and its index hold for the whole import.
    pub held: u64,
    /// The most bytes that decoding one node's links and attributes takes (nodes are
    /// decoded one at a time into reused messages), and that node's position.
    pub largest_node: (u64, usize),
}

impl Census {
    /// The most bytes decoding holds at once.
    pub fn peak(&self) -> u64 {
        self.held.saturating_add(self.largest_node.0)
    }
}

/// Counts what decoding `model` would allocate, counting every occurrence of a message field
/// (protobuf merges them). Stops at the first malformed field of each message: what
/// follows is for the decoder to refuse, and what came before is already counted.
pub(super) fn census(model: &[u8]) -> Census {
    let mut census = Census::default();
    for (field, value) in Fields(model) {
        match (field, value) {
            (MODEL_GRAPH_FIELD, Value::Bytes(graph)) => census.add_graph(graph),
            (MODEL_OPSET_FIELD, _) => census.held += size_of::<OperatorSetIdProto>() as u64,
            _ => {}
        }
    }
    census
}

impl Census {
    fn add_graph(&mut self, graph: &[u8]) {
        for (field, value) in Fields(graph) {
            let Value::Bytes(bytes) = value else {
                continue;
            };
            match field {
                GRAPH_NODE_FIELD => {
                    let (links, transient) = node_cost(bytes);
                    self.held += size_of::<Bytes>() as u64 + links * INDEX_BYTES_PER_LINK;
                    if transient > self.largest_node.0 {
                        self.largest_node = (transient, self.nodes);
                    }
                    self.nodes += 1;
                }
                GRAPH_INITIALIZER_FIELD => {
                    self.held += size_of::<TensorProto>() as u64 + tensor_cost(bytes);
                }
                field if GRAPH_VALUE_INFO_FIELDS.contains(&field) => {
                    self.held += size_of::<ValueInfoProto>() as u64 + value_info_cost(bytes);
                }
                _ => {}
            }
        }
    }
}

/// A node's inputs and outputs, and the bytes its decoding takes: its links and its
/// attributes, each as a slice and decoded.
fn node_cost(node: &[u8]) -> (u64, u64) {
    let (mut links, mut bytes) = (0u64, 0u64);
    for (field, value) in Fields(node) {
        if NODE_LINK_FIELDS.contains(&field) {
            links += 1;
            bytes += size_of::<Bytes>() as u64;
        } else if let (NODE_ATTRIBUTE_FIELD, Value::Bytes(attribute)) = (field, value) {
            bytes += (size_of::<Bytes>() + size_of::<AttributeProto>()) as u64
                + attribute_cost(attribute);
        }
    }
    (links, bytes)
}

/// The bytes an attribute's lists and tensor take decoded.
fn attribute_cost(attribute: &[u8]) -> u64 {
    Fields(attribute)
        .map(|(field, value)| match field {
            5 => match value {
                Value::Bytes(tensor) => size_of::<TensorProto>() as u64 + tensor_cost(tensor),
                _ => 0,
            },
            7 => elements(&value, Packed::Fixed32) * 4,
            8 => elements(&value, Packed::Varint) * 8,
            9 => size_of::<Bytes>() as u64,
            _ => 0,
        })
        .sum()
}

/// The bytes a tensor's dims and values take decoded (inline `raw_data` is a slice).
fn tensor_cost(tensor: &[u8]) -> u64 {
    Fields(tensor)
        .map(|(field, value)| match field {
            1 | 7 | 11 => elements(&value, Packed::Varint) * 8,
            4 => elements(&value, Packed::Fixed32) * 4,
            5 => elements(&value, Packed::Varint) * 4,
            10 => elements(&value, Packed::Fixed64) * 8,
            _ => 0,
        })
        .sum()
}

/// The bytes a value info's dimensions take decoded (`type.tensor_type.shape.dim`).
fn value_info_cost(info: &[u8]) -> u64 {
    let dimension = size_of::<tensor_shape_proto::Dimension>() as u64;
    let mut cost = 0;
    for message in submessages(info, 2) {
        for tensor in submessages(message, 1) {
            for shape in submessages(tensor, 2) {
                cost += dimension * submessages(shape, 1).count() as u64;
            }
        }
    }
    cost
}

/// Every occurrence of message field `number` in `message`.
fn submessages(message: &[u8], number: u64) -> impl Iterator<Item = &[u8]> {
    Fields(message).filter_map(move |(field, value)| match (field, value) {
        (field, Value::Bytes(bytes)) if field == number => Some(bytes),
        _ => None,
    })
}

/// How a packed repeated scalar is encoded.
#[derive(Clone, Copy)]
enum Packed {
    Varint,
    Fixed32,
    Fixed64,
}

/// How many elements one occurrence of a repeated scalar field holds: one when unpacked,
/// what its bytes encode when packed.
fn elements(value: &Value, packed: Packed) -> u64 {
    match (value, packed) {
        (Value::Bytes(bytes), Packed::Varint) => {
            bytes.iter().filter(|&&byte| byte & 0x80 == 0).count() as u64
        }
        (Value::Bytes(bytes), Packed::Fixed32) => bytes.len() as u64 / 4,
        (Value::Bytes(bytes), Packed::Fixed64) => bytes.len() as u64 / 8,
        (Value::Scalar, _) => 1,
    }
}

/// A field's payload: length-delimited bytes, or a scalar not looked at.
enum Value<'a> {
    Bytes(&'a [u8]),
    Scalar,
}

/// The top-level fields of one message, as (field number, value).
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = (u64, Value<'a>);

    fn next(&mut self) -> Option<(u64, Value<'a>)> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => self.varint().map(|_| Value::Scalar),
            1 => self.skip(8).map(|_| Value::Scalar),
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                self.skip(len).map(Value::Bytes)
            }
            5 => self.skip(4).map(|_| Value::Scalar),
            // Groups (3, 4) are not in ONNX's schema; 6 and 7 do not exist.
            _ => None,
        };
        match value {
            Some(value) => Some((key >> 3, value)),
            None => {
                self.0 = &[];
                None
            }
        }
    }
}

impl<'a> Fields<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for (index, &byte) in self.0.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                self.0 = &self.0[index + 1..];
                return Some(value);
            }
        }
        None
    }

    fn skip(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::super::proto::{GraphProto, ModelProto, NodeProto};
    use super::super::read;
    use super::*;

    fn model_of(nodes: usize) -> Vec<u8> {
        ModelProto {
            ir_version: Some(8),
            graph: Some(GraphProto {
                node: vec![NodeProto::default(); nodes],
                name: Some("g".into()),
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn counts_the_nodes_prost_would_decode() {
        for nodes in [0, 1, 7, 300] {
            let bytes = model_of(nodes);
            assert_eq!(census(&bytes).nodes, nodes);
            assert_eq!(
                ModelProto::decode(bytes.as_slice())
                    .unwrap()
                    .graph
                    .unwrap()
                    .node
                    .len(),
                nodes
            );
        }
        // Two graph fields merge into one graph of both node lists.
        let twice = [model_of(2), model_of(3)].concat();
        assert_eq!(census(&twice).nodes, 5);
    }

    #[test]
    fn lists_count_at_their_decoded_size() {
        use super::super::proto::{AttributeProto, TensorProto};
        let node = NodeProto {
            input: vec!["x".into()],
            output: vec!["y".into()],
            attribute: vec![AttributeProto::default(); 1000],
            ..NodeProto::default()
        };
        let weights = TensorProto {
            dims: vec![3, 4],
            int64_data: vec![0; 100],
            ..TensorProto::default()
        };
        let model = ModelProto {
            graph: Some(GraphProto {
                node: vec![node],
                initializer: vec![weights],
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }
        .encode_to_vec();
        let slice = size_of::<Bytes>() as u64;
        let per_attribute = slice + size_of::<read::AttributeProto>() as u64;
        let census = census(&model);
        assert_eq!(census.nodes, 1);
        assert_eq!(census.largest_node, (2 * slice + 1000 * per_attribute, 0));
        // The node's slice and two links; the initializer, its 2 dims and 100 values.
        let initializer = size_of::<read::TensorProto>() as u64 + 102 * 8;
        assert_eq!(census.held, slice + 2 * INDEX_BYTES_PER_LINK + initializer);
    }

    #[test]
    fn malformed_input_stops_the_walk() {
        let mut bytes = model_of(4);
        bytes.truncate(bytes.len() - 1);
        assert!(census(&bytes).nodes <= 4);
        // A length claiming 2 GiB of graph over a few bytes: nothing counted, nothing read.
        assert_eq!(
            census(&[0x3a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2]),
            Census::default()
        );
        assert_eq!(census(&[0xff; 16]), Census::default());
        assert_eq!(census(&[]), Census::default());
    }
}
