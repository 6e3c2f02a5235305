use std::fs::File;

use flate2::read::GzDecoder;
use serde::Deserialize;

use super::*;
use crate::graph::{Node, NodeId};

fn vendored(path: &str) -> csv::Reader<GzDecoder<File>> {
    let path = format!("{}/data/{path}", env!("CARGO_MANIFEST_DIR"));
    let file = File::open(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    csv::Reader::from_reader(GzDecoder::new(file))
}

/// DARTS-V2 (second-order DARTS), as `genotypes.py` of quark0/darts writes it.
const DARTS_V2: &str = r#"{
    "normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
               ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
    "normal_concat": [2, 3, 4, 5],
    "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
               ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
    "reduce_concat": [2, 3, 4, 5]
}"#;

fn darts_v2() -> Genotype {
    Genotype::from_json(DARTS_V2).unwrap()
}

/// The nodes whose name starts with `prefix`, by id.
fn named<'g>(graph: &'g Graph, prefix: &str) -> Vec<(NodeId, &'g Node)> {
    graph
        .nodes()
        .filter(|(_, node)| node.name.starts_with(prefix))
        .collect()
}

fn find<'g>(graph: &'g Graph, name: &str) -> &'g Node {
    graph
        .nodes()
        .find(|(_, node)| node.name == name)
        .unwrap_or_else(|| panic!("no node {name}"))
        .1
}

/// DARTS-V2's normal cell, counted by hand (cell 1: a normal cell after a normal cell).
///
/// - preprocessing: 2 x (ReLU, conv 1x1, BN) = 6 nodes;
/// - 5 sep_conv_3x3: (ReLU, depthwise 3x3, conv 1x1, BN) x 2 = 8 nodes each, 40;
/// - 2 skip_connect at stride 1 (in nodes 4 and 5, each next to another op): no node, an
///   edge from state 0 into the sum;
/// - 1 dil_conv_3x3: ReLU, depthwise 3x3 dilation 2, conv 1x1, BN = 4;
/// - 4 adds (one per intermediate node) and 1 concat = 5.
///
/// Total 55 = relu 2+10+1 = 13, conv 2+10+1 = 13, depthwise 10+1 = 11, batch_norm 2+10+1 =
/// 13, add 4, concat 1. Edges inside the cell: 2 x 2 in the preprocessing; per op one edge
/// from its input state, its chain, one edge into its add (sep 1+7+1 = 9 x 5, dil 1+3+1 =
/// 5); a skip is one edge (2); 4 adds into the concat: 4 + 45 + 5 + 2 + 4 = 60.
///
/// The reduction cell (cell 2) has the same preprocessing, 5 stride-2 max pools, 3 skip
/// edges (its skip_connects read node 2, so they do not stride), 4 adds and the concat: 16
/// nodes. A normal cell after a reduction (cells 3 and 6) preprocesses its older input with
/// FactorizedReduce (ReLU, 2 convs, concat, BN: 5 nodes instead of 3): 57 nodes.
/// Whole network: input 1 + stem 2 + 4 x 55 + 2 x 57 + 2 x 16 + pool, linear, output 3 = 372.
#[test]
fn darts_v2_node_counts_by_hand() {
    let graph = darts(&darts_v2()).unwrap();
    let cell = named(&graph, "cell1/");
    assert_eq!(cell.len(), 55);
    let mut histogram = std::collections::BTreeMap::new();
    for (_, node) in &cell {
        *histogram.entry(node.op.name()).or_insert(0) += 1;
    }
    let expected = [
        ("add", 4),
        ("batch_norm", 13),
        ("concat", 1),
        ("conv", 13),
        ("depthwise_conv", 11),
        ("relu", 13),
    ];
    assert_eq!(histogram.into_iter().collect::<Vec<_>>(), expected);
    let ids: Vec<NodeId> = cell.iter().map(|(id, _)| *id).collect();
    let inner_edges = graph
        .edges()
        .filter(|(from, to)| ids.contains(from) && ids.contains(to))
        .count();
    assert_eq!(inner_edges, 60);
    // Node 4 sums sep_conv_3x3(state 1) and state 0 itself (pre0's BN).
    let pre0 = graph
        .nodes()
        .find(|(_, node)| node.name == "cell1/pre0/bn")
        .unwrap()
        .0;
    let add4 = graph
        .nodes()
        .find(|(_, node)| node.name == "cell1/node4/add")
        .unwrap()
        .0;
    assert!(graph.predecessors(add4).contains(&pre0));

    assert_eq!(named(&graph, "cell2/").len(), 16);
    assert_eq!(named(&graph, "cell3/").len(), 57);
    assert_eq!(named(&graph, "cell6/").len(), 57);
    assert_eq!(graph.node_count(), 372);
}

