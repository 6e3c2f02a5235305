//! Text into the DARTS / NAS-Bench-301 genotype reader and generator.
#![no_main]

use cgpredict::import::darts::{Genotype, darts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(genotype) = Genotype::from_json(text)
    {
        let graph = darts(&genotype).expect("a parsed genotype builds");
        cgpredict_fuzz::check_graph(&graph);
    }
});
