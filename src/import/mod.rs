//! Turning architectures into computation graphs: benchmark specs (NAS-Bench-101/201/301,
//! Once-for-All MobileNetV3) and ONNX files.

mod builder;
pub mod darts;
pub mod dataset;
pub mod nasbench101;
pub mod nasbench201;
pub mod ofa;
pub mod onnx;
pub mod zoo;

pub use nasbench101::{Nb101Op, Nb101Spec, nasbench101};
pub use nasbench201::{Nb201Arch, Nb201Op, nasbench201};
