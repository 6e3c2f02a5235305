//! [`Predictor`]: a model file in an ONNX Runtime session pool.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::value::TensorRef;

use super::adapt::{Head, HeadTarget, head_rows};
use super::{META_EMBEDDING_DIM, META_MEMBERS, META_OP_VOCABULARY, META_SCHEMA_VERSION};
use super::{default_model, loader};
use crate::error::{Error, ErrorKind, Result};
use crate::features::{self, Batch, GRAPH_FEATURES, NODE_FEATURES};
use crate::graph::Graph;

/// Where a predictor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// CUDA when ONNX Runtime can use it, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU through ONNX Runtime's CUDA execution provider (cargo feature `cuda`);
    /// opening fails with a runtime error when the provider cannot run: a build without the
    /// feature, an ONNX Runtime without the provider library, missing CUDA or cuDNN libraries,
    /// no driver or no GPU.
    Cuda,
}

impl Device {
    /// The lower-case name used on the command line: `auto`, `cpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

/// How to open a [`Predictor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictorOptions {
    /// The model file; `None` asks for the default model: the file that the `CGPREDICT_MODEL`
    /// environment variable names, else the model compiled into the library (see
    /// [`super::default_model`]).
    pub model: Option<PathBuf>,
    /// Where to run.
    pub device: Device,
    /// ONNX Runtime's shared library; `None` searches `ORT_DYLIB_PATH`, the cache of
    /// `scripts/fetch-onnxruntime.sh`, then the system (see [`loader`]).
    pub runtime: Option<PathBuf>,
    /// Threads one session uses inside an operator. Concurrency across calls comes from the
    /// session pool, so the default is 1.
    pub intra_threads: usize,
    /// The most bytes of a model file ([`DEFAULT_MAX_MODEL_BYTES`] by default); a larger file,
    /// or anything but a regular file, is refused before it is read.
    pub max_model_bytes: u64,
}

/// 256 MiB: some 50 times the default model, and small enough to read into memory anywhere.
pub const DEFAULT_MAX_MODEL_BYTES: u64 = 256 << 20;

impl Default for PredictorOptions {
    fn default() -> PredictorOptions {
        PredictorOptions {
            model: None,
            device: Device::Auto,
            runtime: None,
            intra_threads: 1,
            max_model_bytes: DEFAULT_MAX_MODEL_BYTES,
        }
    }
}

/// A cgpredict model ready to score graphs.
///
/// Thread-safe: `ort` needs exclusive access to a session for a run, so the predictor keeps a
/// pool of sessions over the same model bytes; a call takes a free session (creating one when
/// all are busy) and returns it afterwards, so concurrent calls never wait on each other and
/// the pool grows to the peak number of concurrent calls.
pub struct Predictor {
    environment: Environment,
    model: Cow<'static, [u8]>,
    name: String,
    device: Device,
    intra_threads: usize,
    sessions: Mutex<Vec<Session>>,
    embedding_dim: usize,
    members: usize,
    /// The head [`Predictor::predict`] answers with after adaptation.
    head: Option<Head>,
}

/// What one run of the model gives for a batch of graphs.
#[derive(Default)]
struct ModelRun {
    scores: Vec<f32>,
    /// Row-major `[graphs, embedding_dim]`.
    embeddings: Vec<f32>,
    /// Each graph's log2 MACs and log2 params (`Batch::log_scales`).
    scales: Vec<[f32; 2]>,
}

/// One label per graph.
fn check_labels(graphs: &[&Graph], labels: &[f32]) -> Result<()> {
    if graphs.len() != labels.len() {
        return Err(Error::invalid(format!(
            "{} graphs but {} labels",
            graphs.len(),
            labels.len()
        )));
    }
    Ok(())
}

fn runtime_error(context: impl std::fmt::Display, error: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Runtime, format!("{context}: {error}"))
}

fn model_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Model, message)
}

/// What CUDA needs, said in every CUDA failure.
const CUDA_NEEDS: &str = "CUDA needs cgpredict built with the `cuda` feature, ONNX Runtime from \
                          the onnxruntime-gpu wheel (libonnxruntime_providers_cuda.so beside \
                          libonnxruntime.so), the CUDA 13 and cuDNN 9 libraries on the loader \
                          path, an NVIDIA driver and a GPU; use the CPU otherwise";

impl Predictor {
    /// Opens `options.model`, or the default model when it is `None` (see
    /// [`PredictorOptions::model`]); checks that it is a cgpredict model of this build's
    /// feature schema (see the metadata keys in [`super`]).
    pub fn open(options: &PredictorOptions) -> Result<Predictor> {
        let (model, name) =
            default_model::model_bytes(options.model.as_deref(), options.max_model_bytes)?;
        let context = format!("model {name}");
        Predictor::from_bytes(model, name, options).map_err(|error| error.context(context))
    }

