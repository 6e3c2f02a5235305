//! Predictor speed through the C ABI, on the CPU with one intra-op thread.
//!
//! `cargo bench --bench predictor` prints, for an NB-201 CG (CIFAR-10 network) and a
//! ResNet-50 CG (imported from `data/zoo/torchvision`):
//! - single-graph latency of `cgp_predict` (canonicalization, featurization and the ONNX
//!   Runtime run included): p50 and p99 of wall-clock time and of this thread's CPU time;
//! - the part of it spent in canonicalization and featurization (`Batch::of_canonical`, the
//!   runtime's preprocessing, timed alone);
//! - batch throughput: graphs per second through `cgp_predict` in batches.
//!
//! The model is the bundled default model when this build has one, else
//! `tests/fixtures/runtime/kgnn_speed.onnx` (the trainer's architecture with random weights);
//! `--model PATH` names another. The first line says which. Under `cargo test` (no `--bench`
//! argument) every measurement runs a few times, as a smoke test.

use std::ffi::CString;
use std::path::Path;
use std::ptr;
use std::time::{Duration, Instant};

use cgpredict::features::Batch;
use cgpredict::ffi::cgp_status;
use cgpredict::graph::Graph;
use cgpredict::import::nasbench201::{Nb201Arch, nasbench201};
use cgpredict::import::onnx::graph_from_onnx_file;
use cgpredict::runtime::has_bundled_model;

/// `cgp_predictor` as C sees it: opaque.
#[repr(C)]
struct CgpPredictor {
    _opaque: [u8; 0],
}

/// `cgp_graph` as C sees it: opaque.
#[repr(C)]
struct CgpGraph {
    _opaque: [u8; 0],
}

// The C entry points, declared as a C program would see them (the symbols come from the
// cgpredict library this bench links).
unsafe extern "C" {
    fn cgp_predictor_open(
        model_path: *const std::ffi::c_char,
        device: u32,
        out: *mut *mut CgpPredictor,
    ) -> cgp_status;
    fn cgp_predictor_free(p: *mut CgpPredictor);
    fn cgp_predict(
        p: *const CgpPredictor,
        graphs: *const *const CgpGraph,
        n: usize,
        out_scores: *mut f32,
        out_len: usize,
    ) -> cgp_status;
    fn cgp_graph_from_nasbench201(
        arch: *const std::ffi::c_char,
        num_classes: u32,
        out: *mut *mut CgpGraph,
    ) -> cgp_status;
    fn cgp_graph_from_onnx_file(
        path: *const std::ffi::c_char,
        out: *mut *mut CgpGraph,
    ) -> cgp_status;
    fn cgp_graph_free(g: *mut CgpGraph);
    fn cgp_last_error_message() -> *const std::ffi::c_char;
}

const CGP_DEVICE_CPU: u32 = 1;
const RESNET50: &str = "data/zoo/torchvision/ResNet50_Weights.IMAGENET1K_V1.onnx.gz";
const FIXTURE: &str = "tests/fixtures/runtime/kgnn_speed.onnx";

// With one intra-op thread, ONNX Runtime runs the model on the calling thread, so that the
// thread's CPU time is the call's cost.
#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::thread_cpu_time;

fn check(status: cgp_status, what: &str) {
    if status != cgp_status::CGP_OK {
        // SAFETY: the library returns a valid NUL-terminated string for this thread.
        let message = unsafe { std::ffi::CStr::from_ptr(cgp_last_error_message()) };
        panic!("{what}: {status:?}: {}", message.to_string_lossy());
    }
}

/// A graph built by the library for C, and the same graph in Rust for the breakdown.
struct BenchGraph {
    c: *mut CgpGraph,
    rust: Graph,
}

impl Drop for BenchGraph {
    fn drop(&mut self) {
        // SAFETY: created by the library, freed once.
        unsafe { cgp_graph_free(self.c) };
    }
}

fn nb201_graph(i: usize) -> BenchGraph {
    let arch = Nb201Arch::from_index(i)
        .expect("an index of the space")
        .to_string();
    let text = CString::new(arch.clone()).unwrap();
    let mut c = ptr::null_mut();
    // SAFETY: a NUL-terminated string and a valid out-pointer.
    check(
        unsafe { cgp_graph_from_nasbench201(text.as_ptr(), 10, &mut c) },
        "NB-201 graph",
    );
    BenchGraph {
        c,
        rust: nasbench201(&arch, 10).unwrap(),
    }
}

fn resnet50_graph(root: &Path) -> BenchGraph {
    let path = root.join(RESNET50);
    let text = CString::new(path.to_str().unwrap()).unwrap();
    let mut c = ptr::null_mut();
    // SAFETY: a NUL-terminated string and a valid out-pointer.
    check(
        unsafe { cgp_graph_from_onnx_file(text.as_ptr(), &mut c) },
        "ResNet-50 graph",
    );
    BenchGraph {
        c,
        rust: graph_from_onnx_file(&path).unwrap().0,
    }
}