/// The DARTS paper reports 3.3M parameters for DARTS-V2 at 36 initial channels and 20
/// cells; the DARTS `train.py` log prints "param size = 3.349342MB" (its
/// `count_parameters_in_MB` leaves out the auxiliary head, like this graph).
#[test]
fn darts_v2_at_paper_scale_has_the_published_parameter_count() {
    let config = DartsConfig {
        channels: 36,
        layers: 20,
        affine_cell_ops: true,
        bn_after_pools: false,
    };
    let graph = build(&darts_v2(), &config).unwrap();
    assert_eq!(graph.param_count(), 3_349_342);
}

/// NASLib's `NasBench301SearchSpace` (`naslib/search_spaces/nasbench301/graph.py`), on which
/// NAS-Bench-Suite-Zero measured the `params` and `flops` columns: DARTS' macro-architecture
/// at 32 channels and 8 cells (same stem, preprocessing and classifier), but its cell ops
/// (`_set_ops`) have non-affine BatchNorms (`affine=False`) and its pools are followed by a
/// non-affine BatchNorm (`MaxPool`/`AvgPool` with `use_bn=True`). Its auxiliary head is only
/// attached by `prepare_evaluation`, which the zero-cost measurements do not call; the
/// counts below match without it.
const NASLIB: DartsConfig = DartsConfig {
    channels: 32,
    layers: 8,
    affine_cell_ops: false,
    bn_after_pools: true,
};

/// What NASLib's `flops` measure counts for a node. NASLib takes `model_stats.Flops` of
/// tensorwatch's `ModelStats`, a port of torchstat (`tensorwatch/model_graph/torchstat/
/// compute_flops.py`), per leaf module:
/// - Conv2d: `k_h * k_w * in_c * out_c / groups` per output pixel (+ `out_c` per pixel for a
///   bias), i.e. the MACs; Linear: `in * out` (bias not counted), i.e. the MACs;
/// - BatchNorm2d: the input's elements, twice that when affine;
/// - ReLU: the input's elements;
/// - MaxPool2d/AvgPool2d: `k_h * k_w` per output element;
/// - AdaptiveAvgPool2d to 1x1: `(in_h + 1) * (in_w + 1)` per channel (its window bounds are
///   counted inclusively);
/// - everything else (identity, sum, concat): nothing.
///
/// So the column is not MACs: it is the MACs plus these element-wise terms.
fn tensorwatch_flops(node: &Node) -> u64 {
    let (input, output) = (node.input, node.output);
    match node.op {
        Op::Conv | Op::DepthwiseConv => {
            node.macs().unwrap() + if node.has_bias { output.elements() } else { 0 }
        }
        Op::Linear => node.macs().unwrap(),
        Op::BatchNorm => input.elements() * if node.has_bias { 2 } else { 1 },
        Op::Relu => input.elements(),
        Op::MaxPool | Op::AvgPool => output.elements() * u64::from(node.kernel[0] * node.kernel[1]),
        Op::GlobalAvgPool => u64::from(input.c) * u64::from((input.h + 1) * (input.w + 1)),
        _ => 0,
    }
}

#[derive(Deserialize)]
struct ZeroCostRow {
    naslib_compact: String,
    genotype_normal: String,
    genotype_reduce: String,
    flops: f64,
    params: f64,
}

/// NASLib's compact encoding `[[(input, op index), ... 8], [... 8]]` as a genotype.
fn from_compact(text: &str) -> Genotype {
    let json = text.replace('(', "[").replace(')', "]");
    let cells: Vec<Vec<(u8, usize)>> = serde_json::from_str(&json).unwrap();
    let cell = |pairs: &[(u8, usize)]| -> [CellEdge; 8] {
        let edges: Vec<CellEdge> = pairs
            .iter()
            .map(|&(input, op)| CellEdge {
                op: DARTS_OPS[op],
                input,
            })
            .collect();
        edges.try_into().unwrap()
    };
    Genotype::new(cell(&cells[0]), cell(&cells[1])).unwrap()
}

