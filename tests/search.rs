//! The search module against the benchmarks' published numbers: spaces, oracles, query
//! counting, the algorithms (with an oracle-as-scorer test double), and the predictor scorer
//! with the runtime's test model (`tests/fixtures/runtime/good.onnx`, which needs ONNX
//! Runtime: run `scripts/fetch-onnxruntime.sh` first).

use std::collections::HashSet;
use std::hash::Hash;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cgpredict::Result;
use cgpredict::import::nasbench101::Nb101Spec;
use cgpredict::import::nasbench201::Nb201Arch;
use cgpredict::import::ofa::ofa_mbv3;
use cgpredict::metrics::spearman;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};
use cgpredict::search::npz::read_npz;
use cgpredict::search::{
    EvolutionConfig, GuidedConfig, Method, Nb101Space, Nb201Space, OfaAccuracyPredictor, OfaArch,
    OfaSpace, Oracle, PredictorScorer, Scorer, SearchRng, SearchSpace, Table, nb101_table,
    nb201_table, rank_graphs, search,
};
use rand::SeedableRng;
use serde::Deserialize;

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
}

/// The rows of a vendored gzipped CSV, as (header -> value) lookups.
fn csv_rows(relative: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let file = std::fs::File::open(data_dir().join(relative)).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows = reader.records().map(|row| row.unwrap()).collect();
    (headers, rows)
}

fn column<'a>(headers: &csv::StringRecord, row: &'a csv::StringRecord, name: &str) -> &'a str {
    &row[headers.iter().position(|h| h == name).unwrap()]
}

/// The oracle as a scorer: a perfect predictor, to test the algorithm apart from any model.
struct OracleScorer<'a, A>(&'a Table<A>);

impl<A: Clone + Eq + Hash> Scorer<A> for OracleScorer<'_, A> {
    fn score(&mut self, candidates: &[A]) -> Result<Vec<f64>> {
        Ok(candidates.iter().map(|a| self.0.get(a).unwrap()).collect())
    }

    fn update(&mut self, _: &[(A, f64)]) -> Result<()> {
        Ok(())
    }

    fn reset(&mut self) {}
}

/// An oracle that records every call, to check that #Q counts unique evaluations.
struct Counting<'a, A> {
    inner: &'a dyn Oracle<A>,
    calls: Mutex<Vec<A>>,
}

impl<A: Clone + Send + Sync> Oracle<A> for Counting<'_, A> {
    fn accuracy(&self, arch: &A) -> Result<f64> {
        self.calls.lock().unwrap().push(arch.clone());
        self.inner.accuracy(arch)
    }
}

const NB201_EVOLUTION: Method = Method::Evolution(EvolutionConfig {
    population: 20,
    tournament: 5,
});
const NB201_GUIDED: Method = Method::Guided(GuidedConfig {
    warmup: 10,
    parents: 10,
    candidates: 500,
    batch: 5,
    max_mutations: 2,
    refine: 12,
});

#[test]
fn nb201_oracle_returns_the_published_labels() {
    let table = nb201_table(data_dir()).unwrap();
    let (headers, rows) = csv_rows("nasbench201/nb201_15625.csv.gz");
    assert_eq!((table.len(), rows.len()), (15_625, 15_625));
    for row in &rows {
        let arch: Nb201Arch = column(&headers, row, "arch_str").parse().unwrap();
        let published: f64 = column(&headers, row, "cifar10_test_200ep").parse().unwrap();
        assert_eq!(table.accuracy(&arch).unwrap(), published, "{arch}");
    }
    // data/README.md: the best CIFAR-10 cell is row 6111, 94.37 (tied with row 13714).
    let best: Nb201Arch = column(&headers, &rows[6111], "arch_str").parse().unwrap();
    assert!((table.best() - 94.37).abs() < 0.005);
    assert_eq!(table.accuracy(&best).unwrap(), table.best());
    assert_eq!(table.rank(table.best()), 1);
    assert_eq!(table.rank(table.best() - 1e-9), 3);
}

#[test]
fn nb101_oracle_returns_the_published_labels() {
    let table = nb101_table(data_dir()).unwrap();
    let (headers, rows) = csv_rows("nasbench101/nb101_20001.csv.gz");
    assert_eq!((table.len(), rows.len()), (20_001, 20_001));
    for row in &rows {
        let cell = Nb101Spec::from_json(
            column(&headers, row, "adjacency"),
            column(&headers, row, "ops"),
        )
        .unwrap();
        let published: f64 = column(&headers, row, "val_acc_108ep").parse().unwrap();
        // The table holds each cell once, in canonical vertex order, in percent.
        assert_eq!(
            table.accuracy(&cell.canonical()).unwrap(),
            100.0 * published
        );
    }
}

