//! ONNX bytes into the importer: any bytes give a graph or an error, never a panic.
#![no_main]

use cgpredict::import::onnx::graph_from_onnx_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok((graph, _report)) = graph_from_onnx_bytes(bytes) {
        cgpredict_fuzz::check_graph(&graph);
    }
});
