//! The parts of an ONNX model that import reads: the graph's nodes in dependency order, its
//! declared inputs, outputs and value_info types, and node attributes.
//!
//! Nodes stay encoded in the decoded model: [`Index`] reads each node's names once (into
//! one reused message, keeping the names as slices of the node) and [`AttributeReader`] its
//! attributes when the node is lowered, so that decoding allocates per model rather than
//! a dozen times per node.

use foldhash::{HashMap, HashMapExt};

use prost::Message;
use prost::bytes::{Buf, Bytes};

use super::read::{
    AttributeProto, GraphProto, ModelProto, NodeAttributes, NodeLinks, TensorProto, Text,
    ValueInfoProto, type_proto,
};
use super::wire;
use crate::error::{Error, Result};
use crate::graph::Limits;

/// A decoded model (its nodes still encoded, see [`Index`] and [`AttributeReader`]).
pub(super) struct Model {
    pub graph: GraphProto,
    /// Version of the default (`ai.onnx`) operator set, if the model declares one.
    declared_opset: Option<i64>,
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
    /// Every node's op type, domain and name, checked once here so that later passes read
    /// them without checking again.
    texts: Vec<NodeText<'m>>,
}

/// A node's op type, domain and name as text (empty when absent).
#[derive(Clone, Copy)]
pub(super) struct NodeText<'m> {
    pub op: &'m str,
    pub domain: &'m str,
    pub name: &'m str,
}

impl NodeText<'_> {
    /// Whether the node is in the default (`ai.onnx`) operator domain.
    pub fn in_default_domain(&self) -> bool {
        is_default_domain(self.domain)
    }
}

impl<'m> Index<'m> {
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

    /// Node `position`'s op type, domain and name.
    pub fn text(&self, position: usize) -> NodeText<'m> {
        self.texts[position]
    }

    /// Node `position`'s name for messages: its own name, or its first output's, or its
    /// position.
    pub fn label(&self, position: usize) -> String {
        let text = self.texts[position];
        let first_output = self
            .outputs(position)
            .first()
            .copied()
            .flatten()
            .map_or("", |id| self.names[id as usize]);
        label(text.op, text.name, first_output, position)
    }
}

/// The ONNX spelling of the default operator domain.
fn is_default_domain(domain: &str) -> bool {
    domain.is_empty() || domain == "ai.onnx"
}

/// How many bytes decoding may allocate per byte of the model: real models take well under
/// one (their bulk is weights, read as slices of the buffer).
pub(super) const DECODED_BYTES_PER_BYTE: u64 = 3;
/// What decoding may allocate whatever the model's size: 64 MiB, above any real model's
/// decoded structure but the weights.
pub(super) const DECODED_BYTES_FLOOR: u64 = 64 << 20;

impl Model {
    /// Decodes `bytes` as an ONNX `ModelProto` and checks that its graph is a DAG whose every
    /// read tensor is defined.
    /// Checks the size, the node count and what decoding would allocate (all counted on the
    /// wire, [`wire::census`]) first: an empty attribute, initializer or dimension takes 2
    /// bytes on the wire and 30 to 300 decoded, so a hostile file of empty elements would
    /// otherwise decode into a hundred times its size. Decoding may take at most
    /// [`DECODED_BYTES_PER_BYTE`] times the model's size plus [`DECODED_BYTES_FLOOR`].
    /// Given [`Bytes`](prost::bytes::Bytes), inline tensor data is decoded as slices of them; given a byte slice,
    /// it is copied.
    pub fn decode(buffer: impl Buf + AsRef<[u8]>, limits: &Limits) -> Result<Model> {
        let size = buffer.as_ref().len();
        if size == 0 {
            return Err(Error::parse("ONNX model: the input is empty (0 bytes)"));
        }
        limits.check_onnx_bytes("the ONNX model", size as u64)?;
        let census = wire::census(buffer.as_ref());
        limits.check_nodes("the ONNX model's graph", census.nodes)?;
        let budget = (size as u64)
            .saturating_mul(DECODED_BYTES_PER_BYTE)
            .saturating_add(DECODED_BYTES_FLOOR);
        if census.peak() > budget {
            let (node_bytes, position) = census.largest_node;
            return Err(Error::unsupported(format!(
                "ONNX model: decoding its {size} bytes would take {} bytes ({} for the graph, \
                 {node_bytes} for node #{position}'s links and attributes), more than \
                 {DECODED_BYTES_PER_BYTE} times its size + {DECODED_BYTES_FLOOR}: its lists \
                 (attributes, initializers, dimensions, values) hold more elements than \
                 their bytes could describe",
                census.peak(),
                census.held
            )));
        }
        let proto = ModelProto::decode(buffer).map_err(|error| {
            Error::parse(format!(
                "ONNX model: not a valid ONNX protobuf ({size} bytes): {error}"
            ))
        })?;
        let graph = proto.graph.ok_or_else(|| {
            Error::parse("ONNX model: it has no graph (ModelProto.graph is missing)")
        })?;
        let declared_opset = proto
            .opset_import
            .iter()
            .filter(|entry| is_default_domain(entry.domain.text()))
            .filter_map(|entry| entry.version)
            .max();
        Ok(Model {
            graph,
            declared_opset,
        })
    }

