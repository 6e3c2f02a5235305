//! NAS-Bench-301 (the DARTS search space): genotypes and the CIFAR-10 network they define.
//!
//! A [`Genotype`] names two cells, each 8 `[op, input]` pairs: pairs 2k and 2k+1 feed
//! intermediate node k+2, inputs 0 and 1 are the outputs of the two previous cells and
//! 2..=5 the cell's own intermediate nodes. [`darts`] expands it into the evaluation network
//! that NAS-Bench-301 trained, following the DARTS code (quark0/darts `model.py` and
//! `operations.py`, which NAS-Bench-301's Auto-PyTorch `darts` network copies):
//!
//! - stem: 3x3 conv to 3C channels, BN;
//! - 8 cells, reductions (stride 2, channels doubled) at cells 8/3 = 2 and 16/3 = 5;
//! - each cell first preprocesses its inputs: ReLU-conv1x1-BN, or, when the previous cell
//!   halved the resolution, FactorizedReduce on the older input (ReLU, two stride-2 1x1
//!   convolutions of C/2 channels, the second on the input shifted by one pixel, concat, BN);
//! - intermediate node = sum of its two ops; cell output = concat of the 4 intermediate nodes;
//! - ops: sep_conv = (ReLU, depthwise kxk, pointwise 1x1, BN) twice, the first depthwise
//!   carrying the stride; dil_conv = ReLU, depthwise kxk with dilation 2, pointwise, BN;
//!   pools 3x3 (no BN after them in the evaluation network); skip_connect is FactorizedReduce
//!   where it strides, and otherwise a direct edge from the state into the sum, as in
//!   `nasbench201` (an `identity` node only carries a second skip of the same state, since
//!   an edge cannot be counted twice); in a reduction cell the ops reading inputs 0 and 1
//!   stride;
//! - global average pooling, linear to 10 classes.
//!
//! NAS-Bench-301's configuration (`nasbench301/data_generation/configs/config_*.json`):
//! `init_channels` 32, `layers` 8, `auxiliary` true, `drop_path_prob` 0.2, on 32x32 CIFAR-10.
//! The auxiliary head only adds a training loss and drop path only acts in training, so the
//! graph has neither. Every BatchNorm is affine, as in the DARTS evaluation network.

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Graph, Op, Shape};
use crate::import::builder::{NetBuilder, Tensor};

/// An operation of the NAS-Bench-301 / DARTS evaluation space (DARTS' `none` is not one:
/// NAS-Bench-301 never selects it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DartsOp {
    MaxPool3x3,
    AvgPool3x3,
    SkipConnect,
    SepConv3x3,
    SepConv5x5,
    DilConv3x3,
    DilConv5x5,
}

/// Every [`DartsOp`], in NASLib's compact-encoding order.
pub const DARTS_OPS: [DartsOp; 7] = [
    DartsOp::MaxPool3x3,
    DartsOp::AvgPool3x3,
    DartsOp::SkipConnect,
    DartsOp::SepConv3x3,
    DartsOp::SepConv5x5,
    DartsOp::DilConv3x3,
    DartsOp::DilConv5x5,
];

impl DartsOp {
    /// The genotype spelling (`sep_conv_3x3`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DartsOp::MaxPool3x3 => "max_pool_3x3",
            DartsOp::AvgPool3x3 => "avg_pool_3x3",
            DartsOp::SkipConnect => "skip_connect",
            DartsOp::SepConv3x3 => "sep_conv_3x3",
            DartsOp::SepConv5x5 => "sep_conv_5x5",
            DartsOp::DilConv3x3 => "dil_conv_3x3",
            DartsOp::DilConv5x5 => "dil_conv_5x5",
        }
    }

    /// Reads a genotype spelling; the error lists the accepted ones.
    pub fn from_name(name: &str) -> Result<DartsOp> {
        DARTS_OPS
            .into_iter()
            .find(|op| op.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = DARTS_OPS.iter().map(|op| op.name()).collect();
                Error::invalid(format!(
                    "op {name:?} is not a NAS-Bench-301 operation (expected one of {})",
                    names.join(", ")
                ))
            })
    }
}

/// One of a cell's 8 edges: `op` applied to state `input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellEdge {
    pub op: DartsOp,
    /// 0 and 1: the two previous cells' outputs; 2..=5: the cell's intermediate nodes.
    pub input: u8,
}

