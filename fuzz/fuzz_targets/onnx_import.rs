//! ONNX bytes into the importer: any bytes give a graph or an error, never a panic. A model
//! that imports is imported again with its first input resized (as a user's input shape
//! would), which drives shape inference through sizes the file never declared.
#![no_main]

use cgpredict::Op;
use cgpredict::import::onnx::{ImportOptions, graph_from_onnx_bytes, graph_from_onnx_bytes_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok((graph, _report)) = graph_from_onnx_bytes(bytes) else {
        return;
    };
    cgpredict_fuzz::check_graph(&graph);
    let Some((_, input)) = graph.nodes().find(|(_, node)| node.op == Op::Input) else {
        return;
    };
    // Sizes 1 to 64 picked by the input's last byte: tiny maps reach every pooling and
    // stride rule's edge cases.
    let pick = u64::from(bytes[bytes.len() - 1]);
    let options = ImportOptions {
        input_shape: Some(vec![
            1,
            u64::from(input.output.c),
            1 + pick % 64,
            1 + (pick / 4) % 64,
        ]),
        ..ImportOptions::default()
    };
    if let Ok((resized, _)) = graph_from_onnx_bytes_with(bytes, &options) {
        cgpredict_fuzz::check_graph(&resized);
    }
});
