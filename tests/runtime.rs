//! The predictor runtime against small ONNX models whose formula is known
//! (`tests/fixtures/runtime/*.onnx`, written by `scripts/make-runtime-test-models.py`).
//!
//! These tests need ONNX Runtime's shared library: run `scripts/fetch-onnxruntime.sh` first
//! (`make test` does). Without it they fail, saying so.

use std::path::PathBuf;

use cgpredict::ErrorKind;
use cgpredict::features::{Batch, GRAPH_FEATURES, NODE_FEATURES};
use cgpredict::graph::Graph;
use cgpredict::graph::canonicalize;
use cgpredict::import::nasbench201::Nb201Arch;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/runtime/{name}.onnx"))
}

fn options(name: &str) -> PredictorOptions {
    PredictorOptions {
        model: Some(fixture(name)),
        device: Device::Cpu,
        ..PredictorOptions::default()
    }
}

fn open(name: &str) -> Predictor {
    Predictor::open(&options(name)).unwrap_or_else(|error| {
        panic!(
            "{error}\n(if ONNX Runtime is missing: run scripts/fetch-onnxruntime.sh; if the op \
             vocabulary changed: rerun scripts/make-runtime-test-models.py)"
        )
    })
}

/// The NB-201 cell with index `i` ([`Nb201Arch::from_index`]).
fn nb201(i: usize) -> Graph {
    let arch = Nb201Arch::from_index(i).expect("an index of the space");
    arch.to_graph(10, 32).expect("every NB-201 cell builds")
}

fn graphs(count: usize) -> Vec<Graph> {
    // A stride through all 15625 cells, so that sizes and ops vary.
    (0..count)
        .map(|k| nb201((k * 53 + 7) % Nb201Arch::COUNT))
        .collect()
}

/// The fixture model's formula, computed here from the features of one graph's canonical form.
fn reference(graph: &Graph) -> (f32, Vec<f32>) {
    let batch = Batch::new([&canonicalize(graph)]);
    let nodes = batch.num_nodes();
    let mut mean = vec![0f64; NODE_FEATURES];
    for row in batch.node_features.chunks_exact(NODE_FEATURES) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += f64::from(x);
        }
    }
    mean.iter_mut().for_each(|m| *m /= nodes as f64);
    let w = |i: usize| ((7 * i) % 11) as f64 / 10.0 - 0.5;
    let v = |j: usize| ((3 * j) % 7) as f64 / 10.0 - 0.3;
    let score = mean.iter().enumerate().map(|(i, m)| m * w(i)).sum::<f64>()
        + (0..GRAPH_FEATURES)
            .map(|j| f64::from(batch.graph_features[j]) * v(j))
            .sum::<f64>()
        + 0.25;
    (score as f32, mean.iter().map(|&m| m as f32).collect())
}

#[test]
fn scores_and_embeddings_match_the_formula_in_one_batch() {
    let predictor = open("good");
    assert_eq!(predictor.device(), Device::Cpu);
    assert_eq!(predictor.embedding_dim(), NODE_FEATURES);
    let graphs = graphs(300);
    let sizes: std::collections::BTreeSet<usize> = graphs.iter().map(Graph::node_count).collect();
    assert!(sizes.len() > 3, "graph sizes vary: {sizes:?}");
    let refs: Vec<&Graph> = graphs.iter().collect();
    let scores = predictor.predict(&refs).unwrap();
    let (embeddings, dim) = predictor.embed(&refs).unwrap();
    assert_eq!((scores.len(), dim), (300, NODE_FEATURES));
    for (k, graph) in graphs.iter().enumerate() {
        let (score, embedding) = reference(graph);
        assert!(
            (scores[k] - score).abs() < 1e-5,
            "graph {k}: {} vs {score}",
            scores[k]
        );
        for (i, (&got, &want)) in embeddings[k * dim..(k + 1) * dim]
            .iter()
            .zip(&embedding)
            .enumerate()
        {
            assert!(
                (got - want).abs() < 1e-5,
                "graph {k} feature {i}: {got} vs {want}"
            );
        }
    }
    // One graph at a time gives the same scores as the batch.
    for k in [0, 17, 299] {
        let single = predictor.predict(&[&graphs[k]]).unwrap();
        assert!((single[0] - scores[k]).abs() < 1e-5);
    }
    assert!(predictor.predict(&[]).unwrap().is_empty());
}

