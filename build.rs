//! Build steps: the C header from the Rust sources (cbindgen), Rust types for the ONNX
//! protobuf schema (prost-build with protox, so no `protoc` is needed), the shared library's
//! SONAME, and the bundled default model: when `models/cgpredict-default.onnx` exists, the cfg
//! `cgp_bundled_model` is set and `src/runtime/bundled.rs` compiles the file into the library.
//!
//! The header lands in `$OUT_DIR/cgpredict.h`; `tests/header.rs` fails when the committed
//! `include/cgpredict.h` differs from it. `CGP_UPDATE_HEADER=1 cargo build` refreshes the
//! committed copy.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CGP_UPDATE_HEADER");
    generate_header();
    compile_onnx_proto();
    set_soname();
    detect_bundled_model();
}

/// Sets `cgp_bundled_model` when the trainer's default model is in the source tree.
fn detect_bundled_model() {
    println!("cargo::rustc-check-cfg=cfg(cgp_bundled_model)");
    // The directory, not the file: cargo reruns a build script on every build while a file it
    // watches is missing. Adding, replacing or removing the model changes the directory.
    println!("cargo:rerun-if-changed=models");
    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    if crate_dir.join("models/cgpredict-default.onnx").is_file() {
        println!("cargo:rustc-cfg=cgp_bundled_model");
    }
}

/// Names the shared library `libcgpredict.so.MAJOR` in its ELF SONAME (`.so.0.MINOR` before
/// 1.0, where a minor release may change the ABI), so that programs linked against it keep
/// working across compatible releases. `make install` reads the SONAME back to name the links.
fn set_soname() {
    let family = env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let apple = env::var("CARGO_CFG_TARGET_VENDOR").is_ok_and(|vendor| vendor == "apple");
    if !family.split(',').any(|f| f == "unix") || apple {
        return;
    }
    let part = |name: &str| {
        env::var(format!("CARGO_PKG_VERSION_{name}")).expect("cargo sets the package version")
    };
    let abi = match part("MAJOR").as_str() {
        "0" => format!("0.{}", part("MINOR")),
        major => major.to_owned(),
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcgpredict.so.{abi}");
}

fn generate_header() {
    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let version = |part: &str| {
        env::var(format!("CARGO_PKG_VERSION_{part}")).expect("cargo sets the package version")
    };
    config.after_includes = Some(format!(
        "\n/** Version of this header; compare with cgp_version() at run time. */\n\
         #define CGP_VERSION_MAJOR {}\n\
         /** Minor version of this header. */\n\
         #define CGP_VERSION_MINOR {}\n\
         /** Patch version of this header. */\n\
         #define CGP_VERSION_PATCH {}\n\
         /** The version of this header as a string. */\n\
         #define CGP_VERSION_STRING \"{}\"",
        version("MAJOR"),
        version("MINOR"),
        version("PATCH"),
        env::var("CARGO_PKG_VERSION").expect("cargo sets the package version"),
    ));
    let bindings = cbindgen::Builder::new()
        // Only the ffi module: the rest of the crate's public items are not part of the C ABI.
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen can read the C ABI in src/ffi");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings.write_to_file(out_dir.join("cgpredict.h"));
    if env::var_os("CGP_UPDATE_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("include/cgpredict.h"));
    }
}

/// Generates `onnx.rs` in `OUT_DIR` from the vendored `proto/onnx.proto` (the whole schema, to
/// write models), and `onnx_read.rs` from `proto/onnx_read.proto` (what import decodes, with
/// every string and bytes field as `Bytes`: slices of the file's buffer, not copies), with
/// protox as the protobuf compiler so that building needs no `protoc` on the machine.
fn compile_onnx_proto() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    println!("cargo:rerun-if-changed=proto/onnx_read.proto");
    let descriptors = protox::compile(["onnx.proto"], ["proto"])
        .unwrap_or_else(|error| panic!("proto/onnx.proto does not compile: {error}"));
    prost_build::Config::new()
        .compile_fds(descriptors)
        .unwrap_or_else(|error| panic!("generating Rust types for onnx.proto failed: {error}"));
    let descriptors = protox::compile(["onnx_read.proto"], ["proto"])
        .unwrap_or_else(|error| panic!("proto/onnx_read.proto does not compile: {error}"));
    prost_build::Config::new()
        .bytes(["."])
        // Boxed, an attribute is a fifth of its size otherwise, and nodes move fewer bytes
        // when their attribute lists grow while decoding.
        .boxed(".onnx_read.AttributeProto.t")
        .compile_fds(descriptors)
        .unwrap_or_else(|error| {
            panic!("generating Rust types for onnx_read.proto failed: {error}")
        });
}
