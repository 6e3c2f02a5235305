//! The NAS-Bench-101 and -201 importers against the numbers the benchmarks and NASLib
//! published for every architecture in `data/` (see `data/README.md`).

use std::collections::HashMap;
use std::io::Read;

use cgpredict::import::{Nb101Spec, Nb201Arch, Nb201Op, nasbench101};
use cgpredict::{Graph, Op};

/// A gzipped CSV file of `data/`, as rows of column name -> text.
fn read_table(relative: &str) -> Vec<HashMap<String, String>> {
    let path = format!("{}/data/{relative}", env!("CARGO_MANIFEST_DIR"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .zip(record.iter())
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect()
        })
        .collect()
}

/// A count in millions, as the CSV files print it, equals `count` to the printed precision.
fn same_millions(count: u64, printed: &str) -> bool {
    let printed: f64 = printed.parse().unwrap();
    (count as f64 / 1e6 - printed).abs() < 5e-7
}

/// NASLib's `flops` column (NAS-Bench-Suite-Zero): `predictive.find_measures` runs
/// tensorwatch's `ModelStats` (a port of torchstat) on NASLib's PyTorch model with a batch of
/// one and divides its `Flops` by 1e6. That sums, over the leaf modules called in forward:
/// - `Conv2d`: `k_h * k_w * in_c * out_c * out_h * out_w` (the MACs; none of these convs has
///   a bias or groups);
/// - `BatchNorm2d`: the input's elements, doubled when affine;
/// - `ReLU`: the input's elements;
/// - `MaxPool2d`, `AvgPool2d`: the output's elements times `k * k`;
/// - `AdaptiveAvgPool2d` to 1x1: `(h + 1) * (w + 1) * c` (its window formula adds 1 per side);
/// - `Linear`: `in * out` (its bias is not counted);
/// - nothing else: additions, concatenation, slicing and `torch.mean` are not modules.
///
/// So it is the graph's MACs ([`Graph::macs`]: convolutions and linear layers) plus these
/// element-wise terms. `global_pool_is_module` tells whether the model pools with
/// `AdaptiveAvgPool2d` (NAS-Bench-201) or with `torch.mean` (NAS-Bench-101).
fn naslib_flops(graph: &Graph, global_pool_is_module: bool) -> u64 {
    let element_terms: u64 = graph
        .nodes()
        .map(|(_, node)| {
            let (input, output) = (node.input, node.output);
            match node.op {
                Op::BatchNorm if node.has_bias => 2 * input.elements(),
                Op::BatchNorm | Op::Relu => input.elements(),
                Op::MaxPool | Op::AvgPool => {
                    output.elements() * u64::from(node.kernel[0] * node.kernel[1])
                }
                Op::GlobalAvgPool if global_pool_is_module => {
                    u64::from((input.h + 1) * (input.w + 1) * input.c)
                }
                _ => 0,
            }
        })
        .sum();
    graph.macs() + element_terms
}

/// Test 1: every NAS-Bench-101 cell of the file builds a network with exactly the
/// `trainable_parameters` that the benchmark reports (TensorFlow's count: conv weights,
/// BN gamma and beta, dense weights and bias).
#[test]
fn nb101_every_cell_has_the_published_trainable_parameters() {
    let rows = read_table("nasbench101/nb101_20001.csv.gz");
    assert_eq!(rows.len(), 20_001);
    let (mut matching, mut matching_file_order) = (0, 0);
    let mut mismatches = Vec::new();
    for row in &rows {
        let matrix: Vec<Vec<u8>> = serde_json::from_str(&row["adjacency"]).unwrap();
        let ops: Vec<String> = serde_json::from_str(&row["ops"]).unwrap();
        let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
        let n = matrix.len();
        let published: u64 = row["trainable_parameters"].parse().unwrap();
        let graph = nasbench101(&matrix.concat(), n, &ops).unwrap();
        if graph.param_count() == published {
            matching += 1;
        } else {
            mismatches.push((row["nb101_hash"].clone(), graph.param_count(), published));
        }
        let spec = Nb101Spec::new(&matrix.concat(), n, &ops).unwrap();
        assert_eq!(spec.num_vertices().to_string(), row["num_vertices"]);
        assert_eq!(spec.num_edges().to_string(), row["num_edges"]);
        // The file's own vertex order builds a different network only where it is not the
        // benchmark's order.
        let file_order = if spec == spec.canonical() {
            graph.param_count()
        } else {
            spec.to_graph().unwrap().param_count()
        };
        matching_file_order += usize::from(file_order == published);
    }
    println!(
        "NAS-Bench-101: {matching} of {} cells match trainable_parameters \
         ({matching_file_order} when built in the file's vertex order instead of the benchmark's)",
        rows.len()
    );
    assert_eq!(
        matching,
        rows.len(),
        "first mismatches: {:?}",
        &mismatches[..mismatches.len().min(5)]
    );
}

