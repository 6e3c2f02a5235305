//! What an ONNX import did with each operator type.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// How the nodes of one ONNX operator type were imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    /// Became (part of) a computation-graph node of the vocabulary.
    pub mapped: usize,
    /// Left no node: shape plumbing (Reshape, Shape, Gather on shapes, ...), identities
    /// (Dropout, Cast, x + 0), and computations on static tensors only (weights, constants).
    pub folded: usize,
    /// Became an `unknown:OP` node, kept in the graph with its edges.
    pub unknown: usize,
}

/// Counts of what happened to every ONNX node during import, per operator type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Version of the default-domain opset the model imports.
    pub opset: i64,
    /// Nodes in the ONNX graph.
    pub onnx_nodes: usize,
    /// Nodes of the resulting computation graph (input and output nodes included).
    pub cg_nodes: usize,
    /// Edges of the resulting computation graph.
    pub cg_edges: usize,
    /// Per ONNX operator type (`domain:Op` outside the default domain).
    pub ops: BTreeMap<String, OpCounts>,
    /// Multi-node patterns recognized and replaced by one node, e.g. `gelu (Erf form)`.
    pub fused: BTreeMap<String, usize>,
    /// Things the caller should know that did not stop the import.
    pub warnings: Vec<String>,
}

impl ImportReport {
    /// Total number of ONNX nodes that became unknown nodes.
    pub fn unknown_total(&self) -> usize {
        self.ops.values().map(|counts| counts.unknown).sum()
    }

    /// The ONNX operator types with at least one unknown node, sorted.
    pub fn unknown_ops(&self) -> Vec<&str> {
        self.ops
            .iter()
            .filter(|(_, counts)| counts.unknown > 0)
            .map(|(op, _)| op.as_str())
            .collect()
    }

    /// The report as a JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an import report always serializes")
    }
}

/// A table: one line per ONNX operator type, then fused patterns and warnings.
impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "ONNX opset {}: {} nodes -> computation graph of {} nodes, {} edges",
            self.opset, self.onnx_nodes, self.cg_nodes, self.cg_edges
        )?;
        let width = self.ops.keys().map(String::len).max().unwrap_or(0).max(7);
        writeln!(
            f,
            "{:<width$}  {:>7}  {:>7}  {:>7}",
            "op type", "mapped", "folded", "unknown"
        )?;
        for (op, counts) in &self.ops {
            writeln!(
                f,
                "{op:<width$}  {:>7}  {:>7}  {:>7}",
                counts.mapped, counts.folded, counts.unknown
            )?;
        }
        for (pattern, count) in &self.fused {
            writeln!(f, "fused: {pattern} x{count}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}
