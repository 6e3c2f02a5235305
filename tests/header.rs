//! The committed C header must be exactly what cbindgen generates from the sources.

#[test]
fn committed_header_matches_cbindgen_output() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/cgpredict.h"));
    let committed = include_str!("../include/cgpredict.h");
    assert!(
        generated == committed,
        "include/cgpredict.h is stale: run `CGP_UPDATE_HEADER=1 cargo build` and commit it"
    );
}
