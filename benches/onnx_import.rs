//! Import speed: ONNX file to canonical computation graph, on models of the vendored zoo.
//!
//! `cargo bench --bench onnx_import [-- NAME_FILTER | --file MODEL.onnx]` times each model
//! (or the file given) over repeated imports of the uncompressed file, after warm-up, and prints one line per model:
//! `name nodes=... cg_nodes=... runs=... cpu_median_ms=... wall_median_ms=... wall_min_ms=...`.
//! CPU time (of
//! this thread, from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` on Linux) is what the median
//! reports, since it barely moves when other processes load the machine; the wall-clock
//! minimum is given too. Under `cargo test` (no `--bench` argument) each model is imported
//! once, as a smoke test.
//! `scripts/bench_onnx_import.py` compares these times with Python's
//! `onnx.load` + `onnx.shape_inference.infer_shapes` on the same files.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::thread_cpu_time;

use cgpredict::import::onnx::{graph_from_onnx_file, read_model_file};

const MODELS: [&str; 5] = [
    "ResNet50_Weights.IMAGENET1K_V1",
    "EfficientNet_B0_Weights.IMAGENET1K_V1",
    "ConvNeXt_Tiny_Weights.IMAGENET1K_V1",
    "MaxVit_T_Weights.IMAGENET1K_V1",
    "Swin_T_Weights.IMAGENET1K_V1",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let timing = args.iter().any(|a| a == "--bench");
    let filter = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_default();
    let zoo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/zoo/torchvision");
    let scratch = std::env::temp_dir().join(format!("cgpredict-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    // `--file PATH` times that file instead of the vendored models.
    let file = args
        .iter()
        .position(|a| a == "--file")
        .and_then(|at| args.get(at + 1))
        .map(PathBuf::from);
    let inputs: Vec<(String, PathBuf)> = match file {
        Some(path) => vec![(path.display().to_string(), path)],
        None => MODELS
            .iter()
            .filter(|name| name.contains(&filter))
            .map(|name| {
                let bytes = read_model_file(&zoo.join(format!("{name}.onnx.gz")))
                    .expect("a vendored model");
                let path = scratch.join(format!("{name}.onnx"));
                std::fs::write(&path, &bytes).expect("a writable scratch file");
                (name.to_string(), path)
            })
            .collect(),
    };
    for (name, path) in inputs {
        let (graph, report) = graph_from_onnx_file(&path).expect("the model imports");
        if !timing {
            println!(
                "{name}: {} ONNX nodes -> {} CG nodes",
                report.onnx_nodes,
                graph.node_count()
            );
            continue;
        }
        // Repeat for at least a second (and at least 20 times) after a warm-up.
        for _ in 0..3 {
            graph_from_onnx_file(&path).expect("the model imports");
        }
        let mut cpu: Vec<Duration> = Vec::new();
        let mut wall: Vec<Duration> = Vec::new();
        let start = Instant::now();
        while cpu.len() < 20 || start.elapsed() < Duration::from_secs(1) {
            let (t, c) = (Instant::now(), thread_cpu_time());
            let imported = graph_from_onnx_file(&path).expect("the model imports");
            cpu.push(thread_cpu_time() - c);
            wall.push(t.elapsed());
            std::hint::black_box(imported);
        }
        cpu.sort_unstable();
        wall.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{name} nodes={} cg_nodes={} runs={} cpu_median_ms={:.3} wall_median_ms={:.3} wall_min_ms={:.3}",
            report.onnx_nodes,
            graph.node_count(),
            cpu.len(),
            ms(cpu[cpu.len() / 2]),
            ms(wall[wall.len() / 2]),
            ms(wall[0])
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
