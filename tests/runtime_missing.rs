//! A missing or unusable ONNX Runtime library gives a runtime error saying how to fix it. Its
//! own test binary: a process keeps the first runtime it loads, so no test here loads one.

use std::path::PathBuf;

use cgpredict::ErrorKind;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};

fn open_with_runtime(runtime: PathBuf) -> cgpredict::Error {
    let options = PredictorOptions {
        model: Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtime/good.onnx"),
        ),
        device: Device::Cpu,
        runtime: Some(runtime),
        ..PredictorOptions::default()
    };
    Predictor::open(&options).err().expect("no usable runtime")
}

#[test]
fn a_missing_library_is_a_runtime_error_with_the_fix() {
    let error = open_with_runtime(PathBuf::from("/nonexistent/libonnxruntime.so"));
    assert_eq!(error.kind, ErrorKind::Runtime, "{error}");
    assert!(
        error.message.contains("/nonexistent/libonnxruntime.so"),
        "{error}"
    );
    assert!(
        error.message.contains("scripts/fetch-onnxruntime.sh"),
        "{error}"
    );
    assert!(error.message.contains("ORT_DYLIB_PATH"), "{error}");
}

#[test]
fn a_file_that_is_not_a_library_is_a_runtime_error_with_the_fix() {
    let not_a_library = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let error = open_with_runtime(not_a_library);
    assert_eq!(error.kind, ErrorKind::Runtime, "{error}");
    assert!(
        error.message.contains("cannot load ONNX Runtime"),
        "{error}"
    );
    assert!(error.message.contains("Cargo.toml"), "{error}");
    assert!(
        error.message.contains("scripts/fetch-onnxruntime.sh"),
        "{error}"
    );
}
