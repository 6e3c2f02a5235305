//! The trained network as a cgpredict model file: an ONNX graph computing what `model.rs`
//! computes, with the runtime's inputs, outputs and metadata (`cgpredict::runtime`).
//!
//! Message passing is one Gather of rows and one scatter-add per layer, written as
//! `ScatterND` over `[rows, 1]` indices (ONNX Runtime's CPU kernel for it is several times
//! faster than `ScatterElements` over indices expanded to the row width, the same function):
//! each layer's incoming and outgoing projections are one MatMul, and the messages are added
//! onto the root projection, which the scatter takes as its base (see `message_indices`).
//! Scattering onto the root rather than onto zeros with the root rows among the messages
//! saves the copy of N rows per layer and the operators building the zeros: 12% of ONNX
//! Runtime's time on an NB-201 graph.

use burn::nn::Linear;
use cgpredict::features::{GRAPH_FEATURES, NODE_FEATURES, SCHEMA_VERSION, op_vocabulary};
use cgpredict::import::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto, tensor_proto,
    tensor_shape_proto, type_proto,
};
use cgpredict::runtime::{
    META_EMBEDDING_DIM, META_MEMBERS, META_OP_VOCABULARY, META_SCHEMA_VERSION,
};
use prost::Message;

use crate::model::{Member, Network, values};
use crate::prior::{PRIOR_INPUTS, Prior};

/// ONNX opset and IR version of the file (ONNX Runtime 1.31 runs both).
const OPSET: i64 = 17;
const IR_VERSION: i64 = 8;

/// Builds the graph node by node, naming initializers and values.
struct Builder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_proto::AttributeType::Int as i32),
        i: Some(value),
        ..Default::default()
    }
}

