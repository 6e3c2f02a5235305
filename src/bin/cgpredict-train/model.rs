//! The predictor network in burn: a direction-aware GraphConv encoder (k-GNN, as GENNAPE's
//! public choice) with mean pooling and a whole-graph branch, a projection head for
//! contrastive pre-training and an MLP regressor. `export.rs` writes the same function as ONNX.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, IndexingUpdateOp, Int, Tensor, TensorData};
use cgpredict::features::{Batch, GRAPH_FEATURES, NODE_FEATURES};

use crate::config::ModelConfig;
use crate::prior::{self, PRIOR_INPUTS, Prior};

/// One GraphConv layer over the directed CG: `h' = relu(root(h) + Σ_in incoming(h_src) +
/// Σ_out outgoing(h_dst))`, so that a node sees its producers and its consumers apart.
#[derive(Module, Debug)]
pub struct GraphConv {
    pub root: Linear,
    pub incoming: Linear,
    pub outgoing: Linear,
}

/// CG → embedding: GraphConv layers, mean pooling per graph, concatenated with a dense layer
/// over the whole-graph features.
#[derive(Module, Debug)]
pub struct Encoder {
    pub layers: Vec<GraphConv>,
    pub graph: Linear,
}

/// Two dense layers with a ReLU between.
#[derive(Module, Debug)]
pub struct Mlp {
    pub hidden: Linear,
    pub output: Linear,
}

/// One encoder and its regressor.
#[derive(Module, Debug)]
pub struct Member {
    pub encoder: Encoder,
    pub regressor: Mlp,
}

/// What the exported model file computes: an ensemble of members trained alike from
/// different seeds, whose score is the mean of theirs and whose embedding is theirs side by
/// side. Each member learns from its own loss, so they stay independent estimates. With a
/// prior (`prior.rs`), the score is `prior + correction × the members' mean`; the prior is
/// fitted in closed form and never trained.
#[derive(Module, Debug)]
pub struct Network {
    pub members: Vec<Member>,
    #[module(skip)]
    pub prior: Option<Prior>,
}

/// A batch on the device, in the form of the feature schema.
pub struct BatchTensors {
    pub node_features: Tensor<2>,
    pub sources: Tensor<1, Int>,
    pub targets: Tensor<1, Int>,
    pub graph_index: Tensor<1, Int>,
    pub graph_features: Tensor<2>,
    /// The prior's input, `[B, PRIOR_INPUTS]`: whole-graph features, then mean node features.
    pub prior_inputs: Tensor<2>,
    /// Nodes per graph (at least 1), `[B, 1]`.
    pub node_counts: Tensor<2>,
    pub num_nodes: usize,
    pub num_graphs: usize,
}

impl BatchTensors {
    pub fn new(batch: &Batch, device: &Device) -> BatchTensors {
        let nodes = batch.num_nodes();
        let edges = batch.num_edges();
        let ints = |values: &[i64]| {
            Tensor::<1, Int>::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
        };
        let mut counts = vec![0f32; batch.num_graphs];
        for &graph in &batch.graph_index {
            counts[graph as usize] += 1.0;
        }
        BatchTensors {
            node_features: Tensor::from_data(
                TensorData::new(batch.node_features.clone(), [nodes, NODE_FEATURES]),
                device,
            ),
            sources: ints(&batch.edge_index[..edges]),
            targets: ints(&batch.edge_index[edges..]),
            graph_index: ints(&batch.graph_index),
            graph_features: Tensor::from_data(
                TensorData::new(
                    batch.graph_features.clone(),
                    [batch.num_graphs, GRAPH_FEATURES],
                ),
                device,
            ),
            prior_inputs: Tensor::from_data(
                TensorData::new(prior::inputs(batch), [batch.num_graphs, PRIOR_INPUTS]),
                device,
            ),
            node_counts: Tensor::from_data(
                TensorData::new(
                    counts.into_iter().map(|c| c.max(1.0)).collect::<Vec<f32>>(),
                    [batch.num_graphs, 1],
                ),
                device,
            ),
            num_nodes: nodes,
            num_graphs: batch.num_graphs,
        }
    }
}

fn linear(input: usize, output: usize, bias: bool, device: &Device) -> Linear {
    LinearConfig::new(input, output)
        .with_bias(bias)
        .init(device)
}

