//! Hand-built ONNX models: each mapping rule and each refusal, checked by hand.

use prost::Message;

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, tensor_shape_proto, type_proto,
};
use super::*;
use crate::error::ErrorKind;
use crate::graph::{Op, Shape};

const FLOAT: i32 = 1;
const INT64: i32 = 7;

fn info(name: &str, dims: Option<&[Option<i64>]>) -> ValueInfoProto {
    let shape = dims.map(|dims| TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| tensor_shape_proto::Dimension {
                denotation: None,
                value: Some(match d {
                    Some(v) => tensor_shape_proto::dimension::Value::DimValue(*v),
                    None => tensor_shape_proto::dimension::Value::DimParam("N".into()),
                }),
            })
            .collect(),
    });
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            denotation: None,
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(FLOAT),
                shape,
            })),
        }),
        ..ValueInfoProto::default()
    }
}

fn fixed(dims: &[i64]) -> Vec<Option<i64>> {
    dims.iter().map(|&d| Some(d)).collect()
}

/// A weight whose data is "elsewhere", like the torchvision structure-only files.
fn weight(name: &str, dims: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        data_location: Some(1),
        ..TensorProto::default()
    }
}

fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        float_data: values.to_vec(),
        ..TensorProto::default()
    }
}

fn int64s(name: &str, values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: vec![values.len() as i64],
        data_type: Some(INT64),
        int64_data: values.to_vec(),
        ..TensorProto::default()
    }
}

fn scalar(name: &str, value: f32) -> TensorProto {
    floats(name, &[], &[value])
}

enum A {
    Int(i64),
    Ints(Vec<i64>),
    Str(&'static str),
}

fn node(op: &str, inputs: &[&str], outputs: &[&str], attributes: Vec<(&str, A)>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("{op}_{}", outputs.first().copied().unwrap_or(""))),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attributes
            .into_iter()
            .map(|(name, value)| {
                let mut a = AttributeProto {
                    name: Some(name.into()),
                    ..AttributeProto::default()
                };
                match value {
                    A::Int(v) => a.i = Some(v),
                    A::Ints(v) => a.ints = v,
                    A::Str(v) => a.s = Some(v.as_bytes().to_vec()),
                }
                a
            })
            .collect(),
        ..NodeProto::default()
    }
}

#[derive(Clone)]
struct Model {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<&'static str>,
    value_info: Vec<ValueInfoProto>,
    opset: i64,
}

impl Model {
    fn new(input_dims: &[i64], nodes: Vec<NodeProto>, outputs: Vec<&'static str>) -> Model {
        Model {
            nodes,
            initializers: Vec::new(),
            inputs: vec![info("x", Some(&fixed(input_dims)))],
            outputs,
            value_info: Vec::new(),
            opset: 17,
        }
    }

    fn with(mut self, initializers: Vec<TensorProto>) -> Model {
        self.initializers = initializers;
        self
    }

    fn bytes(&self) -> Vec<u8> {
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(self.opset),
            }],
            graph: Some(GraphProto {
                node: self.nodes.clone(),
                initializer: self.initializers.clone(),
                input: self.inputs.clone(),
                output: self.outputs.iter().map(|&o| info(o, None)).collect(),
                value_info: self.value_info.clone(),
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }
        .encode_to_vec()
    }

    fn import(&self) -> (Graph, ImportReport) {
        graph_from_onnx_bytes(&self.bytes()).unwrap()
    }

    fn error(&self) -> crate::error::Error {
        graph_from_onnx_bytes(&self.bytes()).unwrap_err()
    }
}

fn ops(graph: &Graph) -> Vec<String> {
    graph.nodes().map(|(_, n)| n.op.to_string()).collect()
}

