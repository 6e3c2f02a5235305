//! Resource limits on untrusted input: how large a graph a reader or importer builds and how
//! large an ONNX file it reads, so that a hostile or broken file fails with an error instead
//! of exhausting memory.

use crate::error::{Error, Result};

/// Bounds checked by [`crate::Graph::from_json_with_limits`] and the ONNX importer
/// ([`crate::import::onnx::ImportOptions::limits`]) before they build anything. Exceeding one
/// is an [`crate::ErrorKind::Unsupported`] error naming the limit and the value found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most nodes in one graph (for ONNX, also the most nodes in the model's graph).
    pub max_nodes: usize,
    /// Most edges in one graph.
    pub max_edges: usize,
    /// Most bytes of an ONNX model (after gzip inflation, for a compressed file).
    pub max_onnx_bytes: u64,
}

impl Limits {
    /// 1,000,000 nodes, 4,000,000 edges, 2 GiB of ONNX (protobuf's own limit): far above any
    /// real network (the largest torchvision model has under 2,000 CG nodes), small enough
    /// that a graph at the limit fits in about 1 GB.
    pub const DEFAULT: Limits = Limits {
        max_nodes: 1_000_000,
        max_edges: 4_000_000,
        max_onnx_bytes: 2 << 30,
    };

    /// Refuses `count` nodes of `what` beyond `max_nodes`.
    pub(crate) fn check_nodes(&self, what: &str, count: usize) -> Result<()> {
        check(
            "max_nodes",
            self.max_nodes as u64,
            what,
            count as u64,
            "nodes",
        )
    }

    /// Refuses `count` edges of `what` beyond `max_edges`.
    pub(crate) fn check_edges(&self, what: &str, count: usize) -> Result<()> {
        check(
            "max_edges",
            self.max_edges as u64,
            what,
            count as u64,
            "edges",
        )
    }

    /// Refuses `count` bytes of `what` beyond `max_onnx_bytes`.
    pub(crate) fn check_onnx_bytes(&self, what: &str, count: u64) -> Result<()> {
        check("max_onnx_bytes", self.max_onnx_bytes, what, count, "bytes")
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

fn check(limit: &str, max: u64, what: &str, count: u64, unit: &str) -> Result<()> {
    if count > max {
        return Err(Error::unsupported(format!(
            "{what} has {count} {unit}, more than the limit {limit} = {max}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn messages_name_the_limit_and_the_value() {
        let limits = Limits {
            max_nodes: 10,
            ..Limits::DEFAULT
        };
        assert!(limits.check_nodes("the graph", 10).is_ok());
        let error = limits.check_nodes("the graph", 11).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert_eq!(
            error.message,
            "the graph has 11 nodes, more than the limit max_nodes = 10"
        );
        let error = limits.check_edges("the graph", 4_000_001).unwrap_err();
        assert!(error.message.contains("max_edges = 4000000"), "{error}");
        let error = limits.check_onnx_bytes("model.onnx", 3 << 30).unwrap_err();
        assert!(
            error.message.contains("max_onnx_bytes = 2147483648"),
            "{error}"
        );
    }
}