    /// Version of the default (`ai.onnx`) operator set; 0 when the model declares none,
    /// which [`Model::index`] allows only if no node is in that domain.
    pub fn opset(&self) -> i64 {
        self.declared_opset.unwrap_or(0)
    }

    /// Numbers the tensors and orders the nodes; refuses a graph whose nodes read undefined
    /// tensors, write a tensor twice, or form a cycle, and one that uses default-domain
    /// operators without declaring their opset.
    pub fn index(&self) -> Result<Index<'_>> {
        index_graph(&self.graph, self.declared_opset.is_some())
    }
}

/// Decodes one node's attributes at a time into messages kept from node to node, so that
/// reading attributes allocates only while the largest node seen so far grows.
#[derive(Default)]
pub(super) struct AttributeReader {
    encoded: NodeAttributes,
    decoded: Vec<AttributeProto>,
}

impl AttributeReader {
    /// The attributes of `node` (a node's encoding, from [`GraphProto::node`]).
    pub fn read(&mut self, node: &Bytes) -> Result<Attributes<'_>> {
        let invalid = |error: prost::DecodeError| {
            Error::parse(format!(
                "ONNX model: not a valid ONNX protobuf: its attributes: {error}"
            ))
        };
        self.encoded.clear();
        self.encoded.merge(node.clone()).map_err(invalid)?;
        let count = self.encoded.attribute.len();
        if self.decoded.len() < count {
            self.decoded.resize_with(count, AttributeProto::default);
        }
        for (encoded, decoded) in self.encoded.attribute.iter().zip(&mut self.decoded) {
            decoded.clear();
            decoded.merge(encoded.clone()).map_err(invalid)?;
        }
        Ok(Attributes(&self.decoded[..count]))
    }
}

/// A node's name for messages: its own name, or its first output's, or its position.
fn label(op: &str, name: &str, first_output: &str, position: usize) -> String {
    let op = if op.is_empty() { "?" } else { op };
    match (name, first_output) {
        ("", "") => format!("node #{position} ({op})"),
        ("", output) => format!("node #{position} ({op}, output '{output}')"),
        (name, _) => format!("node '{name}' ({op})"),
    }
}

/// [`label`] of a node not yet indexed, whose names may not be UTF-8 (shown with
/// replacement characters).
fn raw_label(links: &NodeLinks, position: usize) -> String {
    let lossy =
        |bytes: Option<&Bytes>| String::from_utf8_lossy(bytes.map_or(&[], |b| b)).into_owned();
    label(
        &lossy(links.op_type.as_ref()),
        &lossy(links.name.as_ref()),
        &lossy(links.output.first()),
        position,
    )
}