    /// Opens a model given as bytes, checked as [`Predictor::open`] checks a file; `name`
    /// names it in errors, and `options.model` is not read.
    pub fn from_model_bytes(
        model: Vec<u8>,
        name: &str,
        options: &PredictorOptions,
    ) -> Result<Predictor> {
        let context = format!("model {name}");
        Predictor::from_bytes(Cow::Owned(model), name.to_owned(), options)
            .map_err(|error| error.context(context))
    }

    fn from_bytes(
        model: Cow<'static, [u8]>,
        name: String,
        options: &PredictorOptions,
    ) -> Result<Predictor> {
        let environment = loader::ensure_loaded(options.runtime.as_deref())?;
        let intra_threads = options.intra_threads.max(1);
        let session = |device| new_session(&environment, &model, device, intra_threads);
        let (session, device) = match options.device {
            Device::Cpu => (session(Device::Cpu)?, Device::Cpu),
            Device::Cuda => match session(Device::Cuda) {
                Ok(cuda) => (cuda, Device::Cuda),
                Err(error) if error.kind == ErrorKind::Runtime => return Err(error),
                Err(error) => {
                    // The CUDA session refused the model: the CPU tells whether the model or
                    // the CUDA provider is at fault (a model error from the CPU wins).
                    session(Device::Cpu)?;
                    return Err(Error::new(
                        ErrorKind::Runtime,
                        format!(
                            "the CUDA execution provider cannot run the model: {}; {CUDA_NEEDS}",
                            error.message
                        ),
                    ));
                }
            },
            Device::Auto => match session(Device::Cuda) {
                Ok(cuda) => (cuda, Device::Cuda),
                Err(_) => (session(Device::Cpu)?, Device::Cpu),
            },
        };
        let (embedding_dim, members) = check_model(&session, &name)?;
        Ok(Predictor {
            environment,
            model,
            name,
            device,
            intra_threads,
            sessions: Mutex::new(vec![session]),
            embedding_dim,
            members,
            head: None,
        })
    }

    /// The device that runs the model (never [`Device::Auto`]). `Cuda` means that ONNX
    /// Runtime's CUDA execution provider took the session; ONNX Runtime may still place
    /// single operators it has no CUDA kernel for on the CPU.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Where the model came from: its path, or `cgpredict-default.onnx (bundled)`.
    pub fn model_name(&self) -> &str {
        &self.name
    }
    /// The width `D` of the model's embeddings.
    pub fn embedding_dim(&self) -> usize {
        self.embedding_dim
    }

    /// The number of networks the model averages (`cgpredict.members`, 1 for a single
    /// network); its embedding is theirs side by side, `embedding_dim() / members()` each.
    pub fn members(&self) -> usize {
        self.members
    }

    /// One score per graph, higher = better predicted accuracy; the adapted head's score once
    /// [`Predictor::adapt`] was called. Graphs are put in canonical form
    /// ([`crate::graph::canonicalize`]) and all go through the model in one run.
    pub fn predict(&self, graphs: &[&Graph]) -> Result<Vec<f32>> {
        match &self.head {
            Some(head) => Ok(head.predict(&self.head_rows(graphs)?)),
            None => Ok(self.run(graphs)?.scores),
        }
    }

    /// The model's embeddings of `graphs`, row-major `[graphs.len(), embedding_dim()]`, and
    /// the width.
    pub fn embed(&self, graphs: &[&Graph]) -> Result<(Vec<f32>, usize)> {
        Ok((self.run(graphs)?.embeddings, self.embedding_dim))
    }

    /// The model's own scores (never the adapted head's) and its embeddings, row-major
    /// `[graphs.len(), embedding_dim()]`, from one run.
    pub fn score_and_embed(&self, graphs: &[&Graph]) -> Result<(Vec<f32>, Vec<f32>)> {
        let run = self.run(graphs)?;
        Ok((run.scores, run.embeddings))
    }

    /// What an adapted head reads of each graph ([`head_rows`]): its embedding, the model's
    /// score, log2 MACs and log2 params, row-major `[graphs.len(), embedding_dim() +
    /// ROW_EXTRA]` ([`super::adapt::ROW_EXTRA`]).
    pub fn head_rows(&self, graphs: &[&Graph]) -> Result<Vec<f32>> {
        let run = self.run(graphs)?;
        Ok(head_rows(
            &run.embeddings,
            &run.scores,
            &run.scales,
            self.embedding_dim,
        ))
    }

