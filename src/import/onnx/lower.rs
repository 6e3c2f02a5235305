//! Lowering a shape-inferred ONNX graph to a computation graph.
//!
//! Nodes are visited in dependency order. A node that reads only static tensors is folded;
//! a layout or identity node passes its activation input through; every other node becomes
//! a draft node. Fusion passes then merge multi-node patterns (GELU's Erf form, decomposed
//! LayerNorm, x·sigmoid(x), bias adds) and the surviving drafts become the graph.

use std::collections::BTreeMap;
use std::rc::Rc;

use foldhash::{HashMap, HashMapExt};
use smallvec::{SmallVec, smallvec};

use super::einsum::Equation;
use super::infer::{self, axis_index, permutation, reduce_axes, reduce_axes_input_since};
use super::model::{
    AttributeReader, Attributes, Index, Model, NodeText, declared_shape, dimension_names,
};
use super::read::Text;
use super::report::{ImportReport, OpCounts};
use super::value::{Dims, Tensor, element_count, tensor_from_proto};
use crate::error::{Error, Result};
use crate::graph::{Node, Op, Shape};

/// The result of lowering: the graph, the report (its graph counts still to be filled),
/// and every tensor's inferred dimensions (by tensor number; `None` where unknown).
pub(super) struct Lowered<'m> {
    /// The graph's nodes and edges (indices into `nodes`), not yet checked or canonical.
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize)>,
    pub report: ImportReport,
    pub names: Vec<&'m str>,
    pub tensors: Vec<Option<Tensor>>,
}

/// A static operand of an elementwise node: how many elements, and its value if uniform.
#[derive(Debug, Clone, Copy)]
struct Constant {
    elements: u64,
    uniform: Option<f64>,
}

/// A computation-graph node under construction.
#[derive(Debug, Clone)]
struct Draft<'m> {
    node: Node,
    /// Drafts whose outputs this node reads, in ONNX input order.
    inputs: DraftIds,
    /// Positions of the ONNX nodes merged into this node (none for graph inputs and outputs).
    members: DraftIds,
    /// The ONNX op type that created it.
    onnx_op: &'m str,
    constant: Option<Constant>,
    /// A ReduceMean over the last axis only, keeping it (LayerNorm decompositions).
    reduces_last_axis: bool,
    alive: bool,
}

/// Draft numbers: most nodes read one or two drafts and stem from one ONNX node.
type DraftIds = SmallVec<[usize; 2]>;

/// An activation tensor: the draft producing it and the axis that holds its channels.
#[derive(Debug, Clone, Copy)]
struct Act {
    draft: usize,
    axis: usize,
}

/// One ONNX node with its inputs and outputs as tensor numbers.
#[derive(Clone, Copy)]
struct Site<'m> {
    text: NodeText<'m>,
    position: usize,
    inputs: &'m [Option<u32>],
    outputs: &'m [Option<u32>],
}

/// What shape inference found for one ONNX node's outputs.
enum Inference {
    Known {
        outputs: infer::Outputs,
        is_static: bool,
    },
    /// Unknown, for this reason; the node is static.
    Unresolved(Rc<str>),
}

/// What became of one ONNX node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Folded,
    Drafted,
}

struct Lowerer<'m> {
    model: &'m Model,
    index: &'m Index<'m>,
    /// Per tensor number.
    tensors: Vec<Option<Tensor>>,
    /// Static tensors whose shapes could not be inferred, with the reason; an error only
    /// if a node on the data path reads one.
    unresolved: Vec<Option<Rc<str>>>,
    acts: Vec<Option<Act>>,
    drafts: Vec<Draft<'m>>,
    /// For each draft, the drafts that read it (kept up to date by the fusion passes; may
    /// list dead drafts and repeats, which [`Lowerer::consumers`] filters out).
    users: Vec<DraftIds>,
    fates: Vec<Fate>,
    fused: BTreeMap<String, usize>,
    warnings: Vec<String>,
    /// The model's batch size (first input's leading dimension), divided out of the
    /// leading dimension of every tensor so that counts are per sample.
    batch: u64,
    attributes: AttributeReader,
}

/// Shapes declared by value_info and graph outputs (by tensor number), used where
/// inference has no rule.
fn declared_shapes(model: &Model, index: &Index) -> HashMap<u32, (i32, Vec<Option<i64>>)> {
    model
        .graph
        .value_info
        .iter()
        .chain(&model.graph.output)
        .filter_map(|info| Some((index.id(info.name.as_ref()?.text())?, declared_shape(info)?)))
        .collect()
}

/// The element type and dimensions of a graph input from the dimensions given for it, which
/// must be positive and as many as the model declares.
fn given_shape(
    name: &str,
    dims: &[u64],
    declared: Option<(i32, Vec<Option<i64>>)>,
) -> Result<(i32, Vec<Option<i64>>)> {
    if let Some((_, declared)) = &declared
        && declared.len() != dims.len()
    {
        return Err(Error::invalid(format!(
            "import options: the shape given for graph input '{name}' has {} dimensions; the \
             model declares {} ({})",
            dims.len(),
            declared.len(),
            describe(declared)
        )));
    }
    let sizes = dims
        .iter()
        .enumerate()
        .map(|(axis, &size)| match i64::try_from(size) {
            Ok(size) if size > 0 => Ok(Some(size)),
            _ => Err(Error::invalid(format!(
                "import options: the shape given for graph input '{name}' has size {size} at \
                 axis {axis}; sizes must be positive"
            ))),
        })
        .collect::<Result<_>>()?;
    Ok((declared.map_or(1, |(code, _)| code), sizes))
}

fn op_key(text: NodeText) -> String {
    if text.in_default_domain() {
        text.op.to_owned()
    } else {
        format!("{}:{}", text.domain, text.op)
    }
}

/// Dimensions given for graph inputs in place of the declared ones.
#[derive(Clone, Copy)]
pub(super) struct GivenShapes<'a> {
    /// For the first data input.
    pub first: Option<&'a [u64]>,
    /// By input name.
    pub named: &'a BTreeMap<String, Vec<u64>>,
}

pub(super) fn lower<'m>(model: &'m Model, given: GivenShapes) -> Result<Lowered<'m>> {
    let index = model.index()?;
    let count = index.names.len();
    let declared = declared_shapes(model, &index);
    let mut lowerer = Lowerer {
        model,
        tensors: vec![None; count],
        unresolved: vec![None; count],
        acts: vec![None; count],
        drafts: Vec::new(),
        users: Vec::new(),
        fates: vec![Fate::Pending; model.graph.node.len()],
        index: &index,
        fused: BTreeMap::new(),
        warnings: Vec::new(),
        batch: 1,
        attributes: AttributeReader::default(),
    };
    lowerer.read_initializers()?;
    lowerer.read_inputs(given)?;
    for step in 0..lowerer.index.order.len() {
        let position = lowerer.index.order[step];
        lowerer
            .visit(position, &declared)
            .map_err(|error| error.context(format!("ONNX model: {}", index.label(position))))?;
    }
    lowerer.add_outputs()?;
    lowerer.index_users();
    lowerer.drop_unread_pieces();
    lowerer.fuse_gelu();
    lowerer.fuse_layer_norm();
    lowerer.fuse_silu();
    lowerer.fuse_hard_sigmoid();
    lowerer.fuse_hard_swish();
    lowerer.fuse_bias();
    let (nodes, edges, report, tensors) = lowerer.finish();
    Ok(Lowered {
        nodes,
        edges,
        report,
        names: index.names,
        tensors,
    })
}

impl<'m> Lowerer<'m> {
    /// The number of a graph input or initializer, which the index numbers (refusing
    /// unnamed ones).
    fn id_of(&self, name: &str) -> Result<usize> {
        self.index.id(name).map(|id| id as usize).ok_or_else(|| {
            Error::parse(format!(
                "ONNX model: tensor '{name}' has no number in the index"
            ))
        })
    }

