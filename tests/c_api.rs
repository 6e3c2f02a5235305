//! Compiles the C programs under `tests/c/` and `examples/c/` against the freshly built
//! `libcgpredict.so` and the committed header, runs them, and checks that the header
//! compiles on its own as C11 and as C++17.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The directory holding the library that cargo built for this test run.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    [deps, deps.parent().expect("profile directory")]
        .into_iter()
        .find(|dir| dir.join("libcgpredict.so").exists())
        .unwrap_or_else(|| panic!("libcgpredict.so not found next to {}", deps.display()))
        .to_path_buf()
}

/// A directory holding the library under its SONAME (build.rs sets `libcgpredict.so.0.MINOR`
/// before 1.0), the name that linked programs look for at run time; cargo writes only
/// `libcgpredict.so`.
fn runtime_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let soname = match env!("CARGO_PKG_VERSION_MAJOR") {
            "0" => format!("libcgpredict.so.0.{}", env!("CARGO_PKG_VERSION_MINOR")),
            major => format!("libcgpredict.so.{major}"),
        };
        let dir = scratch_dir().join("lib");
        std::fs::create_dir_all(&dir).expect("runtime library directory");
        let link = dir.join(soname);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(library_dir().join("libcgpredict.so"), &link)
            .unwrap_or_else(|error| panic!("cannot link {}: {error}", link.display()));
        dir
    })
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-tests");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn run(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{text}",
        output.status
    );
    text
}

/// Builds one C source against the library, telling the test programs what this build
/// carries (`CGP_TEST_BUNDLED_MODEL`, `CGP_TEST_CUDA_FEATURE`).
fn build(source: &Path) -> PathBuf {
    let lib = library_dir();
    let exe = scratch_dir().join(source.file_stem().expect("file name"));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let mut command = Command::new(compiler);
    command
        .args([
            "-std=c11",
            "-pthread",
            "-Wall",
            "-Wextra",
            "-pedantic",
            "-Werror",
            "-I",
        ])
        .arg(manifest_dir().join("include"));
    if cfg!(cgp_bundled_model) {
        command.arg("-DCGP_TEST_BUNDLED_MODEL");
    }
    if cfg!(feature = "cuda") {
        command.arg("-DCGP_TEST_CUDA_FEATURE");
    }
    run(command
        .arg(source)
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", runtime_dir().display()))
        .arg("-lcgpredict"));
    exe
}

/// A program run from the crate root, without `CGPREDICT_MODEL` from the caller's
/// environment, so that the default model is the build's. `cargo test` puts the profile
/// directory on `LD_LIBRARY_PATH`, which wins over the program's run path: the library of this
/// test run goes first, not a `libcgpredict.so` that `cargo build` left there.
fn program(exe: &Path) -> Command {
    let mut search = std::ffi::OsString::from(library_dir());
    if let Some(rest) = std::env::var_os("LD_LIBRARY_PATH") {
        search.push(":");
        search.push(rest);
    }
    let mut command = Command::new(exe);
    command
        .current_dir(manifest_dir())
        .env("LD_LIBRARY_PATH", search)
        .env_remove(cgpredict::runtime::MODEL_ENV);
    command
}

/// Builds one C source against the library and runs it, returning its output.
fn build_and_run(source: &Path) -> String {
    run(&mut program(&build(source)))
}

#[test]
fn graph_api_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/graph_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

#[test]
fn benchmarks_api_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/benchmarks_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

/// Needs ONNX Runtime (scripts/fetch-onnxruntime.sh); fails without it.
#[test]
fn predictor_api_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/predictor_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

/// Needs ONNX Runtime (scripts/fetch-onnxruntime.sh); fails without it.
#[test]
fn search_api_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/search_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

/// NULL for every pointer argument, huge lengths, small buffers, hostile model files.
/// Needs ONNX Runtime (scripts/fetch-onnxruntime.sh); fails without it.
#[test]
fn hostile_input_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/hostile_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

/// 16 pthreads sharing one predictor match a single thread bit for bit.
/// Needs ONNX Runtime (scripts/fetch-onnxruntime.sh); fails without it.
#[test]
fn concurrent_predictions_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/concurrency_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

