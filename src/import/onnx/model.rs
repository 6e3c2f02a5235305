//! The parts of an ONNX model that import reads: the graph's nodes in dependency order, its
//! declared inputs, outputs and value_info types, and node attributes.

use foldhash::{HashMap, HashMapExt};

use prost::Message;
use prost::bytes::Buf;

use super::read::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, Text, ValueInfoProto,
    type_proto,
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
    pub order: Vec<usize>,
    /// Every node's input numbers, then every node's output numbers, back to back: node k's
    /// inputs are `slots[inputs_at[k]..inputs_at[k + 1]]`, its outputs the same in
    /// `outputs_at` (one allocation for all nodes rather than two per node).
    slots: Vec<Option<u32>>,
    inputs_at: Vec<usize>,
    outputs_at: Vec<usize>,
    /// By the name's bytes, so that reads need no UTF-8 check: only names of defined tensors
    /// are keys, and those are checked once, when defined.
    ids: HashMap<&'m [u8], u32>,
}

impl Index<'_> {
    /// The number of a tensor name, if the graph has it.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name.as_bytes()).copied()
    }

    /// The tensor numbers of node `position`'s inputs.
    pub fn inputs(&self, position: usize) -> &[Option<u32>] {
        &self.slots[self.inputs_at[position]..self.inputs_at[position + 1]]
    }

    /// The tensor numbers of node `position`'s outputs.
    pub fn outputs(&self, position: usize) -> &[Option<u32>] {
        &self.slots[self.outputs_at[position]..self.outputs_at[position + 1]]
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
            .filter(|entry| is_default_domain(entry.domain.text()))
            .filter_map(|entry| entry.version)
            .max();
        let opset = match opset {
            Some(version) => version,
            None if graph
                .node
                .iter()
                .any(|node| is_default_domain(node.domain.text())) =>
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
/// Names that are not UTF-8 are shown with replacement characters.
pub(super) fn node_label(node: &NodeProto, index: usize) -> String {
    let op = String::from_utf8_lossy(node.op_type.as_deref().unwrap_or(b"?"));
    match node.name.as_deref().filter(|name| !name.is_empty()) {
        Some(name) => format!("node '{}' ({op})", String::from_utf8_lossy(name)),
        None => match node.output.first().filter(|name| !name.is_empty()) {
            Some(output) => format!(
                "node #{index} ({op}, output '{}')",
                String::from_utf8_lossy(output)
            ),
            None => format!("node #{index} ({op})"),
        },
    }
}

/// `bytes` as text, or an error saying that `what` is not UTF-8 (ONNX strings must be).
fn utf8(bytes: &[u8], what: impl FnOnce() -> String) -> Result<&str> {
    std::str::from_utf8(bytes)
        .map_err(|_| Error::parse(format!("ONNX model: {} is not valid UTF-8", what())))
}

/// The number of tensor `name`, numbering it if new; names are checked to be UTF-8 here.
fn intern<'m>(index: &mut Index<'m>, name: &'m [u8], what: impl FnOnce() -> String) -> Result<u32> {
    if let Some(&id) = index.ids.get(name) {
        return Ok(id);
    }
    let id = index.names.len() as u32;
    index.ids.insert(name, id);
    index.names.push(utf8(name, what)?);
    Ok(id)
}

/// Numbers tensor names and orders the nodes so that producers come before readers. ONNX
/// requires the file's order to be such an order, and it is used when it is; otherwise
/// Kahn's algorithm over tensor dependencies sorts the nodes, so that unsorted files are
/// accepted, and cycles and dangling reads are reported with their names.
fn index_graph(graph: &GraphProto) -> Result<Index<'_>> {
    let nodes = &graph.node;
    let slot_count: usize = nodes.iter().map(|n| n.input.len() + n.output.len()).sum();
    let mut index = Index {
        names: Vec::new(),
        order: Vec::with_capacity(nodes.len()),
        slots: Vec::with_capacity(slot_count),
        inputs_at: Vec::with_capacity(nodes.len() + 1),
        outputs_at: Vec::with_capacity(nodes.len() + 1),
        ids: HashMap::with_capacity(graph.input.len() + graph.initializer.len() + 2 * nodes.len()),
    };
    // Producers: 0 = graph input or initializer, k + 1 = node k.
    let mut producer: Vec<usize> = Vec::with_capacity(index.ids.capacity());
    const NONE: usize = usize::MAX;
    for name in graph
        .input
        .iter()
        .filter_map(|input| input.name.as_deref())
        .chain(graph.initializer.iter().filter_map(|t| t.name.as_deref()))
    {
        let id = intern(&mut index, name, || {
            "a graph input's or initializer's name".into()
        })? as usize;
        producer.resize(index.names.len(), NONE);
        producer[id] = 0;
    }
    index.outputs_at.push(0);
    for (position, node) in nodes.iter().enumerate() {
        for field in [&node.op_type, &node.domain, &node.name]
            .into_iter()
            .flatten()
        {
            utf8(field, || {
                format!(
                    "the op type, domain or name of {}",
                    node_label(node, position)
                )
            })?;
        }
        if node.op_type.text().is_empty() {
            return Err(Error::parse(format!(
                "ONNX model: {} has no op_type",
                node_label(node, position)
            )));
        }
        for output in &node.output {
            if output.is_empty() {
                index.slots.push(None);
                continue;
            }
            let id = intern(&mut index, output, || {
                format!("an output name of {}", node_label(node, position))
            })? as usize;
            producer.resize(index.names.len(), NONE);
            match producer[id] {
                NONE => producer[id] = position + 1,
                0 => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} writes tensor '{}', which is already a graph input or initializer",
                        node_label(node, position),
                        index.names[id]
                    )));
                }
                other => {
                    return Err(Error::parse(format!(
                        "ONNX model: tensor '{}' is produced twice, by {} and by {}",
                        index.names[id],
                        node_label(&nodes[other - 1], other - 1),
                        node_label(node, position)
                    )));
                }
            }
            index.slots.push(Some(id as u32));
        }
        index.outputs_at.push(index.slots.len());
    }
    let mut sorted = true;
    index.inputs_at.push(index.slots.len());
    for (position, node) in nodes.iter().enumerate() {
        for input in &node.input {
            if input.is_empty() {
                index.slots.push(None);
                continue;
            }
            let id = index.ids.get(input.as_ref()).copied();
            match id.map_or(NONE, |id| producer[id as usize]) {
                NONE => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} reads tensor '{}', which no node, graph input or \
                         initializer provides",
                        node_label(node, position),
                        String::from_utf8_lossy(input)
                    )));
                }
                k => sorted &= k <= position,
            }
            index.slots.push(id);
        }
        index.inputs_at.push(index.slots.len());
    }
    if sorted {
        index.order.extend(0..nodes.len());
    } else {
        sort_nodes(graph, &mut index, &producer)?;
    }
    Ok(index)
}