/// A DARTS / NAS-Bench-301 genotype: a normal and a reduction cell, checked on construction
/// (each edge reads a state that exists before the node it feeds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Genotype {
    normal: [CellEdge; 8],
    reduce: [CellEdge; 8],
}

/// The genotype JSON document. `*_concat`, when given, must be `[2, 3, 4, 5]` (the only
/// concatenation the space allows), so that DARTS-style genotype dumps are accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenotypeDocument {
    normal: Vec<(String, i64)>,
    reduce: Vec<(String, i64)>,
    normal_concat: Option<Vec<i64>>,
    reduce_concat: Option<Vec<i64>>,
}

impl Genotype {
    /// A genotype from its two cells; refuses an edge whose input is not an earlier state.
    pub fn new(normal: [CellEdge; 8], reduce: [CellEdge; 8]) -> Result<Genotype> {
        for (cell, edges) in [("normal", &normal), ("reduce", &reduce)] {
            for (position, edge) in edges.iter().enumerate() {
                check_input(cell, position, i64::from(edge.input))?;
            }
        }
        Ok(Genotype { normal, reduce })
    }

    /// The normal cell's 8 edges.
    pub fn normal(&self) -> &[CellEdge; 8] {
        &self.normal
    }

    /// The reduction cell's 8 edges.
    pub fn reduce(&self) -> &[CellEdge; 8] {
        &self.reduce
    }

    /// Parses `{"normal": [[op, input], ... 8 pairs], "reduce": [...]}`, optionally with
    /// `"normal_concat"`/`"reduce_concat"` equal to `[2, 3, 4, 5]`.
    pub fn from_json(text: &str) -> Result<Genotype> {
        let document: GenotypeDocument = serde_json::from_str(text)
            .map_err(|error| Error::parse(format!("genotype JSON: {error}")))?;
        for (field, concat) in [
            ("normal_concat", &document.normal_concat),
            ("reduce_concat", &document.reduce_concat),
        ] {
            if concat
                .as_ref()
                .is_some_and(|concat| concat != &[2, 3, 4, 5])
            {
                return Err(Error::parse(format!(
                    "genotype JSON: {field} is {:?}; NAS-Bench-301 cells always concatenate nodes [2, 3, 4, 5]",
                    concat.as_deref().unwrap_or_default()
                )));
            }
        }
        let normal = cell_from_pairs("normal", document.normal);
        let reduce = cell_from_pairs("reduce", document.reduce);
        Ok(Genotype {
            normal: normal.map_err(|error| as_parse_error(error, "genotype JSON"))?,
            reduce: reduce.map_err(|error| as_parse_error(error, "genotype JSON"))?,
        })
    }

    /// Parses the two cells as the NAS-Bench-301 CSV files store them (columns
    /// `genotype_normal`, `genotype_reduce`): each a JSON list of 8 `[op, input]` pairs.
    pub fn from_cells(normal: &str, reduce: &str) -> Result<Genotype> {
        let parse = |cell: &str, text: &str| -> Result<[CellEdge; 8]> {
            let pairs: Vec<(String, i64)> = serde_json::from_str(text)
                .map_err(|error| Error::parse(format!("genotype {cell} cell: {error}")))?;
            cell_from_pairs(cell, pairs).map_err(|error| as_parse_error(error, "genotype"))
        };
        Ok(Genotype {
            normal: parse("normal", normal)?,
            reduce: parse("reduce", reduce)?,
        })
    }
}

fn as_parse_error(error: Error, context: &str) -> Error {
    error.context(context).with_kind(ErrorKind::Parse)
}

/// Checks that edge `position` of a cell reads a state that exists before the node it feeds.
fn check_input(cell: &str, position: usize, input: i64) -> Result<()> {
    let node = position / 2 + 2;
    if (0..node as i64).contains(&input) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{cell}[{position}] (feeding node {node}): input {input} is out of range; \
             node {node} may read states 0..={}",
            node - 1
        )))
    }
}

fn cell_from_pairs(cell: &str, pairs: Vec<(String, i64)>) -> Result<[CellEdge; 8]> {
    let count = pairs.len();
    let edges = pairs
        .into_iter()
        .enumerate()
        .map(|(position, (name, input))| {
            let op = DartsOp::from_name(&name)
                .map_err(|error| error.context(format!("{cell}[{position}]")))?;
            check_input(cell, position, input)?;
            // In range 0..=4 after the check above.
            let input = input as u8;
            Ok(CellEdge { op, input })
        })
        .collect::<Result<Vec<CellEdge>>>()?;
    edges.try_into().map_err(|_| {
        Error::invalid(format!(
            "{cell} has {count} [op, input] pairs; a cell has exactly 8 (two per intermediate node)"
        ))
    })
}

