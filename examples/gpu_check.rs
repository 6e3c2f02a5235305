//! The same predictions on two devices (the CPU and CUDA by default): checks that the scores
//! agree and prints each device's throughput. `scripts/gpu-check.sh` runs it on a CUDA machine
//! from a build made elsewhere (`scripts/gpu-bundle.sh`).
//!
//! ```text
//! gpu_check [--model PATH] [--graphs N] [--batch B] [--threads T] [--devices cpu,cuda]
//! ```
//!
//! The graphs are NAS-Bench-201 CIFAR-10 networks: N predictions (default 100,000) cycling
//! through all 15,625 cells. T threads (default: the machine's) share one predictor and score
//! batches of B graphs (default 256); the time counts featurization and the runs, not building
//! the graphs. Every distinct cell's scores are compared; they agree when
//! `|a - b| <= 1e-4 * max(1, |b|)`; the exit status is 1 when any pair does not.
//! Without `--model`: the bundled default model (an error in a build without one).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Barrier;
use std::time::Instant;

use cgpredict::graph::Graph;
use cgpredict::import::nasbench201::Nb201Arch;
use cgpredict::runtime::{Device, Predictor, PredictorOptions};

/// Relative tolerance of the agreement check (absolute for scores within ±1).
const TOLERANCE: f32 = 1e-4;

struct Options {
    model: Option<PathBuf>,
    graphs: usize,
    batch: usize,
    threads: usize,
    devices: Vec<Device>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        model: None,
        graphs: 100_000,
        batch: 256,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        devices: vec![Device::Cpu, Device::Cuda],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("{flag}: {text:?} is not a positive whole number"))
        };
        match flag.as_str() {
            "--model" => options.model = Some(PathBuf::from(value()?)),
            "--graphs" => options.graphs = number(value()?)?,
            "--batch" => options.batch = number(value()?)?,
            "--threads" => options.threads = number(value()?)?,
            "--devices" => {
                options.devices = value()?
                    .split(',')
                    .map(|name| match name {
                        "cpu" => Ok(Device::Cpu),
                        "cuda" => Ok(Device::Cuda),
                        other => Err(format!("--devices: {other:?} is not cpu or cuda")),
                    })
                    .collect::<Result<Vec<Device>, String>>()?;
                if options.devices.len() != 2 {
                    return Err("--devices takes two devices, e.g. cpu,cuda".into());
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

/// The NB-201 cell with index `i` ([`Nb201Arch::from_index`]).
fn nb201(i: usize) -> Graph {
    let arch = Nb201Arch::from_index(i).expect("an index of the space");
    arch.to_graph(10, 32).expect("every NB-201 cell builds")
}

/// Scores `options.graphs` predictions on `device` with `options.threads` threads sharing one
/// predictor. Graphs are not `Sync`, so each thread builds its own share of the distinct cells
/// and cycles through it; returns the scores of the distinct cells, in cell order, and the
/// predictions per second.
fn score(options: &Options, device: Device) -> Result<(Vec<f32>, f64), cgpredict::Error> {
    let predictor = Predictor::open(&PredictorOptions {
        model: options.model.clone(),
        device,
        ..PredictorOptions::default()
    })?;
    let cells = Nb201Arch::COUNT.min(options.graphs);
    let threads = options.threads.min(cells);
    let share = |t: usize| (t * cells / threads)..((t + 1) * cells / threads);
    // Predictions per thread in proportion to its cells, adding up to options.graphs.
    let quota = |t: usize| {
        let end = |t: usize| t * cells / threads * options.graphs / cells;
        if t + 1 == threads {
            options.graphs - end(t)
        } else {
            end(t + 1) - end(t)
        }
    };
    let ready = Barrier::new(threads + 1);
    let (parts, seconds) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (predictor, ready) = (&predictor, &ready);
                scope.spawn(move || {
                    let graphs: Vec<Graph> = share(t).map(nb201).collect();
                    let refs: Vec<&Graph> = graphs.iter().collect();
                    // Warm-up: this thread's session exists before the clock starts.
                    let warm = predictor.predict(&refs[..refs.len().min(options.batch)]);
                    ready.wait();
                    warm?;
                    let mut first_pass = Vec::with_capacity(refs.len());
                    let mut done = 0;
                    let mut cycle = refs.iter().copied().cycle();
                    while done < quota(t) {
                        let batch: Vec<&Graph> = cycle
                            .by_ref()
                            .take(options.batch.min(quota(t) - done))
                            .collect();
                        let scores = predictor.predict(&batch)?;
                        let wanted = refs.len().saturating_sub(first_pass.len());
                        first_pass.extend(scores.iter().take(wanted));
                        done += batch.len();
                    }
                    Ok::<Vec<f32>, cgpredict::Error>(first_pass)
                })
            })
            .collect();
        ready.wait();
        let start = Instant::now();
        let parts = handles
            .into_iter()
            .map(|handle| handle.join().expect("a scoring thread panicked"))
            .collect::<Result<Vec<Vec<f32>>, cgpredict::Error>>();
        (parts, start.elapsed().as_secs_f64())
    });
    let scores = parts?.concat();
    println!(
        "{}: {} predictions in {seconds:.2} s = {:.0} graphs/s ({threads} threads, batches of \
         {}, model {})",
        predictor.device().name(),
        options.graphs,
        options.graphs as f64 / seconds,
        options.batch,
        predictor.model_name(),
    );
    Ok((scores, options.graphs as f64 / seconds))
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut results = Vec::new();
    for &device in &options.devices {
        match score(&options, device) {
            Ok(result) => results.push(result),
            Err(error) => {
                eprintln!("error: {}: {error}", device.name());
                return ExitCode::FAILURE;
            }
        }
    }
    let (a, b) = (&results[0].0, &results[1].0);
    let mut worst = (0usize, 0f32);
    let mut disagree = 0usize;
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        // NaN counts as the worst disagreement.
        let difference = if x.is_nan() || y.is_nan() {
            f32::INFINITY
        } else {
            (x - y).abs()
        };
        if difference > TOLERANCE * y.abs().max(1.0) {
            disagree += 1;
        }
        if difference > worst.1 {
            worst = (k, difference);
        }
    }
    println!(
        "agreement: {} of {} scores within {TOLERANCE} (relative beyond |score| 1); largest \
         difference {:.3e} at graph {} ({} vs {}); speed-up {:.2}x",
        a.len() - disagree,
        a.len(),
        worst.1,
        worst.0,
        a[worst.0],
        b[worst.0],
        results[1].1 / results[0].1,
    );
    if disagree == 0 {
        println!("gpu check passed");
        ExitCode::SUCCESS
    } else {
        println!("gpu check FAILED: {disagree} scores disagree");
        ExitCode::FAILURE
    }
}