/// Kahn's algorithm over the nodes of a graph whose file order is not a topological one.
fn sort_nodes(graph: &GraphProto, index: &mut Index, producer: &[usize]) -> Result<()> {
    let nodes = &graph.node;
    let mut pending = vec![0usize; nodes.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (position, waits) in pending.iter_mut().enumerate() {
        for &id in index.inputs(position).iter().flatten() {
            // 0 is a graph input or initializer, k + 1 node k.
            if let Some(k) = producer[id as usize].checked_sub(1)
                && readers[k].last() != Some(&position)
            {
                *waits += 1;
                readers[k].push(position);
            }
        }
    }
    let mut ready: Vec<usize> = (0..nodes.len())
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
    if index.order.len() < nodes.len() {
        let stuck: Vec<String> = (0..nodes.len())
            .filter(|&position| pending[position] > 0)
            .take(4)
            .map(|position| node_label(&nodes[position], position))
            .collect();
        return Err(Error::parse(format!(
            "ONNX model: the graph has a cycle; {} nodes wait on each other, among them {}",
            nodes.len() - index.order.len(),
            stuck.join(", ")
        )));
    }
    Ok(())
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
            Some(super::read::tensor_shape_proto::dimension::Value::DimValue(value))
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
            .find(|attribute| attribute.name.as_deref() == Some(name.as_bytes()))
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
        self.get(name).and_then(|attribute| attribute.t.as_deref())
    }
}
