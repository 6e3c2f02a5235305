use std::fs::File;

use flate2::read::GzDecoder;
use serde::Deserialize;

use super::*;
use crate::error::ErrorKind;
use crate::graph::NodeId;

fn vendored(path: &str) -> csv::Reader<GzDecoder<File>> {
    let path = format!("{}/data/{path}", env!("CARGO_MANIFEST_DIR"));
    let file = File::open(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    csv::Reader::from_reader(GzDecoder::new(file))
}

#[derive(Deserialize)]
struct SubnetRow {
    ks: String,
    e: String,
    d: String,
    r: u32,
    params: u64,
    macs: u64,
}

/// Every subnet of the DyNAS-T file, measured by DyNAS-T on the real OFA supernet.
///
/// DyNAS-T (`OFARunner.validate_macs_params`) extracts the subnet with
/// `get_active_subnet`, counts parameters as the sum of `numel` over the model's
/// parameters (BN scale and shift, SE biases and the classifier bias included) and MACs with
/// fvcore on a 1x3x224x224 input, which counts one per multiply-accumulate of the
/// convolutions (SE's 1x1 convolutions included) and the linear layer, nothing for BN,
/// activations, pooling or the SE product. Those are exactly `Graph::param_count` and
/// `Graph::macs`, so the comparison is exact.
#[test]
fn every_dynast_subnet_matches_its_measured_params_and_macs() {
    let mut rows = 0;
    let mut exact = 0;
    let mut mismatches = Vec::new();
    for row in vendored("ofa_mbv3/ofa_mbv3_subnets_2223.csv.gz").deserialize() {
        let row: SubnetRow = row.unwrap();
        let list = |text: &str| serde_json::from_str::<Vec<u8>>(text).unwrap();
        let graph = ofa_mbv3(&list(&row.ks), &list(&row.e), &list(&row.d), row.r).unwrap();
        rows += 1;
        if (graph.param_count(), graph.macs()) == (row.params, row.macs) {
            exact += 1;
        } else if mismatches.len() < 5 {
            mismatches.push(format!(
                "ks={} e={} d={}: params {} vs {}, MACs {} vs {}",
                row.ks,
                row.e,
                row.d,
                graph.param_count(),
                row.params,
                graph.macs(),
                row.macs
            ));
        }
    }
    assert_eq!(rows, 2223);
    assert_eq!(exact, rows, "first mismatches: {mismatches:#?}");
}

/// The largest subnet (ks 7, e 6, d 4 everywhere) at 224, worked out from the OFA code.
///
/// Parameters (BN = 2 per channel):
/// - first conv 3x3 3->16: 432 + BN 32 = 464; first block: dw 3x3 144 + BN 32 + pw 256 +
///   BN 32 = 464;
/// - a block of input c, expand 6 (mid m = 6c), kernel 7, output o:
///   expand c*m + 2m, depthwise 49m + 2m, project m*o + 2o, and with SE (r = mid/4 rounded
///   to 8): m*r + r + r*m + m. The 20 blocks' inputs are 16,24,24,24 | 24,40,40,40 |
///   40,80,80,80 | 80,112,112,112 | 112,160,160,160:
///   expand 987,456; depthwise 465,120; project 1,032,832; SE (stages 2, 4, 5) 2,513,104;
/// - final expand 160*960 + BN 1,920 = 155,520; feature mix 960*1280 = 1,228,800 (no bias,
///   no BN); classifier 1280*1000 + 1000 = 1,281,000.
///
/// Total 464 + 464 + 987,456 + 465,120 + 1,032,832 + 2,513,104 + 155,520 + 1,228,800 +
/// 1,281,000 = 7,664,760.
///
/// MACs: first conv 112*112*16*27 = 5,419,008; first block 112*112*16*(9 + 16) = 5,017,600;
/// expand 204,417,024; depthwise 162,960,672; project 175,816,704; SE 2,504,448; final expand
/// 7*7*160*960 = 7,526,400; feature mix 1,228,800; classifier 1,280,000; total 566,170,656.
#[test]
fn max_subnet_counts_by_hand() {
    let graph = ofa_mbv3(&[7; 20], &[6; 20], &[4; 5], 224).unwrap();
    assert_eq!(graph.param_count(), 7_664_760);
    assert_eq!(graph.macs(), 566_170_656);
    // Stage 2's first block (slot 4, input 24 -> mid 144, SE reduce to 40).
    let names: Vec<&str> = graph.nodes().map(|(_, node)| node.name.as_str()).collect();
    let find = |name: &str| {
        let id = names.iter().position(|n| *n == name).unwrap();
        graph.node(id as NodeId).unwrap()
    };
    let reduce = find("blocks.5/depth_conv/se/fc/reduce");
    assert_eq!(
        (reduce.input.c, reduce.output.c, reduce.has_bias),
        (144, 40, true)
    );
    let depthwise = find("blocks.5/depth_conv/conv");
    assert_eq!(depthwise.op, Op::DepthwiseConv);
    assert_eq!(
        (depthwise.input, depthwise.output),
        (Shape::new(56, 56, 144), Shape::new(28, 28, 144))
    );
    assert_eq!(depthwise.kernel, [7, 7]);
    // The feature mix layer has no bias and feeds its h-swish directly (no BN).
    let mix = find("feature_mix_layer/conv");
    assert!(!mix.has_bias);
    assert_eq!(find("feature_mix_layer/act").op, Op::HardSwish);
    assert!(
        !names
            .iter()
            .any(|name| name.starts_with("feature_mix_layer/bn"))
    );
}

/// The smallest subnet (ks 3, e 3, d 2) at 224: its node list, counted from the code.
///
/// Nodes: input 1; first conv 3 (conv, BN, h-swish); first block 6 (dw, BN, ReLU, pw, BN,
/// add); 10 blocks of 8 nodes (expand conv, BN, act, dw, BN, act, project, BN) = 80; 6 SE
/// nodes (pool, reduce, ReLU, expand, h-sigmoid, mul) in the 6 blocks of stages 2, 4 and 5
/// = 36; an add in the 5 second blocks (each keeps stride 1 and width; stage 4's first block
/// has stride 1 but widens 80 -> 112, so it has none) = 5; final expand 3, pool 1, feature
/// mix 2 (conv, h-swish), classifier 1, output 1. Total 1 + 3 + 6 + 80 + 36 + 5 + 8 = 139.
#[test]
fn min_subnet_node_count_by_hand() {
    let graph = ofa_mbv3(&[3; 20], &[3; 20], &[2; 5], 224).unwrap();
    assert_eq!(graph.node_count(), 139);
    let histogram = graph.op_histogram();
    assert_eq!(histogram["add"], 6);
    assert_eq!(histogram["mul"], 6);
    assert_eq!(histogram["hardsigmoid"], 6);
    assert_eq!(histogram["global_avg_pool"], 7);
    assert_eq!(histogram["depthwise_conv"], 11);
    assert_eq!(histogram["batch_norm"], 1 + 2 + 10 * 3 + 1);
    // Every node but the input has one edge from the node before it; each add also reads
    // the block input, and each SE mul also reads the block tensor.
    assert_eq!(graph.edge_count(), 139 - 1 + 6 + 6);
}

#[test]
fn resolution_sets_every_spatial_size() {
    // 132 = 4 * 33: strides of 2 round up (padding k / 2): 66, 33, 17, 9, 9, 5.
    let graph = ofa_mbv3(&[5; 20], &[4; 20], &[3; 5], 132).unwrap();
    let last = graph
        .nodes()
        .find(|(_, node)| node.name == "final_expand_layer/conv")
        .unwrap()
        .1;
    assert_eq!(last.input, Shape::new(5, 5, 160));
    let first = graph.node(1).unwrap();
    assert_eq!(first.output, Shape::new(66, 66, 16));
    // MACs grow with the pixel count; parameters do not depend on the resolution.
    let at_224 = ofa_mbv3(&[5; 20], &[4; 20], &[3; 5], 224).unwrap();
    assert_eq!(graph.param_count(), at_224.param_count());
    assert!(graph.macs() < at_224.macs());
}

#[test]
fn make_divisible_follows_ofa() {
    // mid / 4 for the SE widths met in the space, and the 10% rule.
    for (value, expected) in [
        (30, 32),
        (36, 40),
        (60, 64),
        (84, 88),
        (168, 168),
        (4, 8),
        (12, 16),
    ] {
        assert_eq!(make_divisible(value), expected, "make_divisible({value})");
    }
}

#[test]
fn bad_choices_are_refused_naming_the_position() {
    let ok_ks = [3u8; 20];
    let ok_e = [4u8; 20];
    let ok_d = [2u8; 5];
    let mut bad_ks = ok_ks;
    bad_ks[7] = 4;
    let mut bad_e = ok_e;
    bad_e[19] = 5;
    /// ks, e, d, resolution, and what the error must say.
    type Case<'a> = (&'a [u8], &'a [u8], &'a [u8], u32, &'a str);
    let cases: [Case; 7] = [
        (
            &bad_ks,
            &ok_e,
            &ok_d,
            224,
            "ks[7] = 4, expected one of [3, 5, 7]",
        ),
        (
            &ok_ks,
            &bad_e,
            &ok_d,
            224,
            "e[19] = 5, expected one of [3, 4, 6]",
        ),
        (
            &ok_ks,
            &ok_e,
            &[2, 3, 4, 1, 2],
            224,
            "d[3] = 1, expected one of [2, 3, 4]",
        ),
        (
            &ok_ks[..19],
            &ok_e,
            &ok_d,
            224,
            "ks has 19 values, expected 20",
        ),
        (&ok_ks, &ok_e, &[2; 6], 224, "d has 6 values, expected 5"),
        (
            &ok_ks,
            &ok_e,
            &ok_d,
            226,
            "resolution 226 is not one OFA trains on",
        ),
        (&ok_ks, &ok_e, &ok_d, 124, "resolution 124"),
    ];
    for (ks, e, d, resolution, expected) in cases {
        let err = ofa_mbv3(ks, e, d, resolution).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(err.message.contains(expected), "{expected:?} not in {err}");
    }
}
