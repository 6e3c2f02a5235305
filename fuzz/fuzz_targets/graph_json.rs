//! Text into the CG JSON reader, without limits and with limits picked by the input's
//! length: a graph read within limits is the graph read without them, and a refusal beyond
//! a limit is `Unsupported` naming it.
#![no_main]

use cgpredict::graph::Limits;
use cgpredict::{ErrorKind, Graph};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let unlimited = Graph::from_json(text);
    if let Ok(graph) = &unlimited {
        cgpredict_fuzz::check_graph(graph);
    }
    let limits = Limits {
        max_nodes: 1 + bytes.len() % 7,
        max_edges: 1 + bytes.len() % 11,
        ..Limits::DEFAULT
    };
    match Graph::from_json_with_limits(text, &limits) {
        Ok(graph) => {
            let unlimited = unlimited.expect("a graph read within limits reads without them");
            assert_eq!(graph.to_json(), unlimited.to_json());
        }
        Err(error) if error.kind == ErrorKind::Unsupported => {
            assert!(error.message.contains("the limit max_"), "{error}");
        }
        Err(_) => {}
    }
});