/// The CIFAR-10 evaluation network of `genotype` as NAS-Bench-301 trained it (32 initial
/// channels, 8 cells, 32x32x3 input, 10 classes), expanded into primitive operators.
pub fn darts(genotype: &Genotype) -> Result<Graph> {
    build(genotype, &DartsConfig::NB301)
}

/// The knobs of the DARTS macro-architecture. Only [`DartsConfig::NB301`] is public through
/// [`darts`]; the tests also build the DARTS paper's network and NASLib's variant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DartsConfig {
    /// Channels of a cell's operations in the first stage (`init_channels`).
    pub(crate) channels: u32,
    /// Number of cells.
    pub(crate) layers: u32,
    /// Whether the BatchNorms inside the cells' operations are affine (DARTS' evaluation
    /// network: yes; NASLib's NAS-Bench-301 model: no).
    pub(crate) affine_cell_ops: bool,
    /// Whether a non-affine BatchNorm follows each pool (DARTS' search network and NASLib).
    pub(crate) bn_after_pools: bool,
}

impl DartsConfig {
    /// NAS-Bench-301's training configuration.
    pub(crate) const NB301: DartsConfig = DartsConfig {
        channels: 32,
        layers: 8,
        affine_cell_ops: true,
        bn_after_pools: false,
    };
}

const STEM_MULTIPLIER: u32 = 3;
const CIFAR_RESOLUTION: u32 = 32;
const CIFAR_CLASSES: u32 = 10;

/// Writes the DARTS network into a [`NetBuilder`] under a [`DartsConfig`].
struct Darts<'a> {
    b: NetBuilder,
    config: &'a DartsConfig,
}