impl Mlp {
    pub fn new(input: usize, hidden: usize, output: usize, device: &Device) -> Mlp {
        Mlp {
            hidden: linear(input, hidden, true, device),
            output: linear(hidden, output, true, device),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output.forward(relu(self.hidden.forward(x)))
    }
}

impl Encoder {
    pub fn new(config: &ModelConfig, device: &Device) -> Encoder {
        let layers = (0..config.layers)
            .map(|layer| {
                let input = if layer == 0 {
                    NODE_FEATURES
                } else {
                    config.hidden
                };
                GraphConv {
                    root: linear(input, config.hidden, true, device),
                    incoming: linear(input, config.hidden, false, device),
                    outgoing: linear(input, config.hidden, false, device),
                }
            })
            .collect();
        Encoder {
            layers,
            graph: linear(GRAPH_FEATURES, config.graph_hidden, true, device),
        }
    }

    /// Embeddings `[B, hidden + graph_hidden]`.
    pub fn forward(&self, batch: &BatchTensors) -> Tensor<2> {
        let device = batch.node_features.device();
        let mut h = batch.node_features.clone();
        for layer in &self.layers {
            let hidden = layer.root.weight.val().dims()[1];
            let zeros = Tensor::<2>::zeros([batch.num_nodes, hidden], &device);
            let from_producers = zeros.clone().select_assign(
                0,
                batch.targets.clone(),
                layer
                    .incoming
                    .forward(h.clone())
                    .select(0, batch.sources.clone()),
                IndexingUpdateOp::Add,
            );
            let from_consumers = zeros.select_assign(
                0,
                batch.sources.clone(),
                layer
                    .outgoing
                    .forward(h.clone())
                    .select(0, batch.targets.clone()),
                IndexingUpdateOp::Add,
            );
            h = relu(layer.root.forward(h) + from_producers + from_consumers);
        }
        let width = h.dims()[1];
        let pooled = Tensor::<2>::zeros([batch.num_graphs, width], &device).select_assign(
            0,
            batch.graph_index.clone(),
            h,
            IndexingUpdateOp::Add,
        ) / batch.node_counts.clone();
        let whole = relu(self.graph.forward(batch.graph_features.clone()));
        Tensor::cat(vec![pooled, whole], 1)
    }
}

impl Member {
    pub fn new(config: &ModelConfig, device: &Device) -> Member {
        let embedding = config.hidden + config.graph_hidden;
        Member {
            encoder: Encoder::new(config, device),
            regressor: Mlp::new(embedding, config.regressor_hidden, 1, device),
        }
    }

    /// Scores `[B]` and embeddings `[B, D]`.
    pub fn forward(&self, batch: &BatchTensors) -> (Tensor<1>, Tensor<2>) {
        let embedding = self.encoder.forward(batch);
        let scores = self.regressor.forward(embedding.clone());
        let graphs = batch.num_graphs;
        (scores.reshape([graphs]), embedding)
    }
}

impl Network {
    /// The prior's score `[B]` of each graph (without the correction), if the network has one.
    pub fn prior_scores(&self, batch: &BatchTensors) -> Option<Tensor<1>> {
        self.prior.as_ref().map(|prior| {
            let device = batch.prior_inputs.device();
            let weights = Tensor::<2>::from_data(
                TensorData::new(prior.weights.clone(), [PRIOR_INPUTS, 1]),
                &device,
            );
            batch
                .prior_inputs
                .clone()
                .matmul(weights)
                .reshape([batch.num_graphs])
        })
    }

    /// Scores `[B]` (the members' mean, with the prior if any) and embeddings
    /// `[B, members × D]`.
    pub fn forward(&self, batch: &BatchTensors) -> (Tensor<1>, Tensor<2>) {
        let (scores, embeddings): (Vec<Tensor<1>>, Vec<Tensor<2>>) = self
            .members
            .iter()
            .map(|member| member.forward(batch))
            .unzip();
        let count = scores.len() as f64;
        let mean = Tensor::stack::<2>(scores, 0)
            .sum_dim(0)
            .reshape([batch.num_graphs])
            / count;
        let scores = match (&self.prior, self.prior_scores(batch)) {
            (Some(prior), Some(prior_scores)) => prior_scores + mean * f64::from(prior.correction),
            _ => mean,
        };
        (scores, Tensor::cat(embeddings, 1))
    }
}

/// Projection head of pre-training: embedding → unit vector.
pub fn project(head: &Mlp, embedding: Tensor<2>) -> Tensor<2> {
    let z = head.forward(embedding);
    let norm = z.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    z / norm
}

/// A tensor's values as f32.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}
