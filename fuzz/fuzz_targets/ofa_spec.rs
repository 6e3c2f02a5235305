//! Bytes into the OFA MobileNetV3 generator: 20 kernel sizes, 20 expand ratios, 5 depths,
//! then the resolution as a little-endian u16 (absent bytes read as 0).
#![no_main]

use cgpredict::import::ofa::ofa_mbv3;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let (ks, rest) = bytes.split_at(bytes.len().min(20));
    let (e, rest) = rest.split_at(rest.len().min(20));
    let (d, rest) = rest.split_at(rest.len().min(5));
    let resolution = u32::from(rest.first().copied().unwrap_or(0))
        | u32::from(rest.get(1).copied().unwrap_or(0)) << 8;
    if let Ok(graph) = ofa_mbv3(ks, e, d, resolution) {
        cgpredict_fuzz::check_graph(&graph);
    }
});
