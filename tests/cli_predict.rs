//! `cgpredict predict`, run as a user would, with the fixture model of `tests/runtime.rs`
//! (`tests/fixtures/runtime/good.onnx`). Needs ONNX Runtime (scripts/fetch-onnxruntime.sh).
//! The scores are compared with the library's own predictor on the same graphs, built here
//! through the library's generators and importers.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{cgpredict, stdout};

use cgpredict::Graph;
use cgpredict::import::Nb101Spec;
use cgpredict::import::darts::{Genotype, darts};
use cgpredict::import::nasbench201::nasbench201;
use cgpredict::import::ofa::ofa_mbv3;
use cgpredict::import::onnx::{ImportOptions, graph_from_onnx_file, graph_from_onnx_file_with};
use cgpredict::runtime::{Device, MODEL_ENV, Predictor, PredictorOptions};

const MODEL: &str = "tests/fixtures/runtime/good.onnx";
const NB201: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const NB201_B: &str =
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|";
const NB101: &str = r#"{"matrix": [[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]], "ops": ["input","conv3x3-bn-relu","maxpool3x3","output"]}"#;
const DARTS_V2: &str = r#"{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]], "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1], ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]]}"#;
const CG_JSON: &str = "examples/graphs/residual_block.json";
const ONNX: &str = "tests/fixtures/onnx/nb201_best.onnx";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ofa_json() -> String {
    let ks = [3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5];
    let e = [3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4];
    format!("{{\"ks\": {ks:?}, \"e\": {e:?}, \"d\": [2, 3, 4, 3, 2], \"r\": [160]}}")
}

fn ofa_graph() -> Graph {
    let ks = [3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5, 7, 3, 5];
    let e = [3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4, 6, 3, 4];
    ofa_mbv3(&ks, &e, &[2, 3, 4, 3, 2], 160).unwrap()
}

/// The fixture model's scores for `graphs` in one batch, in process.
fn library_scores(graphs: &[Graph]) -> Vec<f32> {
    let predictor = Predictor::open(&PredictorOptions {
        model: Some(root().join(MODEL)),
        device: Device::Cpu,
        ..PredictorOptions::default()
    })
    .expect("the fixture model opens (scripts/fetch-onnxruntime.sh fetches ONNX Runtime)");
    predictor
        .predict(&graphs.iter().collect::<Vec<&Graph>>())
        .unwrap()
}

/// `score<TAB>input` lines.
fn parse_lines(text: &str) -> Vec<(f32, String)> {
    text.lines()
        .map(|line| {
            let (score, input) = line.split_once('\t').expect("score, tab, input");
            (score.parse().expect("a number"), input.to_owned())
        })
        .collect()
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (k, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() < 1e-5, "graph {k}: {a} vs {b}");
    }
}

#[test]
fn every_kind_of_input_scores_in_command_line_order() {
    let ofa = ofa_json();
    let text = stdout(&cgpredict(&[
        "predict",
        "--model",
        MODEL,
        "--device",
        "cpu",
        "--nb201",
        NB201,
        CG_JSON,
        "--ofa",
        &ofa,
        ONNX,
        "--darts",
        DARTS_V2,
        "--nb101-json",
        NB101,
        "--nb201",
        NB201_B,
    ]));
    let lines = parse_lines(&text);
    let inputs: Vec<&str> = lines.iter().map(|(_, input)| input.as_str()).collect();
    assert_eq!(
        inputs,
        [
            format!("nb201:{NB201}"),
            CG_JSON.to_owned(),
            format!("ofa:{ofa}"),
            ONNX.to_owned(),
            format!("darts:{DARTS_V2}"),
            format!("nb101:{NB101}"),
            format!("nb201:{NB201_B}"),
        ]
    );
    let cg = std::fs::read_to_string(root().join(CG_JSON)).unwrap();
    let nb101 = Nb101Spec::pruned_from_json(
        "[[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]]",
        r#"["input","conv3x3-bn-relu","maxpool3x3","output"]"#,
    )
    .unwrap()
    .canonical()
    .to_graph()
    .unwrap();
    let graphs = [
        nasbench201(NB201, 10).unwrap(),
        Graph::from_json(&cg).unwrap(),
        ofa_graph(),
        graph_from_onnx_file(&root().join(ONNX)).unwrap().0,
        darts(&Genotype::from_json(DARTS_V2).unwrap()).unwrap(),
        nb101,
        nasbench201(NB201_B, 10).unwrap(),
    ];
    let scores: Vec<f32> = lines.iter().map(|(score, _)| *score).collect();
    assert_close(&scores, &library_scores(&graphs));
    // Different networks, different scores: the inputs were not mixed up.
    assert!(
        scores.windows(2).all(|pair| pair[0] != pair[1]),
        "{scores:?}"
    );
}

#[test]
fn json_output_names_model_device_and_inputs() {
    let text = stdout(&cgpredict(&[
        "predict", "--json", "--model", MODEL, "--device", "auto", ONNX, "--nb201", NB201,
    ]));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["model"], MODEL);
    // This build has no CUDA (or this machine no GPU): auto runs on the CPU.
    assert_eq!(value["device"], "cpu");
    let predictions = value["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 2);
    assert_eq!(predictions[0]["input"], ONNX);
    assert_eq!(predictions[1]["input"], format!("nb201:{NB201}"));
    let scores: Vec<f32> = predictions
        .iter()
        .map(|p| p["score"].as_f64().unwrap() as f32)
        .collect();
    let graphs = [
        graph_from_onnx_file(&root().join(ONNX)).unwrap().0,
        nasbench201(NB201, 10).unwrap(),
    ];
    assert_close(&scores, &library_scores(&graphs));
}