#[test]
fn many_threads_share_one_predictor() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Predictor>();
    let predictor = open("good");
    let graphs = graphs(64);
    let refs: Vec<&Graph> = graphs.iter().collect();
    let expected = predictor.predict(&refs).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (predictor, expected) = (&predictor, &expected);
            scope.spawn(move || {
                // Graphs are not Sync: each thread builds its own copies.
                let graphs = self::graphs(64);
                let refs: Vec<&Graph> = graphs.iter().collect();
                for round in 0..10 {
                    let start = (t * 7 + round) % 48;
                    let got = predictor.predict(&refs[start..start + 16]).unwrap();
                    for (k, (a, b)) in got.iter().zip(&expected[start..start + 16]).enumerate() {
                        // Batches of other sizes may sum in another order.
                        assert!(
                            (a - b).abs() < 1e-5,
                            "thread {t} round {round} graph {k}: {a} vs {b}"
                        );
                    }
                }
            });
        }
    });
}

#[test]
fn models_of_another_schema_or_vocabulary_are_refused() {
    for (name, needle) in [
        ("bad_schema", "schema \"999\""),
        (
            "bad_vocabulary",
            "position 0 (model: \"renamed\", build: \"input\"",
        ),
        ("no_metadata", "cgpredict.schema_version is missing"),
    ] {
        let error = Predictor::open(&options(name)).err().expect(name);
        assert_eq!(error.kind, ErrorKind::Model, "{name}: {error}");
        assert!(error.message.contains(needle), "{name}: {error}");
        assert!(error.message.contains(&format!("{name}.onnx")), "{error}");
    }
}

#[test]
fn files_that_are_not_models_are_refused() {
    let not_onnx = PredictorOptions {
        model: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")),
        ..options("good")
    };
    let error = Predictor::open(&not_onnx)
        .err()
        .expect("Cargo.toml is no model");
    assert_eq!(error.kind, ErrorKind::Model, "{error}");
    let missing = PredictorOptions {
        model: Some(PathBuf::from("/nonexistent/model.onnx")),
        ..options("good")
    };
    let error = Predictor::open(&missing).err().expect("no such file");
    assert_eq!(error.kind, ErrorKind::Io, "{error}");
    assert!(error.message.contains("/nonexistent/model.onnx"), "{error}");
}

#[cfg(not(cgp_bundled_model))]
#[test]
fn without_a_bundled_model_the_default_model_is_an_error_that_says_how_to_fix_it() {
    assert!(
        std::env::var_os(cgpredict::runtime::MODEL_ENV).is_none(),
        "unset CGPREDICT_MODEL to run this test"
    );
    assert!(!cgpredict::runtime::has_bundled_model());
    let default = PredictorOptions {
        model: None,
        ..options("good")
    };
    let error = Predictor::open(&default).err().expect("no bundled model");
    assert_eq!(error.kind, ErrorKind::Model, "{error}");
    for needle in [
        "no bundled default model",
        "models/cgpredict-default.onnx",
        "CGPREDICT_MODEL",
    ] {
        assert!(error.message.contains(needle), "{error}");
    }
}