/// Test 2, NAS-Bench-101: NASLib's `params` and `flops` for its 500 cells. NASLib stores
/// cells unpruned (7x7, with dangling vertices), prunes them as the benchmark's `ModelSpec`
/// does and builds its PyTorch port of the network in that vertex order (`nasbench1.py`,
/// stem 128, 3 stacks of 3 cells, `torch.mean` pooling), so the comparison uses
/// `Nb101Spec::pruned_from_json(..).to_graph()`.
#[test]
fn nb101_matches_naslib_params_and_flops() {
    let rows = read_table("zero_cost/nb101_500.csv.gz");
    assert_eq!(rows.len(), 500);
    let (mut params_exact, mut flops_exact, mut within_1_percent) = (0, 0, 0);
    let mut pruned = 0;
    for row in &rows {
        let spec = Nb101Spec::pruned_from_json(&row["adjacency"], &row["ops"]).unwrap();
        let matrix: Vec<Vec<u8>> = serde_json::from_str(&row["adjacency"]).unwrap();
        pruned += usize::from(spec.num_vertices() < matrix.len());
        let graph = spec.to_graph().unwrap();
        let flops = naslib_flops(&graph, false);
        let params_ok = same_millions(graph.param_count(), &row["params"]);
        let flops_ok = same_millions(flops, &row["flops"]);
        params_exact += usize::from(params_ok);
        flops_exact += usize::from(flops_ok);
        let relative = |count: u64, printed: &str| {
            let printed: f64 = printed.parse().unwrap();
            (count as f64 / 1e6 - printed).abs() / printed
        };
        within_1_percent += usize::from(
            relative(graph.param_count(), &row["params"]) < 0.01
                && relative(flops, &row["flops"]) < 0.01,
        );
        assert!(
            params_ok && flops_ok,
            "{} {}: params {} vs {}M, flops {flops} vs {}M",
            row["adjacency"],
            row["ops"],
            graph.param_count(),
            row["params"],
            row["flops"]
        );
    }
    println!(
        "NAS-Bench-101 vs NASLib: {params_exact}/500 params and {flops_exact}/500 flops exact, \
         {within_1_percent}/500 both within 1% ({pruned} cells needed pruning)"
    );
}

/// NASLib's op indices of a NAS-Bench-201 cell: `OP_NAMES` = Identity, Zero, ReLUConvBN3x3,
/// ReLUConvBN1x1, AvgPool1x1 on the edges 0->1, 0->2, 0->3, 1->2, 1->3, 2->3
/// (`nasbench201/conversions.py`).
fn arch_from_naslib_indices(indices: &str) -> Nb201Arch {
    let ops = [
        Nb201Op::SkipConnect,
        Nb201Op::None,
        Nb201Op::NorConv3x3,
        Nb201Op::NorConv1x1,
        Nb201Op::AvgPool3x3,
    ];
    let indices: Vec<usize> = indices
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(|index| index.trim().parse().unwrap())
        .collect();
    let [e01, e02, e03, e12, e13, e23] = indices[..] else {
        panic!("{indices:?} are not 6 op indices")
    };
    // String order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
    Nb201Arch::new([e01, e02, e12, e03, e13, e23].map(|index| ops[index]))
}

