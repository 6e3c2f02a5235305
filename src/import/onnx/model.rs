//! The parts of an ONNX model that import reads: the graph's nodes in dependency order, its
//! declared inputs, outputs and value_info types, and node attributes.

use foldhash::{HashMap, HashMapExt};

use prost::Message;
use prost::bytes::Buf;

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, type_proto,
};
use super::wire;
use crate::error::{Error, Result};
use crate::graph::Limits;

/// A decoded model.
pub(super) struct Model {
    pub graph: GraphProto,
    /// Version of the default (`ai.onnx`) operator set.
    pub opset: i64,
}

/// The graph's tensor names numbered 0, 1, 2, ... (so that later passes use vectors, not
/// maps), every node's inputs and outputs as those numbers (`None` for an absent optional
/// one), and an order of the nodes in which every tensor is produced before it is read.
pub(super) struct Index<'m> {
    pub names: Vec<&'m str>,
    pub inputs: Vec<Vec<Option<u32>>>,
    pub outputs: Vec<Vec<Option<u32>>>,
    pub order: Vec<usize>,
    ids: HashMap<&'m str, u32>,
}

impl Index<'_> {
    /// The number of a tensor name, if the graph has it.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
}

/// The ONNX spelling of the default operator domain.
fn is_default_domain(domain: &str) -> bool {
    domain.is_empty() || domain == "ai.onnx"
}

impl Model {
    /// Decodes `bytes` as an ONNX `ModelProto` and checks that its graph is a DAG whose every
    /// read tensor is defined.
    /// Checks the size and the node count (on the wire) against `limits` first: a decoded
    /// node takes some 200 bytes where an empty one takes 2 on the wire, so a hostile file
    /// of empty nodes would otherwise decode into a hundred times its size.
    /// Given [`Bytes`](prost::bytes::Bytes), inline tensor data is decoded as slices of them; given a byte slice,
    /// it is copied.
    pub fn decode(buffer: impl Buf + AsRef<[u8]>, limits: &Limits) -> Result<Model> {
        let size = buffer.as_ref().len();
        if size == 0 {
            return Err(Error::parse("ONNX model: the input is empty (0 bytes)"));
        }
        limits.check_onnx_bytes("the ONNX model", size as u64)?;
        let nodes = wire::count_graph_nodes(buffer.as_ref());
        limits.check_nodes("the ONNX model's graph", nodes)?;
        let proto = ModelProto::decode(buffer).map_err(|error| {
            Error::parse(format!(
                "ONNX model: not a valid ONNX protobuf ({size} bytes): {error}"
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
        Ok(Model { graph, opset })
    }

    /// Numbers the tensors and orders the nodes; refuses a graph whose nodes read undefined
    /// tensors, write a tensor twice, or form a cycle.
    pub fn index(&self) -> Result<Index<'_>> {
        index_graph(&self.graph)
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

fn intern<'m>(index: &mut Index<'m>, name: &'m str) -> u32 {
    if let Some(&id) = index.ids.get(name) {
        return id;
    }
    let id = index.names.len() as u32;
    index.ids.insert(name, id);
    index.names.push(name);
    id
}

/// Numbers tensor names, then runs Kahn's algorithm over tensor dependencies: ONNX requires
/// topologically sorted nodes, but sorting here accepts unsorted files and finds cycles and
/// dangling reads with their names.
fn index_graph(graph: &GraphProto) -> Result<Index<'_>> {
    let mut index = Index {
        names: Vec::new(),
        inputs: Vec::with_capacity(graph.node.len()),
        outputs: Vec::with_capacity(graph.node.len()),
        order: Vec::with_capacity(graph.node.len()),
        ids: HashMap::with_capacity(
            graph.input.len() + graph.initializer.len() + 2 * graph.node.len(),
        ),
    };
    // Producers: 0 = graph input or initializer, k + 1 = node k.
    let mut producer: Vec<Option<usize>> = Vec::with_capacity(index.ids.capacity());
    for name in graph
        .input
        .iter()
        .filter_map(|input| input.name.as_deref())
        .chain(graph.initializer.iter().filter_map(|t| t.name.as_deref()))
    {
        let id = intern(&mut index, name) as usize;
        producer.resize(index.names.len(), None);
        producer[id] = Some(0);
    }
    for (position, node) in graph.node.iter().enumerate() {
        if node.op_type.as_deref().unwrap_or("").is_empty() {
            return Err(Error::parse(format!(
                "ONNX model: {} has no op_type",
                node_label(node, position)
            )));
        }
        let mut outputs = Vec::with_capacity(node.output.len());
        for output in &node.output {
            if output.is_empty() {
                outputs.push(None);
                continue;
            }
            let id = intern(&mut index, output) as usize;
            producer.resize(index.names.len(), None);
            match producer[id] {
                Some(0) => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} writes tensor '{output}', which is already a graph input or initializer",
                        node_label(node, position)
                    )));
                }
                Some(other) => {
                    return Err(Error::parse(format!(
                        "ONNX model: tensor '{output}' is produced twice, by {} and by {}",
                        node_label(&graph.node[other - 1], other - 1),
                        node_label(node, position)
                    )));
                }
                None => producer[id] = Some(position + 1),
            }
            outputs.push(Some(id as u32));
        }
        index.outputs.push(outputs);
    }
    let mut pending = vec![0usize; graph.node.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); graph.node.len()];
    for (position, node) in graph.node.iter().enumerate() {
        let mut inputs = Vec::with_capacity(node.input.len());
        for input in &node.input {
            if input.is_empty() {
                inputs.push(None);
                continue;
            }
            let id = index.ids.get(input.as_str()).copied();
            match id.and_then(|id| producer[id as usize]) {
                Some(0) => {}
                Some(k) => {
                    let k = k - 1;
                    if readers[k].last() != Some(&position) {
                        pending[position] += 1;
                        readers[k].push(position);
                    }
                }
                None => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} reads tensor '{input}', which no node, graph input or \
                         initializer provides",
                        node_label(node, position)
                    )));
                }
            }
            inputs.push(id);
        }
        index.inputs.push(inputs);
    }
    let mut ready: Vec<usize> = (0..graph.node.len())
        .rev()
        .filter(|&position| pending[position] == 0)
        .collect();
    while let Some(position) = ready.pop() {
        index.order.push(position);
        for &reader in readers[position].iter().rev() {
            pending[reader] -= 1;
            if pending[reader] == 0 {
                ready.push(reader);
            }
        }
    }
    if index.order.len() < graph.node.len() {
        let stuck: Vec<String> = (0..graph.node.len())
            .filter(|&position| pending[position] > 0)
            .take(4)
            .map(|position| node_label(&graph.node[position], position))
            .collect();
        return Err(Error::parse(format!(
            "ONNX model: the graph has a cycle; {} nodes wait on each other, among them {}",
            graph.node.len() - index.order.len(),
            stuck.join(", ")
        )));
    }
    Ok(index)
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