/// `params` and `flops` of NAS-Bench-Suite-Zero's NAS-Bench-301 file, measured by NASLib on
/// its own PyTorch models, against NASLib's variant built as a CG (see [`NASLIB`] and
/// [`tensorwatch_flops`]). Both columns are in millions with 6 decimals, i.e. exact integers.
/// (NASLib keys a cell's edges by (input, node), so a node reading one state twice would
/// keep one op there; no row has such a node.) The public NAS-Bench-301 graph of each row
/// has the same convolutions (the same MACs) and exactly the affine parameters of its cell
/// ops' BatchNorms more.
#[test]
fn naslib_params_and_flops_match_every_zero_cost_row() {
    let (mut rows, mut exact_params, mut exact_flops) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for row in vendored("zero_cost/nb301_500.csv.gz").deserialize() {
        let row: ZeroCostRow = row.unwrap();
        let genotype = Genotype::from_cells(&row.genotype_normal, &row.genotype_reduce).unwrap();
        assert_eq!(from_compact(&row.naslib_compact), genotype, "row {rows}");
        rows += 1;

        let naslib = build(&genotype, &NASLIB).unwrap();
        let params = (row.params * 1e6).round() as u64;
        let flops = (row.flops * 1e6).round() as u64;
        let our_flops: u64 = naslib
            .nodes()
            .map(|(_, node)| tensorwatch_flops(node))
            .sum();
        exact_params += usize::from(naslib.param_count() == params);
        exact_flops += usize::from(our_flops == flops);
        if (naslib.param_count(), our_flops) != (params, flops) && mismatches.len() < 5 {
            mismatches.push(format!(
                "row {rows}: params {} vs {params}, flops {our_flops} vs {flops}",
                naslib.param_count()
            ));
        }

        let nb301 = darts(&genotype).unwrap();
        assert_eq!(nb301.macs(), naslib.macs());
        let cell_op_affine: u64 = nb301
            .nodes()
            .filter(|(_, node)| node.op == Op::BatchNorm && node.name.contains(':'))
            .map(|(_, node)| 2 * u64::from(node.output.c))
            .sum();
        assert_eq!(nb301.param_count(), naslib.param_count() + cell_op_affine);
    }
    assert_eq!(rows, 500);
    assert_eq!((exact_params, exact_flops), (rows, rows), "{mismatches:#?}");
}

#[derive(Deserialize)]
struct GenotypeRow {
    genotype_normal: String,
    genotype_reduce: String,
}

/// Every genotype of the vendored NAS-Bench-301 files parses; the labeled ones and every
/// tenth unlabeled one also build, into networks of the NAS-Bench-301 shape (building all
/// 11,721 takes about 15 s in the test profile, for no more coverage of the builder).
#[test]
fn every_vendored_genotype_parses() {
    for (file, expected, build_every) in [
        ("nasbench301/nb301_labeled_500.csv.gz", 500, 1),
        ("nasbench301/nb301_unlabeled_11221.csv.gz", 11_221, 10),
    ] {
        let mut count = 0;
        for row in vendored(file).deserialize() {
            let row: GenotypeRow = row.unwrap();
            let genotype =
                Genotype::from_cells(&row.genotype_normal, &row.genotype_reduce).unwrap();
            if count % build_every == 0 {
                let graph = darts(&genotype).unwrap();
                let histogram = graph.op_histogram();
                assert_eq!(
                    (histogram["input"], histogram["output"], histogram["add"]),
                    (1, 1, 32)
                );
                let head = find(&graph, "head/global_avg_pool");
                assert_eq!(head.input, Shape::new(8, 8, 512));
            }
            count += 1;
        }
        assert_eq!(count, expected, "{file}");
    }
}

