//! Text into the NAS-Bench-101 spec reader: the adjacency JSON, a newline, the ops JSON.
#![no_main]

use cgpredict::import::Nb101Spec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Some((adjacency, ops)) = text.split_once('\n') else {
        return;
    };
    for spec in [
        Nb101Spec::from_json(adjacency, ops),
        Nb101Spec::pruned_from_json(adjacency, ops),
    ]
    .into_iter()
    .flatten()
    {
        let graph = spec.to_graph().expect("a checked spec builds");
        cgpredict_fuzz::check_graph(&graph);
        let canonical = spec
            .canonical()
            .to_graph()
            .expect("a canonical spec builds");
        cgpredict_fuzz::check_graph(&canonical);
    }
});