    /// Fits a ridge-regression head on the embeddings and the log MACs and log params of
    /// `graphs` against `labels` (any scale; higher = better), or keeps the model's own score
    /// (rescaled) or least squares on the scale alone where leave-one-out on the labels ranks
    /// better with it, which
    /// [`Predictor::predict`] uses from then on. A new call replaces the head; see
    /// [`super::adapt`].
    pub fn adapt(&mut self, graphs: &[&Graph], labels: &[f32]) -> Result<()> {
        self.head = Some(self.fit_head(graphs, labels, HeadTarget::Labels)?);
        Ok(())
    }

    /// Fits a head for ranking on the embeddings of `graphs`, the model's own scores and the
    /// graphs' log MACs and log params against the **ranks** of `labels` (or the model's own
    /// score or least squares on the scale alone, as [`Predictor::adapt`] chooses; what the
    /// search's scorer fits), which [`Predictor::predict`] uses from then on: only the order
    /// of the labels counts, so a few broken networks cannot dominate the fit, and the
    /// model's score keeps what it knew. Scores are then in rank units. A new call replaces
    /// the head, as [`Predictor::adapt`] does.
    pub fn adapt_ranking(&mut self, graphs: &[&Graph], labels: &[f32]) -> Result<()> {
        self.head = Some(self.fit_head(graphs, labels, HeadTarget::Ranks)?);
        Ok(())
    }

    /// A head on the model's rows for `graphs`, one per member ([`Head`]).
    fn fit_head(&self, graphs: &[&Graph], labels: &[f32], target: HeadTarget) -> Result<Head> {
        check_labels(graphs, labels)?;
        let rows = self.head_rows(graphs)?;
        let labels: Vec<f64> = labels.iter().map(|&label| f64::from(label)).collect();
        Head::fit(&rows, self.embedding_dim, self.members, &labels, target)
    }

    /// Scores and embeddings of the model itself, and each graph's log MACs and log params.
    fn run(&self, graphs: &[&Graph]) -> Result<ModelRun> {
        if graphs.is_empty() {
            return Ok(ModelRun::default());
        }
        // The model saw canonical graphs in training: the same network written in two ways
        // (a folded batch norm, a flatten) must score the same.
        let batch = Batch::of_canonical(graphs);
        let mut session = self.take_session()?;
        let outcome = run_session(&mut session, &batch, self.embedding_dim);
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(session);
        let (scores, embeddings) = outcome?;
        Ok(ModelRun {
            scores,
            embeddings,
            scales: batch.log_scales(),
        })
    }

    fn take_session(&self) -> Result<Session> {
        let free = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match free {
            Some(session) => Ok(session),
            None => new_session(
                &self.environment,
                &self.model,
                self.device,
                self.intra_threads,
            ),
        }
    }
}

fn new_session(
    environment: &Environment,
    model: &[u8],
    device: Device,
    intra_threads: usize,
) -> Result<Session> {
    let fail = |error: ort::Error<_>| runtime_error("cannot set up an ONNX Runtime session", error);
    let mut builder = Session::builder(environment)
        .map_err(|error| runtime_error("cannot create an ONNX Runtime session", error))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(fail)?
        .with_intra_threads(intra_threads)
        .map_err(fail)?;
    if device == Device::Cuda {
        add_cuda(&mut builder)?;
    }
    builder.commit_from_memory(model).map_err(|error| {
        let text = error.to_string();
        if text.contains("Protobuf parsing failed") || text.contains("INVALID_PROTOBUF") {
            model_error(format!("not an ONNX model: {text}"))
        } else {
            Error::new(
                ErrorKind::Model,
                format!("ONNX Runtime refuses the model: {text}"),
            )
        }
    })
}

/// Registers ONNX Runtime's CUDA execution provider, failing when it cannot: `ort` would
/// only log the failure and fall back to the CPU.
#[cfg(feature = "cuda")]
fn add_cuda(builder: &mut SessionBuilder) -> Result<()> {
    use ort::ep::ExecutionProvider;
    ort::ep::CUDA::default().register(builder).map_err(|error| {
        let reason = error.to_string();
        Error::new(
            ErrorKind::Runtime,
            format!(
                "the CUDA execution provider is unavailable: {}; {CUDA_NEEDS}",
                reason.trim_end().trim_end_matches('.')
            ),
        )
    })
}

#[cfg(not(feature = "cuda"))]
fn add_cuda(_: &mut SessionBuilder) -> Result<()> {
    Err(Error::new(
        ErrorKind::Runtime,
        format!("CUDA was asked for but this build of cgpredict has no CUDA support; {CUDA_NEEDS}"),
    ))
}