#[test]
fn nb301_network_shapes() {
    // A reduction cell that uses every kind of strided op on inputs 0 and 1.
    let genotype = Genotype::from_json(
        r#"{"normal": [["sep_conv_5x5", 0], ["dil_conv_5x5", 1], ["avg_pool_3x3", 0], ["skip_connect", 2],
                       ["max_pool_3x3", 3], ["sep_conv_3x3", 1], ["dil_conv_3x3", 4], ["skip_connect", 0]],
            "reduce": [["sep_conv_3x3", 0], ["dil_conv_5x5", 1], ["skip_connect", 0], ["avg_pool_3x3", 1],
                       ["max_pool_3x3", 0], ["sep_conv_5x5", 3], ["skip_connect", 4], ["dil_conv_3x3", 2]]}"#,
    )
    .unwrap();
    let graph = darts(&genotype).unwrap();
    assert_eq!(find(&graph, "stem/conv").output, Shape::new(32, 32, 96));
    for (cell, shape) in [
        (0, Shape::new(32, 32, 128)),
        (2, Shape::new(16, 16, 256)),
        (5, Shape::new(8, 8, 512)),
        (7, Shape::new(8, 8, 512)),
    ] {
        assert_eq!(find(&graph, &format!("cell{cell}/concat")).output, shape);
    }
    let classifier = find(&graph, "head/classifier");
    assert_eq!((classifier.input.c, classifier.output.c), (512, 10));
    assert!(classifier.has_bias);

    // Cell 2 reduces: its ops on inputs 0 and 1 stride, the others do not.
    let sep = find(&graph, "cell2/node2/edge0:sep_conv_3x3/dw1");
    assert_eq!(
        (sep.op.clone(), sep.stride, sep.groups),
        (Op::DepthwiseConv, [2, 2], 64)
    );
    assert_eq!(
        (sep.input, sep.output),
        (Shape::new(32, 32, 64), Shape::new(16, 16, 64))
    );
    assert_eq!(
        find(&graph, "cell2/node2/edge0:sep_conv_3x3/dw2").stride,
        [1, 1]
    );
    let dil = find(&graph, "cell2/node2/edge1:dil_conv_5x5/dw");
    assert_eq!(
        (dil.kernel, dil.dilation, dil.stride),
        ([5, 5], [2, 2], [2, 2])
    );
    let reduce_skip = find(&graph, "cell2/node3/edge0:skip_connect/conv_2");
    assert_eq!(
        (reduce_skip.stride, reduce_skip.output),
        ([2, 2], Shape::new(16, 16, 32))
    );
    assert_eq!(
        find(&graph, "cell2/node3/edge1:avg_pool_3x3/pool").stride,
        [2, 2]
    );
    assert_eq!(
        find(&graph, "cell2/node4/edge1:sep_conv_5x5/dw1").stride,
        [1, 1]
    );
    // reduce[6] = skip_connect from node 4: node 4's sum feeds node 5's sum directly.
    let id = |name: &str| graph.nodes().find(|(_, node)| node.name == name).unwrap().0;
    assert!(
        graph
            .predecessors(id("cell2/node5/add"))
            .contains(&id("cell2/node4/add"))
    );
    // Cell 3 follows a reduction: FactorizedReduce from cell 1's 32x32x128 to 16x16x64.
    let pre0 = find(&graph, "cell3/pre0/conv_1");
    assert_eq!(
        (pre0.input, pre0.output),
        (Shape::new(32, 32, 128), Shape::new(16, 16, 32))
    );
    assert_eq!(
        find(&graph, "cell3/pre1/conv").input,
        Shape::new(16, 16, 256)
    );
    // The evaluation network has no BatchNorm after its pools.
    let pool = id("cell2/node3/edge1:avg_pool_3x3/pool");
    assert_eq!(graph.node(graph.successors(pool)[0]).unwrap().op, Op::Add);

    // Every add sums exactly two ops, and nothing dangles but the output.
    for (id, node) in graph.nodes() {
        match node.op {
            Op::Add => assert_eq!(graph.predecessors(id).len(), 2, "{}", node.name),
            Op::Output => assert!(graph.successors(id).is_empty()),
            _ => assert!(!graph.successors(id).is_empty(), "{} dangles", node.name),
        }
    }
}

