//! The versioned JSON format of a computation graph.
//!
//! ```json
//! {
//!   "format": "cgpredict-graph",
//!   "version": 1,
//!   "nodes": [
//!     {"id": 0, "op": "input", "input": [32, 32, 3], "output": [32, 32, 3]},
//!     {"id": 1, "op": "conv", "name": "stem", "input": [32, 32, 3], "output": [32, 32, 16],
//!      "kernel": [3, 3], "stride": [1, 1], "dilation": [1, 1], "groups": 1,
//!      "bias": false, "weight_shape": [16, 3, 3, 3]}
//!   ],
//!   "edges": [[0, 1]]
//! }
//! ```
//!
//! - `id` must equal the node's position (0, 1, 2, ...); edges refer to these ids.
//! - `op` is a vocabulary name (`conv`, `batch_norm`, ...) or `unknown:ORIGINAL`.
//! - `input`/`output` are `[h, w, c]`; `kernel`, `stride`, `dilation` are `[h, w]`.
//! - Optional on reading (with their defaults): `name` (""), `kernel`, `stride`,
//!   `dilation` ([1, 1]), `groups` (1), `bias` (false), `weight_shape` (implied by the op).
//!   Writing emits every field except an empty `name`, so a round trip is exact.
//! - Unknown fields are refused, so that a typo is an error rather than a silent default.
//! - The graph is validated exactly as when built through the API.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{Graph, Limits, MAX_WEIGHT_RANK, Node, Op, Shape};
use crate::error::{Error, ErrorKind, Result, excerpt};

/// The version written into, and required of, every graph JSON document.
pub const JSON_FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "cgpredict-graph";

/// Read through [`DocumentSeed`], which bounds its lists.
#[derive(Serialize)]
struct GraphDocument {
    format: String,
    version: u32,
    nodes: Vec<NodeRecord>,
    edges: Vec<[u32; 2]>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeRecord {
    id: u32,
    op: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    input: [u32; 3],
    output: [u32; 3],
    #[serde(default = "unit_pair")]
    kernel: [u32; 2],
    #[serde(default = "unit_pair")]
    stride: [u32; 2],
    #[serde(default = "unit_pair")]
    dilation: [u32; 2],
    #[serde(default = "unit")]
    groups: u32,
    #[serde(default)]
    bias: bool,
    #[serde(default, deserialize_with = "weight_shape")]
    weight_shape: Vec<u64>,
}

/// The fields of a graph document.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Format,
    Version,
    Nodes,
    Edges,
}

/// A list read element by element that stops at its `max + 1`th, so that a document's
/// lists are bounded as they are read rather than after the whole document is in memory.
/// Beyond `max`, `exceeded` gives the error (kept for the caller, since the JSON reader
/// wraps its errors in its own).
struct Bounded<'a, T> {
    max: usize,
    exceeded: &'a dyn Fn(usize) -> Error,
    error: &'a RefCell<Option<Error>>,
    items: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Bounded<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Bounded<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // The size hint is the caller's claim, so it only caps the first allocation.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max).min(4096));
        while let Some(item) = seq.next_element()? {
            if items.len() == self.max {
                let error = (self.exceeded)(self.max);
                let message = error.message.clone();
                *self.error.borrow_mut() = Some(error);
                return Err(de::Error::custom(message));
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// `weight_shape`, read up to [`MAX_WEIGHT_RANK`] dimensions.
fn weight_shape<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u64>, D::Error> {
    let error = RefCell::new(None);
    Bounded {
        max: MAX_WEIGHT_RANK,
        exceeded: &|max| Error::parse(format!("weight_shape has more than {max} dimensions")),
        error: &error,
        items: PhantomData,
    }
    .deserialize(deserializer)
}

/// A graph document read within `limits`: the node and edge lists are counted as they are
/// read, and reading stops at the first element beyond a limit.
struct DocumentSeed<'a> {
    limits: &'a Limits,
    exceeded: &'a RefCell<Option<Error>>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = GraphDocument;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<GraphDocument, D::Error> {
        deserializer.deserialize_struct(
            "GraphDocument",
            &["format", "version", "nodes", "edges"],
            self,
        )
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = GraphDocument;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a cgpredict graph document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GraphDocument, A::Error> {
        fn once<T, E: de::Error>(
            slot: &mut Option<T>,
            name: &'static str,
            value: T,
        ) -> Result<(), E> {
            match slot.replace(value) {
                None => Ok(()),
                Some(_) => Err(E::duplicate_field(name)),
            }
        }
        let over = |limit: &'static str, unit: &'static str| {
            move |max: usize| {
                Error::unsupported(format!(
                    "graph JSON has at least {} {unit}, more than the limit {limit} = {max}",
                    max + 1
                ))
            }
        };
        let (over_nodes, over_edges) = (over("max_nodes", "nodes"), over("max_edges", "edges"));
        let (mut format, mut version, mut nodes, mut edges) = (None, None, None, None);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Format => once(&mut format, "format", map.next_value()?)?,
                Field::Version => once(&mut version, "version", map.next_value()?)?,
                Field::Nodes => {
                    let list = map.next_value_seed(Bounded {
                        max: self.limits.max_nodes,
                        exceeded: &over_nodes,
                        error: self.exceeded,
                        items: PhantomData,
                    })?;
                    once(&mut nodes, "nodes", list)?;
                }
                Field::Edges => {
                    let list = map.next_value_seed(Bounded {
                        max: self.limits.max_edges,
                        exceeded: &over_edges,
                        error: self.exceeded,
                        items: PhantomData,
                    })?;
                    once(&mut edges, "edges", list)?;
                }
            }
        }
        Ok(GraphDocument {
            format: format.ok_or_else(|| de::Error::missing_field("format"))?,
            version: version.ok_or_else(|| de::Error::missing_field("version"))?,
            nodes: nodes.ok_or_else(|| de::Error::missing_field("nodes"))?,
            edges: edges.ok_or_else(|| de::Error::missing_field("edges"))?,
        })
    }
}