#[test]
fn nb101_search_stays_in_the_labeled_subset() {
    let table = nb101_table(data_dir()).unwrap();
    let space = Nb101Space::new(table.entries().iter().map(|(cell, _)| cell.clone())).unwrap();
    assert_eq!(space.size(), Some(20_001));
    let mut rng = SearchRng::seed_from_u64(5);
    let mut seen = HashSet::new();
    // 400,000 draws miss one of 20,001 cells with probability < 20,001 e^-20 < 1e-4.
    for _ in 0..400_000 {
        seen.insert(space.sample(&mut rng));
    }
    assert_eq!(seen.len(), 20_001);
    let mut edits = 0;
    let cells: Vec<&Nb101Spec> = seen.iter().take(2_000).collect();
    for &cell in &cells {
        let child = space.mutate(cell, &mut rng);
        assert!(table.get(&child).is_some(), "{child:?} left the subset");
        assert_ne!(&child, cell);
        assert_eq!(child.canonical(), child);
        edits += usize::from(child.num_vertices() != cell.num_vertices())
            + usize::from(child.num_edges() != cell.num_edges());
    }
    // Mutation changes few things: most children keep the vertex or the edge count.
    assert!(edits < 2 * cells.len(), "{edits} size changes");
    for cell in cells.iter().take(50) {
        space.graph(cell).unwrap();
    }
}

#[test]
fn ofa_space_samples_every_choice_and_mutates_into_valid_normal_subnets() {
    let space = OfaSpace::new(None).unwrap();
    let mut rng = SearchRng::seed_from_u64(11);
    let samples: Vec<OfaArch> = (0..2_000).map(|_| space.sample(&mut rng)).collect();
    for slot in 0..20 {
        let kernels: HashSet<u8> = samples
            .iter()
            .filter(|a| a.is_active(slot))
            .map(|a| a.ks()[slot])
            .collect();
        let expands: HashSet<u8> = samples
            .iter()
            .filter(|a| a.is_active(slot))
            .map(|a| a.e()[slot])
            .collect();
        assert_eq!((kernels.len(), expands.len()), (3, 3), "slot {slot}");
    }
    let resolutions: HashSet<u32> = samples.iter().map(OfaArch::resolution).collect();
    assert_eq!(resolutions, HashSet::from([160, 176, 192, 208, 224]));
    for arch in samples.iter().take(300) {
        let child = space.mutate(arch, &mut rng);
        assert_ne!(child, *arch);
        // Valid, and in normal form: slots a stage skips hold the smallest choices.
        ofa_mbv3(child.ks(), child.e(), child.d(), child.resolution()).unwrap();
        for slot in (0..20).filter(|&slot| !child.is_active(slot)) {
            assert_eq!((child.ks()[slot], child.e()[slot]), (3, 3));
        }
    }
    // A MACs budget holds for samples and children alike.
    let limit = 300_000_000;
    let small = OfaSpace::new(Some(limit)).unwrap();
    let mut arch = small.sample(&mut rng);
    for _ in 0..100 {
        assert!(space.graph(&arch).unwrap().macs() <= limit);
        arch = small.mutate(&arch, &mut rng);
    }
    let error = OfaSpace::new(Some(1_000)).unwrap_err();
    assert!(
        error.message.contains("below the smallest subnet"),
        "{error}"
    );
}

#[derive(Deserialize)]
struct OfaCase {
    ks: Vec<u8>,
    e: Vec<u8>,
    d: Vec<u8>,
    r: u32,
    output: f32,
}

#[derive(Deserialize)]
struct OfaFixture {
    cases: Vec<OfaCase>,
}

fn ofa_oracle() -> OfaAccuracyPredictor {
    OfaAccuracyPredictor::from_npz(&data_dir().join("ofa_mbv3/ofa_official_acc_predictor.npz"))
        .unwrap()
}

/// Deflated members, as `numpy.savez_compressed` writes them (the OFA file stores its own).
#[test]
fn npz_reader_reads_compressed_archives() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/search/compressed.npz");
    let arrays = read_npz(&path).unwrap();
    assert_eq!(arrays.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(arrays["a"].shape, [2, 3]);
    assert_eq!(arrays["a"].data, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!((arrays["b"].shape.len(), arrays["b"].data[0]), (0, 0.125));
}

/// Fixture: `scripts/fixtures/ofa_predictor.py` (numpy, float32).
#[test]
fn ofa_oracle_matches_numpy() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/search/ofa_predictor.json");
    let fixture: OfaFixture =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(fixture.cases.len(), 200);
    let oracle = ofa_oracle();
    for case in &fixture.cases {
        let arch = OfaArch::new(&case.ks, &case.e, &case.d, case.r).unwrap();
        let got = oracle.predict(&arch);
        assert!((got - case.output).abs() < 1e-5, "{got} vs {}", case.output);
        assert_eq!(oracle.accuracy(&arch).unwrap(), 100.0 * f64::from(got));
    }
}