#[test]
fn conv_groups_decide_the_op() {
    let model = Model::new(
        &[1, 32, 16, 16],
        vec![
            node(
                "Conv",
                &["x", "w1", "b1"],
                &["a"],
                vec![("pads", A::Ints(vec![1, 1, 1, 1])), ("group", A::Int(32))],
            ),
            node(
                "Conv",
                &["a", "w2"],
                &["b"],
                vec![("group", A::Int(4)), ("strides", A::Ints(vec![2, 2]))],
            ),
            node("Conv", &["b", "w3"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![
        weight("w1", &[32, 1, 3, 3]),
        weight("b1", &[32]),
        weight("w2", &[64, 8, 1, 1]),
        weight("w3", &[10, 64, 1, 1]),
    ]);
    let (g, report) = model.import();
    assert_eq!(
        ops(&g),
        ["input", "depthwise_conv", "conv", "conv", "output"]
    );
    let dw = g.node(1).unwrap();
    assert_eq!((dw.kernel, dw.groups, dw.has_bias), ([3, 3], 32, true));
    assert_eq!(dw.output, Shape::new(16, 16, 32));
    let grouped = g.node(2).unwrap();
    assert_eq!(
        (grouped.groups, grouped.stride, grouped.output),
        (4, [2, 2], Shape::new(8, 8, 64))
    );
    // 16*16*32*9 + 8*8*64*8 + 8*8*10*64
    assert_eq!(g.macs(), 73_728 + 32_768 + 40_960);
    assert_eq!(report.ops["Conv"].mapped, 3);
}

#[test]
fn linear_layers_gain_their_bias_adds() {
    // Tokens [1, 5, 8] -> MatMul W[8, 16] -> Add b[16] -> Gelu(Erf form) -> MatMul of activations.
    let model = Model::new(
        &[1, 5, 8],
        vec![
            node("MatMul", &["x", "w"], &["m"], vec![]),
            node("Add", &["m", "b"], &["h"], vec![]),
            node("Div", &["h", "sqrt2"], &["d"], vec![]),
            node("Erf", &["d"], &["e"], vec![]),
            node("Add", &["e", "one"], &["p"], vec![]),
            node("Mul", &["h", "p"], &["q"], vec![]),
            node("Mul", &["q", "half"], &["g"], vec![]),
            node(
                "Transpose",
                &["g"],
                &["gt"],
                vec![("perm", A::Ints(vec![0, 2, 1]))],
            ),
            node("MatMul", &["g", "gt"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![
        weight("w", &[8, 16]),
        weight("b", &[16]),
        scalar("sqrt2", std::f32::consts::SQRT_2),
        scalar("one", 1.0),
        scalar("half", 0.5),
    ]);
    let (g, report) = model.import();
    assert_eq!(
        ops(&g),
        ["input", "linear", "gelu", "transpose", "matmul", "output"]
    );
    let linear = g.node(1).unwrap();
    assert!(linear.has_bias);
    assert_eq!(
        (linear.input, linear.output),
        (Shape::new(5, 1, 8), Shape::new(5, 1, 16))
    );
    // The channel axis moves with the permutation: still 16 channels, over 5 positions.
    assert_eq!(g.node(3).unwrap().output, Shape::new(5, 1, 16));
    // Linear 5*16*8, scores 5*5*16.
    assert_eq!(g.macs(), 640 + 400);
    assert_eq!(report.fused["gelu (Erf form)"], 1);
    assert_eq!(report.fused["bias add into conv/linear"], 1);
    assert_eq!(report.ops["Erf"].mapped, 1);
    assert_eq!(report.ops["Add"].mapped, 2);
}

#[test]
fn decomposed_layer_norm_is_one_node() {
    let model = Model::new(
        &[1, 4, 6],
        vec![
            node(
                "ReduceMean",
                &["x"],
                &["mean"],
                vec![("axes", A::Ints(vec![-1]))],
            ),
            node("Sub", &["x", "mean"], &["c"], vec![]),
            node("Pow", &["c", "two"], &["sq"], vec![]),
            node(
                "ReduceMean",
                &["sq"],
                &["var"],
                vec![("axes", A::Ints(vec![-1]))],
            ),
            node("Add", &["var", "eps"], &["ve"], vec![]),
            node("Sqrt", &["ve"], &["sd"], vec![]),
            node("Div", &["c", "sd"], &["n"], vec![]),
            node("Mul", &["n", "gamma"], &["s"], vec![]),
            node("Add", &["s", "beta"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![
        scalar("two", 2.0),
        scalar("eps", 1e-5),
        weight("gamma", &[6]),
        weight("beta", &[6]),
    ]);
    let (g, report) = model.import();
    assert_eq!(ops(&g), ["input", "layer_norm", "output"]);
    let ln = g.node(1).unwrap();
    assert!(ln.has_bias);
    assert_eq!(ln.input, Shape::new(4, 1, 6));
    assert_eq!(report.fused["layer_norm (decomposed)"], 1);
    assert_eq!(report.unknown_total(), 0);
}

#[test]
fn activations_and_pools() {
    let model = Model::new(
        &[1, 8, 8, 8],
        vec![
            node("Clip", &["x", "zero", "six"], &["r6"], vec![]),
            node("Sigmoid", &["r6"], &["s"], vec![]),
            node("Mul", &["r6", "s"], &["silu"], vec![]),
            node(
                "MaxPool",
                &["silu"],
                &["mp"],
                vec![
                    ("kernel_shape", A::Ints(vec![3, 3])),
                    ("strides", A::Ints(vec![2, 2])),
                    ("pads", A::Ints(vec![1, 1, 1, 1])),
                ],
            ),
            node(
                "ReduceMean",
                &["mp"],
                &["gap"],
                vec![("axes", A::Ints(vec![2, 3])), ("keepdims", A::Int(0))],
            ),
            node(
                "Gemm",
                &["gap", "fc", "fcb"],
                &["y"],
                vec![("transB", A::Int(1))],
            ),
        ],
        vec!["y"],
    )
    .with(vec![
        scalar("zero", 0.0),
        scalar("six", 6.0),
        weight("fc", &[10, 8]),
        weight("fcb", &[10]),
    ]);
    let (g, _) = model.import();
    assert_eq!(
        ops(&g),
        [
            "input",
            "relu6",
            "silu",
            "max_pool",
            "global_avg_pool",
            "linear",
            "output"
        ]
    );
    let pool = g.node(3).unwrap();
    assert_eq!(
        (pool.kernel, pool.stride, pool.output),
        ([3, 3], [2, 2], Shape::new(4, 4, 8))
    );
    assert_eq!(g.node(4).unwrap().output, Shape::vector(8));
    assert_eq!(g.node(5).unwrap().weight_shape, vec![10, 8]);
    assert_eq!(g.param_count(), 90);
}

/// MobileNetV3's hard sigmoid and hard swish as Paddle, TensorFlow and older PyTorch exports
/// write them out of elementary ops all import as the named activations.
#[test]
fn decomposed_hard_activations_are_named() {
    // Paddle: x * relu6(x + 3) / 6, then a squeeze-excite gate relu6(s + 3) * (1/6).
    let model = Model::new(
        &[1, 8, 4, 4],
        vec![
            node("Add", &["x", "three"], &["shifted"], vec![]),
            node("Clip", &["shifted", "zero", "six"], &["r6"], vec![]),
            node("Mul", &["x", "r6"], &["product"], vec![]),
            node("Div", &["product", "six"], &["hs"], vec![]),
            node("GlobalAveragePool", &["hs"], &["pooled"], vec![]),
            node("Add", &["pooled", "three"], &["gate_in"], vec![]),
            node("Clip", &["gate_in", "zero", "six"], &["gate_r6"], vec![]),
            node("Mul", &["gate_r6", "sixth"], &["gate"], vec![]),
            node("Mul", &["hs", "gate"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![
        scalar("three", 3.0),
        scalar("zero", 0.0),
        scalar("six", 6.0),
        scalar("sixth", 0.166_666_67),
    ]);
    let (g, report) = model.import();
    assert_eq!(
        ops(&g),
        [
            "input",
            "hardswish",
            "global_avg_pool",
            "hardsigmoid",
            "mul",
            "output"
        ]
    );
    assert_eq!(g.node(1).unwrap().input, Shape::new(4, 4, 8));
    assert_eq!(g.node(3).unwrap().input, Shape::vector(8));
    assert_eq!(report.fused["hardswish (x * relu6(x + 3) / 6)"], 1);
    assert_eq!(report.fused["hardsigmoid (relu6(x + 3) / 6)"], 1);
    assert_eq!(report.unknown_total(), 0);

    // PyTorch before opset 14: x * HardSigmoid(x).
    let model = Model::new(
        &[1, 8, 4, 4],
        vec![
            node("HardSigmoid", &["x"], &["gate"], vec![]),
            node("Mul", &["x", "gate"], &["y"], vec![]),
        ],
        vec!["y"],
    );
    let (g, report) = model.import();
    assert_eq!(ops(&g), ["input", "hardswish", "output"]);
    assert_eq!(report.fused["hardswish (x * hardsigmoid(x))"], 1);

    // A hard sigmoid that gates another tensor is no hard swish; relu6(x + 3) / 5 is neither.
    let model = Model::new(
        &[1, 8, 4, 4],
        vec![
            node("Relu", &["x"], &["other"], vec![]),
            node("HardSigmoid", &["x"], &["gate"], vec![]),
            node("Mul", &["other", "gate"], &["gated"], vec![]),
            node("Add", &["gated", "three"], &["shifted"], vec![]),
            node("Clip", &["shifted", "zero", "six"], &["r6"], vec![]),
            node("Div", &["r6", "five"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![
        scalar("three", 3.0),
        scalar("zero", 0.0),
        scalar("six", 6.0),
        scalar("five", 5.0),
    ]);
    let (g, report) = model.import();
    assert_eq!(
        ops(&g),
        [
            "input",
            "relu",
            "hardsigmoid",
            "mul",
            "add",
            "relu6",
            "mul",
            "output"
        ]
    );
    assert!(report.fused.is_empty(), "{:?}", report.fused);
}

/// Subtracting or dividing by a static tensor is the shift or scale that adding or
/// multiplying is; dividing a constant by an activation is not.
#[test]
fn static_subtraction_and_division_are_shifts_and_scales() {
    let model = Model::new(
        &[1, 4, 2, 2],
        vec![
            node("Sub", &["x", "mean"], &["centered"], vec![]),
            node("Div", &["centered", "std"], &["scaled"], vec![]),
            node("Sub", &["one", "scaled"], &["flipped"], vec![]),
            node("Div", &["one", "flipped"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![
        floats("mean", &[1, 4, 1, 1], &[0.4, 0.5, 0.6, 0.7]),
        floats("std", &[1, 4, 1, 1], &[0.2, 0.2, 0.3, 0.3]),
        scalar("one", 1.0),
    ]);
    let (g, report) = model.import();
    assert_eq!(
        ops(&g),
        ["input", "add", "mul", "add", "unknown:Div", "output"]
    );
    assert_eq!(report.ops["Sub"].mapped, 2);
    assert_eq!(report.ops["Div"].mapped, 1);
    assert_eq!(report.ops["Div"].unknown, 1);
}

#[test]
fn neutral_constants_fold_and_zero_products_are_zero() {
    let model = Model::new(
        &[1, 4, 2, 2],
        vec![
            node("Add", &["zero", "x"], &["a"], vec![]),
            node("Mul", &["a", "one"], &["b"], vec![]),
            node("Mul", &["b", "zero"], &["z"], vec![]),
            node("Relu", &["z"], &["r"], vec![]),
            node("Add", &["r", "b"], &["y"], vec![]),
            node("Dropout", &["y"], &["yd"], vec![]),
        ],
        vec!["yd"],
    )
    .with(vec![scalar("zero", 0.0), scalar("one", 1.0)]);
    let (g, report) = model.import();
    assert_eq!(ops(&g), ["input", "zero", "relu", "add", "output"]);
    assert_eq!(g.predecessors(1), vec![0]);
    assert_eq!(g.predecessors(3), vec![0, 2]);
    assert_eq!(
        report.ops["Add"],
        OpCounts {
            mapped: 1,
            folded: 1,
            unknown: 0
        }
    );
    assert_eq!(
        report.ops["Mul"],
        OpCounts {
            mapped: 1,
            folded: 1,
            unknown: 0
        }
    );
    assert_eq!(report.ops["Dropout"].folded, 1);
}

#[test]
fn shape_plumbing_disappears_but_shapes_stay() {
    // Flatten through Shape -> Gather -> Unsqueeze -> Concat -> Reshape, then a linear.
    let model = Model::new(
        &[1, 4, 3, 3],
        vec![
            node("Shape", &["x"], &["shape"], vec![]),
            node(
                "Gather",
                &["shape", "zero_i"],
                &["n"],
                vec![("axis", A::Int(0))],
            ),
            node("Unsqueeze", &["n", "axes0"], &["n1"], vec![]),
            node(
                "Concat",
                &["n1", "minus1"],
                &["target"],
                vec![("axis", A::Int(0))],
            ),
            node("Reshape", &["x", "target"], &["flat"], vec![]),
            node("Gemm", &["flat", "fc"], &["y"], vec![("transB", A::Int(1))]),
        ],
        vec!["y"],
    )
    .with(vec![
        TensorProto {
            dims: vec![],
            ..int64s("zero_i", &[0])
        },
        int64s("axes0", &[0]),
        int64s("minus1", &[-1]),
        weight("fc", &[5, 36]),
    ]);
    let (g, report) = model.import();
    assert_eq!(ops(&g), ["input", "linear", "output"]);
    assert_eq!(g.node(1).unwrap().input, Shape::vector(36));
    for op in ["Shape", "Gather", "Unsqueeze", "Concat", "Reshape"] {
        assert_eq!(report.ops[op].folded, 1, "{op}");
    }
}

#[test]
fn tiled_activations_fold_like_broadcasts() {
    // `x.repeat(1, 1, 2, 1)` (Tile) copies the data as Expand does: no node, shapes kept.
    let model = Model::new(
        &[1, 4, 3, 3],
        vec![
            node("Tile", &["x", "repeats"], &["t"], vec![]),
            node("Relu", &["t"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![int64s("repeats", &[1, 1, 2, 1])]);
    let (g, report) = model.import();
    assert_eq!(ops(&g), ["input", "relu", "output"]);
    assert_eq!(g.node(1).unwrap().input, Shape::new(6, 3, 4));
    assert_eq!(report.ops["Tile"].folded, 1);
}

#[test]
fn unknown_ops_keep_edges_and_weights() {
    let mut model = Model::new(
        &[1, 4, 8, 8],
        vec![
            node(
                "InstanceNormalization",
                &["x", "scale", "bias"],
                &["n"],
                vec![],
            ),
            node("LeakyRelu", &["n"], &["l"], vec![]),
            node("FancyOp", &["l"], &["f"], vec![]),
            node("Add", &["f", "x"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![weight("scale", &[4]), weight("bias", &[4])]);
    model.nodes[2].domain = Some("com.example".into());
    // No rule and no declared shape: refused, naming the node and op.
    let error = model.error();
    assert_eq!(error.kind, ErrorKind::Unsupported);
    assert!(error.message.contains("com.example:FancyOp"), "{error}");
    assert!(error.message.contains("'f'"), "{error}");
    // With value_info the op imports as an unknown node.
    model
        .value_info
        .push(info("f", Some(&fixed(&[1, 4, 8, 8]))));
    let (g, report) = model.import();
    assert_eq!(
        ops(&g),
        [
            "input",
            "unknown:InstanceNormalization",
            "unknown:LeakyRelu",
            "unknown:com.example:FancyOp",
            "add",
            "output"
        ]
    );
    assert_eq!(g.node(1).unwrap().weight_shape, vec![4]);
    assert_eq!(
        report.unknown_ops(),
        ["InstanceNormalization", "LeakyRelu", "com.example:FancyOp"]
    );
    assert_eq!(report.unknown_total(), 3);
}

#[test]
fn einsum_batched_products_are_matmuls() {
    let model = Model::new(
        &[1, 2, 5, 4],
        vec![
            node(
                "Transpose",
                &["x"],
                &["k"],
                vec![("perm", A::Ints(vec![0, 1, 2, 3]))],
            ),
            node(
                "Einsum",
                &["x", "k"],
                &["y"],
                vec![("equation", A::Str("bhid,bhjd->bhij"))],
            ),
        ],
        vec!["y"],
    );
    let (g, _) = model.import();
    assert_eq!(ops(&g), ["input", "transpose", "matmul", "output"]);
    // 2 heads * 5 * 5 outputs, each a 4-long dot product.
    assert_eq!(g.macs(), 2 * 5 * 5 * 4);
}

#[test]
fn one_dimensional_convs_and_symbolic_batch() {
    let mut model = Model::new(
        &[1, 3, 20],
        vec![node(
            "Conv",
            &["x", "w"],
            &["y"],
            vec![("strides", A::Ints(vec![2]))],
        )],
        vec!["y"],
    )
    .with(vec![weight("w", &[6, 3, 4])]);
    model.inputs = vec![info("x", Some(&[None, Some(3), Some(20)]))];
    let (g, _) = model.import();
    let conv = g.node(1).unwrap();
    assert_eq!(
        (conv.kernel, conv.stride, conv.output),
        ([4, 1], [2, 1], Shape::new(9, 1, 6))
    );
}

#[test]
fn input_shape_can_be_overridden() {
    let model = Model::new(
        &[1, 3, 8, 8],
        vec![node("Conv", &["x", "w"], &["y"], vec![])],
        vec!["y"],
    )
    .with(vec![weight("w", &[4, 3, 3, 3])]);
    let options = ImportOptions {
        input_shape: Some(vec![1, 3, 10, 10]),
        ..ImportOptions::default()
    };
    let (g, _) = graph_from_onnx_bytes_with(&model.bytes(), &options).unwrap();
    assert_eq!(g.node(1).unwrap().output, Shape::new(8, 8, 4));
}

/// Shapes given by name reach any data input; a name that is no data input, a rank other
/// than the declared one, a size of 0 and a shape given twice are refused naming the input.
#[test]
fn input_shapes_can_be_given_by_name() {
    let mut model = Model::new(
        &[1, 3, 8, 8],
        vec![
            node("Conv", &["x", "w"], &["y"], vec![]),
            node("Relu", &["mask"], &["z"], vec![]),
        ],
        vec!["y", "z"],
    )
    .with(vec![weight("w", &[4, 3, 3, 3])]);
    model.inputs = vec![
        info("x", Some(&[Some(1), Some(3), Some(8), Some(8)])),
        info("mask", Some(&[Some(1), Some(7), None])),
    ];
    let import = |options: ImportOptions| graph_from_onnx_bytes_with(&model.bytes(), &options);
    let shapes = |entries: &[(&str, &[u64])]| ImportOptions {
        input_shapes: entries
            .iter()
            .map(|(name, dims)| (name.to_string(), dims.to_vec()))
            .collect(),
        ..ImportOptions::default()
    };
    let error = import(ImportOptions::default()).unwrap_err();
    assert!(error.message.contains("'mask'"), "{}", error.message);

    let (g, _) = import(shapes(&[("mask", &[1, 7, 5]), ("x", &[1, 3, 10, 10])])).unwrap();
    let output_of = |name: &str| {
        g.nodes()
            .find(|(_, n)| n.name == name)
            .map(|(_, n)| n.output)
    };
    assert_eq!(output_of("mask"), Some(Shape::new(7, 1, 5)));
    assert_eq!(output_of("x"), Some(Shape::new(10, 10, 3)));
    let first_and_named = ImportOptions {
        input_shape: Some(vec![1, 3, 12, 12]),
        ..shapes(&[("mask", &[1, 7, 5])])
    };
    let (g, _) = import(first_and_named).unwrap();
    let x = g
        .nodes()
        .find(|(_, n)| n.name == "x")
        .map(|(_, n)| n.output);
    assert_eq!(x, Some(Shape::new(12, 12, 3)));

    for (options, expected) in [
        (
            shapes(&[("mask", &[1, 7, 5]), ("w", &[4, 3, 3, 3])]),
            "'w', which is not a data input of the graph (its data inputs: 'x', 'mask')",
        ),
        (
            shapes(&[("mask", &[7, 5])]),
            "graph input 'mask' has 2 dimensions; the model declares 3 ([1, 7, ?])",
        ),
        (
            shapes(&[("mask", &[1, 0, 5])]),
            "graph input 'mask' has size 0 at axis 1",
        ),
        (
            ImportOptions {
                input_shape: Some(vec![1, 3, 8, 8]),
                ..shapes(&[("x", &[1, 3, 8, 8]), ("mask", &[1, 7, 5])])
            },
            "graph input 'x' is given a shape twice",
        ),
    ] {
        let error = import(options).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidArgument, "{}", error.message);
        assert!(error.message.contains(expected), "{}", error.message);
    }
}

/// A symbolic size named like one of an earlier input takes that input's size: the batch
/// of a recurrent state, the sequence length of an attention mask.
#[test]
fn inputs_share_named_sizes() {
    let mut model = Model::new(
        &[1, 3, 8, 8],
        vec![
            node("Conv", &["x", "w"], &["y"], vec![]),
            node("Relu", &["state"], &["z"], vec![]),
        ],
        vec!["y", "z"],
    )
    .with(vec![weight("w", &[4, 3, 3, 3])]);
    // Both inputs name their symbolic sizes "N" (see `info`).
    model.inputs = vec![
        info("x", Some(&[None, Some(3), Some(8), Some(8)])),
        info("state", Some(&[Some(2), None, Some(5)])),
    ];
    let state_shape = |graph: &Graph| {
        graph
            .nodes()
            .find(|(_, n)| n.name == "state")
            .map(|(_, n)| n.output)
    };
    let (g, _) = model.import();
    assert_eq!(state_shape(&g), Some(Shape::new(2, 1, 5)));
    let options = ImportOptions {
        input_shape: Some(vec![3, 3, 8, 8]),
        ..ImportOptions::default()
    };
    let (g, _) = graph_from_onnx_bytes_with(&model.bytes(), &options).unwrap();
    // [2, 3, 5], the batch of 3 on axis 1: H = 2 x 3 (the leading axis, not a multiple of the
    // batch, is not divided), W = 1, C = 5.
    assert_eq!(state_shape(&g), Some(Shape::new(6, 1, 5)));
}

#[test]
fn batch_is_divided_out() {
    let model = Model::new(
        &[4, 3, 8, 8],
        vec![node("Conv", &["x", "w"], &["y"], vec![])],
        vec!["y"],
    )
    .with(vec![weight("w", &[4, 3, 3, 3])]);
    let (g, _) = model.import();
    assert_eq!(g.node(1).unwrap().output, Shape::new(6, 6, 4));
}

#[test]
fn malformed_graphs_are_refused_with_their_reason() {
    // A cycle: a = relu(b), b = relu(a).
    let mut cyclic = Model::new(
        &[1, 4],
        vec![
            node("Add", &["x", "b"], &["a"], vec![]),
            node("Relu", &["a"], &["b"], vec![]),
        ],
        vec!["b"],
    );
    let error = cyclic.error();
    assert!(error.message.contains("cycle"), "{error}");
    assert!(error.message.contains("Add_a"), "{error}");

    cyclic.nodes = vec![node("Relu", &["nowhere"], &["b"], vec![])];
    let error = cyclic.error();
    assert!(error.message.contains("reads tensor 'nowhere'"), "{error}");

    let mut shapeless = Model::new(
        &[1, 4],
        vec![node("Relu", &["x"], &["y"], vec![])],
        vec!["y"],
    );
    shapeless.inputs = vec![info("x", None)];
    let error = shapeless.error();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert!(
        error
            .message
            .contains("graph input 'x' declares no tensor shape"),
        "{error}"
    );

    shapeless.inputs = vec![info("x", Some(&[Some(1), None]))];
    let error = shapeless.error();
    assert!(error.message.contains("no fixed size at axis 1"), "{error}");

    let mut no_opset = Model::new(
        &[1, 4],
        vec![node("Relu", &["x"], &["y"], vec![])],
        vec!["y"],
    );
    no_opset.opset = 17;
    let mut proto = ModelProto::decode(no_opset.bytes().as_slice()).unwrap();
    proto.opset_import.clear();
    let error = graph_from_onnx_bytes(&proto.encode_to_vec()).unwrap_err();
    assert!(error.message.contains("declares no opset"), "{error}");

    let bad_conv = Model::new(
        &[1, 3, 8, 8],
        vec![node("Conv", &["x", "w"], &["y"], vec![])],
        vec!["y"],
    )
    .with(vec![weight("w", &[4, 5, 3, 3])]);
    let error = bad_conv.error();
    assert!(error.message.contains("node 'Conv_y' (Conv)"), "{error}");
    assert!(
        error.message.contains("the input has 3 channels"),
        "{error}"
    );

    // A reshape whose target shape is stored outside the file.
    let hidden = Model::new(
        &[1, 4, 2, 2],
        vec![node("Reshape", &["x", "target"], &["y"], vec![])],
        vec!["y"],
    )
    .with(vec![TensorProto {
        data_type: Some(INT64),
        ..weight("target", &[2])
    }]);
    let error = hidden.error();
    assert!(error.message.contains("'target'"), "{error}");
    assert!(
        error.message.contains("not known when importing"),
        "{error}"
    );

    // A tensor name that is not UTF-8 ("yé" with its two bytes replaced by invalid ones).
    let named = Model::new(
        &[1, 4],
        vec![node("Relu", &["x"], &["y\u{e9}"], vec![])],
        vec!["y\u{e9}"],
    );
    let mut bytes = named.bytes();
    let mut replaced = 0;
    for at in 0..bytes.len() - 1 {
        if bytes[at..at + 2] == [0xc3, 0xa9] {
            bytes[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
            replaced += 1;
        }
    }
    assert!(replaced >= 2);
    let error = graph_from_onnx_bytes(&bytes).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert!(error.message.contains("is not valid UTF-8"), "{error}");
    assert!(error.message.contains("(Relu"), "{error}");

    let empty = graph_from_onnx_bytes(&[]).unwrap_err();
    assert!(empty.message.contains("empty"), "{empty}");
    let garbage = graph_from_onnx_bytes(b"definitely not a protobuf").unwrap_err();
    assert_eq!(garbage.kind, ErrorKind::Parse);
}

/// ONNX requires nodes in dependency order, and import uses the file's order when it is one;
/// a file listing them otherwise is sorted first and gives the same graph.
#[test]
fn nodes_out_of_dependency_order_give_the_same_graph() {
    let nodes = vec![
        node(
            "Conv",
            &["x", "w"],
            &["c"],
            vec![("pads", A::Ints(vec![1, 1, 1, 1]))],
        ),
        node("Relu", &["c"], &["r"], vec![]),
        node("Add", &["r", "c"], &["s"], vec![]),
        node("GlobalAveragePool", &["s"], &["y"], vec![]),
    ];
    let sorted =
        Model::new(&[1, 3, 8, 8], nodes.clone(), vec!["y"]).with(vec![weight("w", &[4, 3, 3, 3])]);
    let mut reversed = sorted.clone();
    reversed.nodes = nodes.into_iter().rev().collect();
    let (graph, _) = sorted.import();
    let (from_reversed, _) = reversed.import();
    assert_eq!(
        ops(&graph),
        ["input", "conv", "relu", "add", "global_avg_pool", "output"]
    );
    assert_eq!(graph.to_json(), from_reversed.to_json());
}

#[test]
fn static_subgraphs_with_unknown_shapes_only_matter_when_used() {
    // ConstantOfShape of an external shape: unknown shape, but only a dead end reads it.
    let model = Model::new(
        &[1, 4],
        vec![
            node("ConstantOfShape", &["hidden"], &["c"], vec![]),
            node("Relu", &["c"], &["dead"], vec![]),
            node("Relu", &["x"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![TensorProto {
        data_type: Some(INT64),
        ..weight("hidden", &[2])
    }]);
    let (g, report) = model.import();
    assert_eq!(ops(&g), ["input", "relu", "output"]);
    assert_eq!(report.ops["ConstantOfShape"].folded, 1);
    // The same tensor added to the data path is an error naming it.
    let mut used = model;
    used.nodes.push(node("Add", &["y", "c"], &["z"], vec![]));
    used.outputs = vec!["z"];
    let error = used.error();
    assert!(
        error.message.contains("needs the shape of tensor 'c'"),
        "{error}"
    );
    assert!(error.message.contains("'hidden'"), "{error}");
}

#[test]
fn slices_and_contiguous_gathers_are_slices() {
    // Tokens [1, 4, 24] split into q, k, v as attention code does: reshape to [1, 4, 3, 8],
    // move the 3 first, take qkv[1] (a scalar Gather), then channels 2..6 of it.
    let model = Model::new(
        &[1, 4, 24],
        vec![
            node("Reshape", &["x", "heads"], &["r"], vec![]),
            node(
                "Transpose",
                &["r"],
                &["qkv"],
                vec![("perm", A::Ints(vec![2, 0, 1, 3]))],
            ),
            node("Gather", &["qkv", "one"], &["k"], vec![("axis", A::Int(0))]),
            node("Slice", &["k", "start", "end", "last"], &["y"], vec![]),
            node("Gather", &["qkv", "odd"], &["g"], vec![("axis", A::Int(0))]),
        ],
        vec!["y", "g"],
    )
    .with(vec![
        int64s("heads", &[1, 4, 3, 8]),
        TensorProto {
            dims: vec![],
            ..int64s("one", &[1])
        },
        int64s("start", &[2]),
        int64s("end", &[6]),
        int64s("last", &[-1]),
        int64s("odd", &[0, 2]),
    ]);
    let (g, report) = model.import();
    let mut found = ops(&g);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "input",
            "output",
            "output",
            "slice",
            "slice",
            "transpose",
            "unknown:Gather"
        ]
    );
    let sliced: Vec<Shape> = g
        .nodes()
        .filter(|(_, n)| n.op == Op::Slice)
        .map(|(_, n)| n.output)
        .collect();
    assert_eq!(sliced, [Shape::new(4, 1, 8), Shape::new(4, 1, 4)]);
    assert_eq!(
        report.ops["Gather"],
        OpCounts {
            mapped: 1,
            folded: 0,
            unknown: 1
        }
    );
    assert_eq!(report.ops["Slice"].mapped, 1);
}

#[test]
fn split_pieces_are_the_slices_they_stand_for() {
    // `a, b = x.split([2, 4], dim=1)` as the legacy exporter writes it (one Split) and as
    // torch.export writes it (a Slice per piece) give one graph; a piece that nothing reads
    // leaves no node, as torch.export writes no Slice for it.
    let split = Model::new(
        &[1, 6, 8, 8],
        vec![
            node(
                "Split",
                &["x", "sizes"],
                &["a", "b"],
                vec![("axis", A::Int(1))],
            ),
            node("Relu", &["a"], &["y"], vec![]),
            node("Sigmoid", &["b"], &["z"], vec![]),
        ],
        vec!["y", "z"],
    )
    .with(vec![int64s("sizes", &[2, 4])]);
    let slices = Model::new(
        &[1, 6, 8, 8],
        vec![
            node("Slice", &["x", "zero", "two", "one"], &["a"], vec![]),
            node("Slice", &["x", "two", "six", "one"], &["b"], vec![]),
            node("Relu", &["a"], &["y"], vec![]),
            node("Sigmoid", &["b"], &["z"], vec![]),
        ],
        vec!["y", "z"],
    )
    .with(vec![
        int64s("zero", &[0]),
        int64s("one", &[1]),
        int64s("two", &[2]),
        int64s("six", &[6]),
    ]);
    let (from_split, report) = split.import();
    let (from_slices, _) = slices.import();
    assert!(crate::graph::is_isomorphic(&from_split, &from_slices));
    let pieces: Vec<Shape> = from_split
        .nodes()
        .filter(|(_, n)| n.op == Op::Slice)
        .map(|(_, n)| n.output)
        .collect();
    assert_eq!(pieces, [Shape::new(8, 8, 2), Shape::new(8, 8, 4)]);
    assert_eq!(
        report.ops["Split"],
        OpCounts {
            mapped: 1,
            folded: 0,
            unknown: 0
        }
    );
    let mut unread = split.clone();
    unread.nodes[0].output.push("c".into());
    unread.initializers = vec![int64s("sizes", &[2, 3, 1])];
    let mut slices = slices;
    slices.initializers.push(int64s("five", &[5]));
    slices.nodes[1].input[2] = "five".into();
    let (from_split, report) = unread.import();
    assert!(crate::graph::is_isomorphic(&from_split, &slices.import().0));
    assert_eq!(report.ops["Split"].mapped, 1);
}

fn limits(max_nodes: usize, max_edges: usize, max_onnx_bytes: u64) -> ImportOptions {
    ImportOptions {
        limits: Limits {
            max_nodes,
            max_edges,
            max_onnx_bytes,
        },
        ..ImportOptions::default()
    }
}

#[test]
fn a_million_empty_nodes_are_refused_before_decoding() {
    // 2 bytes per node on the wire, some 200 decoded: the limit is checked on the wire.
    let mut bytes = Model::new(&[1, 3, 8, 8], vec![], vec!["x"]).bytes();
    let nodes = Limits::DEFAULT.max_nodes + 1;
    let mut graph = Vec::with_capacity(2 * nodes);
    for _ in 0..nodes {
        graph.extend_from_slice(&[0x0a, 0x00]);
    }
    bytes.push(0x3a);
    let mut len = graph.len() as u64;
    while len >= 0x80 {
        bytes.push((len as u8) | 0x80);
        len >>= 7;
    }
    bytes.push(len as u8);
    bytes.extend(graph);
    let error = graph_from_onnx_bytes(&bytes).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unsupported);
    assert!(
        error.message.contains(
            "the ONNX model's graph has 1000001 nodes, more than the limit max_nodes = 1000000"
        ),
        "{error}"
    );
}

#[test]
fn a_claimed_two_gigabyte_graph_is_a_parse_error() {
    // ModelProto.graph with a length of 2 GiB, followed by 3 bytes.
    let bytes = [0x3a, 0x80, 0x80, 0x80, 0x80, 0x08, 1, 2, 3];
    let error = graph_from_onnx_bytes(&bytes).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse, "{error}");
}

#[test]
fn size_and_graph_limits_name_the_limit() {
    let model = Model::new(
        &[1, 3, 8, 8],
        vec![
            node("Conv", &["x", "w"], &["y"], vec![]),
            node("Relu", &["y"], &["z"], vec![]),
        ],
        vec!["z"],
    )
    .with(vec![weight("w", &[4, 3, 3, 3])]);
    let bytes = model.bytes();
    let big = u64::MAX;
    assert!(graph_from_onnx_bytes_with(&bytes, &limits(4, 3, big)).is_ok());
    let cases = [
        (limits(4, 3, bytes.len() as u64 - 1), "max_onnx_bytes"),
        (limits(1, 3, big), "the ONNX model's graph has 2 nodes"),
        (limits(3, 3, big), "the imported graph has 4 nodes"),
        (limits(4, 2, big), "the imported graph has 3 edges"),
    ];
    for (options, expected) in cases {
        let error = graph_from_onnx_bytes_with(&bytes, &options).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert!(error.message.contains(expected), "{error}");
    }
}

#[test]
fn files_beyond_the_size_limit_are_not_read() {
    let dir = std::env::temp_dir().join(format!("cgp-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.onnx");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: claims 3 GiB on disk without using it.
    file.set_len(3 << 30).unwrap();
    let error = graph_from_onnx_file(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(error.kind, ErrorKind::Unsupported);
    assert!(
        error
            .message
            .contains("3221225472 bytes, more than the limit max_onnx_bytes = 2147483648"),
        "{error}"
    );
}

/// Inline tensor data (`raw_data`) is read the same from a file, whose buffer decoding slices,
/// as from a byte slice, which it copies: the weights of a full export and a shape constant.
#[test]
fn inline_raw_data_reads_the_same_from_files_and_bytes() {
    let raw = |name: &str, dims: &[i64], data_type: i32, data: Vec<u8>| TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(data_type),
        raw_data: Some(data),
        ..TensorProto::default()
    };
    let target: Vec<u8> = [1i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let model = Model::new(
        &[1, 4, 3, 3],
        vec![
            node("Reshape", &["x", "target"], &["flat"], vec![]),
            node("Gemm", &["flat", "fc"], &["y"], vec![("transB", A::Int(1))]),
        ],
        vec!["y"],
    )
    .with(vec![
        raw("target", &[2], INT64, target),
        // 1 MiB of weights stored inline.
        raw("fc", &[7282, 36], FLOAT, vec![0x3f; 7282 * 36 * 4]),
    ]);
    let bytes = model.bytes();
    let dir = std::env::temp_dir().join(format!("cgp-raw-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inline.onnx");
    std::fs::write(&path, &bytes).unwrap();
    let from_file = graph_from_onnx_file(&path);
    std::fs::remove_dir_all(&dir).unwrap();
    let (from_file, _) = from_file.unwrap();
    let (from_bytes, _) = graph_from_onnx_bytes(&bytes).unwrap();
    assert_eq!(ops(&from_file), ["input", "linear", "output"]);
    assert_eq!(from_file.node(1).unwrap().input, Shape::vector(36));
    assert_eq!(from_file.node(1).unwrap().output, Shape::vector(7282));
    assert_eq!(from_file.to_json(), from_bytes.to_json());
}

#[test]
fn control_flow_on_the_data_path_is_refused_naming_it() {
    // An If on a constant condition whose branches would read x: import does not decode
    // branches, so it cannot know the output's shape, and it says which node stopped it
    // rather than folding the If as static because its one explicit input is.
    let model = Model::new(
        &[1, 4],
        vec![
            node("If", &["condition"], &["branch"], vec![]),
            node("Add", &["x", "branch"], &["y"], vec![]),
        ],
        vec!["y"],
    )
    .with(vec![TensorProto {
        data_type: Some(crate::import::onnx::proto::tensor_proto::DataType::Bool as i32),
        ..int64s("condition", &[1])
    }]);
    let error = model.error();
    assert_eq!(error.kind, ErrorKind::Unsupported);
    assert!(error.message.contains("node 'If_branch' (If)"), "{error}");
}