/// Runs once the trainer's model is in models/: the bundled bytes are that file, they pass
/// the metadata checks, and they score like the file.
#[cfg(cgp_bundled_model)]
#[test]
fn the_bundled_model_is_the_file_in_models() {
    assert!(
        std::env::var_os(cgpredict::runtime::MODEL_ENV).is_none(),
        "unset CGPREDICT_MODEL to run this test"
    );
    assert!(cgpredict::runtime::has_bundled_model());
    let bundled = Predictor::open(&PredictorOptions {
        model: None,
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .unwrap();
    assert_eq!(bundled.model_name(), "cgpredict-default.onnx (bundled)");
    let file = Predictor::open(&PredictorOptions {
        model: Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/cgpredict-default.onnx"),
        ),
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .unwrap();
    assert_eq!(bundled.embedding_dim(), file.embedding_dim());
    let graphs = graphs(200);
    let refs: Vec<&Graph> = graphs.iter().collect();
    let scores = bundled.predict(&refs).unwrap();
    assert_eq!(scores, file.predict(&refs).unwrap());
    assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
    let distinct: std::collections::BTreeSet<u32> = scores.iter().map(|s| s.to_bits()).collect();
    assert!(
        distinct.len() > 100,
        "the model tells cells apart: {} distinct scores",
        distinct.len()
    );
}

/// Without CUDA (a build without the `cuda` feature, or no usable provider, driver or GPU)
/// asking for it fails clearly and `Auto` runs on the CPU; with CUDA it runs there and agrees
/// with the CPU.
#[test]
fn cuda_runs_or_fails_clearly_and_auto_falls_back_to_the_cpu() {
    let cpu = open("good");
    let graphs = graphs(64);
    let refs: Vec<&Graph> = graphs.iter().collect();
    let expected = cpu.predict(&refs).unwrap();
    let cuda = Predictor::open(&PredictorOptions {
        device: Device::Cuda,
        ..options("good")
    });
    let auto = Predictor::open(&PredictorOptions {
        device: Device::Auto,
        ..options("good")
    })
    .unwrap();
    match cuda {
        Err(error) => {
            assert_eq!(error.kind, ErrorKind::Runtime, "{error}");
            assert!(error.message.contains("CUDA"), "{error}");
            assert!(error.message.contains("onnxruntime-gpu"), "{error}");
            assert_eq!(auto.device(), Device::Cpu);
        }
        Ok(cuda) => {
            if !cfg!(feature = "cuda") {
                panic!("CUDA opened in a build without the cuda feature");
            }
            assert_eq!(cuda.device(), Device::Cuda);
            assert_eq!(auto.device(), Device::Cuda);
            for (k, (a, b)) in cuda
                .predict(&refs)
                .unwrap()
                .iter()
                .zip(&expected)
                .enumerate()
            {
                assert!((a - b).abs() < 1e-4, "graph {k}: CUDA {a}, CPU {b}");
            }
        }
    }
    let scores = auto.predict(&refs).unwrap();
    for (k, (a, b)) in scores.iter().zip(&expected).enumerate() {
        assert!((a - b).abs() < 1e-4, "graph {k}: auto {a}, CPU {b}");
    }
}

/// Spearman's rank correlation (ties get their mean rank).
fn spearman(a: &[f32], b: &[f32]) -> f64 {
    fn ranks(x: &[f32]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
        let mut ranks = vec![0.0; x.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            while end + 1 < order.len() && x[order[end + 1]] == x[order[start]] {
                end += 1;
            }
            for &i in &order[start..=end] {
                ranks[i] = (start + end) as f64 / 2.0;
            }
            start = end + 1;
        }
        ranks
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = ra
        .iter()
        .zip(&rb)
        .map(|(x, y)| (x - mean) * (y - mean))
        .sum();
    let var: f64 = ra.iter().map(|x| (x - mean).powi(2)).sum();
    let var_b: f64 = rb.iter().map(|y| (y - mean).powi(2)).sum();
    cov / (var * var_b).sqrt()
}

#[test]
fn adaptation_recovers_a_linear_function_of_the_embeddings() {
    let mut predictor = open("good");
    let graphs = graphs(300);
    let refs: Vec<&Graph> = graphs.iter().collect();
    let (embeddings, dim) = predictor.embed(&refs).unwrap();
    let base = predictor.predict(&refs).unwrap();
    // Labels: a fixed direction u in embedding space with the model's own direction w
    // projected out, so that the base model ranks them poorly; scaled to accuracy-like values.
    let u = |i: usize| ((5 * i + 3) % 13) as f64 / 13.0 - 0.5;
    let w = |i: usize| ((7 * i) % 11) as f64 / 10.0 - 0.5;
    let along = |f: &dyn Fn(usize) -> f64| -> Vec<f64> {
        embeddings
            .chunks_exact(dim)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, &x)| f64::from(x) * f(i))
                    .sum()
            })
            .collect()
    };
    let (pu, pw) = (along(&u), along(&w));
    let centered = |x: &[f64]| {
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        x.iter().map(|v| v - mean).collect::<Vec<f64>>()
    };
    let (cu, cw) = (centered(&pu), centered(&pw));
    let beta =
        cu.iter().zip(&cw).map(|(a, b)| a * b).sum::<f64>() / cw.iter().map(|b| b * b).sum::<f64>();
    let labels: Vec<f32> = pu
        .iter()
        .zip(&pw)
        .map(|(a, b)| (70.0 + 10.0 * (a - beta * b)) as f32)
        .collect();
    let before = spearman(&base[100..], &labels[100..]);
    assert!(
        before.abs() < 0.5,
        "the base score is uninformative here: {before}"
    );

    // A few shots already rank the held-out graphs well.
    predictor.adapt(&refs[..30], &labels[..30]).unwrap();
    let after = spearman(&predictor.predict(&refs[100..]).unwrap(), &labels[100..]);
    eprintln!("Spearman on 200 held-out graphs: {before:.3} base, {after:.3} after 30 shots");
    assert!(
        after > 0.9,
        "Spearman {before:.3} before, {after:.3} after 30 shots"
    );

    // Many shots recover the function itself on graphs not fitted.
    predictor.adapt(&refs[..100], &labels[..100]).unwrap();
    let adapted = predictor.predict(&refs[100..]).unwrap();
    let spread = labels.iter().fold(0f32, |m, &y| m.max((y - 70.0).abs()));
    for (k, (got, want)) in adapted.iter().zip(&labels[100..]).enumerate() {
        assert!(
            (got - want).abs() < 0.02 * spread,
            "graph {}: {got} vs {want}",
            k + 100
        );
    }
    // Embeddings are the model's, unchanged by the head.
    assert_eq!(predictor.embed(&refs).unwrap().0, embeddings);

    let error = predictor.adapt(&refs[..3], &labels[..2]).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
}

