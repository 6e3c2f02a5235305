//! The `cgpredict` command line (being written).
fn main() {}
