//! The parts of an ONNX model that import reads: the graph's nodes in dependency order, its
//! declared inputs, outputs and value_info types, and node attributes.

use std::collections::{HashMap, HashSet};

use prost::Message;

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, type_proto,
};
use crate::error::{Error, Result};

/// A decoded model whose nodes are known to form a DAG over defined tensors.
pub(super) struct Model {
    pub graph: GraphProto,
    /// Version of the default (`ai.onnx`) operator set.
    pub opset: i64,
    /// Indices into `graph.node`, ordered so that every tensor is produced before it is read.
    pub order: Vec<usize>,
}

/// The ONNX spelling of the default operator domain.
fn is_default_domain(domain: &str) -> bool {
    domain.is_empty() || domain == "ai.onnx"
}

impl Model {
    /// Decodes `bytes` as an ONNX `ModelProto` and checks that its graph is a DAG whose every
    /// read tensor is defined.
    pub fn decode(bytes: &[u8]) -> Result<Model> {
        if bytes.is_empty() {
            return Err(Error::parse("ONNX model: the input is empty (0 bytes)"));
        }
        let proto = ModelProto::decode(bytes).map_err(|error| {
            Error::parse(format!(
                "ONNX model: not a valid ONNX protobuf ({} bytes): {error}",
                bytes.len()
            ))
        })?;
        let graph = proto.graph.ok_or_else(|| {
            Error::parse("ONNX model: it has no graph (ModelProto.graph is missing)")
        })?;
        let opset = proto
            .opset_import
            .iter()
            .filter(|entry| is_default_domain(entry.domain.as_deref().unwrap_or("")))
            .filter_map(|entry| entry.version)
            .max();
        let opset = match opset {
            Some(version) => version,
            None if graph
                .node
                .iter()
                .any(|node| is_default_domain(node.domain.as_deref().unwrap_or(""))) =>
            {
                return Err(Error::parse(
                    "ONNX model: it uses default-domain operators but declares no opset version \
                     for them (opset_import has no entry for domain \"\")",
                ));
            }
            None => 0,
        };
        let order = dependency_order(&graph)?;
        Ok(Model {
            graph,
            opset,
            order,
        })
    }
}

/// A node's name for messages: its own name, or its first output's, or its position.
pub(super) fn node_label(node: &NodeProto, index: usize) -> String {
    let op = node.op_type.as_deref().unwrap_or("?");
    match node.name.as_deref().filter(|name| !name.is_empty()) {
        Some(name) => format!("node '{name}' ({op})"),
        None => match node.output.first().filter(|name| !name.is_empty()) {
            Some(output) => format!("node #{index} ({op}, output '{output}')"),
            None => format!("node #{index} ({op})"),
        },
    }
}

/// Kahn's algorithm over tensor dependencies: ONNX requires topologically sorted nodes, but
/// sorting here accepts unsorted files and finds cycles and dangling reads with their names.
fn dependency_order(graph: &GraphProto) -> Result<Vec<usize>> {
    let mut defined: HashSet<&str> = HashSet::new();
    for name in graph
        .input
        .iter()
        .filter_map(|input| input.name.as_deref())
        .chain(graph.initializer.iter().filter_map(|t| t.name.as_deref()))
    {
        defined.insert(name);
    }
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (index, node) in graph.node.iter().enumerate() {
        if node.op_type.as_deref().unwrap_or("").is_empty() {
            return Err(Error::parse(format!(
                "ONNX model: {} has no op_type",
                node_label(node, index)
            )));
        }
        for output in node.output.iter().filter(|name| !name.is_empty()) {
            if defined.contains(output.as_str()) {
                return Err(Error::parse(format!(
                    "ONNX model: {} writes tensor '{output}', which is already a graph input or initializer",
                    node_label(node, index)
                )));
            }
            if let Some(&other) = producer.get(output.as_str()) {
                return Err(Error::parse(format!(
                    "ONNX model: tensor '{output}' is produced twice, by {} and by {}",
                    node_label(&graph.node[other], other),
                    node_label(node, index)
                )));
            }
            producer.insert(output, index);
        }
    }
    let mut pending = vec![0usize; graph.node.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); graph.node.len()];
    for (index, node) in graph.node.iter().enumerate() {
        let mut seen: HashSet<usize> = HashSet::new();
        for input in node.input.iter().filter(|name| !name.is_empty()) {
            if defined.contains(input.as_str()) {
                continue;
            }
            match producer.get(input.as_str()) {
                Some(&source) => {
                    if seen.insert(source) {
                        pending[index] += 1;
                        readers[source].push(index);
                    }
                }
                None => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} reads tensor '{input}', which no node, graph input or \
                         initializer provides",
                        node_label(node, index)
                    )));
                }
            }
        }
    }
    let mut ready: Vec<usize> = (0..graph.node.len())
        .rev()
        .filter(|&index| pending[index] == 0)
        .collect();
    let mut order = Vec::with_capacity(graph.node.len());
    while let Some(index) = ready.pop() {
        order.push(index);
        for &reader in readers[index].iter().rev() {
            pending[reader] -= 1;
            if pending[reader] == 0 {
                ready.push(reader);
            }
        }
    }
    if order.len() < graph.node.len() {
        let stuck: Vec<String> = (0..graph.node.len())
            .filter(|&index| pending[index] > 0)
            .take(4)
            .map(|index| node_label(&graph.node[index], index))
            .collect();
        return Err(Error::parse(format!(
            "ONNX model: the graph has a cycle; {} nodes wait on each other, among them {}",
            graph.node.len() - order.len(),
            stuck.join(", ")
        )));
    }
    Ok(order)
}

/// The element type and dimensions declared for a tensor by a `ValueInfoProto`; a dimension
/// is `None` where it is symbolic (`dim_param`) or absent. `None` overall when the info
/// declares no tensor shape.
pub(super) fn declared_shape(info: &ValueInfoProto) -> Option<(i32, Vec<Option<i64>>)> {
    let Some(type_proto::Value::TensorType(tensor)) = info.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let shape = tensor.shape.as_ref()?;
    let dims = shape
        .dim
        .iter()
        .map(|dim| match dim.value {
            Some(super::proto::tensor_shape_proto::dimension::Value::DimValue(value))
                if value >= 0 =>
            {
                Some(value)
            }
            _ => None,
        })
        .collect();
    Some((tensor.elem_type.unwrap_or(0), dims))
}

/// Read access to a node's attributes by name.
#[derive(Clone, Copy)]
pub(super) struct Attributes<'a>(pub &'a [AttributeProto]);

impl<'a> Attributes<'a> {
    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.0
            .iter()
            .find(|attribute| attribute.name.as_deref() == Some(name))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|attribute| attribute.i)
    }

    pub fn int_or(&self, name: &str, default: i64) -> i64 {
        self.int(name).unwrap_or(default)
    }

    pub fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.get(name).map(|attribute| attribute.ints.as_slice())
    }

    pub fn float(&self, name: &str) -> Option<f32> {
        self.get(name).and_then(|attribute| attribute.f)
    }

    pub fn floats(&self, name: &str) -> Option<&'a [f32]> {
        self.get(name).map(|attribute| attribute.floats.as_slice())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .and_then(|attribute| attribute.s.as_deref())
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    }

    pub fn tensor(&self, name: &str) -> Option<&'a TensorProto> {
        self.get(name).and_then(|attribute| attribute.t.as_ref())
    }
}
