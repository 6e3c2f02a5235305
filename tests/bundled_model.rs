//! The bundled model against what a user gets for free, on the real data: few-shot adaptation
//! against least squares on (log MACs, log params) over the same labels (`Predictor::adapt`
//! and `adapt_ranking` choose between the model's head and that fit by leave-one-out on the
//! labels), and the model's scores of OFA subnets against what the data says of resolution,
//! width and depth.

use std::path::Path;

use cgpredict::features::Batch;
use cgpredict::graph::Graph;
use cgpredict::import::Nb201Op;
use cgpredict::import::dataset::{Family, Spec, read_family};
use cgpredict::import::ofa::ofa_mbv3;
use cgpredict::import::zoo::load_zoo;
use cgpredict::metrics::spearman;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

const SHOTS: usize = 40;
const SEEDS: u64 = 5;
/// Most networks ranked per family and seed (beyond the shots).
const TESTS: usize = 600;

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
}

/// Labeled networks of a family: every 5th NB-101 cell (4,001), the 4,096 NB-201 cells
/// without `none`, the 500 labeled NB-301 genotypes, the 2,223 OFA subnets, the zoo's 104.
fn family(name: &str) -> Vec<(Graph, f64)> {
    if name == "zoo" {
        return load_zoo(&data_dir().join("zoo/torchvision"))
            .unwrap()
            .into_iter()
            .map(|model| (model.graph, model.top1))
            .collect();
    }
    let family: Family = name.parse().unwrap();
    read_family(data_dir(), family)
        .unwrap()
        .into_iter()
        .enumerate()
        .filter_map(|(i, (spec, label))| {
            let label = label?;
            let keep = match &spec {
                Spec::Nb101(_) => i % 5 == 0,
                Spec::Nb201(arch) => !arch.edges().contains(&Nb201Op::None),
                _ => true,
            };
            keep.then(|| (spec.graph().unwrap(), label))
        })
        .collect()
}

/// Least squares on (1, log MACs, log params) over the shots, applied to the tests.
fn scale_fit(shots: &[&Graph], labels: &[f64], tests: &[&Graph]) -> Vec<f64> {
    let rows = |graphs: &[&Graph]| -> Vec<[f64; 3]> {
        Batch::new(graphs.iter().copied())
            .log_scales()
            .into_iter()
            .map(|[macs, params]| [1.0, f64::from(macs), f64::from(params)])
            .collect()
    };
    let x = rows(shots);
    let mut gram = nalgebra::Matrix3::<f64>::zeros();
    let mut rhs = nalgebra::Vector3::<f64>::zeros();
    for (row, &y) in x.iter().zip(labels) {
        let v = nalgebra::Vector3::from(*row);
        gram += v * v.transpose();
        rhs += v * y;
    }
    // A family whose MACs and params move together (NB-201) makes the system singular:
    // the pseudo-inverse gives the least-squares solution of smallest norm.
    let weights = gram.pseudo_inverse(1e-9).unwrap() * rhs;
    rows(tests)
        .into_iter()
        .map(|row| nalgebra::Vector3::from(row).dot(&weights))
        .collect()
}

