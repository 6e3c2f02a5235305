//! A walk over the protobuf wire format that counts the model graph's nodes without decoding
//! them, so that limits are checked before decoding allocates anything.

/// `ModelProto.graph`.
const MODEL_GRAPH_FIELD: u64 = 7;
/// `GraphProto.node`.
const GRAPH_NODE_FIELD: u64 = 1;

/// How many `NodeProto`s the model's graph holds, counting every occurrence of the graph
/// field (protobuf merges them). Stops at the first malformed field: what follows is for the
/// decoder to refuse, and what came before is already counted.
pub(super) fn count_graph_nodes(model: &[u8]) -> usize {
    let mut nodes = 0;
    for (field, value) in Fields(model) {
        if let (MODEL_GRAPH_FIELD, Value::Bytes(graph)) = (field, value) {
            nodes += Fields(graph)
                .filter(|(field, value)| {
                    *field == GRAPH_NODE_FIELD && matches!(value, Value::Bytes(_))
                })
                .count();
        }
    }
    nodes
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
            assert_eq!(count_graph_nodes(&bytes), nodes);
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
        assert_eq!(count_graph_nodes(&twice), 5);
    }

    #[test]
    fn malformed_input_stops_the_walk() {
        let mut bytes = model_of(4);
        bytes.truncate(bytes.len() - 1);
        assert!(count_graph_nodes(&bytes) <= 4);
        // A length claiming 2 GiB of graph over a few bytes: nothing counted, nothing read.
        assert_eq!(
            count_graph_nodes(&[0x3a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2]),
            0
        );
        assert_eq!(count_graph_nodes(&[0xff; 16]), 0);
        assert_eq!(count_graph_nodes(&[]), 0);
    }
}
