//! Text into the NAS-Bench-201 arch-string parser and generator.
#![no_main]

use cgpredict::import::Nb201Arch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(arch) = text.parse::<Nb201Arch>()
    {
        let graph = arch.to_graph(10, 32).expect("a parsed cell builds");
        cgpredict_fuzz::check_graph(&graph);
    }
});
