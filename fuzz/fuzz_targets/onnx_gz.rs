//! Bytes as an ONNX file (`.onnx` or `.onnx.gz`) to the file importer, under tight limits so
//! that an inflation bomb meets `max_onnx_bytes`: any file gives a graph or an error. Input
//! starting with 0 is gzip-compressed here first (the rest, as a model), so that the
//! inflated model is fuzzed through the gzip path too; other input is the file as it is.
#![no_main]

use std::io::Write;
use std::path::PathBuf;
use std::sync::LazyLock;

use cgpredict::graph::Limits;
use cgpredict::import::onnx::{ImportOptions, graph_from_onnx_file_with};
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for every input.
static PATH: LazyLock<PathBuf> = LazyLock::new(|| {
    std::env::temp_dir().join(format!("cgp-fuzz-onnx-gz-{}.onnx", std::process::id()))
});

fuzz_target!(|bytes: &[u8]| {
    let file = match bytes.split_first() {
        Some((0, model)) => {
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gzip.write_all(model).unwrap();
            gzip.finish().unwrap()
        }
        _ => bytes.to_vec(),
    };
    std::fs::write(&*PATH, file).unwrap();
    let options = ImportOptions {
        limits: Limits {
            max_onnx_bytes: 16 << 20,
            ..Limits::DEFAULT
        },
        ..ImportOptions::default()
    };
    if let Ok((graph, _)) = graph_from_onnx_file_with(&PATH, &options) {
        cgpredict_fuzz::check_graph(&graph);
    }
});