/// `--input-shape` reaches the ONNX models: the score is the library's for the graph
/// imported with that shape, and a name that is no input of the model fails naming it.
#[test]
fn onnx_models_take_input_shapes() {
    let output = cgpredict(&[
        "predict",
        "--model",
        MODEL,
        "--input-shape",
        "image=1x3x64x64",
        ONNX,
    ]);
    let options = ImportOptions {
        input_shapes: [("image".to_owned(), vec![1, 3, 64, 64])].into(),
        ..ImportOptions::default()
    };
    let (graph, _) = graph_from_onnx_file_with(&root().join(ONNX), &options).unwrap();
    let scores: Vec<f32> = parse_lines(&stdout(&output)).iter().map(|l| l.0).collect();
    assert_close(&scores, &library_scores(&[graph]));
    let declared = library_scores(&[graph_from_onnx_file(&root().join(ONNX)).unwrap().0]);
    assert_ne!(scores, declared, "the shape given changes the graph");

    let output = cgpredict(&["predict", "--model", MODEL, "--input-shape", "x=1x3", ONNX]);
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("'x', which is not a data input"),
        "{stderr}"
    );
}

fn stderr_of(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_inputs_and_devices_fail_with_the_reason() {
    let no_graphs = stderr_of(&cgpredict(&["predict", "--model", MODEL]));
    assert!(no_graphs.contains("no graphs"), "{no_graphs}");
    let wrong_kind = stderr_of(&cgpredict(&["predict", "--model", MODEL, "Cargo.toml"]));
    assert!(
        wrong_kind.contains("Cargo.toml: a graph file is an ONNX model"),
        "{wrong_kind}"
    );
    let bad_cell = stderr_of(&cgpredict(&[
        "predict", "--model", MODEL, "--nb201", NB201, "--nb201", "|conv~0|",
    ]));
    assert!(bad_cell.contains("nb201:|conv~0|"), "{bad_cell}");
    let bad_ofa = stderr_of(&cgpredict(&[
        "predict",
        "--model",
        MODEL,
        "--ofa",
        r#"{"ks": [3], "e": [3], "d": [2], "x": 1}"#,
    ]));
    assert!(bad_ofa.contains("unknown field `x`"), "{bad_ofa}");
    let bad_nb101 = stderr_of(&cgpredict(&[
        "predict",
        "--model",
        MODEL,
        "--nb101-json",
        r#"{"ops": ["input", "output"]}"#,
    ]));
    assert!(bad_nb101.contains("missing field `matrix`"), "{bad_nb101}");
    let cuda = stderr_of(&cgpredict(&[
        "predict", "--model", MODEL, "--device", "cuda", "--nb201", NB201,
    ]));
    assert!(cuda.contains("CUDA"), "{cuda}");
    let bad_model = stderr_of(&cgpredict(&[
        "predict",
        "--model",
        "tests/fixtures/runtime/bad_schema.onnx",
        "--nb201",
        NB201,
    ]));
    assert!(bad_model.contains("schema"), "{bad_model}");
}

fn cgpredict_with_model_env(value: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cgpredict"));
    command.args(args).current_dir(root());
    match value {
        Some(value) => command.env(MODEL_ENV, value),
        None => command.env_remove(MODEL_ENV),
    };
    command.output().expect("the cgpredict binary runs")
}

#[test]
fn the_model_environment_variable_overrides_the_default() {
    let text = stdout(&cgpredict_with_model_env(
        Some(MODEL),
        &["predict", "--json", "--nb201", NB201],
    ));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["model"], format!("{MODEL} (from {MODEL_ENV})"));
    let score = value["predictions"][0]["score"].as_f64().unwrap() as f32;
    assert_close(
        &[score],
        &library_scores(&[nasbench201(NB201, 10).unwrap()]),
    );

    // --model wins over the variable.
    let text = stdout(&cgpredict_with_model_env(
        Some("/nonexistent/model.onnx"),
        &["predict", "--json", "--model", MODEL, "--nb201", NB201],
    ));
    assert!(text.contains(&format!("\"model\": \"{MODEL}\"")), "{text}");

    let missing = stderr_of(&cgpredict_with_model_env(
        Some("/nonexistent/model.onnx"),
        &["predict", "--nb201", NB201],
    ));
    assert!(
        missing.contains(&format!("{MODEL_ENV}: cannot read /nonexistent/model.onnx")),
        "{missing}"
    );
}

#[cfg(not(cgp_bundled_model))]
#[test]
fn without_a_bundled_model_the_default_is_an_error_that_says_how_to_fix_it() {
    let error = stderr_of(&cgpredict_with_model_env(
        None,
        &["predict", "--nb201", NB201],
    ));
    assert!(error.contains("no bundled default model"), "{error}");
    assert!(error.contains("models/cgpredict-default.onnx"), "{error}");
    assert!(error.contains(MODEL_ENV), "{error}");
}

#[cfg(cgp_bundled_model)]
#[test]
fn the_bundled_model_scores_without_a_model_path() {
    let text = stdout(&cgpredict_with_model_env(
        None,
        &[
            "predict", "--json", "--device", "cpu", "--nb201", NB201, ONNX,
        ],
    ));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["model"], "cgpredict-default.onnx (bundled)");
    // The same scores as the model file the library was built from.
    let file = stdout(&cgpredict(&[
        "predict",
        "--json",
        "--device",
        "cpu",
        "--model",
        "models/cgpredict-default.onnx",
        "--nb201",
        NB201,
        ONNX,
    ]));
    let file: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(value["predictions"], file["predictions"]);
}
