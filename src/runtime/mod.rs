//! The predictor runtime: cgpredict model files run by ONNX Runtime.
//!
//! # Model files
//!
//! A model file is an ONNX model with the inputs and outputs of the feature schema
//! ([`crate::features`]): inputs `node_features` (f32 `[N, F]`), `edge_index` (i64 `[2, E]`),
//! `graph_index` (i64 `[N]`), `graph_features` (f32 `[B, G]`); outputs `score` (f32 `[B]`,
//! higher = better predicted accuracy) and `embedding` (f32 `[B, D]`).
//!
//! It carries these metadata properties (ONNX `ModelProto.metadata_props`), all required;
//! loading refuses a model whose properties are missing or do not match this build:
//!
//! | key | value |
//! |---|---|
//! | `cgpredict.schema_version` | [`crate::features::SCHEMA_VERSION`] in decimal (`"1"`) |
//! | `cgpredict.op_vocabulary` | [`crate::features::op_vocabulary`] joined with `,` (no spaces) |
//! | `cgpredict.embedding_dim` | `D`, the width of `embedding`, in decimal |
//!
//! These keys are stable: the trainer writes them and this module reads them.
//!
//! # ONNX Runtime
//!
//! The shared library is loaded at run time (see [`loader`]): `scripts/fetch-onnxruntime.sh`
//! puts it in a cache that the library searches after an explicit path and `ORT_DYLIB_PATH`.
//!
//! Graphs are put in canonical form ([`crate::graph::canonicalize`]) before featurizing.

pub mod adapt;
pub mod default_model;
pub mod loader;
mod predictor;

pub use default_model::{MODEL_ENV, has_bundled_model};
pub use predictor::{DEFAULT_MAX_MODEL_BYTES, Device, Predictor, PredictorOptions};

/// Metadata key of the feature schema version the model was trained on.
pub const META_SCHEMA_VERSION: &str = "cgpredict.schema_version";

/// Metadata key of the op vocabulary (comma-joined) the model was trained on.
pub const META_OP_VOCABULARY: &str = "cgpredict.op_vocabulary";

/// Metadata key of the embedding width `D`.
pub const META_EMBEDDING_DIM: &str = "cgpredict.embedding_dim";

/// Metadata key of the number of ensemble members M (optional, 1 when absent): the model's
/// score is their mean and its embedding theirs side by side, `D / M` each.
pub const META_MEMBERS: &str = "cgpredict.members";