/// A node that sums two skip_connects of one state computes x + x: the second copy goes
/// through an identity node, so the sum still has two in-edges.
#[test]
fn a_node_may_skip_the_same_state_twice() {
    let mut json: serde_json::Value = serde_json::from_str(DARTS_V2).unwrap();
    json["normal"][0] = serde_json::json!(["skip_connect", 0]);
    json["normal"][1] = serde_json::json!(["skip_connect", 0]);
    let graph = darts(&Genotype::from_json(&json.to_string()).unwrap()).unwrap();
    let id = |name: &str| {
        graph
            .nodes()
            .find(|(_, node)| node.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
            .0
    };
    let (pre0, add) = (id("cell0/pre0/bn"), id("cell0/node2/add"));
    let identity = id("cell0/node2/edge1:skip_connect/identity");
    assert_eq!(graph.predecessors(add), vec![pre0, identity]);
    assert_eq!(graph.predecessors(identity), vec![pre0]);
    // Skips of the same state in different nodes need no identity.
    assert_eq!(graph.op_histogram()["identity"], 6, "one per normal cell");
}

#[test]
fn the_two_text_forms_agree() {
    let normal = r#"[["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
                     ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]]"#;
    let reduce = r#"[["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
                     ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]"#;
    let from_cells = Genotype::from_cells(normal, reduce).unwrap();
    assert_eq!(from_cells, darts_v2());
    let bare = format!(r#"{{"normal": {normal}, "reduce": {reduce}}}"#);
    assert_eq!(Genotype::from_json(&bare).unwrap(), from_cells);
    assert_eq!(
        from_cells.normal()[7],
        CellEdge {
            op: DartsOp::DilConv3x3,
            input: 2
        }
    );
    for op in DARTS_OPS {
        assert_eq!(DartsOp::from_name(op.name()).unwrap(), op);
    }
}

#[test]
fn malformed_genotypes_name_the_problem() {
    let v2: serde_json::Value = serde_json::from_str(DARTS_V2).unwrap();
    let edit = |cell: &str, position: usize, pair: serde_json::Value| {
        let mut json = v2.clone();
        json[cell][position] = pair;
        json.to_string()
    };
    let truncated = {
        let mut json = v2.clone();
        json["normal"].as_array_mut().unwrap().pop();
        json.to_string()
    };
    let cases = [
        (
            edit("normal", 3, serde_json::json!(["sep_conv_7x7", 1])),
            "genotype JSON: normal[3]: op \"sep_conv_7x7\" is not a NAS-Bench-301 operation \
             (expected one of max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, \
             sep_conv_5x5, dil_conv_3x3, dil_conv_5x5)",
        ),
        (
            edit("reduce", 0, serde_json::json!(["none", 0])),
            "reduce[0]: op \"none\" is not a NAS-Bench-301 operation",
        ),
        (
            edit("normal", 2, serde_json::json!(["skip_connect", 3])),
            "genotype JSON: normal[2] (feeding node 3): input 3 is out of range; node 3 may read states 0..=2",
        ),
        (
            edit("reduce", 7, serde_json::json!(["skip_connect", -1])),
            "reduce[7] (feeding node 5): input -1 is out of range",
        ),
        (
            truncated,
            "genotype JSON: normal has 7 [op, input] pairs; a cell has exactly 8",
        ),
        (
            DARTS_V2.replace(
                "\"reduce_concat\": [2, 3, 4, 5]",
                "\"reduce_concat\": [4, 5]",
            ),
            "reduce_concat is [4, 5]; NAS-Bench-301 cells always concatenate nodes [2, 3, 4, 5]",
        ),
        (
            DARTS_V2.replace("\"normal_concat\"", "\"normal_concatenate\""),
            "unknown field `normal_concatenate`",
        ),
        (r#"{"normal": []}"#.to_owned(), "missing field `reduce`"),
        (
            edit("normal", 0, serde_json::json!(["skip_connect"])),
            "genotype JSON: invalid length 1",
        ),
        ("[1, 2".to_owned(), "genotype JSON: "),
    ];
    for (text, expected) in cases {
        let err = Genotype::from_json(&text).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Parse, "{err}");
        assert!(err.message.contains(expected), "{expected:?} not in {err}");
    }

    let err = Genotype::from_cells("[]", "[]").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Parse);
    assert!(
        err.message
            .contains("genotype: normal has 0 [op, input] pairs"),
        "{err}"
    );
    let err =
        Genotype::from_cells(&v2["normal"].to_string(), "[[\"skip_connect\", 0]").unwrap_err();
    assert!(err.message.starts_with("genotype reduce cell: "), "{err}");

    let mut normal = *darts_v2().normal();
    normal[0].input = 2;
    let err = Genotype::new(normal, *darts_v2().reduce()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(
        err.message
            .contains("normal[0] (feeding node 2): input 2 is out of range"),
        "{err}"
    );
}
