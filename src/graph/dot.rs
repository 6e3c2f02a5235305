//! Graphviz DOT output, for looking at a graph (`cgpredict graph dot G.json | dot -Tsvg`).

use std::fmt::Write;

use super::{Graph, Node};

impl Graph {
    /// The graph in DOT: one box per node labelled with its id, op, sizes and, for
    /// convolutions and pooling, kernel/stride; edges in insertion order.
    pub fn to_dot(&self) -> String {
        let mut dot = String::from(
            "digraph cg {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n",
        );
        for (id, node) in self.nodes() {
            let _ = writeln!(dot, "  n{id} [label=\"{}\"];", escape(&label(id, node)));
        }
        for (from, to) in self.edges() {
            let _ = writeln!(dot, "  n{from} -> n{to};");
        }
        dot.push_str("}\n");
        dot
    }
}

fn label(id: u32, node: &Node) -> String {
    let mut label = format!("{id}: {}", node.op);
    if node.op.is_conv() || node.op.is_windowed_pool() {
        let _ = write!(
            label,
            " {}x{}/{}",
            node.kernel[0], node.kernel[1], node.stride[0]
        );
        if node.groups > 1 {
            let _ = write!(label, " g{}", node.groups);
        }
    }
    let (i, o) = (node.input, node.output);
    let _ = write!(
        label,
        "\n{}x{}x{} -> {}x{}x{}",
        i.h, i.w, i.c, o.h, o.w, o.c
    );
    if !node.name.is_empty() {
        let _ = write!(label, "\n{}", node.name);
    }
    label
}

/// Escapes a label for a double-quoted DOT string; newlines become DOT's `\n`.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::residual_block;

    #[test]
    fn dot_lists_every_node_and_edge() {
        let dot = residual_block().to_dot();
        assert!(dot.starts_with("digraph cg {"));
        assert!(
            dot.contains("n1 [label=\"1: conv 3x3/1\\n32x32x16 -> 32x32x16\"];"),
            "{dot}"
        );
        assert_eq!(dot.matches(" -> n").count(), 9);
        assert!(dot.contains("n0 -> n6;"));
    }
}