    fn site(&self, position: usize) -> Site<'m> {
        Site {
            text: self.index.text(position),
            position,
            inputs: self.index.inputs(position),
            outputs: self.index.outputs(position),
        }
    }

    fn read_initializers(&mut self) -> Result<()> {
        for proto in &self.model.graph.initializer {
            let name = proto.name.text();
            let tensor = tensor_from_proto(proto)
                .map_err(|e| Error::parse(format!("ONNX model: initializer '{name}': {e}")))?;
            let id = self.id_of(name)?;
            self.tensors[id] = Some(tensor);
        }
        Ok(())
    }

    /// The graph's data inputs, with their dimensions: declared, or given (`given.first` for
    /// the first, `given.named` by name). A symbolic dimension takes the size bound to its
    /// name by an earlier input (ONNX names one size alike wherever it appears: a batch, a
    /// sequence length), else 1 on axis 0 (the batch), else import fails naming the input
    /// and axis.
    fn read_inputs(&mut self, given: GivenShapes) -> Result<()> {
        let mut data_inputs: Vec<&str> = Vec::new();
        let mut bound: Vec<(&[u8], u64)> = Vec::new();
        for info in &self.model.graph.input {
            let name = info.name.text();
            let id = self.id_of(name)?;
            if self.tensors[id].is_some() {
                continue; // an initializer listed as an input (IR < 4): a weight, not data
            }
            let first = data_inputs.is_empty();
            data_inputs.push(name);
            let symbols = dimension_names(info);
            let dims_given = match (given.named.get(name), given.first.filter(|_| first)) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(format!(
                        "import options: graph input '{name}' is given a shape twice, as the \
                         first input's and by name"
                    )));
                }
                (Some(dims), None) => Some(dims.as_slice()),
                (None, dims) => dims,
            };
            let (code, declared) = match dims_given {
                Some(dims) => given_shape(name, dims, declared_shape(info))?,
                None => declared_shape(info).ok_or_else(|| {
                    Error::parse(format!(
                        "ONNX model: graph input '{name}' declares no tensor shape; the importer \
                         needs the input's dimensions to infer every other shape"
                    ))
                })?,
            };
            let symbol = |axis: usize| symbols.get(axis).copied().flatten();
            let mut dims = Vec::with_capacity(declared.len());
            for (axis, dim) in declared.iter().enumerate() {
                let known = symbol(axis)
                    .and_then(|s| bound.iter().find(|(b, _)| *b == s))
                    .map(|&(_, size)| size);
                match (dim, known, axis) {
                    (Some(d), _, _) => dims.push(*d as u64),
                    (None, Some(size), _) => dims.push(size),
                    (None, None, 0) if declared.len() >= 2 => dims.push(1),
                    (None, None, _) => {
                        return Err(Error::parse(format!(
                            "ONNX model: graph input '{name}' has no fixed size at axis {axis} \
                             (shape {}); only the batch axis 0 may be symbolic (it is read as \
                             1), or a size named like one of an earlier input, which sets it",
                            describe(&declared)
                        )));
                    }
                }
            }
            if dims.len() == symbols.len() {
                for (axis, &size) in dims.iter().enumerate() {
                    if let Some(s) = symbol(axis)
                        && !bound.iter().any(|(b, _)| *b == s)
                    {
                        bound.push((s, size));
                    }
                }
            }
            if first && dims.len() >= 2 && dims[0] > 0 {
                self.batch = dims[0];
            }
            let axis = default_axis(dims.len());
            let shape = self
                .cg_shape(&dims, axis)
                .map_err(|e| Error::parse(format!("ONNX model: graph input '{name}': {e}")))?;
            let draft = self.push(Draft::new(
                Node::same_shape(Op::Input, shape).with_name(name),
                DraftIds::new(),
                "",
            ));
            self.acts[id] = Some(Act { draft, axis });
            self.tensors[id] = Some(Tensor::new(code, dims.into()));
        }
        if let Some(name) = given
            .named
            .keys()
            .find(|name| !data_inputs.contains(&name.as_str()))
        {
            return Err(Error::invalid(format!(
                "import options: a shape is given for '{name}', which is not a data input of \
                 the graph (its data inputs: {})",
                data_inputs
                    .iter()
                    .map(|input| format!("'{input}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if data_inputs.is_empty() {
            return Err(Error::parse(
                "ONNX model: the graph has no data input (every input is an initializer, or there are none)",
            ));
        }
        Ok(())
    }

    fn push(&mut self, draft: Draft<'m>) -> usize {
        self.drafts.push(draft);
        self.drafts.len() - 1
    }

    /// Per-sample H, W, C of a tensor whose channels are on `axis` (see the module docs of
    /// `import::onnx` for the mapping).
    fn cg_shape(&self, dims: &[u64], axis: usize) -> std::result::Result<Shape, String> {
        let (h, w, c) = match dims.len() {
            0 => (1, 1, 1),
            1 => (1, 1, dims[0]),
            _ => {
                let axis = axis.clamp(1, dims.len() - 1);
                let lead = if self.batch > 1 && dims[0].is_multiple_of(self.batch) {
                    dims[0] / self.batch
                } else {
                    dims[0]
                };
                let rest: SmallVec<[u64; 6]> = (1..dims.len())
                    .filter(|&a| a != axis)
                    .map(|a| dims[a])
                    .collect();
                let (h, w) = match rest.split_last() {
                    None => (Some(lead), 1),
                    Some((&only, [])) => (lead.checked_mul(only), 1),
                    Some((&last, others)) => {
                        (others.iter().try_fold(lead, |p, &d| p.checked_mul(d)), last)
                    }
                };
                (
                    h.ok_or_else(|| format!("dimensions {dims:?} overflow"))?,
                    w,
                    dims[axis],
                )
            }
        };
        let fit = |v: u64| u32::try_from(v).ok().filter(|&v| v > 0);
        match (fit(h), fit(w), fit(c)) {
            (Some(h), Some(w), Some(c)) => Ok(Shape::new(h, w, c)),
            _ => Err(format!(
                "tensor dimensions {dims:?} give H x W x C = {h} x {w} x {c}; each must be between 1 and 2^32 - 1"
            )),
        }
    }

    fn visit(
        &mut self,
        position: usize,
        declared: &HashMap<u32, (i32, Vec<Option<i64>>)>,
    ) -> Result<()> {
        // The reader leaves `self` for the visit, so that the attributes it lends stay
        // readable while the visit updates the lowerer.
        let mut reader = std::mem::take(&mut self.attributes);
        let visited = reader
            .read(&self.model.graph.node[position])
            .and_then(|attrs| self.visit_with(position, attrs, declared));
        self.attributes = reader;
        visited
    }

    fn visit_with(
        &mut self,
        position: usize,
        attrs: Attributes,
        declared: &HashMap<u32, (i32, Vec<Option<i64>>)>,
    ) -> Result<()> {
        let site = self.site(position);
        let (outputs, is_static) = match self.infer_outputs(site, attrs, declared)? {
            Inference::Known { outputs, is_static } => (outputs, is_static),
            Inference::Unresolved(reason) => {
                self.mark_unresolved(site, reason);
                return Ok(());
            }
        };
        if is_static {
            self.fates[position] = Fate::Folded;
            self.store(site, outputs);
            return Ok(());
        }
        match self
            .lower_node(site, attrs, &outputs)
            .map_err(Error::parse)?
        {
            Lowering::Fold { input, axis } => {
                let id = site.inputs[input].map_or(usize::MAX, |id| id as usize);
                let (Some(source), Some(tensor)) = (self.acts[id], &self.tensors[id]) else {
                    return Err(Error::parse("the input it passes on is not an activation"));
                };
                let axis = axis
                    .unwrap_or_else(|| follow_axis(&tensor.dims, source.axis, &outputs[0].dims));
                for &id in site.outputs.iter().flatten() {
                    self.acts[id as usize] = Some(Act {
                        draft: source.draft,
                        axis,
                    });
                }
                self.fates[position] = Fate::Folded;
            }
            Lowering::Map(mapped) => {
                let name = Some(site.text.name)
                    .filter(|n| !n.is_empty())
                    .or_else(|| {
                        let first = (*site.outputs.first()?)?;
                        Some(self.index.names[first as usize])
                    })
                    .unwrap_or("");
                let axis = mapped.axis;
                let draft = self.draft(site, *mapped, name);
                for &id in site.outputs.iter().flatten() {
                    self.acts[id as usize] = Some(Act { draft, axis });
                }
                self.fates[position] = Fate::Drafted;
            }
            Lowering::PerOutput(pieces) => {
                for (&id, piece) in site.outputs.iter().zip(pieces) {
                    let Some(id) = id else { continue };
                    let axis = piece.axis;
                    let draft = self.draft(site, piece, self.index.names[id as usize]);
                    self.acts[id as usize] = Some(Act { draft, axis });
                }
                self.fates[position] = Fate::Drafted;
            }
        }
        self.store(site, outputs);
        Ok(())
    }

    /// Drafts the CG node that ONNX node `site` became (or one of them), named `name`.
    #[inline]
    fn draft(&mut self, site: Site<'m>, mapped: Mapped, name: &str) -> usize {
        let Mapped {
            node,
            inputs,
            axis: _,
            constant,
            reduces_last_axis,
        } = mapped;
        let mut draft = Draft::new(node.with_name(name), inputs, site.text.op);
        draft.members = smallvec![site.position];
        draft.constant = constant;
        draft.reduces_last_axis = reduces_last_axis;
        self.push(draft)
    }

    /// The shapes of node `site`'s outputs, and whether they are static, or why they are
    /// unknown (for a static node, whose unknown shapes are an error only if the data path
    /// reads them).
    fn infer_outputs(
        &self,
        site: Site,
        attrs: Attributes,
        declared: &HashMap<u32, (i32, Vec<Option<i64>>)>,
    ) -> Result<Inference> {
        let op = site.text.op;
        let mut inputs: SmallVec<[Option<&Tensor>; 4]> = SmallVec::new();
        let mut unresolved: Vec<(usize, usize, Rc<str>)> = Vec::new();
        for (slot, &id) in site.inputs.iter().enumerate() {
            let Some(id) = id.map(|id| id as usize) else {
                inputs.push(None);
                continue;
            };
            if let Some(tensor) = &self.tensors[id] {
                inputs.push(Some(tensor));
            } else if let Some(reason) = &self.unresolved[id] {
                unresolved.push((slot, id, reason.clone()));
                inputs.push(None);
            } else {
                return Err(Error::parse(format!(
                    "it reads tensor '{}', whose shape is unknown (an optional output its producer did not define)",
                    self.index.names[id]
                )));
            }
        }
        // Tensors with unresolved shapes are static by construction. Control flow reads
        // tensors of the enclosing graph from its bodies, which import does not decode: it is
        // never static, whatever its explicit inputs.
        let control_flow = site.text.in_default_domain() && matches!(op, "If" | "Loop" | "Scan");
        let is_static = !control_flow
            && (inputs.iter().flatten().all(|t| t.is_static) || matches!(op, "Shape" | "Size"));
        let scatter_updates = matches!(op, "ScatterND" | "ScatterElements" | "Scatter")
            && unresolved.iter().all(|&(slot, _, _)| slot > 0);
        if let Some((_, id, reason)) = unresolved.first().filter(|_| !scatter_updates) {
            if !is_static {
                return Err(Error::parse(format!(
                    "it needs the shape of tensor '{}', which could not be inferred: {reason}",
                    self.index.names[*id]
                )));
            }
            return Ok(Inference::Unresolved(reason.clone()));
        }
        let inferred = if scatter_updates && !unresolved.is_empty() {
            // Scattering writes into input 0 and keeps its shape, whatever the updates' shape.
            let data = inputs[0].ok_or_else(|| Error::parse("required input 0 is missing"))?;
            Ok(Some(smallvec![Tensor::new(data.dtype, data.dims.clone())]))
        } else {
            let node = infer::NodeRef {
                text: site.text,
                attrs,
                input_ids: site.inputs,
                names: &self.index.names,
                outputs: site.outputs.len(),
            };
            infer::infer(node, self.model.opset(), &inputs)
        };
        let inferred = match inferred {
            Ok(inferred) => inferred,
            Err(message) if is_static => {
                // A static subgraph (weight preprocessing) whose shapes depend on values stored
                // outside the file: only an error if a node on the data path needs them.
                let reason = format!("{}: {message}", self.index.label(site.position));
                return Ok(Inference::Unresolved(reason.into()));
            }
            Err(message) => return Err(Error::parse(message)),
        };
        let mut outputs = inferred.unwrap_or_default();
        let ruled = !outputs.is_empty();
        for (slot, &id) in site.outputs.iter().enumerate() {
            let Some(id) = id.filter(|_| slot >= outputs.len()) else {
                continue;
            };
            match declared.get(&id) {
                Some((code, dims)) if dims.iter().all(Option::is_some) => {
                    let dims: Dims = dims.iter().map(|d| d.unwrap_or(0) as u64).collect();
                    outputs.resize_with(slot, || Tensor::new(0, Dims::new()));
                    outputs.push(Tensor::new(*code, dims));
                }
                _ if ruled => break, // an optional output the rule does not define
                _ => {
                    let message = format!(
                        "shape inference has no rule for op type '{}' and the model declares no \
                         complete shape for its output '{}' (value_info)",
                        op_key(site.text),
                        self.index.names[id as usize]
                    );
                    if !is_static {
                        return Err(Error::unsupported(message));
                    }
                    let reason = format!("{}: {message}", self.index.label(site.position));
                    return Ok(Inference::Unresolved(reason.into()));
                }
            }
        }
        for tensor in &mut outputs {
            tensor.is_static = is_static;
        }
        Ok(Inference::Known { outputs, is_static })
    }

    /// Records that the outputs of static node `site` have unknown shapes, and why.
    fn mark_unresolved(&mut self, site: Site, reason: Rc<str>) {
        for &id in site.outputs.iter().flatten() {
            self.unresolved[id as usize] = Some(reason.clone());
        }
        self.fates[site.position] = Fate::Folded;
    }

    fn store(&mut self, site: Site, outputs: infer::Outputs) {
        for (&id, tensor) in site.outputs.iter().zip(outputs) {
            if let Some(id) = id {
                self.tensors[id as usize] = Some(tensor);
            }
        }
    }

    /// The tensor at input `slot` of a node, if present and known.
    fn input(&self, site: Site, slot: usize) -> Option<&Tensor> {
        let id = (*site.inputs.get(slot)?)? as usize;
        self.tensors[id].as_ref()
    }

    fn act(&self, site: Site, slot: usize) -> Option<(Act, &Tensor)> {
        let id = (*site.inputs.get(slot)?)? as usize;
        Some((self.acts[id]?, self.tensors[id].as_ref()?))
    }

    fn static_input(&self, site: Site, slot: usize) -> Option<&Tensor> {
        self.input(site, slot).filter(|t| t.is_static)
    }

    /// Decides what one node with at least one activation input becomes.
    fn lower_node(
        &self,
        site: Site,
        attrs: Attributes,
        outputs: &[Tensor],
    ) -> std::result::Result<Lowering, String> {
        let op = site.text.op;
        let acts: SmallVec<[(usize, Act, &Tensor); 4]> = (0..site.inputs.len())
            .filter_map(|i| self.act(site, i).map(|(a, t)| (i, a, t)))
            .collect();
        let out = outputs.first().ok_or("it has no output")?;
        if acts.is_empty() {
            return Err(
                "it reads data-dependent tensors that no traced activation produces".into(),
            );
        }
        let default_domain = site.text.in_default_domain();
        let (first_index, first, first_tensor) = acts[0];
        let sources: DraftIds = acts.iter().map(|(_, a, _)| a.draft).collect();
        let unknown =
            || -> std::result::Result<Lowering, String> { self.unknown(site, &acts, out) };
        if !default_domain {
            return unknown();
        }
        // Same-shape ops keep the layout of their (largest) activation input.
        let widest = acts
            .iter()
            .max_by_key(|(i, _, t)| (t.elements().unwrap_or(0), std::cmp::Reverse(*i)))
            .map(|&(_, a, t)| (a, t))
            .unwrap_or((first, first_tensor));
        let elementwise_axis = acts
            .iter()
            .find(|(_, _, t)| t.dims.len() == out.dims.len())
            .map_or_else(
                || follow_axis(&first_tensor.dims, first.axis, &out.dims),
                |(_, a, _)| a.axis,
            );
        let same = |cg_op: Op| -> std::result::Result<Lowering, String> {
            let shape = self.cg_shape(&out.dims, elementwise_axis)?;
            let input = self.cg_shape(&widest.1.dims, widest.0.axis)?;
            Ok(Lowering::map(
                Node::new(cg_op, input, shape),
                sources.clone(),
                elementwise_axis,
            ))
        };
        match op {
            "Identity" | "Dropout" | "Cast" | "CastLike" | "Reshape" | "Flatten" | "Squeeze"
            | "Unsqueeze" | "Expand" | "Tile"
                if first_index == 0 =>
            {
                Ok(Lowering::Fold {
                    input: 0,
                    axis: None,
                })
            }
            "Conv" => self.conv(site, attrs, &acts, out),
            "Gemm" => self.gemm(site, attrs, &acts, out),
            "MatMul" => self.matmul(site, &acts, out),
            "Einsum" => {
                let equation = attrs.string("equation").unwrap_or_default();
                let operands: Vec<&[u64]> = (0..site.inputs.len())
                    .filter_map(|slot| self.input(site, slot).map(|t| t.dims.as_slice()))
                    .collect();
                let contraction = Equation::parse(&equation)
                    .ok()
                    .and_then(|eq| eq.matmul_contraction(&operands));
                match (contraction, operands.first()) {
                    (Some(k), Some(a_dims)) => {
                        let rows = self.per_sample(a_dims) / k.max(1);
                        let input = self.cg_shape(&[rows, k], 1)?;
                        let output = self.cg_shape(&out.dims, out.dims.len().saturating_sub(1))?;
                        let axis = out.dims.len().saturating_sub(1);
                        Ok(Lowering::map(
                            Node::new(Op::MatMul, input, output),
                            sources,
                            axis,
                        ))
                    }
                    _ => unknown(),
                }
            }
            "BatchNormalization" if first_index == 0 && first_tensor.dims.len() >= 2 => {
                let shape = self.cg_shape(&first_tensor.dims, 1)?;
                Ok(Lowering::map(
                    Node::same_shape(Op::BatchNorm, shape).with_bias(true),
                    sources,
                    1,
                ))
            }
            "LayerNormalization" if first_index == 0 => {
                let rank = first_tensor.dims.len();
                if axis_index(attrs.int_or("axis", -1), rank)? + 1 != rank {
                    return unknown();
                }
                let shape = self.cg_shape(&first_tensor.dims, rank - 1)?;
                Ok(Lowering::map(
                    Node::same_shape(Op::LayerNorm, shape).with_bias(true),
                    sources,
                    rank - 1,
                ))
            }
            "Relu" => same(Op::Relu),
            "Sigmoid" => same(Op::Sigmoid),
            "Tanh" => same(Op::Tanh),
            "HardSwish" => same(Op::HardSwish),
            "HardSigmoid" => same(Op::HardSigmoid),
            "Gelu" => same(Op::Gelu),
            "Softmax" => same(Op::Softmax),
            "Clip" if first_index == 0 => match self.clip_bounds(site, attrs) {
                Some((0.0, 6.0)) => same(Op::Relu6),
                Some((0.0, max)) if max == f64::INFINITY => same(Op::Relu),
                _ => unknown(),
            },
            "Add" | "Mul" | "Sum" | "Sub" | "Div" | "Pow" => {
                if acts.len() >= 2 {
                    return match op {
                        "Add" | "Sum" => same(Op::Add),
                        "Mul" => same(Op::Mul),
                        _ => unknown(),
                    };
                }
                let constant = (0..site.inputs.len())
                    .filter(|&i| i != first_index)
                    .find_map(|i| self.static_input(site, i))
                    .map(|t| Constant {
                        elements: t.elements().unwrap_or(u64::MAX),
                        uniform: t.uniform_value(),
                    });
                let keeps_shape = out.dims == first_tensor.dims;
                let second = first_index == 1;
                let neutral = match (op, constant.and_then(|c| c.uniform)) {
                    ("Add" | "Sum", Some(v)) => v == 0.0,
                    ("Sub", Some(v)) => v == 0.0 && !second,
                    ("Mul", Some(v)) => v == 1.0,
                    ("Div" | "Pow", Some(v)) => v == 1.0 && !second,
                    _ => false,
                };
                if neutral && keeps_shape {
                    return Ok(Lowering::Fold {
                        input: first_index,
                        axis: Some(first.axis),
                    });
                }
                // Subtracting a static tensor (or from one) is a shift like adding one, and
                // dividing by one a scale like multiplying: exporters write either form.
                let mut lowering = match (op, constant.and_then(|c| c.uniform)) {
                    ("Mul", Some(0.0)) => same(Op::Zero)?,
                    ("Add" | "Sum" | "Sub", _) => same(Op::Add)?,
                    ("Mul", _) => same(Op::Mul)?,
                    ("Div", _) if !second => same(Op::Mul)?,
                    _ => unknown()?,
                };
                if let Lowering::Map(mapped) = &mut lowering {
                    mapped.constant = constant;
                }
                Ok(lowering)
            }
            "Concat" => same(Op::Concat),
            "MaxPool" | "AveragePool" if first_index == 0 => self.pool(op, attrs, &acts, out),
            "GlobalAveragePool" if first_index == 0 => {
                let input = self.cg_shape(&first_tensor.dims, 1)?;
                let output = self.cg_shape(&out.dims, 1)?;
                Ok(Lowering::map(
                    Node::new(Op::GlobalAvgPool, input, output),
                    sources,
                    1,
                ))
            }
            "ReduceMean" if first_index == 0 => {
                let rank = first_tensor.dims.len();
                let axes_input = if self.model.opset() >= reduce_axes_input_since(op) {
                    self.static_input(site, 1)
                        .and_then(|t| t.ints().map(<[i64]>::to_vec))
                } else {
                    None
                };
                let keep = attrs.int_or("keepdims", 1) != 0;
                let axes = reduce_axes(attrs, axes_input, rank)?.unwrap_or_default();
                let spatial: Vec<usize> = (1..rank).filter(|&a| a != first.axis).collect();
                if rank >= 3 && axes == spatial {
                    let input = self.cg_shape(&first_tensor.dims, first.axis)?;
                    let axis = if keep { first.axis } else { 1 };
                    let output = self.cg_shape(&out.dims, axis)?;
                    return Ok(Lowering::map(
                        Node::new(Op::GlobalAvgPool, input, output),
                        sources,
                        axis,
                    ));
                }
                let mut lowering = unknown()?;
                if let Lowering::Map(mapped) = &mut lowering {
                    mapped.reduces_last_axis = keep && rank >= 1 && axes == [rank - 1];
                }
                Ok(lowering)
            }
            "Pad" if first_index == 0 => same(Op::Pad),
            "Slice" if first_index == 0 => same(Op::Slice),
            // Each piece of a Split is a slice of the input: one node per output, as
            // exporters that write a `Slice` per piece (torch.export's `unbind`) give.
            "Split" if first_index == 0 => {
                let input = self.cg_shape(&first_tensor.dims, first.axis)?;
                let pieces = outputs
                    .iter()
                    .map(|piece| {
                        let output = self.cg_shape(&piece.dims, first.axis)?;
                        Ok(Mapped::new(
                            Node::new(Op::Slice, input, output),
                            sources.clone(),
                            first.axis,
                        ))
                    })
                    .collect::<std::result::Result<Vec<_>, String>>()?;
                Ok(Lowering::PerOutput(pieces))
            }
            // One index, or a run of consecutive ones, picks a contiguous slab: a slice.
            "Gather" if first_index == 0 && acts.len() == 1 => {
                let contiguous = self
                    .static_input(site, 1)
                    .and_then(Tensor::ints)
                    .is_some_and(|picks| picks.windows(2).all(|w| w[1] == w[0] + 1));
                if contiguous {
                    same(Op::Slice)
                } else {
                    unknown()
                }
            }
            "Resize" | "Upsample" if first_index == 0 => same(Op::Resize),
            "Transpose" => {
                let perm = permutation(attrs.ints("perm"), first_tensor.dims.len())?;
                let axis = perm.iter().position(|&a| a == first.axis).unwrap_or(0);
                let input = self.cg_shape(&first_tensor.dims, first.axis)?;
                let output = self.cg_shape(&out.dims, axis)?;
                Ok(Lowering::map(
                    Node::new(Op::Transpose, input, output),
                    sources,
                    axis,
                ))
            }
            _ => unknown(),
        }
    }

    /// Elements of `dims` per sample.
    fn per_sample(&self, dims: &[u64]) -> u64 {
        let total = element_count(dims).unwrap_or(u64::MAX);
        match dims.first() {
            Some(&lead) if dims.len() >= 2 && self.batch > 1 && lead % self.batch == 0 => {
                total / self.batch
            }
            _ => total,
        }
    }

    fn unknown(
        &self,
        site: Site,
        acts: &[(usize, Act, &Tensor)],
        out: &Tensor,
    ) -> std::result::Result<Lowering, String> {
        let (_, first, first_tensor) = acts[0];
        let axis = follow_axis(&first_tensor.dims, first.axis, &out.dims);
        let input = self.cg_shape(&first_tensor.dims, first.axis)?;
        let output = self.cg_shape(&out.dims, axis)?;
        let weight = (0..site.inputs.len())
            .filter_map(|i| self.static_input(site, i))
            .find(|t| t.elements().is_some_and(|n| n >= 2))
            .map(|t| t.dims.clone())
            .unwrap_or_default();
        let op = Op::Unknown(op_key(site.text));
        let cg = Node::new(op, input, output).with_weight_shape(weight.to_vec());
        let sources = acts.iter().map(|(_, a, _)| a.draft).collect();
        Ok(Lowering::map(cg, sources, axis))
    }

    fn conv(
        &self,
        site: Site,
        attrs: Attributes,
        acts: &[(usize, Act, &Tensor)],
        out: &Tensor,
    ) -> std::result::Result<Lowering, String> {
        let (index, _, x) = acts[0];
        let weight = self.static_input(site, 1);
        let (Some(w), 0, 1) = (weight, index, acts.len()) else {
            return self.unknown(site, acts, out);
        };
        let has_bias = site.inputs.get(2).is_some_and(Option::is_some);
        let spatial = x.dims.len().saturating_sub(2);
        if !(1..=2).contains(&spatial) {
            let lowering = self.unknown(site, acts, out)?;
            return Ok(lowering.with_bias(has_bias));
        }
        let pair = |name: &str| -> std::result::Result<[u32; 2], String> {
            let values = attrs
                .ints(name)
                .filter(|v| !v.is_empty())
                .unwrap_or(&[1, 1][..spatial]);
            to_pair(values, name)
        };
        let kernel: SmallVec<[i64; 2]> = w.dims[2..].iter().map(|&d| d as i64).collect();
        let kernel = to_pair(&kernel, "kernel")?;
        let groups = u32::try_from(attrs.int_or("group", 1))
            .map_err(|_| "attribute 'group' is out of range")?;
        let input = self.cg_shape(&x.dims, 1)?;
        let output = self.cg_shape(&out.dims, 1)?;
        let op = if groups > 1 && groups == input.c {
            Op::DepthwiseConv
        } else {
            Op::Conv
        };
        let (stride, dilation) = (pair("strides")?, pair("dilations")?);
        let cg = Node::new(op, input, output)
            .with_kernel(kernel[0], kernel[1])
            .with_stride(stride[0], stride[1])
            .with_dilation(dilation[0], dilation[1])
            .with_groups(groups)
            .with_bias(has_bias);
        Ok(Lowering::map(cg, smallvec![acts[0].1.draft], 1))
    }

    fn gemm(
        &self,
        site: Site,
        attrs: Attributes,
        acts: &[(usize, Act, &Tensor)],
        out: &Tensor,
    ) -> std::result::Result<Lowering, String> {
        let trans_a = attrs.int_or("transA", 0) != 0;
        let has_bias = site.inputs.get(2).is_some_and(Option::is_some);
        let a = self.input(site, 0).ok_or("input 0 is missing")?;
        let (rows, k) = if trans_a {
            (a.dims[1], a.dims[0])
        } else {
            (a.dims[0], a.dims[1])
        };
        let rows = if self.batch > 1 && rows % self.batch == 0 {
            rows / self.batch
        } else {
            rows
        };
        let input = self.cg_shape(&[rows, k], 1)?;
        let output = self.cg_shape(&out.dims, 1)?;
        let sources: DraftIds = acts.iter().map(|(_, a, _)| a.draft).collect();
        let linear = acts.len() == 1 && acts[0].0 == 0 && !trans_a;
        let op = if linear { Op::Linear } else { Op::MatMul };
        Ok(Lowering::map(
            Node::new(op, input, output).with_bias(has_bias && linear),
            sources,
            1,
        ))
    }

    fn matmul(
        &self,
        site: Site,
        acts: &[(usize, Act, &Tensor)],
        out: &Tensor,
    ) -> std::result::Result<Lowering, String> {
        let a = self.input(site, 0).ok_or("input 0 is missing")?;
        let b = self.input(site, 1).ok_or("input 1 is missing")?;
        let a_last = a.dims.len().saturating_sub(1);
        let out_last = out.dims.len().saturating_sub(1);
        let input = self.cg_shape(&a.dims, a_last)?;
        let output = self.cg_shape(&out.dims, out_last)?;
        let sources: DraftIds = acts.iter().map(|(_, a, _)| a.draft).collect();
        let linear = acts.len() == 1 && acts[0].0 == 0 && b.is_static && b.dims.len() == 2;
        let op = if linear { Op::Linear } else { Op::MatMul };
        Ok(Lowering::map(
            Node::new(op, input, output),
            sources,
            out_last,
        ))
    }

    fn pool(
        &self,
        op: &str,
        attrs: Attributes,
        acts: &[(usize, Act, &Tensor)],
        out: &Tensor,
    ) -> std::result::Result<Lowering, String> {
        let (_, act, x) = acts[0];
        let spatial = x.dims.len().saturating_sub(2);
        if !(1..=2).contains(&spatial) {
            return Err(format!("{op} over {spatial} spatial axes is not supported"));
        }
        let pair = |name: &str| -> std::result::Result<[u32; 2], String> {
            let values = attrs
                .ints(name)
                .filter(|v| !v.is_empty())
                .map(<[i64]>::to_vec)
                .unwrap_or(vec![1; spatial]);
            to_pair(&values, name)
        };
        let kernel = pair("kernel_shape")?;
        let stride = pair("strides")?;
        let dilation = pair("dilations")?;
        let input = self.cg_shape(&x.dims, 1)?;
        let output = self.cg_shape(&out.dims, 1)?;
        let cg_op = if op == "MaxPool" {
            Op::MaxPool
        } else {
            Op::AvgPool
        };
        let cg = Node::new(cg_op, input, output)
            .with_kernel(kernel[0], kernel[1])
            .with_stride(stride[0], stride[1])
            .with_dilation(dilation[0], dilation[1]);
        Ok(Lowering::map(cg, smallvec![act.draft], 1))
    }

    /// Clip's bounds, if known: inputs 1 and 2 from opset 11, attributes before.
    fn clip_bounds(&self, site: Site, attrs: Attributes) -> Option<(f64, f64)> {
        if self.model.opset() < 11 {
            let min = attrs.float("min").map_or(f64::NEG_INFINITY, f64::from);
            let max = attrs.float("max").map_or(f64::INFINITY, f64::from);
            return Some((min, max));
        }
        let bound = |index: usize, default: f64| -> Option<f64> {
            match site.inputs.get(index).copied().flatten() {
                None => Some(default),
                Some(_) => self.static_input(site, index)?.uniform_value(),
            }
        };
        Some((bound(1, f64::NEG_INFINITY)?, bound(2, f64::INFINITY)?))
    }

    fn add_outputs(&mut self) -> Result<()> {
        for info in &self.model.graph.output {
            let name = info.name.text();
            let id = self.index.id(name).map_or(usize::MAX, |id| id as usize);
            let Some(tensor) = self.tensors.get(id).and_then(Option::as_ref) else {
                if self.unresolved.get(id).is_some_and(Option::is_some) {
                    self.warnings.push(format!(
                        "graph output '{name}' does not depend on the input data and its shape is unknown; it has no output node"
                    ));
                    continue;
                }
                return Err(Error::parse(format!(
                    "ONNX model: graph output '{name}' is not produced by any node or input"
                )));
            };
            let Some(act) = self.acts[id] else {
                self.warnings.push(format!(
                    "graph output '{name}' does not depend on the input data; it has no output node"
                ));
                continue;
            };
            let shape = self
                .cg_shape(&tensor.dims, act.axis)
                .map_err(|e| Error::parse(format!("ONNX model: graph output '{name}': {e}")))?;
            self.push(Draft::new(
                Node::same_shape(Op::Output, shape).with_name(name),
                smallvec![act.draft],
                "",
            ));
        }
        Ok(())
    }

    fn index_users(&mut self) {
        self.users = vec![DraftIds::new(); self.drafts.len()];
        for (id, draft) in self.drafts.iter().enumerate() {
            for &input in &draft.inputs {
                self.users[input].push(id);
            }
        }
    }

    /// Removes the pieces of a Split that nothing reads: exporters that write a Slice per
    /// piece write none for them.
    fn drop_unread_pieces(&mut self) {
        for (draft, users) in self.drafts.iter_mut().zip(&self.users) {
            if draft.node.op == Op::Slice && users.is_empty() && draft.onnx_op == "Split" {
                draft.alive = false;
            }
        }
    }

    /// Live drafts that read draft `id`, in order.
    fn consumers(&self, id: usize) -> Vec<usize> {
        let mut consumers: Vec<usize> = self.users[id]
            .iter()
            .copied()
            .filter(|&d| self.drafts[d].alive && self.drafts[d].inputs.contains(&id))
            .collect();
        consumers.sort_unstable();
        consumers.dedup();
        consumers
    }

    fn sole_consumer(&self, id: usize) -> Option<usize> {
        match self.consumers(id).as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// Draft `id` if it is a live node created by ONNX op `op` with a uniform static operand
    /// close to `value` and the single activation input.
    fn is_const_op(&self, id: usize, op: &str, value: f64) -> bool {
        let d = &self.drafts[id];
        d.alive
            && d.onnx_op == op
            && d.inputs.len() == 1
            && d.constant
                .and_then(|c| c.uniform)
                .is_some_and(|v| (v - value).abs() <= 1e-4 * value.abs().max(1.0))
    }

    fn is_op(&self, id: usize, op: &str) -> bool {
        self.drafts[id].alive && self.drafts[id].onnx_op == op
    }

    /// Replaces the drafts `absorbed` and `last` by `last` rewritten as `node` reading `input`.
    fn fuse(&mut self, pattern: &str, absorbed: &[usize], last: usize, op: Op, input: usize) {
        let shape = self.drafts[absorbed[0]].node.input;
        let mut members = DraftIds::new();
        for &id in absorbed {
            members.append(&mut self.drafts[id].members);
            self.drafts[id].alive = false;
        }
        let draft = &mut self.drafts[last];
        members.append(&mut draft.members);
        draft.members = members;
        draft.node = Node::same_shape(op, shape).with_name(std::mem::take(&mut draft.node.name));
        draft.inputs = smallvec![input];
        draft.constant = None;
        self.users[input].push(last);
        *self.fused.entry(pattern.to_owned()).or_insert(0) += 1;
    }

    /// GELU exported as `x * 0.5 * (1 + erf(x / sqrt(2)))`, with the 0.5 in any of the three
    /// places PyTorch's exporters put it.
    fn fuse_gelu(&mut self) {
        let sqrt2 = std::f64::consts::SQRT_2;
        for erf in 0..self.drafts.len() {
            if !self.is_op(erf, "Erf") {
                continue;
            }
            let [scaled] = self.drafts[erf].inputs[..] else {
                continue;
            };
            let scaled_ok = (self.is_const_op(scaled, "Div", sqrt2)
                || self.is_const_op(scaled, "Mul", 1.0 / sqrt2))
                && self.sole_consumer(scaled) == Some(erf);
            if !scaled_ok {
                continue;
            }
            let x = self.drafts[scaled].inputs[0];
            let Some(plus) = self
                .sole_consumer(erf)
                .filter(|&p| self.is_const_op(p, "Add", 1.0))
            else {
                continue;
            };
            let Some(next) = self.sole_consumer(plus) else {
                continue;
            };
            let two = |id: usize, a: usize, b: usize| {
                let inputs = &self.drafts[id].inputs;
                self.is_op(id, "Mul")
                    && inputs.len() == 2
                    && inputs.contains(&a)
                    && inputs.contains(&b)
            };
            if two(next, x, plus) {
                // x * (1 + erf) then * 0.5
                if let Some(half) = self
                    .sole_consumer(next)
                    .filter(|&h| self.is_const_op(h, "Mul", 0.5))
                {
                    self.fuse(
                        "gelu (Erf form)",
                        &[scaled, erf, plus, next],
                        half,
                        Op::Gelu,
                        x,
                    );
                }
            } else if self.is_const_op(next, "Mul", 0.5) {
                // (1 + erf) * 0.5 then * x
                if let Some(product) = self.sole_consumer(next).filter(|&m| two(m, x, next)) {
                    self.fuse(
                        "gelu (Erf form)",
                        &[scaled, erf, plus, next],
                        product,
                        Op::Gelu,
                        x,
                    );
                }
            } else {
                // (x * 0.5) * (1 + erf)
                let inputs = self.drafts[next].inputs.clone();
                let half = inputs
                    .iter()
                    .copied()
                    .find(|&h| h != plus && self.is_const_op(h, "Mul", 0.5));
                if let Some(half) = half
                    && self.drafts[half].inputs.as_slice() == [x]
                    && two(next, half, plus)
                    && self.sole_consumer(half) == Some(next)
                {
                    self.fuse(
                        "gelu (Erf form)",
                        &[scaled, erf, plus, half],
                        next,
                        Op::Gelu,
                        x,
                    );
                }
            }
        }
    }

    /// LayerNorm as exported before opset 17: ReduceMean, Sub, Pow(2), ReduceMean, Add(eps),
    /// Sqrt, Div, then an optional Mul(scale) and Add(shift), over the last axis.
    fn fuse_layer_norm(&mut self) {
        for div in 0..self.drafts.len() {
            if !self.is_op(div, "Div") {
                continue;
            }
            let [centered, root] = self.drafts[div].inputs[..] else {
                continue;
            };
            if !self.is_op(centered, "Sub") || !self.is_op(root, "Sqrt") {
                continue;
            }
            let [x, mean] = self.drafts[centered].inputs[..] else {
                continue;
            };
            let [var_eps] = self.drafts[root].inputs[..] else {
                continue;
            };
            let ok_mean = self.drafts[mean].reduces_last_axis
                && self.is_op(mean, "ReduceMean")
                && self.drafts[mean].inputs.as_slice() == [x]
                && self.sole_consumer(mean) == Some(centered);
            let ok_eps = self.is_op(var_eps, "Add")
                && self.drafts[var_eps].inputs.len() == 1
                && self.drafts[var_eps].constant.is_some();
            if !ok_mean
                || !ok_eps
                || self.sole_consumer(root) != Some(div)
                || self.sole_consumer(var_eps) != Some(root)
            {
                continue;
            }
            let [variance] = self.drafts[var_eps].inputs[..] else {
                continue;
            };
            let ok_var = self.is_op(variance, "ReduceMean")
                && self.drafts[variance].reduces_last_axis
                && self.sole_consumer(variance) == Some(var_eps);
            if !ok_var {
                continue;
            }
            let [square] = self.drafts[variance].inputs[..] else {
                continue;
            };
            let mut centered_users = self.consumers(centered);
            centered_users.sort_unstable();
            let mut expected = vec![square, div];
            expected.sort_unstable();
            let ok_square = self.is_const_op(square, "Pow", 2.0)
                && self.drafts[square].inputs.as_slice() == [centered]
                && self.sole_consumer(square) == Some(variance)
                && centered_users == expected;
            if !ok_square {
                continue;
            }
            let channels = u64::from(self.drafts[div].node.output.c);
            let per_channel = |l: &Self, id: usize, op: &str| {
                l.is_op(id, op)
                    && l.drafts[id].inputs.len() == 1
                    && l.drafts[id]
                        .constant
                        .is_some_and(|c| c.elements == channels)
            };
            let mut absorbed = vec![mean, centered, square, variance, var_eps, root];
            let mut last = div;
            let mut affine = false;
            if let Some(scale) = self
                .sole_consumer(div)
                .filter(|&s| per_channel(self, s, "Mul"))
            {
                absorbed.push(last);
                last = scale;
                affine = true;
                if let Some(shift) = self
                    .sole_consumer(scale)
                    .filter(|&s| per_channel(self, s, "Add"))
                {
                    absorbed.push(last);
                    last = shift;
                }
            }
            // The fused node's shape is the Sub's view of x.
            absorbed.swap(0, 1);
            self.fuse("layer_norm (decomposed)", &absorbed, last, Op::LayerNorm, x);
            self.drafts[last].node.has_bias = affine;
        }
    }

    /// SiLU exported as `x * sigmoid(x)`.
    fn fuse_silu(&mut self) {
        for mul in 0..self.drafts.len() {
            if let Some((x, gate)) = self.self_gated(mul, &Op::Sigmoid) {
                self.fuse("silu (x * sigmoid(x))", &[gate], mul, Op::Silu, x);
            }
        }
    }

    /// `(x, gate)` if draft `mul` is a Mul of two activations, `x` and `gate`, where `gate`
    /// is a live draft of op `gate_op` that reads `x` alone, only `mul` reads, and whose input
    /// has the product's shape: `x * gate(x)`.
    fn self_gated(&self, mul: usize, gate_op: &Op) -> Option<(usize, usize)> {
        if !self.is_op(mul, "Mul") {
            return None;
        }
        let [a, b] = self.drafts[mul].inputs[..] else {
            return None;
        };
        [(a, b), (b, a)].into_iter().find(|&(x, gate)| {
            let draft = &self.drafts[gate];
            draft.alive
                && &draft.node.op == gate_op
                && draft.inputs.as_slice() == [x]
                && self.sole_consumer(gate) == Some(mul)
                && draft.node.input == self.drafts[mul].node.output
        })
    }

    /// Whether draft `id` scales its one input by 1/6 (a Div by 6 or a Mul by 1/6).
    fn is_sixth(&self, id: usize) -> bool {
        self.is_const_op(id, "Div", 6.0) || self.is_const_op(id, "Mul", 1.0 / 6.0)
    }

    /// `(x, shift)` if draft `r6` is `relu6(x + 3)` read by `reader` alone, `shift` being the
    /// draft that adds 3 and that only `r6` reads.
    fn relu6_of_x_plus_3(&self, r6: usize, reader: usize) -> Option<(usize, usize)> {
        let draft = &self.drafts[r6];
        if !draft.alive || draft.node.op != Op::Relu6 || self.sole_consumer(r6) != Some(reader) {
            return None;
        }
        let [shift] = draft.inputs[..] else {
            return None;
        };
        if !self.is_const_op(shift, "Add", 3.0) || self.sole_consumer(shift) != Some(r6) {
            return None;
        }
        let [x] = self.drafts[shift].inputs[..] else {
            return None;
        };
        Some((x, shift))
    }

    /// Hard sigmoid exported as `relu6(x + 3) / 6` or `relu6(x + 3) * (1/6)`, as Paddle
    /// and TensorFlow write MobileNetV3's.
    fn fuse_hard_sigmoid(&mut self) {
        for scale in 0..self.drafts.len() {
            if !self.is_sixth(scale) {
                continue;
            }
            let [r6] = self.drafts[scale].inputs[..] else {
                continue;
            };
            if let Some((x, shift)) = self.relu6_of_x_plus_3(r6, scale) {
                let pattern = "hardsigmoid (relu6(x + 3) / 6)";
                self.fuse(pattern, &[shift, r6], scale, Op::HardSigmoid, x);
            }
        }
    }

    /// Hard swish exported as `x * hardsigmoid(x)` (PyTorch before opset 14, and the hard
    /// sigmoids fused above) or as `x * relu6(x + 3) / 6` (Paddle).
    fn fuse_hard_swish(&mut self) {
        for last in 0..self.drafts.len() {
            if let Some((x, gate)) = self.self_gated(last, &Op::HardSigmoid) {
                let pattern = "hardswish (x * hardsigmoid(x))";
                self.fuse(pattern, &[gate], last, Op::HardSwish, x);
                continue;
            }
            if !self.is_sixth(last) {
                continue;
            }
            let [product] = self.drafts[last].inputs[..] else {
                continue;
            };
            if !self.is_op(product, "Mul") || self.sole_consumer(product) != Some(last) {
                continue;
            }
            let [a, b] = self.drafts[product].inputs[..] else {
                continue;
            };
            for (x, r6) in [(a, b), (b, a)] {
                if let Some((source, shift)) = self.relu6_of_x_plus_3(r6, product)
                    && source == x
                    && self.drafts[shift].node.input == self.drafts[last].node.output
                {
                    let pattern = "hardswish (x * relu6(x + 3) / 6)";
                    self.fuse(pattern, &[shift, r6, product], last, Op::HardSwish, x);
                    break;
                }
            }
        }
    }

    /// A per-channel static Add right after a bias-free convolution or linear layer whose
    /// output nothing else reads is that layer's bias (PyTorch exports `nn.Linear` on
    /// 3-D and 4-D inputs as MatMul + Add).
    fn fuse_bias(&mut self) {
        for add in 0..self.drafts.len() {
            if !self.is_op(add, "Add") || self.drafts[add].inputs.len() != 1 {
                continue;
            }
            let layer = self.drafts[add].inputs[0];
            let node = &self.drafts[layer].node;
            let fits = matches!(node.op, Op::Conv | Op::DepthwiseConv | Op::Linear)
                && !node.has_bias
                && node.output == self.drafts[add].node.output
                && self.drafts[add]
                    .constant
                    .is_some_and(|c| c.elements == u64::from(node.output.c));
            if !fits || self.sole_consumer(layer) != Some(add) {
                continue;
            }
            let mut members = std::mem::take(&mut self.drafts[add].members);
            self.drafts[add].alive = false;
            self.drafts[layer].members.append(&mut members);
            self.drafts[layer].node.has_bias = true;
            let readers = std::mem::take(&mut self.users[add]);
            for &reader in &readers {
                for input in &mut self.drafts[reader].inputs {
                    if *input == add {
                        *input = layer;
                    }
                }
            }
            self.users[layer].extend(readers);
            *self
                .fused
                .entry("bias add into conv/linear".to_owned())
                .or_insert(0) += 1;
        }
    }

    /// The live drafts as nodes and edges, the report, and the tensors.
    #[allow(clippy::type_complexity)]
    fn finish(
        self,
    ) -> (
        Vec<Node>,
        Vec<(usize, usize)>,
        ImportReport,
        Vec<Option<Tensor>>,
    ) {
        // Count per (domain, op type) first, then spell the keys once each.
        let onnx_nodes = &self.model.graph.node;
        let key = |position: usize| {
            let text = self.index.text(position);
            OpKey(text.domain, text.op)
        };
        let mut counts: HashMap<OpKey, OpCounts> = HashMap::with_capacity(64);
        for (position, fate) in self.fates.iter().enumerate() {
            if *fate == Fate::Folded {
                counts.entry(key(position)).or_default().folded += 1;
            }
        }
        // An ONNX node counts once, even where it became several nodes (a Split's pieces).
        let mut counted = vec![false; onnx_nodes.len()];
        for draft in self.drafts.iter().filter(|d| d.alive) {
            let unknown = matches!(draft.node.op, Op::Unknown(_));
            for &member in &draft.members {
                if std::mem::replace(&mut counted[member], true) {
                    continue;
                }
                let entry = counts.entry(key(member)).or_default();
                if unknown {
                    entry.unknown += 1;
                } else {
                    entry.mapped += 1;
                }
            }
        }
        let mut ops: BTreeMap<String, OpCounts> = BTreeMap::new();
        for (OpKey(domain, op), c) in counts {
            let key = match domain {
                "" | "ai.onnx" => op.to_owned(),
                domain => format!("{domain}:{op}"),
            };
            let entry = ops.entry(key).or_default();
            entry.mapped += c.mapped;
            entry.folded += c.folded;
            entry.unknown += c.unknown;
        }
        let report = ImportReport {
            opset: self.model.opset(),
            onnx_nodes: onnx_nodes.len(),
            cg_nodes: 0,
            cg_edges: 0,
            ops,
            fused: self.fused,
            warnings: self.warnings,
        };
        let mut ids = vec![usize::MAX; self.drafts.len()];
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for (index, draft) in self.drafts.into_iter().enumerate() {
            if !draft.alive {
                continue;
            }
            ids[index] = nodes.len();
            for &input in &draft.inputs {
                edges.push((ids[input], nodes.len()));
            }
            nodes.push(draft.node);
        }
        (nodes, edges, report, self.tensors)
    }
}

/// A node's domain and op type as a map key, compared byte by byte: they are a few bytes
/// long, for which a call to `memcmp` (what `str` equality does) costs more than the
/// comparison itself, once per ONNX node.
#[derive(Clone, Copy, Hash)]
struct OpKey<'m>(&'m str, &'m str);

impl PartialEq for OpKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        let same =
            |a: &str, b: &str| a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y);
        same(self.0, other.0) && same(self.1, other.1)
    }
}

impl Eq for OpKey<'_> {}

impl<'m> Draft<'m> {
    fn new(node: Node, inputs: DraftIds, onnx_op: &'m str) -> Draft<'m> {
        Draft {
            node,
            inputs,
            members: DraftIds::new(),
            onnx_op,
            constant: None,
            reduces_last_axis: false,
            alive: true,
        }
    }
}

/// What one ONNX node becomes.
enum Lowering {
    /// No node: the output is input `input`'s activation, its channels on `axis` (or
    /// wherever [`follow_axis`] puts them).
    Fold {
        input: usize,
        axis: Option<usize>,
    },
    Map(Box<Mapped>),
    /// One node per output, in output order (a Split's pieces).
    PerOutput(Vec<Mapped>),
}

struct Mapped {
    node: Node,
    inputs: DraftIds,
    axis: usize,
    constant: Option<Constant>,
    reduces_last_axis: bool,
}

impl Mapped {
    fn new(node: Node, inputs: DraftIds, axis: usize) -> Mapped {
        Mapped {
            node,
            inputs,
            axis,
            constant: None,
            reduces_last_axis: false,
        }
    }
}

impl Lowering {
    fn map(node: Node, inputs: DraftIds, axis: usize) -> Lowering {
        Lowering::Map(Box::new(Mapped::new(node, inputs, axis)))
    }

    fn with_bias(self, has_bias: bool) -> Lowering {
        match self {
            Lowering::Map(mut mapped) => {
                mapped.node.has_bias = has_bias;
                Lowering::Map(mapped)
            }
            fold => fold,
        }
    }
}

/// The channel axis of a fresh tensor of rank `rank`: NCHW-like layouts for 4-D and 5-D
/// inputs, the last axis (features) otherwise.
fn default_axis(rank: usize) -> usize {
    match rank {
        0 | 1 => 0,
        4 | 5 => 1,
        _ => rank - 1,
    }
}

/// Where the channel axis of an input (`dims`, channels on `axis`) lands in an output of
/// dimensions `out` produced by a layout change: the output axis that keeps both the
/// channel size and everything before it, else channels-first stays first and anything
/// else goes last.
fn follow_axis(dims: &[u64], axis: usize, out: &[u64]) -> usize {
    match out.len() {
        0 => return 0,
        1 | 2 => return out.len() - 1,
        n if n == dims.len() => return axis.min(n - 1),
        _ => {}
    }
    if axis < dims.len() {
        let before = element_count(&dims[..axis]);
        for j in 0..out.len() {
            if out[j] == dims[axis] && element_count(&out[..j]) == before {
                return j;
            }
        }
    }
    if axis == 1 { 1 } else { out.len() - 1 }
}

fn to_pair(values: &[i64], what: &str) -> std::result::Result<[u32; 2], String> {
    let fit = |v: i64| {
        u32::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("{what} value {v} is out of range"))
    };
    match values {
        [a] => Ok([fit(*a)?, 1]),
        [a, b] => Ok([fit(*a)?, fit(*b)?]),
        _ => Err(format!(
            "{what} has {} values; 1 or 2 expected",
            values.len()
        )),
    }
}

fn describe(dims: &[Option<i64>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "?".to_owned(), |v| v.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}