/// data/README.md: the predictor tracks the supernet's measured top-1 with Spearman 0.98.
#[test]
fn ofa_oracle_ranks_subnets_as_the_supernet_measured_them() {
    let oracle = ofa_oracle();
    let (headers, rows) = csv_rows("ofa_mbv3/ofa_mbv3_subnets_2223.csv.gz");
    let list =
        |row, name| -> Vec<u8> { serde_json::from_str(column(&headers, row, name)).unwrap() };
    let (mut predicted, mut measured) = (Vec::new(), Vec::new());
    for row in &rows {
        let r: u32 = column(&headers, row, "r").parse().unwrap();
        let arch = OfaArch::new(&list(row, "ks"), &list(row, "e"), &list(row, "d"), r).unwrap();
        predicted.push(oracle.accuracy(&arch).unwrap());
        measured.push(column(&headers, row, "top1_mean").parse::<f64>().unwrap());
    }
    let rho = spearman(&predicted, &measured).unwrap();
    assert!(rho > 0.98, "Spearman {rho}");
    let offset = predicted
        .iter()
        .zip(&measured)
        .map(|(p, m)| p - m)
        .sum::<f64>()
        / 2223.0;
    assert!((offset - 5.9).abs() < 0.1, "offset {offset}");
}

#[test]
fn every_method_spends_exactly_its_budget_of_unique_queries() {
    let table = nb201_table(data_dir()).unwrap();
    for method in [Method::Random, NB201_EVOLUTION, NB201_GUIDED] {
        let counting = Counting {
            inner: &table,
            calls: Mutex::new(Vec::new()),
        };
        let mut scorer = OracleScorer(&table);
        let outcome = search(&Nb201Space, &counting, &method, Some(&mut scorer), 40, 1).unwrap();
        let calls = counting.calls.into_inner().unwrap();
        let unique: HashSet<&Nb201Arch> = calls.iter().collect();
        assert_eq!((calls.len(), unique.len(), outcome.queries), (40, 40, 40));
        assert_eq!(outcome.best_so_far.len(), 40);
        assert!(outcome.best_so_far.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*outcome.best_so_far.last().unwrap(), outcome.accuracy);
        assert_eq!(table.get(&outcome.best), Some(outcome.accuracy));
        let best_called = calls
            .iter()
            .map(|arch| table.get(arch).unwrap())
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(best_called, outcome.accuracy);
    }
}

#[test]
fn guided_ea_with_a_perfect_scorer_finds_the_nb201_optimum_quickly() {
    let table = nb201_table(data_dir()).unwrap();
    for seed in 0..5 {
        let mut scorer = OracleScorer(&table);
        let outcome = search(
            &Nb201Space,
            &table,
            &NB201_GUIDED,
            Some(&mut scorer),
            60,
            seed,
        )
        .unwrap();
        let first = outcome
            .best_so_far
            .iter()
            .position(|&best| best == table.best())
            .map(|i| i + 1);
        assert!(
            first.is_some_and(|q| q <= 30),
            "seed {seed}: optimum first found at query {first:?}"
        );
    }
}

/// In the refining phase every query is a single-edge mutation of the best queried before it.
#[test]
fn guided_ea_refines_the_best_found_with_its_neighbours() {
    let table = nb201_table(data_dir()).unwrap();
    let refining = Method::Guided(GuidedConfig {
        warmup: 10,
        batch: 1,
        refine: 20,
        ..match NB201_GUIDED {
            Method::Guided(config) => config,
            _ => unreachable!(),
        }
    });
    for seed in 0..3 {
        let oracle = Counting {
            inner: &table,
            calls: Mutex::new(Vec::new()),
        };
        let mut scorer = OracleScorer(&table);
        search(&Nb201Space, &oracle, &refining, Some(&mut scorer), 30, seed).unwrap();
        let calls = oracle.calls.into_inner().unwrap();
        assert_eq!(calls.len(), 30);
        for query in 10..30 {
            let best = calls[..query]
                .iter()
                .max_by(|a, b| table.get(a).unwrap().total_cmp(&table.get(b).unwrap()))
                .unwrap();
            let edits = best
                .edges()
                .iter()
                .zip(calls[query].edges())
                .filter(|(a, b)| *a != b)
                .count();
            assert_eq!(
                edits,
                1,
                "seed {seed}, query {}: {} from best {best}",
                query + 1,
                calls[query]
            );
        }
    }
}