/// The widest embedding a model may declare: far above any trained model's (a few hundred),
/// and small enough that the buffers it sizes (graphs x width floats) cannot overflow.
const MAX_EMBEDDING_DIM: usize = 1 << 16;

/// Checks the model's metadata, inputs and outputs; returns its embedding width and members.
fn check_model(session: &Session, name: &str) -> Result<(usize, usize)> {
    let metadata = session
        .metadata()
        .map_err(|error| runtime_error("cannot read the model's metadata", error))?;
    let property = |key: &str| {
        metadata.custom(key).ok_or_else(|| {
            model_error(format!(
                "metadata property {key} is missing: {name} is not a cgpredict model file"
            ))
        })
    };
    let version = property(META_SCHEMA_VERSION)?;
    if version.trim() != features::SCHEMA_VERSION.to_string() {
        return Err(model_error(format!(
            "the model was trained on feature schema {version:?}, this build featurizes with schema {}",
            features::SCHEMA_VERSION
        )));
    }
    let vocabulary = property(META_OP_VOCABULARY)?;
    let ours = features::op_vocabulary();
    let theirs: Vec<&str> = vocabulary.split(',').collect();
    if theirs != ours {
        let position = theirs
            .iter()
            .zip(&ours)
            .position(|(a, b)| a != b)
            .unwrap_or(theirs.len().min(ours.len()));
        return Err(model_error(format!(
            "the model's op vocabulary differs from this build's at position {position} \
             (model: {:?}, build: {:?}; {} vs {} ops)",
            theirs.get(position).copied().unwrap_or("<end>"),
            ours.get(position).copied().unwrap_or("<end>"),
            theirs.len(),
            ours.len()
        )));
    }
    let dim = property(META_EMBEDDING_DIM)?;
    let dim: usize = dim
        .trim()
        .parse()
        .ok()
        .filter(|&dim| dim > 0 && dim <= MAX_EMBEDDING_DIM)
        .ok_or_else(|| {
            model_error(format!(
                "metadata property {META_EMBEDDING_DIM} is {:?}, not an integer from 1 to \
                 {MAX_EMBEDDING_DIM}",
                crate::error::excerpt(&dim)
            ))
        })?;
    let members = match metadata.custom(META_MEMBERS) {
        None => 1,
        Some(members) => members
            .trim()
            .parse()
            .ok()
            .filter(|&members: &usize| members > 0 && dim.is_multiple_of(members))
            .ok_or_else(|| {
                model_error(format!(
                    "metadata property {META_MEMBERS} is {members:?}, not a positive divisor of \
                     the embedding width {dim}"
                ))
            })?,
    };
    for input in [
        "node_features",
        "edge_index",
        "graph_index",
        "graph_features",
    ] {
        if !session.inputs().iter().any(|outlet| outlet.name() == input) {
            return Err(model_error(format!("the model has no input {input:?}")));
        }
    }
    for output in ["score", "embedding"] {
        if !session
            .outputs()
            .iter()
            .any(|outlet| outlet.name() == output)
        {
            return Err(model_error(format!("the model has no output {output:?}")));
        }
    }
    Ok((dim, members))
}

fn run_session(session: &mut Session, batch: &Batch, dim: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    let fail = |error: ort::Error| runtime_error("the model failed to run", error);
    let (nodes, edges, graphs) = (batch.num_nodes(), batch.num_edges(), batch.num_graphs);
    let outputs = session
        .run(ort::inputs! {
            "node_features" => TensorRef::from_array_view(([nodes, NODE_FEATURES], &batch.node_features[..])).map_err(fail)?,
            "edge_index" => TensorRef::from_array_view(([2, edges], &batch.edge_index[..])).map_err(fail)?,
            "graph_index" => TensorRef::from_array_view(([nodes], &batch.graph_index[..])).map_err(fail)?,
            "graph_features" => TensorRef::from_array_view(([graphs, GRAPH_FEATURES], &batch.graph_features[..])).map_err(fail)?,
        })
        .map_err(fail)?;
    let extract = |name: &str, expected: usize| -> Result<Vec<f32>> {
        let (_, values) = outputs[name].try_extract_tensor::<f32>().map_err(|error| {
            model_error(format!("output {name:?} is not an f32 tensor: {error}"))
        })?;
        if values.len() != expected {
            return Err(model_error(format!(
                "output {name:?} has {} values for {graphs} graphs, expected {expected}",
                values.len()
            )));
        }
        Ok(values.to_vec())
    };
    Ok((
        extract("score", graphs)?,
        extract(
            "embedding",
            graphs.checked_mul(dim).ok_or_else(|| {
                model_error(format!(
                    "{graphs} graphs of {dim} floats overflow a buffer size"
                ))
            })?,
        )?,
    ))
}