fn unit() -> u32 {
    1
}

fn unit_pair() -> [u32; 2] {
    [1, 1]
}

fn shape_from([h, w, c]: [u32; 3]) -> Shape {
    Shape { h, w, c }
}

impl Graph {
    /// The graph as a JSON document (pretty-printed, one field per line).
    pub fn to_json(&self) -> String {
        let document = GraphDocument {
            format: FORMAT_NAME.to_owned(),
            version: JSON_FORMAT_VERSION,
            nodes: self
                .nodes()
                .map(|(id, node)| NodeRecord {
                    id,
                    op: node.op.to_string(),
                    name: node.name.clone(),
                    input: [node.input.h, node.input.w, node.input.c],
                    output: [node.output.h, node.output.w, node.output.c],
                    kernel: node.kernel,
                    stride: node.stride,
                    dilation: node.dilation,
                    groups: node.groups,
                    bias: node.has_bias,
                    weight_shape: node.weight_shape.clone(),
                })
                .collect(),
            edges: self.edges().map(|(from, to)| [from, to]).collect(),
        };
        serde_json::to_string_pretty(&document).expect("a graph document always serializes")
    }

    /// Reads a graph from its JSON document, validating it as the builder would.
    /// Every failure is a [`ErrorKind::Parse`] error naming the node or edge, except a graph
    /// beyond [`Limits::DEFAULT`] ([`Graph::from_json_with_limits`]).
    pub fn from_json(text: &str) -> Result<Graph> {
        Graph::from_json_with_limits(text, &Limits::DEFAULT)
    }

    /// [`Graph::from_json`], refusing a document of more nodes or edges than `limits` allow
    /// (an [`ErrorKind::Unsupported`] error) as soon as its lists are read that far. Time and
    /// memory are linear in the document's size.
    pub fn from_json_with_limits(text: &str, limits: &Limits) -> Result<Graph> {
        let exceeded = RefCell::new(None);
        let seed = DocumentSeed {
            limits,
            exceeded: &exceeded,
        };
        let mut reader = serde_json::Deserializer::from_str(text);
        let document = seed
            .deserialize(&mut reader)
            .and_then(|document| reader.end().map(|()| document))
            .map_err(|error| {
                exceeded
                    .take()
                    .unwrap_or_else(|| Error::parse(format!("graph JSON: {error}")))
            })?;
        if document.format != FORMAT_NAME {
            return Err(Error::parse(format!(
                "graph JSON: \"format\" is {:?}, expected {FORMAT_NAME:?}",
                excerpt(&document.format)
            )));
        }
        if document.version != JSON_FORMAT_VERSION {
            return Err(Error::parse(format!(
                "graph JSON: version {} is not supported (this library reads version {JSON_FORMAT_VERSION})",
                document.version
            )));
        }
        let mut nodes = Vec::with_capacity(document.nodes.len());
        for (position, record) in document.nodes.into_iter().enumerate() {
            if record.id as usize != position {
                return Err(Error::parse(format!(
                    "graph JSON: node at position {position} has id {}; ids must be 0, 1, 2, ... in order",
                    record.id
                )));
            }
            let op: Op = record.op.parse().map_err(|_| {
                let op = excerpt(&record.op);
                Error::parse(format!(
                    "graph JSON: node {position}: op {op:?} is not in the vocabulary (write \"unknown:{op}\" for an op outside it)"
                ))
            })?;
            nodes.push(Node {
                op,
                name: record.name,
                input: shape_from(record.input),
                output: shape_from(record.output),
                kernel: record.kernel,
                stride: record.stride,
                dilation: record.dilation,
                groups: record.groups,
                has_bias: record.bias,
                weight_shape: record.weight_shape,
            });
        }
        let edges = document.edges.into_iter().map(|[from, to]| (from, to));
        Graph::from_parts(nodes, edges).map_err(as_parse_error)
    }
}