/// Test 2, NAS-Bench-201: NASLib's `params` and `flops` for 491 cells on each of CIFAR-10
/// (10 classes, 32x32), CIFAR-100 (100, 32x32) and ImageNet16-120 (120, 16x16).
#[test]
fn nb201_matches_naslib_params_and_flops() {
    let rows = read_table("zero_cost/nb201_491x3.csv.gz");
    assert_eq!(rows.len(), 3 * 491);
    let (mut params_exact, mut flops_exact) = (0, 0);
    for row in &rows {
        let (classes, resolution) = match row["dataset"].as_str() {
            "cifar10" => (10, 32),
            "cifar100" => (100, 32),
            "ImageNet16-120" => (120, 16),
            other => panic!("unknown dataset {other}"),
        };
        let arch: Nb201Arch = row["arch_str"].parse().unwrap();
        assert_eq!(arch, arch_from_naslib_indices(&row["naslib_op_indices"]));
        let graph = arch.to_graph(classes, resolution).unwrap();
        let flops = naslib_flops(&graph, true);
        let params_ok = same_millions(graph.param_count(), &row["params"]);
        let flops_ok = same_millions(flops, &row["flops"]);
        params_exact += usize::from(params_ok);
        flops_exact += usize::from(flops_ok);
        assert!(
            params_ok && flops_ok,
            "{} on {}: params {} vs {}M, flops {flops} vs {}M",
            row["arch_str"],
            row["dataset"],
            graph.param_count(),
            row["params"],
            row["flops"]
        );
    }
    println!(
        "NAS-Bench-201 vs NASLib: {params_exact}/{n} params and {flops_exact}/{n} flops exact",
        n = rows.len()
    );
}

/// The benchmark's own `flop`: xautodl's counter (`utils/flop_benchmark.py`) counts the
/// MACs of convolutions and linear layers plus the linear layer's bias additions.
fn nb201_flop(graph: &Graph, classes: u32) -> u64 {
    graph.macs() + u64::from(classes)
}

/// All 15,625 cells parse, print back to their string, agree with the file's `has_none_op`,
/// and build; their parameters and FLOPs span exactly the range that the benchmark file
/// (NAS-Bench-201 v1.1) reports on CIFAR-10: 0.073306M to 1.531546M parameters and 7.78305M
/// to 220.11969M FLOPs (as listed in EvoXBench's NB-201 `min_max_values`). The extreme cells
/// also match on CIFAR-100 (0.079156M-1.537396M, 7.7889M-220.12554M) and ImageNet16-120
/// (0.080456M-1.538696M, 1.9534M-55.03756M).
#[test]
fn nb201_every_cell_builds_within_the_published_range() {
    let rows = read_table("nasbench201/nb201_15625.csv.gz");
    assert_eq!(rows.len(), 15_625);
    let (mut min, mut max) = ((u64::MAX, u64::MAX), (0, 0));
    let (mut smallest, mut largest) = (None, None);
    let mut without_none = 0;
    for row in &rows {
        let text = &row["arch_str"];
        let arch: Nb201Arch = text.parse().unwrap();
        assert_eq!(&arch.to_string(), text);
        let has_none = arch.edges().contains(&Nb201Op::None);
        assert_eq!(has_none.to_string(), row["has_none_op"].to_lowercase());
        without_none += usize::from(!has_none);
        let graph = arch.to_graph(10, 32).unwrap();
        let counts = (graph.param_count(), nb201_flop(&graph, 10));
        if counts < min {
            (min, smallest) = (counts, Some(arch));
        }
        if counts > max {
            (max, largest) = (counts, Some(arch));
        }
    }
    assert_eq!(without_none, 4096);
    assert_eq!(min, (73_306, 7_783_050));
    assert_eq!(max, (1_531_546, 220_119_690));
    let (smallest, largest) = (smallest.unwrap(), largest.unwrap());
    assert_eq!(largest.edges(), [Nb201Op::NorConv3x3; 6]);
    for (classes, resolution, low, high) in [
        (100, 32, (79_156, 7_788_900), (1_537_396, 220_125_540)),
        (120, 16, (80_456, 1_953_400), (1_538_696, 55_037_560)),
    ] {
        for (arch, expected) in [(smallest, low), (largest, high)] {
            let graph = arch.to_graph(classes, resolution).unwrap();
            let counts = (graph.param_count(), nb201_flop(&graph, classes));
            assert_eq!(counts, expected, "{arch} with {classes} classes");
        }
    }
}