/// The `q` quantile (0..=1) of sorted durations, in microseconds.
fn quantile_us(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

/// Times `calls` single-graph predictions (after `calls / 10` to warm up) and prints
/// wall-clock and CPU-time p50 and p99.
fn latency(name: &str, predictor: *const CgpPredictor, graph: &BenchGraph, calls: usize) {
    let graphs = [graph.c.cast_const()];
    let mut score = 0f32;
    let mut call = || {
        // SAFETY: a valid predictor, one valid graph, a buffer of one float.
        check(
            unsafe { cgp_predict(predictor, graphs.as_ptr(), 1, &mut score, 1) },
            "cgp_predict",
        );
    };
    for _ in 0..calls / 10 {
        call();
    }
    let mut wall = Vec::with_capacity(calls);
    let mut cpu = Vec::with_capacity(calls);
    for _ in 0..calls {
        let (start, start_cpu) = (Instant::now(), thread_cpu_time());
        call();
        cpu.push(thread_cpu_time() - start_cpu);
        wall.push(start.elapsed());
    }
    wall.sort();
    cpu.sort();
    // The library's own preprocessing, timed alone (CPU time, median).
    let mut prep = (0..calls.min(2000))
        .map(|_| {
            let start = thread_cpu_time();
            std::hint::black_box(Batch::of_canonical(&[&graph.rust]));
            thread_cpu_time() - start
        })
        .collect::<Vec<Duration>>();
    prep.sort();
    println!(
        "{name} latency ({} nodes, {calls} calls): wall p50 {:.1} us p99 {:.1} us; \
         cpu p50 {:.1} us p99 {:.1} us; of which canonicalize+featurize cpu p50 {:.1} us",
        graph.rust.node_count(),
        quantile_us(&wall, 0.5),
        quantile_us(&wall, 0.99),
        quantile_us(&cpu, 0.5),
        quantile_us(&cpu, 0.99),
        quantile_us(&prep, 0.5),
    );
}

/// Scores `graphs` in batches of `batch` for `rounds` rounds and prints graphs per second.
fn throughput(
    name: &str,
    predictor: *const CgpPredictor,
    graphs: &[BenchGraph],
    batch: usize,
    rounds: usize,
) {
    let pointers: Vec<*const CgpGraph> = graphs.iter().map(|g| g.c.cast_const()).collect();
    let mut scores = vec![0f32; batch];
    let mut run = || {
        for chunk in pointers.chunks(batch) {
            // SAFETY: a valid predictor, valid graphs, a buffer of `batch` floats.
            check(
                unsafe {
                    cgp_predict(
                        predictor,
                        chunk.as_ptr(),
                        chunk.len(),
                        scores.as_mut_ptr(),
                        batch,
                    )
                },
                "cgp_predict",
            );
        }
    };
    run();
    let (start, start_cpu) = (Instant::now(), thread_cpu_time());
    for _ in 0..rounds {
        run();
    }
    let (wall, cpu) = (start.elapsed(), thread_cpu_time() - start_cpu);
    let total = (graphs.len() * rounds) as f64;
    println!(
        "{name} throughput (batches of {batch}, {} graphs): {:.0} graphs/s wall, {:.0} graphs/s cpu",
        graphs.len() * rounds,
        total / wall.as_secs_f64(),
        total / cpu.as_secs_f64(),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let timing = args.iter().any(|a| a == "--bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chosen = args
        .iter()
        .position(|a| a == "--model")
        .map(|i| args.get(i + 1).expect("--model PATH").clone());
    let model = match chosen {
        Some(path) => Some(path),
        None if has_bundled_model() => None,
        None => Some(root.join(FIXTURE).to_str().unwrap().to_owned()),
    };
    let model_c = model.as_deref().map(|m| CString::new(m).unwrap());
    println!(
        "model: {}",
        match (&model, std::env::var(cgpredict::runtime::MODEL_ENV)) {
            (Some(path), _) => path.clone(),
            (None, Ok(env)) => format!("{env} (from CGPREDICT_MODEL)"),
            (None, Err(_)) => "the bundled default model".to_owned(),
        }
    );
    let mut predictor = ptr::null_mut();
    // SAFETY: NULL or a NUL-terminated path, and a valid out-pointer.
    check(
        unsafe {
            cgp_predictor_open(
                model_c.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
                CGP_DEVICE_CPU,
                &mut predictor,
            )
        },
        "cgp_predictor_open",
    );
    let scale = |full: usize, smoke: usize| if timing { full } else { smoke };

    let nb201 = nb201_graph(15624);
    latency("NB-201", predictor, &nb201, scale(20_000, 20));
    let resnet = resnet50_graph(root);
    latency("ResNet-50", predictor, &resnet, scale(1_000, 5));

    // Distinct cells, so that batches mix graph sizes as a search would.
    let cells: Vec<BenchGraph> = (0..scale(1024, 16))
        .map(|k| nb201_graph((k * 53 + 7) % Nb201Arch::COUNT))
        .collect();
    for batch in [1, 16, 256] {
        throughput("NB-201", predictor, &cells, batch, scale(5, 1));
    }
    let resnets: Vec<BenchGraph> = (0..scale(64, 2)).map(|_| resnet50_graph(root)).collect();
    for batch in [1, 16] {
        throughput("ResNet-50", predictor, &resnets, batch, scale(3, 1));
    }
    // SAFETY: opened above, freed once.
    unsafe { cgp_predictor_free(predictor) };
}