fn as_parse_error(error: Error) -> Error {
    error.context("graph JSON").with_kind(ErrorKind::Parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::residual_block;

    fn assert_same_graph(a: &Graph, b: &Graph) {
        assert_eq!(a.nodes().collect::<Vec<_>>(), b.nodes().collect::<Vec<_>>());
        assert_eq!(a.edges().collect::<Vec<_>>(), b.edges().collect::<Vec<_>>());
    }

    #[test]
    fn round_trip_is_exact() {
        let mut g = residual_block();
        let lstm = Node::new(
            Op::Unknown("LSTM".into()),
            Shape::vector(8),
            Shape::vector(16),
        )
        .with_name("rnn/lstm")
        .with_weight_shape(vec![1, 64, 8]);
        let id = g.add_node(lstm).unwrap();
        g.add_edge(8, id).unwrap();
        let text = g.to_json();
        let back = Graph::from_json(&text).unwrap();
        assert_same_graph(&g, &back);
        assert_eq!(back.to_json(), text);
    }

    #[test]
    fn documents_beyond_the_limits_are_refused_before_building() {
        let text = residual_block().to_json();
        let nodes = residual_block().node_count();
        let edges = residual_block().edge_count();
        let tight = |max_nodes, max_edges| Limits {
            max_nodes,
            max_edges,
            ..Limits::DEFAULT
        };
        assert!(Graph::from_json_with_limits(&text, &tight(nodes, edges)).is_ok());
        let error = Graph::from_json_with_limits(&text, &tight(nodes - 1, edges)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert_eq!(
            error.message,
            format!(
                "graph JSON has at least {nodes} nodes, more than the limit max_nodes = {}",
                nodes - 1
            )
        );
        let error = Graph::from_json_with_limits(&text, &tight(nodes, edges - 1)).unwrap_err();
        assert!(error.message.contains("max_edges"), "{error}");
    }

    #[test]
    fn optional_fields_take_their_defaults() {
        let text = r#"{"format": "cgpredict-graph", "version": 1,
            "nodes": [{"id": 0, "op": "input", "input": [1, 1, 4], "output": [1, 1, 4]},
                      {"id": 1, "op": "linear", "input": [1, 1, 4], "output": [1, 1, 2], "bias": true}],
            "edges": [[0, 1]]}"#;
        let g = Graph::from_json(text).unwrap();
        assert_eq!(g.param_count(), 10);
        assert_eq!(g.node(1).unwrap().weight_shape, vec![2, 4]);
    }

    #[test]
    fn bad_documents_name_the_problem() {
        let cases = [
            ("{", "graph JSON: EOF"),
            (
                r#"{"format": "x", "version": 1, "nodes": [], "edges": []}"#,
                "\"format\" is \"x\"",
            ),
            (
                r#"{"format": "cgpredict-graph", "version": 9, "nodes": [], "edges": []}"#,
                "version 9",
            ),
            (
                r#"{"format": "cgpredict-graph", "version": 1, "nodes": [], "edges": [], "extra": 1}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"format": "cgpredict-graph", "version": 1, "edges": [],
                   "nodes": [{"id": 1, "op": "relu", "input": [1,1,1], "output": [1,1,1]}]}"#,
                "has id 1",
            ),
            (
                r#"{"format": "cgpredict-graph", "version": 1, "edges": [],
                   "nodes": [{"id": 0, "op": "rleu", "input": [1,1,1], "output": [1,1,1]}]}"#,
                "op \"rleu\" is not in the vocabulary",
            ),
            (
                r#"{"format": "cgpredict-graph", "version": 1, "edges": [[0, 0]],
                   "nodes": [{"id": 0, "op": "relu", "input": [1,1,1], "output": [1,1,1]}]}"#,
                "self-loop on node 0",
            ),
            (
                r#"{"format": "cgpredict-graph", "version": 1, "edges": [],
                   "nodes": [{"id": 0, "op": "conv", "input": [4,4,3], "output": [4,4,4], "groups": 2}]}"#,
                "node 0 (conv): in_c = 3",
            ),
        ];
        for (text, expected) in cases {
            let err = Graph::from_json(text).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Parse);
            assert!(err.message.contains(expected), "{expected:?} not in {err}");
        }
    }
}