#[test]
fn adaptation_ranks_at_least_as_well_as_the_scale_fit_on_every_family() {
    let options = PredictorOptions {
        device: Device::Cpu,
        ..PredictorOptions::default()
    };
    let mut predictor = Predictor::open(&options)
        .unwrap_or_else(|error| panic!("{error} (run scripts/fetch-onnxruntime.sh)"));
    let mut failures = Vec::new();
    for name in ["nb101", "nb201", "nb301", "ofa_mbv3", "zoo"] {
        let networks = family(name);
        let mut sums = [0.0f64; 5];
        for seed in 0..SEEDS {
            let mut order: Vec<usize> = (0..networks.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            let (shots, tests) = order.split_at(SHOTS);
            let tests = &tests[..tests.len().min(TESTS)];
            let graphs = |indices: &[usize]| -> Vec<&Graph> {
                indices.iter().map(|&i| &networks[i].0).collect()
            };
            let labels = |indices: &[usize]| -> Vec<f64> {
                indices.iter().map(|&i| networks[i].1).collect()
            };
            let (shot_graphs, test_graphs) = (graphs(shots), graphs(tests));
            let (shot_labels, test_labels) = (labels(shots), labels(tests));
            let shot_labels_f32: Vec<f32> = shot_labels.iter().map(|&y| y as f32).collect();
            let srcc = |scores: Vec<f64>| spearman(&scores, &test_labels).unwrap();
            let widen = |scores: Vec<f32>| scores.into_iter().map(f64::from).collect();
            sums[0] += srcc(scale_fit(&shot_graphs, &shot_labels, &test_graphs));
            predictor.adapt(&shot_graphs, &shot_labels_f32).unwrap();
            sums[1] += srcc(widen(predictor.predict(&test_graphs).unwrap()));
            predictor
                .adapt_ranking(&shot_graphs, &shot_labels_f32)
                .unwrap();
            sums[2] += srcc(widen(predictor.predict(&test_graphs).unwrap()));
            // The counts, for the record, on the same held-out networks.
            let scales = Batch::new(test_graphs.iter().copied()).log_scales();
            sums[3] += srcc(scales.iter().map(|s| f64::from(s[0])).collect());
            sums[4] += srcc(scales.iter().map(|s| f64::from(s[1])).collect());
        }
        let [fit, adapt, ranking, macs, params] = sums.map(|sum| sum / SEEDS as f64);
        eprintln!(
            "{name}: {SHOTS} shots, mean SRCC over {SEEDS} seeds: MACs {macs:.3}, params \
             {params:.3}, least squares on (log MACs, log params) {fit:.3}, adapt {adapt:.3}, \
             adapt_ranking {ranking:.3}"
        );
        if adapt < fit || ranking < fit {
            failures.push(format!(
                "{name}: adapt {adapt:.3}, adapt_ranking {ranking:.3} < least squares {fit:.3}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// An OFA-MBv3 subnet measured at resolution 224: ks, e, d and top-1.
type Subnet = (Vec<u8>, Vec<u8>, Vec<u8>, f64);

/// The OFA-MBv3 subnets measured at resolution 224.
fn ofa_subnets() -> Vec<Subnet> {
    read_family(data_dir(), Family::OfaMbv3)
        .unwrap()
        .into_iter()
        .filter_map(|(spec, label)| match spec {
            Spec::OfaMbv3 { ks, e, d, .. } => Some((ks, e, d, label?)),
            _ => None,
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    sum / count.max(1) as f64
}

/// What the data says of width and depth (the 2,223 measured subnets: those above the median
/// mean expand ratio, or total depth, are more accurate on average) and of resolution (OFA's
/// own results: accuracy rises from 128 to 224), the bundled model says too, on the same
/// subnet varied one way at a time.
#[test]
fn the_bundled_model_scores_larger_ofa_subnets_higher_as_the_data_does() {
    let subnets = ofa_subnets();
    let above_median = |key: &dyn Fn(&Subnet) -> f64| {
        let mut keys: Vec<f64> = subnets.iter().map(key).collect();
        keys.sort_by(f64::total_cmp);
        let median = keys[keys.len() / 2];
        let above = mean(subnets.iter().filter(|s| key(s) > median).map(|s| s.3));
        let rest = mean(subnets.iter().filter(|s| key(s) <= median).map(|s| s.3));
        (above, rest)
    };
    let width = |s: &Subnet| mean(s.1.iter().map(|&e| f64::from(e)));
    let depth = |s: &Subnet| s.2.iter().map(|&d| f64::from(d)).sum();
    for (what, (above, rest)) in [
        ("width", above_median(&width)),
        ("depth", above_median(&depth)),
    ] {
        assert!(above > rest, "{what}: {above} vs {rest} in the data");
    }

    let predictor = Predictor::open(&PredictorOptions {
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .unwrap();
    let score = |ks: &[u8], e: &[u8], d: &[u8], resolution: u32| -> f32 {
        let graph = ofa_mbv3(ks, e, d, resolution).unwrap();
        predictor.predict(&[&graph]).unwrap()[0]
    };
    for (ks, e, d, _) in subnets.iter().step_by(subnets.len() / 10) {
        let by_resolution: Vec<f32> = [128, 160, 192, 224]
            .into_iter()
            .map(|resolution| score(ks, e, d, resolution))
            .collect();
        assert!(
            by_resolution.windows(2).all(|pair| pair[0] < pair[1]),
            "ks {ks:?} e {e:?} d {d:?}: scores at 128/160/192/224 {by_resolution:?}"
        );
        let (narrow, wide) = (score(ks, &[3; 20], d, 224), score(ks, &[6; 20], d, 224));
        assert!(
            narrow < wide,
            "ks {ks:?} d {d:?}: expand 3 {narrow}, 6 {wide}"
        );
        let (shallow, deep) = (score(ks, e, &[2; 5], 224), score(ks, e, &[4; 5], 224));
        assert!(
            shallow < deep,
            "ks {ks:?} e {e:?}: depth 2 {shallow}, 4 {deep}"
        );
    }
}
