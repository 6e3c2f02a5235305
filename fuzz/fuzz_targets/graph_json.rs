//! Text into the CG JSON reader.
#![no_main]

use cgpredict::Graph;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(graph) = Graph::from_json(text)
    {
        cgpredict_fuzz::check_graph(&graph);
    }
});