impl Builder {
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attributes: Vec<AttributeProto>) {
        self.nodes.push(NodeProto {
            op_type: Some(op.into()),
            input: inputs.iter().map(|&name| name.into()).collect(),
            output: vec![output.into()],
            name: Some(format!("{op}:{output}")),
            attribute: attributes,
            ..Default::default()
        });
    }

    fn floats(&mut self, name: &str, dims: &[usize], data: Vec<f32>) -> String {
        debug_assert_eq!(dims.iter().product::<usize>(), data.len());
        self.initializers.push(TensorProto {
            name: Some(name.into()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(tensor_proto::DataType::Float as i32),
            float_data: data,
            ..Default::default()
        });
        name.into()
    }

    fn ints(&mut self, name: &str, dims: &[usize], data: Vec<i64>) -> String {
        self.initializers.push(TensorProto {
            name: Some(name.into()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(tensor_proto::DataType::Int64 as i32),
            int64_data: data,
            ..Default::default()
        });
        name.into()
    }

    /// `x · W (+ b)` with the layer's weights (burn stores `W` as `[in, out]`, as MatMul wants).
    fn dense(&mut self, x: &str, layer: &Linear, name: &str, out: &str) {
        let [fan_in, fan_out] = layer.weight.val().dims();
        let weight = self.floats(
            &format!("{name}.weight"),
            &[fan_in, fan_out],
            values(layer.weight.val()),
        );
        match &layer.bias {
            Some(bias) => {
                let product = format!("{out}.matmul");
                self.node("MatMul", &[x, &weight], &product, vec![]);
                let bias = self.floats(&format!("{name}.bias"), &[fan_out], values(bias.val()));
                self.node("Add", &[&product, &bias], out, vec![]);
            }
            None => self.node("MatMul", &[x, &weight], out, vec![]),
        }
    }

    /// `base` with `rows` added at the `[n, 1]` row `indices`.
    fn scatter_add(&mut self, base: &str, indices: &str, rows: &str, out: &str) {
        self.nodes.push(NodeProto {
            op_type: Some("ScatterND".into()),
            input: vec![base.into(), indices.into(), rows.into()],
            output: vec![out.into()],
            name: Some(format!("ScatterND:{out}")),
            attribute: vec![AttributeProto {
                name: Some("reduction".into()),
                r#type: Some(attribute_proto::AttributeType::String as i32),
                s: Some(b"add".to_vec()),
                ..Default::default()
            }],
            ..Default::default()
        });
    }

    /// A float tensor of zeros shaped `[first dimension of like, width]`.
    fn zeros(&mut self, like: &str, width: usize, out: &str) {
        let first = format!("{out}.rows");
        self.node(
            "Shape",
            &[like],
            &first,
            vec![int_attribute("start", 0), int_attribute("end", 1)],
        );
        let width = self.ints(&format!("{out}.width"), &[1], vec![width as i64]);
        let shape = format!("{out}.shape");
        self.node(
            "Concat",
            &[&first, &width],
            &shape,
            vec![int_attribute("axis", 0)],
        );
        self.constant_of_shape(&shape, 0.0, out);
    }

    /// A float tensor of the 1-D `shape` filled with `value`.
    fn constant_of_shape(&mut self, shape: &str, value: f32, out: &str) {
        self.nodes.push(NodeProto {
            op_type: Some("ConstantOfShape".into()),
            input: vec![shape.into()],
            output: vec![out.into()],
            name: Some(format!("ConstantOfShape:{out}")),
            attribute: vec![AttributeProto {
                name: Some("value".into()),
                r#type: Some(attribute_proto::AttributeType::Tensor as i32),
                t: Some(TensorProto {
                    dims: vec![1],
                    data_type: Some(tensor_proto::DataType::Float as i32),
                    float_data: vec![value],
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        });
    }
}

fn tensor_info(name: &str, elem_type: tensor_proto::DataType, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|dim| tensor_shape_proto::Dimension {
            value: Some(match dim {
                Dim::Fixed(size) => tensor_shape_proto::dimension::Value::DimValue(*size as i64),
                Dim::Named(name) => tensor_shape_proto::dimension::Value::DimParam((*name).into()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem_type as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

enum Dim {
    Fixed(usize),
    Named(&'static str),
}

/// The rows each GraphConv layer gathers and where it adds them, for all layers at once:
/// `messages.sources` = [2·source for every edge; 2·target + 1 for every edge] indexes the
/// layer's [2N, hidden] neighbour projections (row 2n: node n's incoming projection, row
/// 2n + 1: its outgoing one), and `messages.targets` = [target; source] as a [2E, 1] column
/// says which node each row is added to: a node receives its producers' incoming and its
/// consumers' outgoing projections.
fn message_indices(b: &mut Builder) {
    // Also the axis `model_bytes` unsqueezes `graph_index` along.
    let axis1 = b.ints("axis1", &[1], vec![1]);
    let flat = b.ints("flat_shape", &[1], vec![-1]);
    let two = b.ints("two", &[], vec![2]);
    let offsets = b.ints("edge_offsets", &[2, 1], vec![0, 1]);
    let swap = b.ints("swap_rows", &[2], vec![1, 0]);
    b.node("Mul", &["edge_index", &two], "edges.scaled", vec![]);
    b.node("Add", &["edges.scaled", &offsets], "edges.rows", vec![]);
    b.node(
        "Reshape",
        &["edges.rows", &flat],
        "messages.sources",
        vec![],
    );
    b.node(
        "Gather",
        &["edge_index", &swap],
        "edges.swapped",
        vec![int_attribute("axis", 0)],
    );
    b.node(
        "Reshape",
        &["edges.swapped", &flat],
        "messages.receivers",
        vec![],
    );
    b.node(
        "Unsqueeze",
        &["messages.receivers", &axis1],
        "messages.targets",
        vec![],
    );
}

/// One member's nodes, their names prefixed by `prefix`: its encoder and regressor over the
/// shared inputs and message indices; returns the names of its score and embedding.
fn member_graph(b: &mut Builder, member: &Member, hidden: usize, prefix: &str) -> (String, String) {
    let mut h = "node_features".to_owned();
    for (index, layer) in member.encoder.layers.iter().enumerate() {
        let p = format!("{prefix}layer{index}");
        // One product gives each node's incoming and outgoing projections side by side;
        // seen as [2N, hidden], row 2n + k is projection k of node n.
        let fan_in = layer.root.weight.val().dims()[0];
        let parts = [&layer.incoming, &layer.outgoing].map(|linear| values(linear.weight.val()));
        let weights: Vec<f32> = (0..fan_in)
            .flat_map(|row| {
                parts
                    .iter()
                    .map(move |part| &part[row * hidden..][..hidden])
            })
            .flatten()
            .copied()
            .collect();
        let weight = b.floats(
            &format!("{p}.neighbours.weight"),
            &[fan_in, 2 * hidden],
            weights,
        );
        let width = b.ints(&format!("{p}.rows_shape"), &[2], vec![-1, hidden as i64]);
        b.dense(&h, &layer.root, &format!("{p}.root"), &format!("{p}.self"));
        b.node("MatMul", &[&h, &weight], &format!("{p}.product"), vec![]);
        b.node(
            "Reshape",
            &[&format!("{p}.product"), &width],
            &format!("{p}.rows"),
            vec![],
        );
        b.node(
            "Gather",
            &[&format!("{p}.rows"), "messages.sources"],
            &format!("{p}.messages"),
            vec![int_attribute("axis", 0)],
        );
        b.scatter_add(
            &format!("{p}.self"),
            "messages.targets",
            &format!("{p}.messages"),
            &format!("{p}.sum"),
        );
        b.node("Relu", &[&format!("{p}.sum")], &format!("{p}.h"), vec![]);
        h = format!("{p}.h");
    }
    b.scatter_add(
        "zeros_graphs",
        "graph_index.column",
        &h,
        &format!("{prefix}pool.sum"),
    );
    b.node(
        "Div",
        &[&format!("{prefix}pool.sum"), "pool.count1"],
        &format!("{prefix}pooled"),
        vec![],
    );
    b.dense(
        "graph_features",
        &member.encoder.graph,
        &format!("{prefix}graph"),
        &format!("{prefix}graph.linear"),
    );
    b.node(
        "Relu",
        &[&format!("{prefix}graph.linear")],
        &format!("{prefix}graph.h"),
        vec![],
    );
    b.node(
        "Concat",
        &[&format!("{prefix}pooled"), &format!("{prefix}graph.h")],
        &format!("{prefix}embedding"),
        vec![int_attribute("axis", 1)],
    );
    b.dense(
        &format!("{prefix}embedding"),
        &member.regressor.hidden,
        &format!("{prefix}regressor.hidden"),
        &format!("{prefix}regressor.linear"),
    );
    b.node(
        "Relu",
        &[&format!("{prefix}regressor.linear")],
        &format!("{prefix}regressor.h"),
        vec![],
    );
    b.dense(
        &format!("{prefix}regressor.h"),
        &member.regressor.output,
        &format!("{prefix}regressor.output"),
        &format!("{prefix}regressor.out"),
    );
    let flat = "flat_shape";
    b.node(
        "Reshape",
        &[&format!("{prefix}regressor.out"), flat],
        &format!("{prefix}score"),
        vec![],
    );

    (format!("{prefix}score"), format!("{prefix}embedding"))
}

/// `score = prior · [graph_features, mean node features] + correction × networks_score`
/// (`Network::forward`), reusing the node counts of the members' mean pooling.
fn prior_graph(b: &mut Builder, prior: &Prior, networks_score: &str) {
    b.zeros("graph_features", NODE_FEATURES, "prior.zeros");
    b.scatter_add(
        "prior.zeros",
        "graph_index.column",
        "node_features",
        "prior.node_sums",
    );
    b.node(
        "Div",
        &["prior.node_sums", "pool.count1"],
        "prior.node_means",
        vec![],
    );
    b.node(
        "Concat",
        &["graph_features", "prior.node_means"],
        "prior.inputs",
        vec![int_attribute("axis", 1)],
    );
    let weights = b.floats("prior.weights", &[PRIOR_INPUTS, 1], prior.weights.clone());
    b.node(
        "MatMul",
        &["prior.inputs", &weights],
        "prior.column",
        vec![],
    );
    b.node(
        "Reshape",
        &["prior.column", "flat_shape"],
        "prior.score",
        vec![],
    );
    let correction = b.floats("prior.correction", &[], vec![prior.correction]);
    b.node(
        "Mul",
        &[networks_score, &correction],
        "networks.corrected",
        vec![],
    );
    b.node(
        "Add",
        &["prior.score", "networks.corrected"],
        "score",
        vec![],
    );
}

/// The model file's bytes: `network` as ONNX with the runtime's metadata plus `extra`
/// properties (training data, label standardization, evaluation).
pub fn model_bytes(network: &Network, extra: &[(String, String)]) -> Vec<u8> {
    use Dim::{Fixed, Named};
    use tensor_proto::DataType::{Float, Int64};

    let mut b = Builder {
        nodes: Vec::new(),
        initializers: Vec::new(),
    };
    let first = network.members.first().expect("a network has members");
    let hidden = first.encoder.layers[0].root.weight.val().dims()[1];
    let embedding_width = hidden + first.encoder.graph.weight.val().dims()[1];
    message_indices(&mut b);
    b.node(
        "Unsqueeze",
        &["graph_index", "axis1"],
        "graph_index.column",
        vec![],
    );
    b.zeros("graph_features", hidden, "zeros_graphs");
    b.zeros("graph_features", 1, "zeros_counts");
    let ones_shape = "ones_nodes.shape";
    b.node("Shape", &["graph_index.column"], ones_shape, vec![]);
    b.constant_of_shape(ones_shape, 1.0, "ones_nodes");
    b.scatter_add(
        "zeros_counts",
        "graph_index.column",
        "ones_nodes",
        "pool.count",
    );
    let one_f = b.floats("one_f", &[], vec![1.0]);
    b.node("Max", &["pool.count", &one_f], "pool.count1", vec![]);

    // A single member without a prior writes `score` and `embedding` itself; otherwise each
    // member writes its own, which a Mean and a Concat combine as `Network::forward` does,
    // and a prior adds its term to the mean.
    let embedding_dim = embedding_width * network.members.len();
    let networks_score = if network.prior.is_some() {
        "networks.score"
    } else {
        "score"
    };
    if let ([member], None) = (network.members.as_slice(), &network.prior) {
        member_graph(&mut b, member, hidden, "");
    } else {
        let (scores, embeddings): (Vec<String>, Vec<String>) = network
            .members
            .iter()
            .enumerate()
            .map(|(index, member)| member_graph(&mut b, member, hidden, &format!("member{index}.")))
            .unzip();
        let scores: Vec<&str> = scores.iter().map(String::as_str).collect();
        b.node("Mean", &scores, networks_score, vec![]);
        let embeddings: Vec<&str> = embeddings.iter().map(String::as_str).collect();
        b.node(
            "Concat",
            &embeddings,
            "embedding",
            vec![int_attribute("axis", 1)],
        );
    }
    if let Some(prior) = &network.prior {
        prior_graph(&mut b, prior, networks_score);
    }
    let graph = GraphProto {
        name: Some("cgpredict_kgnn".into()),
        node: b.nodes,
        initializer: b.initializers,
        input: vec![
            tensor_info("node_features", Float, &[Named("N"), Fixed(NODE_FEATURES)]),
            tensor_info("edge_index", Int64, &[Fixed(2), Named("E")]),
            tensor_info("graph_index", Int64, &[Named("N")]),
            tensor_info(
                "graph_features",
                Float,
                &[Named("B"), Fixed(GRAPH_FEATURES)],
            ),
        ],
        output: vec![
            tensor_info("score", Float, &[Named("B")]),
            tensor_info("embedding", Float, &[Named("B"), Fixed(embedding_dim)]),
        ],
        ..Default::default()
    };
    let mut metadata = vec![
        (META_SCHEMA_VERSION.to_owned(), SCHEMA_VERSION.to_string()),
        (META_OP_VOCABULARY.to_owned(), op_vocabulary().join(",")),
        (META_EMBEDDING_DIM.to_owned(), embedding_dim.to_string()),
        (META_MEMBERS.to_owned(), network.members.len().to_string()),
    ];
    metadata.extend(extra.iter().cloned());
    let model = ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some("cgpredict-train".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        graph: Some(graph),
        metadata_props: metadata
            .into_iter()
            .map(|(key, value)| StringStringEntryProto {
                key: Some(key),
                value: Some(value),
            })
            .collect(),
        ..Default::default()
    };
    model.encode_to_vec()
}