/// `part`, a slice that decoding `whole` (a [`Bytes`]) made of it, borrowed from `whole`:
/// names borrowed from the model's nodes rather than from the message decoded from them,
/// which is reused for the next node.
fn within<'a>(whole: &'a [u8], part: &[u8]) -> Result<&'a [u8]> {
    if part.is_empty() {
        return Ok(&[]);
    }
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    start
        .checked_add(part.len())
        .and_then(|end| whole.get(start..end))
        .ok_or_else(|| Error::parse("ONNX model: a decoded name lies outside its node"))
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
fn index_graph(graph: &GraphProto, opset_declared: bool) -> Result<Index<'_>> {
    let nodes = &graph.node;
    let mut index = Index {
        names: Vec::new(),
        order: Vec::with_capacity(nodes.len()),
        slots: Vec::with_capacity(4 * nodes.len()),
        inputs_at: Vec::with_capacity(nodes.len() + 1),
        outputs_at: Vec::with_capacity(nodes.len() + 1),
        ids: HashMap::with_capacity(graph.input.len() + graph.initializer.len() + 2 * nodes.len()),
        texts: Vec::with_capacity(nodes.len()),
    };
    // Producers: 0 = graph input or initializer, k + 1 = node k.
    let mut producer: Vec<usize> = Vec::with_capacity(index.ids.capacity());
    const NONE: usize = usize::MAX;
    let inputs = graph.input.iter().map(|input| ("graph input", &input.name));
    let initializers = graph.initializer.iter().map(|t| ("initializer", &t.name));
    let mut counts = [0usize; 2];
    for (what, name) in inputs.chain(initializers) {
        let position = &mut counts[usize::from(what == "initializer")];
        *position += 1;
        // Import looks these up by name (an empty name is an absent node input), so an
        // unnamed one could never be read and would have no number.
        let name = name
            .as_deref()
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                Error::parse(format!("ONNX model: {what} #{} has no name", *position - 1))
            })?;
        let id = intern(&mut index, name, || {
            "a graph input's or initializer's name".into()
        })? as usize;
        producer.resize(index.names.len(), NONE);
        producer[id] = 0;
    }
    // One pass decodes each node once: outputs are numbered at once; input names wait in
    // `reads` until every output is numbered (a file's nodes may be out of order).
    let mut reads: Vec<&[u8]> = Vec::with_capacity(2 * nodes.len());
    let mut reads_at: Vec<usize> = Vec::with_capacity(nodes.len() + 1);
    reads_at.push(0);
    let mut links = NodeLinks::default();
    index.outputs_at.push(0);
    for (position, node) in nodes.iter().enumerate() {
        links.clear();
        links.merge(node.clone()).map_err(|error| {
            Error::parse(format!(
                "ONNX model: not a valid ONNX protobuf: node #{position}: {error}"
            ))
        })?;
        let [op, domain, name] = [&links.op_type, &links.domain, &links.name].map(|field| {
            within(node, field.as_deref().unwrap_or_default()).and_then(|bytes| {
                utf8(bytes, || {
                    format!(
                        "the op type, domain or name of {}",
                        raw_label(&links, position)
                    )
                })
            })
        });
        let text = NodeText {
            op: op?,
            domain: domain?,
            name: name?,
        };
        index.texts.push(text);
        if text.op.is_empty() {
            return Err(Error::parse(format!(
                "ONNX model: {} has no op_type",
                raw_label(&links, position)
            )));
        }
        if !opset_declared && text.in_default_domain() {
            return Err(Error::parse(
                "ONNX model: it uses default-domain operators but declares no opset version \
                 for them (opset_import has no entry for domain \"\")",
            ));
        }
        for output in &links.output {
            if output.is_empty() {
                index.slots.push(None);
                continue;
            }
            let id = intern(&mut index, within(node, output)?, || {
                format!("an output name of {}", raw_label(&links, position))
            })? as usize;
            producer.resize(index.names.len(), NONE);
            match producer[id] {
                NONE => producer[id] = position + 1,
                0 => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} writes tensor '{}', which is already a graph input or initializer",
                        raw_label(&links, position),
                        index.names[id]
                    )));
                }
                other => {
                    return Err(Error::parse(format!(
                        "ONNX model: tensor '{}' is produced twice, by {} and by {}",
                        index.names[id],
                        index.label(other - 1),
                        raw_label(&links, position)
                    )));
                }
            }
            index.slots.push(Some(id as u32));
        }
        index.outputs_at.push(index.slots.len());
        for input in &links.input {
            reads.push(within(node, input)?);
        }
        reads_at.push(reads.len());
    }
    let mut sorted = true;
    index.inputs_at.push(index.slots.len());
    for position in 0..nodes.len() {
        for &input in &reads[reads_at[position]..reads_at[position + 1]] {
            if input.is_empty() {
                index.slots.push(None);
                continue;
            }
            let id = index.ids.get(input).copied();
            match id.map_or(NONE, |id| producer[id as usize]) {
                NONE => {
                    return Err(Error::parse(format!(
                        "ONNX model: {} reads tensor '{}', which no node, graph input or \
                         initializer provides",
                        index.label(position),
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
            .map(|position| index.label(position))
            .collect();
        return Err(Error::parse(format!(
            "ONNX model: the graph has a cycle; {} nodes wait on each other, among them {}",
            nodes.len() - index.order.len(),
            stuck.join(", ")
        )));
    }
    Ok(())
}

/// The tensor type (element type and shape) declared by a `ValueInfoProto`, if any.
fn declared_tensor(info: &ValueInfoProto) -> Option<&type_proto::Tensor> {
    match info.r#type.as_ref()?.value.as_ref()? {
        type_proto::Value::TensorType(tensor) => Some(tensor),
    }
}

/// The element type and dimensions declared for a tensor by a `ValueInfoProto`; a dimension
/// is `None` where it is symbolic (`dim_param`) or absent. `None` overall when the info
/// declares no tensor shape.
pub(super) fn declared_shape(info: &ValueInfoProto) -> Option<(i32, Vec<Option<i64>>)> {
    let tensor = declared_tensor(info)?;
    let dims = tensor
        .shape
        .as_ref()?
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

/// The names of the symbolic dimensions (`dim_param`) declared for a tensor by a
/// `ValueInfoProto`, by axis (`None` for a fixed, unnamed or absent one).
pub(super) fn dimension_names(info: &ValueInfoProto) -> Vec<Option<&[u8]>> {
    let Some(shape) = declared_tensor(info).and_then(|tensor| tensor.shape.as_ref()) else {
        return Vec::new();
    };
    shape
        .dim
        .iter()
        .map(|dim| match &dim.value {
            Some(super::read::tensor_shape_proto::dimension::Value::DimParam(name))
                if !name.is_empty() =>
            {
                Some(name.as_ref())
            }
            _ => None,
        })
        .collect()
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

    pub fn strings(&self, name: &str) -> Option<&'a [Bytes]> {
        self.get(name).map(|attribute| attribute.strings.as_slice())
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
