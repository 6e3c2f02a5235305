//! Many threads sharing one predictor and many graphs get exactly the results of one thread
//! (`scripts/tsan.sh` runs this under ThreadSanitizer). Uses the trainer's architecture with
//! random weights (`tests/fixtures/runtime/kgnn_speed.onnx`); needs ONNX Runtime
//! (`scripts/fetch-onnxruntime.sh`).

use std::path::PathBuf;

use cgpredict::graph::Graph;
use cgpredict::import::nasbench201::Nb201Arch;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};

const THREADS: usize = 16;
const GRAPHS: usize = 96;
const BATCH: usize = 8;

/// NB-201 cells spread over the space.
fn graphs() -> Vec<Graph> {
    (0..GRAPHS)
        .map(|i| {
            let arch = Nb201Arch::from_index(i * Nb201Arch::COUNT / GRAPHS).unwrap();
            arch.to_graph(10, 32).unwrap()
        })
        .collect()
}

/// Scores and embeddings of every batch, in batch order, as bit patterns.
fn run_batches(predictor: &Predictor, batches: &[Vec<&Graph>], order: &[usize]) -> Vec<Vec<u32>> {
    let mut results = vec![Vec::new(); batches.len()];
    for &index in order {
        let batch = &batches[index];
        let scores = predictor.predict(batch).unwrap();
        let (embeddings, _) = predictor.embed(batch).unwrap();
        results[index] = scores
            .iter()
            .chain(&embeddings)
            .map(|x| x.to_bits())
            .collect();
    }
    results
}

#[test]
fn sixteen_threads_sharing_a_predictor_match_one_thread_bit_for_bit() {
    let predictor = Predictor::open(&PredictorOptions {
        model: Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/runtime/kgnn_speed.onnx"),
        ),
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .unwrap_or_else(|error| panic!("{error} (run scripts/fetch-onnxruntime.sh)"));
    let graphs = graphs();
    let batches: Vec<Vec<&Graph>> = graphs
        .chunks(BATCH)
        .map(|chunk| chunk.iter().collect())
        .collect();
    let in_order: Vec<usize> = (0..batches.len()).collect();
    let expected = run_batches(&predictor, &batches, &in_order);

    let results: Vec<Vec<Vec<u32>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                // Each thread starts at another batch, so that different batches run at once.
                let mut order = in_order.clone();
                order.rotate_left(thread % batches.len());
                let (predictor, batches) = (&predictor, &batches);
                scope.spawn(move || run_batches(predictor, batches, &order))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for (thread, result) in results.iter().enumerate() {
        assert!(
            result == &expected,
            "thread {thread} got results that differ from the single-threaded run"
        );
    }
}