/// The ranking head follows the order of the labels whatever their scale: labels that are an
/// exponential of a direction in embedding space, with one broken network at -1000 among the
/// shots, are ranked on held-out graphs as well as the order itself allows.
#[test]
fn ranking_adaptation_follows_the_order_of_the_labels() {
    let mut predictor = open("good");
    let graphs = graphs(300);
    let refs: Vec<&Graph> = graphs.iter().collect();
    let (embeddings, dim) = predictor.embed(&refs).unwrap();
    let u = |i: usize| ((5 * i + 3) % 13) as f64 / 13.0 - 0.5;
    let along: Vec<f64> = embeddings
        .chunks_exact(dim)
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, &x)| f64::from(x) * u(i))
                .sum()
        })
        .collect();
    let (low, high) = along
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    let mut labels: Vec<f32> = along
        .iter()
        .map(|x| (8.0 * (x - low) / (high - low)).exp() as f32)
        .collect();
    labels[7] = -1000.0;

    predictor.adapt_ranking(&refs[..40], &labels[..40]).unwrap();
    let ranked = spearman(&predictor.predict(&refs[100..]).unwrap(), &labels[100..]);
    predictor.adapt(&refs[..40], &labels[..40]).unwrap();
    let regressed = spearman(&predictor.predict(&refs[100..]).unwrap(), &labels[100..]);
    eprintln!(
        "Spearman on 200 held-out graphs after 40 shots: ranking head {ranked:.3}, labels {regressed:.3}"
    );
    assert!(ranked > 0.9, "ranking head {ranked:.3}");
    assert!(
        ranked > regressed,
        "ranking head {ranked:.3}, labels {regressed:.3}"
    );

    // A later adaptation replaces the head: the same scores as a fresh predictor's.
    predictor.adapt_ranking(&refs[..40], &labels[..40]).unwrap();
    let mut fresh = open("good");
    fresh.adapt_ranking(&refs[..40], &labels[..40]).unwrap();
    assert_eq!(
        predictor.predict(&refs).unwrap(),
        fresh.predict(&refs).unwrap()
    );

    labels[3] = f32::NAN;
    let error = predictor
        .adapt_ranking(&refs[..40], &labels[..40])
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert_eq!(error.message, "labels[3] is NaN, not a finite number");
    let error = predictor
        .adapt_ranking(&refs[..3], &labels[..2])
        .unwrap_err();
    assert_eq!(error.message, "3 graphs but 2 labels");
    let error = predictor
        .adapt_ranking(&refs[..1], &labels[..1])
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
}