#[test]
fn spectral_api_from_c() {
    let output = build_and_run(&manifest_dir().join("tests/c/spectral_api.c"));
    assert!(output.contains("all checks passed"), "{output}");
}

/// Examples are for people outside the crate: they must build with nothing but the header
/// and the library, and run.
#[test]
fn c_examples_build_and_run() {
    let output = build_and_run(&manifest_dir().join("examples/c/build_graph.c"));
    // conv 16*3*9 = 432, BN 2*16, linear 16*10 + 10; MACs 32*32*16*27 + 160.
    assert!(
        output.contains("7 nodes, 6 edges, 634 parameters, 442528 MACs"),
        "{output}"
    );
}

/// The score that `examples/c/predict.c` prints: `NETWORK: score S (...)`.
fn printed_score(output: &str) -> f32 {
    output
        .split_once(": score ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|score| score.parse().ok())
        .unwrap_or_else(|| panic!("no score in {output:?}"))
}

/// `examples/c/predict.c` on a real network (ResNet-18 from the vendored torchvision zoo,
/// decompressed as a user would have it) scores as the library does in process.
/// Needs ONNX Runtime (scripts/fetch-onnxruntime.sh).
#[test]
fn c_predict_example_scores_an_onnx_network() {
    use cgpredict::runtime::{Device, Predictor, PredictorOptions};
    use std::io::Read;

    let zipped = manifest_dir().join("data/zoo/torchvision/ResNet18_Weights.IMAGENET1K_V1.onnx.gz");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&zipped).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let network = scratch_dir().join("resnet18.onnx");
    std::fs::write(&network, bytes).unwrap();
    let (graph, _) = cgpredict::import::onnx::graph_from_onnx_file(&network).unwrap();
    let expected = |model: Option<PathBuf>| {
        let predictor = Predictor::open(&PredictorOptions {
            model,
            device: Device::Cpu,
            ..PredictorOptions::default()
        })
        .unwrap();
        predictor.predict(&[&graph]).unwrap()[0]
    };

    let exe = build(&manifest_dir().join("examples/c/predict.c"));
    let model = manifest_dir().join("tests/fixtures/runtime/good.onnx");
    let output = run(program(&exe).arg(&network).arg(&model));
    assert!(output.contains("on the CPU"), "{output}");
    assert!(
        output.contains(&format!("({} nodes,", graph.node_count())),
        "{output}"
    );
    let want = expected(Some(model));
    assert!(
        (printed_score(&output) - want).abs() < 1e-5,
        "{output} vs {want}"
    );

    // No model argument: the default model.
    let default = program(&exe).arg(&network).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&default.stdout),
        String::from_utf8_lossy(&default.stderr)
    );
    if cfg!(cgp_bundled_model) {
        assert!(default.status.success(), "{text}");
        assert!(
            std::env::var_os(cgpredict::runtime::MODEL_ENV).is_none(),
            "unset CGPREDICT_MODEL to run this test"
        );
        let want = expected(None);
        assert!(
            (printed_score(&text) - want).abs() < 1e-5,
            "{text} vs {want}"
        );
    } else {
        assert_eq!(default.status.code(), Some(1), "{text}");
        assert!(text.contains("no bundled default model"), "{text}");
    }
}

#[test]
fn header_compiles_alone_as_c11_and_cpp17() {
    let dir = scratch_dir();
    let header = manifest_dir().join("include");
    for (compiler, standard, file) in [
        ("cc", "-std=c11", "alone.c"),
        ("c++", "-std=c++17", "alone.cpp"),
    ] {
        let source = dir.join(file);
        std::fs::write(
            &source,
            "#include \"cgpredict.h\"\nint main(void) { return CGP_OK; }\n",
        )
        .unwrap();
        run(Command::new(compiler)
            .args([standard, "-Wall", "-Wextra", "-pedantic", "-Werror", "-I"])
            .arg(&header)
            .arg(&source)
            .arg("-fsyntax-only"));
    }
}
