//! Build steps: Rust types for the ONNX protobuf schema.

fn main() {
    compile_onnx_proto();
}

/// Generates `onnx.rs` in `OUT_DIR` from the vendored `proto/onnx.proto`, with protox as the
/// protobuf compiler so that building needs no `protoc` on the machine.
fn compile_onnx_proto() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let descriptors = protox::compile(["onnx.proto"], ["proto"])
        .unwrap_or_else(|error| panic!("proto/onnx.proto does not compile: {error}"));
    prost_build::Config::new()
        .compile_fds(descriptors)
        .unwrap_or_else(|error| panic!("generating Rust types for onnx.proto failed: {error}"));
}
