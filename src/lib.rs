//! cgpredict: predict how well a neural network will perform from its computation graph.
//!
//! The modules follow the pipeline: [`graph`] (the computation graph), [`import`] (benchmark
//! specs and ONNX files into graphs), [`spectral`] (spectral distance), [`features`] (graphs
//! into model inputs), [`runtime`] (prediction with ONNX Runtime), [`metrics`] (rank
//! correlations for evaluation), [`search`] (predictor-guided architecture search), and the C
//! ABI in [`ffi`].

pub mod error;
pub mod features;
pub mod ffi;
mod files;
pub mod graph;
pub mod import;
pub mod metrics;
pub mod runtime;
pub mod search;
pub mod spectral;

pub use error::{Error, ErrorKind, Result};
pub use graph::{Graph, Node, NodeId, Op, Shape};