/// The `good` fixture with `cgpredict.members` set to `members`, written to a file of its own.
fn good_with_members(members: &str) -> PathBuf {
    use cgpredict::import::onnx::proto::{ModelProto, StringStringEntryProto};
    use prost::Message;
    let bytes = std::fs::read(fixture("good")).unwrap();
    let mut model = ModelProto::decode(bytes.as_slice()).unwrap();
    model.metadata_props.push(StringStringEntryProto {
        key: Some(cgpredict::runtime::META_MEMBERS.into()),
        value: Some(members.into()),
    });
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("members_{members}.onnx"));
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    path
}

#[test]
fn members_that_do_not_split_the_embedding_are_refused() {
    assert_eq!(
        open("good").members(),
        1,
        "no cgpredict.members: one network"
    );
    for members in ["3", "0", "two"] {
        let options = PredictorOptions {
            model: Some(good_with_members(members)),
            ..options("good")
        };
        let error = Predictor::open(&options).err().expect(members);
        assert_eq!(error.kind, ErrorKind::Model, "{error}");
        assert!(
            error.message.contains(&format!(
                "cgpredict.members is {members:?}, not a positive divisor of the embedding width {NODE_FEATURES}"
            )),
            "{error}"
        );
    }
}

/// With `cgpredict.members` = 2, adaptation fits one head per half of the embedding (each
/// with the model's score) and averages them: here, labels along a direction of the first
/// half only, which its head follows and the second half's head cannot.
#[test]
fn adaptation_of_an_ensemble_averages_a_head_per_member() {
    let mut predictor = Predictor::open(&PredictorOptions {
        model: Some(good_with_members("2")),
        ..options("good")
    })
    .unwrap();
    assert_eq!(predictor.members(), 2);
    let graphs = graphs(300);
    let refs: Vec<&Graph> = graphs.iter().collect();
    let (scores, embeddings) = predictor.score_and_embed(&refs).unwrap();
    let (dim, half) = (NODE_FEATURES, NODE_FEATURES / 2);
    let labels: Vec<f32> = embeddings
        .chunks_exact(dim)
        .map(|row| {
            row[..half]
                .iter()
                .enumerate()
                .map(|(i, &x)| x * (((5 * i + 3) % 13) as f32 / 13.0 - 0.5))
                .sum::<f32>()
        })
        .collect();
    predictor.adapt_ranking(&refs[..40], &labels[..40]).unwrap();
    let adapted = predictor.predict(&refs).unwrap();

    use cgpredict::runtime::adapt::fit_ranking_head;
    // Each member's head reads its part of the embedding, the score, log MACs and log params.
    let scales = Batch::of_canonical(&refs).log_scales();
    let part = |member: usize, range: std::ops::Range<usize>| -> Vec<f32> {
        embeddings
            .chunks_exact(dim)
            .zip(&scores)
            .zip(&scales)
            .skip(range.start)
            .take(range.len())
            .flat_map(|((row, &score), scale)| {
                row[member * half..(member + 1) * half]
                    .iter()
                    .copied()
                    .chain([score])
                    .chain(*scale)
            })
            .collect()
    };
    let shot_labels: Vec<f64> = labels[..40].iter().map(|&y| f64::from(y)).collect();
    let heads = [0, 1]
        .map(|member| fit_ranking_head(&part(member, 0..40), half + 3, &shot_labels).unwrap());
    let expected: Vec<f32> = heads[0]
        .predict(&part(0, 0..300))
        .iter()
        .zip(heads[1].predict(&part(1, 0..300)))
        .map(|(a, b)| (a + b) / 2.0)
        .collect();
    for (got, want) in adapted.iter().zip(&expected) {
        assert!(
            (got - want).abs() <= 1e-4 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
    // The member whose part carries the labels ranks held-out graphs by them. (The other's
    // head ranks them too here: log MACs and log params of these graphs follow the labels.)
    let first = spearman(&heads[0].predict(&part(0, 100..300)), &labels[100..]);
    assert!(first > 0.9, "first half {first:.3}");
}
