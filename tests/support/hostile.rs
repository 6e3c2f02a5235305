//! Hostile inputs of issue #28, generated: ONNX models written byte by byte on the protobuf
//! wire, independently of the library's decoder (empty elements by the million, which no
//! exporter writes), and graph JSON.

// Each test binary that includes this file uses some of it.
#![allow(dead_code)]

/// A varint.
pub fn varint(mut value: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    while value >= 0x80 {
        bytes.push(value as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
    bytes
}

/// A length-delimited field `number` holding `payload`.
pub fn field(number: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = varint(number << 3 | 2);
    bytes.extend(varint(payload.len() as u64));
    bytes.extend_from_slice(payload);
    bytes
}

/// A `ModelProto` declaring opset 17 around the `GraphProto` bytes `graph`.
pub fn model(graph: &[u8]) -> Vec<u8> {
    let opset = [field(1, b""), vec![0x10, 17]].concat();
    [field(8, &opset), field(7, graph)].concat()
}

/// A `NodeProto` of `op` reading `inputs` and writing `outputs`.
pub fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for input in inputs {
        bytes.extend(field(1, input.as_bytes()));
    }
    for output in outputs {
        bytes.extend(field(2, output.as_bytes()));
    }
    bytes.extend(field(4, op.as_bytes()));
    bytes
}

/// A graph input `name` of float elements and dimensions `dims` (a `ValueInfoProto`).
pub fn float_input(name: &str, dims: &[u64]) -> Vec<u8> {
    let shape: Vec<u8> = dims
        .iter()
        .flat_map(|&dim| field(1, &[vec![0x08], varint(dim)].concat()))
        .collect();
    let tensor = [vec![0x08, 1], field(2, &shape)].concat();
    let info = [field(1, name.as_bytes()), field(2, &field(1, &tensor))].concat();
    field(11, &info)
}

/// A graph output `name` (a `ValueInfoProto` with no type).
pub fn output(name: &str) -> Vec<u8> {
    field(12, &field(1, name.as_bytes()))
}

/// `x` of 1x8 read by `readers` Relu nodes, the first of them the graph's output: a fan-out
/// of one tensor.
pub fn fan_out(readers: usize) -> Vec<u8> {
    let mut graph = float_input("x", &[1, 8]);
    for reader in 0..readers {
        graph.extend(field(1, &node("Relu", &["x"], &[&format!("y{reader}")])));
    }
    graph.extend(output("y0"));
    model(&graph)
}

/// A chain of `n` relu nodes as graph JSON, listed output-first: every edge goes from a
/// higher id to a lower one, so that an order kept edge by edge moves the whole chain
/// built so far for every edge.
pub fn reversed_chain_json(n: usize) -> String {
    let nodes: Vec<String> = (0..n)
        .map(|id| format!(r#"{{"id":{id},"op":"relu","input":[1,1,1],"output":[1,1,1]}}"#))
        .collect();
    let edges: Vec<String> = (1..n).map(|id| format!("[{id},{}]", id - 1)).collect();
    format!(
        r#"{{"format":"cgpredict-graph","version":1,"nodes":[{}],"edges":[{}]}}"#,
        nodes.join(","),
        edges.join(",")
    )
}
