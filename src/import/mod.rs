//! Turning architectures into computation graphs: benchmark specs (NAS-Bench-101/201/301,
//! Once-for-All MobileNetV3) and ONNX files.
pub mod onnx;