#[test]
fn searches_are_deterministic_by_seed() {
    let table = nb201_table(data_dir()).unwrap();
    for method in [Method::Random, NB201_EVOLUTION, NB201_GUIDED] {
        let run = |seed| {
            let mut scorer = OracleScorer(&table);
            search(&Nb201Space, &table, &method, Some(&mut scorer), 30, seed).unwrap()
        };
        assert_eq!(run(7), run(7), "{method:?}");
        assert_ne!(run(7).best_so_far, run(8).best_so_far, "{method:?}");
    }
}

#[test]
fn bad_settings_are_refused() {
    let table = nb201_table(data_dir()).unwrap();
    let refuse = |method: &Method, budget| {
        search(&Nb201Space, &table, method, None, budget, 0)
            .unwrap_err()
            .message
    };
    assert!(refuse(&Method::Random, 0).contains("at least 1 query"));
    assert!(refuse(&Method::Random, 20_000).contains("exceeds the 15625"));
    assert!(refuse(&NB201_GUIDED, 60).contains("needs a scorer"));
    assert!(refuse(&NB201_GUIDED, 10).contains("warm-up"));
    let tournament = Method::Evolution(EvolutionConfig {
        population: 3,
        tournament: 5,
    });
    assert!(refuse(&tournament, 30).contains("tournament of 5"));
}

fn test_model() -> Predictor {
    let options = PredictorOptions {
        model: Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtime/good.onnx"),
        ),
        device: Device::Cpu,
        ..PredictorOptions::default()
    };
    Predictor::open(&options)
        .unwrap_or_else(|error| panic!("{error} (run scripts/fetch-onnxruntime.sh)"))
}

/// The scorer adapts a ridge head to the labels and a guided search with it is reproducible.
#[test]
fn predictor_scorer_adapts_to_the_labels() {
    let table = nb201_table(data_dir()).unwrap();
    let predictor = test_model();
    let space = Nb201Space;
    let mut scorer = PredictorScorer::new(&predictor, &space, 10);
    let labeled: Vec<(Nb201Arch, f64)> = table
        .entries()
        .iter()
        .step_by(97)
        .take(150)
        .cloned()
        .collect();
    let archs: Vec<Nb201Arch> = labeled.iter().map(|(arch, _)| *arch).collect();

    // Before adaptation: the model's own score, as Predictor::predict gives it.
    let raw = scorer.score(&archs).unwrap();
    let graphs: Vec<_> = archs
        .iter()
        .map(|arch| space.graph(arch).unwrap())
        .collect();
    let refs: Vec<_> = graphs.iter().collect();
    let direct = predictor.predict(&refs).unwrap();
    for (a, b) in raw.iter().zip(&direct) {
        assert!((a - f64::from(*b)).abs() < 1e-6);
    }
    // Fewer labels than asked for leave the model's score; enough of them fit the head.
    scorer.update(&labeled[..5]).unwrap();
    assert_eq!(scorer.score(&archs).unwrap(), raw);
    scorer.update(&labeled).unwrap();
    // Judged on other cells than the 150 it was fitted to.
    let (held_out, held_out_labels): (Vec<Nb201Arch>, Vec<f64>) = table
        .entries()
        .iter()
        .skip(48)
        .step_by(97)
        .take(150)
        .cloned()
        .unzip();
    assert!(held_out.iter().all(|arch| !archs.contains(arch)));
    let adapted = scorer.score(&held_out).unwrap();
    scorer.reset();
    let unadapted = scorer.score(&held_out).unwrap();
    let (before, after) = (
        spearman(&unadapted, &held_out_labels).unwrap(),
        spearman(&adapted, &held_out_labels).unwrap(),
    );
    assert!(
        after > 0.5 && after > before,
        "Spearman on held-out cells {before} -> {after}"
    );
    assert_eq!(scorer.score(&archs).unwrap(), raw);

    // rank_graphs orders by Predictor::predict, best first.
    let order = rank_graphs(&predictor, &refs).unwrap();
    assert!(order.windows(2).all(|w| direct[w[0]] >= direct[w[1]]));

    let run = |seed| {
        let mut scorer = PredictorScorer::new(&predictor, &space, 10);
        search(&space, &table, &NB201_GUIDED, Some(&mut scorer), 30, seed).unwrap()
    };
    let outcome = run(3);
    assert_eq!(outcome.queries, 30);
    assert_eq!(outcome, run(3));
}