impl Darts<'_> {
    fn relu_conv_bn(&mut self, x: Tensor, out_c: u32, name: &str) -> Result<Tensor> {
        let relu = self.b.relu(x, format!("{name}/relu"))?;
        let conv = self.b.conv(relu, out_c, 1, 1, format!("{name}/conv"))?;
        self.b.batch_norm(conv, format!("{name}/bn"))
    }

    /// ReLU, two stride-2 1x1 convolutions of `out_c / 2` channels (the second reads the
    /// input shifted by one pixel, `x[:, :, 1:, 1:]`, which gives the same output size on
    /// the even resolutions met here, so both read the ReLU), concat, BN.
    fn factorized_reduce(
        &mut self,
        x: Tensor,
        out_c: u32,
        affine: bool,
        name: &str,
    ) -> Result<Tensor> {
        let relu = self.b.relu(x, format!("{name}/relu"))?;
        let conv1 = self
            .b
            .conv(relu, out_c / 2, 1, 2, format!("{name}/conv_1"))?;
        let conv2 = self
            .b
            .conv(relu, out_c / 2, 1, 2, format!("{name}/conv_2"))?;
        let concat = self.b.concat(&[conv1, conv2], format!("{name}/concat"))?;
        self.b
            .batch_norm_affine(concat, affine, format!("{name}/bn"))
    }

    /// One cell edge: `op` on `x` (C channels) with the given stride. A stride-1
    /// skip_connect has no node of its own; the caller adds the edge.
    fn cell_op(&mut self, op: DartsOp, x: Tensor, stride: u32, name: &str) -> Result<Tensor> {
        let c = x.shape.c;
        let affine = self.config.affine_cell_ops;
        let name = format!("{name}:{}", op.name());
        match op {
            DartsOp::SkipConnect if stride == 1 => Ok(x),
            DartsOp::SkipConnect => self.factorized_reduce(x, c, affine, &name),
            DartsOp::MaxPool3x3 | DartsOp::AvgPool3x3 => {
                let pool_op = if op == DartsOp::MaxPool3x3 {
                    Op::MaxPool
                } else {
                    Op::AvgPool
                };
                let pool = self.b.pool(pool_op, x, 3, stride, format!("{name}/pool"))?;
                if self.config.bn_after_pools {
                    self.b.batch_norm_affine(pool, false, format!("{name}/bn"))
                } else {
                    Ok(pool)
                }
            }
            DartsOp::SepConv3x3 | DartsOp::SepConv5x5 => {
                let kernel = if op == DartsOp::SepConv3x3 { 3 } else { 5 };
                let mut y = x;
                for (half, half_stride) in [(1, stride), (2, 1)] {
                    y = self.b.relu(y, format!("{name}/relu{half}"))?;
                    y = self.b.depthwise_conv(
                        y,
                        kernel,
                        half_stride,
                        1,
                        format!("{name}/dw{half}"),
                    )?;
                    y = self.b.conv(y, c, 1, 1, format!("{name}/pw{half}"))?;
                    y = self
                        .b
                        .batch_norm_affine(y, affine, format!("{name}/bn{half}"))?;
                }
                Ok(y)
            }
            DartsOp::DilConv3x3 | DartsOp::DilConv5x5 => {
                let kernel = if op == DartsOp::DilConv3x3 { 3 } else { 5 };
                let relu = self.b.relu(x, format!("{name}/relu"))?;
                let dw = self
                    .b
                    .depthwise_conv(relu, kernel, stride, 2, format!("{name}/dw"))?;
                let pw = self.b.conv(dw, c, 1, 1, format!("{name}/pw"))?;
                self.b.batch_norm_affine(pw, affine, format!("{name}/bn"))
            }
        }
    }

    /// One cell of `c` channels per state; returns its output (4c channels).
    fn cell(
        &mut self,
        index: u32,
        edges: &[CellEdge; 8],
        inputs: [Tensor; 2],
        c: u32,
        reduction: bool,
        reduction_prev: bool,
    ) -> Result<Tensor> {
        let name = format!("cell{index}");
        let [s0, s1] = inputs;
        let s0 = if reduction_prev {
            self.factorized_reduce(s0, c, true, &format!("{name}/pre0"))?
        } else {
            self.relu_conv_bn(s0, c, &format!("{name}/pre0"))?
        };
        let s1 = self.relu_conv_bn(s1, c, &format!("{name}/pre1"))?;
        let mut states = vec![s0, s1];
        for (node, pair) in edges.chunks_exact(2).enumerate() {
            let node = node + 2;
            let mut summands: Vec<Tensor> = Vec::with_capacity(2);
            for (slot, edge) in pair.iter().enumerate() {
                let input = usize::from(edge.input);
                let stride = if reduction && input < 2 { 2 } else { 1 };
                let edge_name = format!("{name}/node{node}/edge{slot}");
                let mut out = self.cell_op(edge.op, states[input], stride, &edge_name)?;
                // Two skip_connects of one state would be one edge into the sum, which a
                // graph cannot count twice: the second copy goes through an identity.
                if summands.contains(&out) {
                    out = self.b.unary(
                        Op::Identity,
                        out,
                        format!("{edge_name}:skip_connect/identity"),
                    )?;
                }
                summands.push(out);
            }
            states.push(self.b.add(&summands, format!("{name}/node{node}/add"))?);
        }
        self.b.concat(&states[2..], format!("{name}/concat"))
    }
}

/// Builds the network of `genotype` under `config` (NetworkCIFAR of the DARTS code).
pub(crate) fn build(genotype: &Genotype, config: &DartsConfig) -> Result<Graph> {
    let mut net = Darts {
        b: NetBuilder::new(),
        config,
    };
    let image = Shape::new(CIFAR_RESOLUTION, CIFAR_RESOLUTION, 3);
    let input = net.b.input(image)?;
    let stem_c = STEM_MULTIPLIER * config.channels;
    let stem = net.b.conv(input, stem_c, 3, 1, "stem/conv".into())?;
    let stem = net.b.batch_norm(stem, "stem/bn".into())?;

    let (mut s0, mut s1) = (stem, stem);
    let mut c = config.channels;
    let mut reduction_prev = false;
    for index in 0..config.layers {
        let reduction = index == config.layers / 3 || index == 2 * config.layers / 3;
        if reduction {
            c *= 2;
        }
        let edges = if reduction {
            &genotype.reduce
        } else {
            &genotype.normal
        };
        let out = net.cell(index, edges, [s0, s1], c, reduction, reduction_prev)?;
        (s0, s1) = (s1, out);
        reduction_prev = reduction;
    }

    let pooled = net.b.global_avg_pool(s1, "head/global_avg_pool".into())?;
    let logits = net
        .b
        .linear(pooled, CIFAR_CLASSES, "head/classifier".into())?;
    net.b.output(logits)?;
    Ok(net.b.finish())
}

#[cfg(test)]
mod tests;
