//! ONNX import against independent truths: the vendored torchvision zoo (node counts and
//! published GFLOPS in its manifest), the reference ONNX shape inference (fixture written by
//! `scripts/fixtures/onnx_shapes.py`), NAS-Bench-201 networks exported by PyTorch with
//! counts taken from the PyTorch modules (`scripts/fixtures/export_nb201_onnx.py`), models
//! from other exporters reduced to their structure (`scripts/fixtures/strip_onnx_weights.py`)
//! checked against their published architectures, and malformed input.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use cgpredict::ErrorKind;
use cgpredict::graph::{Graph, Op, canonicalize, is_isomorphic};
use cgpredict::import::nasbench201;
use cgpredict::import::onnx::{
    ImportOptions, graph_from_onnx_bytes, graph_from_onnx_bytes_with, graph_from_onnx_file,
    read_model_file, tensor_shapes_from_onnx_bytes,
};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn zoo_dir() -> PathBuf {
    root().join("data/zoo/torchvision")
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/onnx")
}

/// A CSV file as rows of column name -> value.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The manifest rows: name, file (the vendored copy is `file` + `.gz`), gflops, onnx_nodes...
fn manifest() -> Vec<BTreeMap<String, String>> {
    csv_rows(&zoo_dir().join("manifest.csv"))
}

fn zoo_bytes(row: &BTreeMap<String, String>) -> Vec<u8> {
    read_model_file(&zoo_dir().join(format!("{}.gz", row["file"]))).unwrap()
}

fn count(graph: &Graph, op: &Op) -> usize {
    graph.nodes().filter(|(_, n)| &n.op == op).count()
}

#[test]
fn every_torchvision_model_imports() {
    let rows = manifest();
    assert_eq!(rows.len(), 104);
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    for row in &rows {
        let name = &row["name"];
        let (graph, report) =
            graph_from_onnx_bytes(&zoo_bytes(row)).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The manifest's node count was taken from the files by their producer.
        assert_eq!(report.onnx_nodes.to_string(), row["onnx_nodes"], "{name}");
        let accounted: usize = report
            .ops
            .values()
            .map(|c| c.mapped + c.folded + c.unknown)
            .sum();
        assert_eq!(
            accounted, report.onnx_nodes,
            "{name}: every ONNX node is accounted for"
        );
        assert_eq!(
            (count(&graph, &Op::Input), count(&graph, &Op::Output)),
            (1, 1),
            "{name}"
        );
        assert_eq!(report.cg_nodes, graph.node_count(), "{name}");
        // Every node lies on a path from the input: nothing dangles.
        for (id, node) in graph.nodes() {
            if node.op != Op::Input {
                assert!(
                    !graph.predecessors(id).is_empty(),
                    "{name}: node {id} ({}) has no input",
                    node.op
                );
            }
        }
        let last = graph.nodes().find(|(_, n)| n.op == Op::Output).unwrap().1;
        assert_eq!(last.input.c, 1000, "{name}: ImageNet-1k logits");
        unknown.extend(report.unknown_ops().into_iter().map(str::to_owned));
    }
    // Ops outside the vocabulary that the zoo uses on its data path: the cosine attention
    // of Swin V2, q / max(||q||, eps).
    let expected: BTreeSet<String> = ["Clip", "Div", "ReduceL2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(unknown, expected);
}

#[test]
fn inferred_shapes_match_reference_shape_inference() {
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixtures().join("torchvision_shapes.json.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let models = document["models"].as_object().unwrap();
    assert_eq!(models.len(), 104);
    let (mut tensors, mut dims_checked) = (0usize, 0usize);
    for row in manifest() {
        let expected = models[&row["file"]].as_object().unwrap();
        let inferred = tensor_shapes_from_onnx_bytes(&zoo_bytes(&row)).unwrap();
        for (tensor, dims) in expected {
            let dims = dims.as_array().unwrap();
            let resolved = dims.iter().all(Value::is_u64);
            let Some(ours) = inferred.get(tensor) else {
                // Only shapes the reference leaves partly open may stay unknown here too.
                assert!(
                    !resolved,
                    "{}: no shape for '{tensor}', resolved as {dims:?}",
                    row["name"]
                );
                continue;
            };
            assert_eq!(
                ours.len(),
                dims.len(),
                "{}: rank of '{tensor}': {ours:?} vs {dims:?}",
                row["name"]
            );
            for (axis, (&mine, reference)) in ours.iter().zip(dims).enumerate() {
                if let Some(reference) = reference.as_u64() {
                    assert_eq!(
                        mine, reference,
                        "{}: '{tensor}' axis {axis}: {ours:?} vs {dims:?}",
                        row["name"]
                    );
                    dims_checked += 1;
                }
            }
            tensors += 1;
        }
    }
    // The reference (onnx 1.23.2) resolves the rank of 101,992 tensors of the zoo, 86,186 of
    // them fully, with 163,922 known dimensions in all.
    assert!(
        tensors > 100_000 && dims_checked > 160_000,
        "{tensors} tensors, {dims_checked} dims"
    );
}

/// Models whose MACs, counted at the size torchvision evaluates them at, differ from the
/// published GFLOPS by more than 2%, and why.
/// (Every other model is within 2%: 101 of 104.)
const MACS_OUTLIERS: &[(&str, &str)] = &[
    (
        "Swin_V2_T_Weights.IMAGENET1K_V1",
        "published at 256x256; the file was exported at 224x224 with the 56x56 stage size \
         baked into Constant nodes of the attention, so it only imports at 224 (-17%)",
    ),
    ("Swin_V2_S_Weights.IMAGENET1K_V1", "as Swin_V2_T (-16%)"),
    ("Swin_V2_B_Weights.IMAGENET1K_V1", "as Swin_V2_T (-16%)"),
];

#[test]
fn macs_match_published_gflops() {
    let sizes: BTreeMap<String, u64> = csv_rows(&fixtures().join("torchvision_eval_sizes.csv"))
        .into_iter()
        .map(|row| (row["name"].clone(), row["crop_size"].parse().unwrap()))
        .collect();
    let rows = manifest();
    let mut within = 0;
    let mut outliers = Vec::new();
    for row in &rows {
        let name = &row["name"];
        let size = sizes[name];
        let options = ImportOptions {
            input_shape: Some(vec![1, 3, size, size]),
            ..ImportOptions::default()
        };
        let bytes = zoo_bytes(row);
        // A file whose export baked its own input size into reshapes only imports at that size.
        let (graph, _) = graph_from_onnx_bytes_with(&bytes, &options)
            .or_else(|_| graph_from_onnx_bytes(&bytes))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let published: f64 = row["gflops"].parse().unwrap();
        let ours = graph.macs() as f64 / 1e9;
        let error = (ours / published - 1.0).abs();
        if error <= 0.02 {
            within += 1;
        } else {
            outliers.push(format!(
                "{name}: {ours:.3} GMACs vs {published} published ({:+.1}%)",
                100.0 * (ours / published - 1.0)
            ));
        }
    }
    let documented: Vec<&str> = MACS_OUTLIERS.iter().map(|(name, _)| *name).collect();
    let undocumented: Vec<&String> = outliers
        .iter()
        .filter(|outlier| {
            !documented
                .iter()
                .any(|name| outlier.starts_with(&format!("{name}:")))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "undocumented outliers: {undocumented:#?}"
    );
    for name in documented {
        assert!(
            outliers.iter().any(|o| o.starts_with(&format!("{name}:"))),
            "{name} is no longer an outlier"
        );
    }
    assert!(
        within * 10 >= rows.len() * 9,
        "{within} of {} within 2%: {outliers:#?}",
        rows.len()
    );
}

fn nb201_expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("nb201_expected.json")).unwrap())
        .unwrap()
}

#[test]
fn nb201_exports_have_the_pytorch_counts() {
    let document = nb201_expected();
    for (name, truth) in document["models"].as_object().unwrap() {
        let (graph, report) =
            graph_from_onnx_file(&fixtures().join(format!("{name}.onnx"))).unwrap();
        let get = |key: &str| truth[key].as_u64().unwrap() as usize;
        let convs = count(&graph, &Op::Conv);
        assert_eq!(convs, get("conv"), "{name}");
        assert_eq!(count(&graph, &Op::Linear), get("linear"), "{name}");
        assert_eq!(count(&graph, &Op::AvgPool), get("avg_pool"), "{name}");
        assert_eq!(graph.macs(), truth["macs"].as_u64().unwrap(), "{name}");
        assert_eq!(
            graph.param_count(),
            truth["params_bn_folded"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(report.onnx_nodes, get("onnx_nodes"), "{name}");
        assert_eq!(report.unknown_total(), 0, "{name}: {report}");
        // One batch norm is left, after the last cell (it follows an add, not a conv).
        assert_eq!(count(&graph, &Op::BatchNorm), 1, "{name}");
        // Each executed `none` op is a Mul by zero in the file, mapped to a zero node (the
        // exporter may merge identical ones: `none` twice out of the same node).
        let muls = report.ops.get("Mul").map_or(0, |c| c.mapped);
        assert!(
            muls <= get("zero") && (muls > 0) == (get("zero") > 0),
            "{name}: {muls} zero products"
        );
    }
}

#[test]
fn nb201_exports_are_isomorphic_to_the_generated_graphs() {
    // Two different routes to one architecture: PyTorch's exporters (eval mode: BatchNorm
    // folded into convs, `none` as x * 0, sums as chains of binary adds, skips as shared
    // tensors) and cgpredict's own NAS-Bench-201 generator. In canonical form they agree
    // node for node, every field included (shapes, kernels, strides, biases).
    let document = nb201_expected();
    for (name, truth) in document["models"].as_object().unwrap() {
        let (imported, _) = graph_from_onnx_file(&fixtures().join(format!("{name}.onnx"))).unwrap();
        let arch = truth["arch"].as_str().unwrap();
        let generated = nasbench201(arch, truth["classes"].as_u64().unwrap() as u32).unwrap();
        let generated = canonicalize(&generated);
        assert!(
            is_isomorphic(&imported, &generated),
            "{name}: {arch}\nimported  {:?}\ngenerated {:?}",
            imported.op_histogram(),
            generated.op_histogram()
        );
        assert_eq!(imported.param_count(), generated.param_count(), "{name}");
        assert_eq!(imported.macs(), generated.macs(), "{name}");
        // The check can fail: one edge's op changed (3x3 conv <-> 1x1 conv, pool <-> skip,
        // none <-> skip) and the graphs differ.
        let altered = arch
            .replacen("nor_conv_3x3", "NOR_CONV_1X1", 1)
            .replacen("nor_conv_1x1", "nor_conv_3x3", 1)
            .replacen("NOR_CONV_1X1", "nor_conv_1x1", 1);
        let altered = if altered == arch {
            arch.replacen("none", "skip_connect", 1)
        } else {
            altered
        };
        assert_ne!(altered, arch);
        let other = canonicalize(&nasbench201(&altered, 10).unwrap());
        assert!(!is_isomorphic(&imported, &other), "{name} vs {altered}");
    }
}

#[test]
fn nb201_shapes_match_the_exporters_value_info() {
    // The torch.export-based exporter writes value_info for every intermediate tensor.
    for name in ["nb201_best", "nb201_dead_zero"] {
        let bytes = std::fs::read(fixtures().join(format!("{name}.onnx"))).unwrap();
        let inferred = tensor_shapes_from_onnx_bytes(&bytes).unwrap();
        let declared = declared_value_info(&bytes);
        assert!(
            declared.len() > 40,
            "{name}: {} value_info entries",
            declared.len()
        );
        for (tensor, dims) in declared {
            assert_eq!(inferred.get(&tensor), Some(&dims), "{name}: '{tensor}'");
        }
    }
}

/// value_info shapes, decoded with a minimal protobuf reader written for this test so that
/// it does not share the importer's code: ModelProto.graph (7) -> GraphProto.value_info (13)
/// -> ValueInfoProto {name (1), type (2) -> tensor_type (1) -> shape (2) -> dim (1) ->
/// dim_value (1)}.
fn declared_value_info(bytes: &[u8]) -> Vec<(String, Vec<u64>)> {
    fn varint(bytes: &[u8], at: &mut usize) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let byte = bytes[*at];
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return value;
            }
            shift += 7;
        }
    }
    /// (field number, payload) of the length-delimited fields; varints as 8-byte LE.
    fn fields(bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut at = 0;
        let mut out = Vec::new();
        while at < bytes.len() {
            let key = varint(bytes, &mut at);
            match key & 7 {
                0 => {
                    let v = varint(bytes, &mut at);
                    out.push((key >> 3, v.to_le_bytes().to_vec()));
                }
                1 => at += 8,
                2 => {
                    let len = varint(bytes, &mut at) as usize;
                    out.push((key >> 3, bytes[at..at + len].to_vec()));
                    at += len;
                }
                5 => at += 4,
                other => panic!("wire type {other}"),
            }
        }
        out
    }
    let field = |bytes: &[u8], number: u64| -> Vec<Vec<u8>> {
        fields(bytes)
            .into_iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, v)| v)
            .collect()
    };
    let graph = &field(bytes, 7)[0];
    let mut out = Vec::new();
    for info in field(graph, 13) {
        let name = String::from_utf8(field(&info, 1)[0].clone()).unwrap();
        let Some(tensor) = field(&info, 2)
            .first()
            .and_then(|t| field(t, 1).into_iter().next())
        else {
            continue;
        };
        let Some(shape) = field(&tensor, 2).into_iter().next() else {
            continue;
        };
        let dims: Option<Vec<u64>> = field(&shape, 1)
            .iter()
            .map(|dim| {
                field(dim, 1)
                    .first()
                    .map(|v| u64::from_le_bytes(v[..8].try_into().unwrap()))
            })
            .collect();
        if let Some(dims) = dims {
            out.push((name, dims));
        }
    }
    out
}

/// A small deterministic generator (xorshift64*), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn truncated_corrupted_and_random_bytes_are_errors_not_panics() {
    let row = manifest()
        .into_iter()
        .find(|r| r["name"] == "ResNet18_Weights.IMAGENET1K_V1")
        .unwrap();
    let bytes = zoo_bytes(&row);
    assert!(graph_from_onnx_bytes(&bytes).is_ok());
    // Every strict prefix at a stride, plus the last few bytes one by one.
    let mut cuts: Vec<usize> = (0..bytes.len()).step_by(37).collect();
    cuts.extend(bytes.len().saturating_sub(64)..bytes.len());
    for cut in cuts {
        let error =
            graph_from_onnx_bytes(&bytes[..cut]).expect_err(&format!("prefix of {cut} bytes"));
        assert!(
            matches!(error.kind, ErrorKind::Parse),
            "prefix of {cut} bytes: {error}"
        );
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Single-byte corruptions anywhere: Ok or Err, never a panic; most are errors.
    let mut errors = 0;
    for _ in 0..400 {
        let mut corrupt = bytes.clone();
        let at = (rng.next() % corrupt.len() as u64) as usize;
        corrupt[at] = rng.next() as u8;
        if let Err(error) = graph_from_onnx_bytes(&corrupt) {
            assert!(!error.message.is_empty());
            errors += 1;
        }
    }
    assert!(errors > 0);
    // Random byte strings of random lengths.
    for round in 0..2000 {
        let len = (rng.next() % 512) as usize;
        let random: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let result = graph_from_onnx_bytes(&random);
        assert!(
            result.is_err(),
            "round {round}: {len} random bytes imported"
        );
    }
}

#[test]
fn files_may_be_gzipped_and_missing_files_are_io_errors() {
    let row = manifest()
        .into_iter()
        .find(|r| r["name"] == "AlexNet_Weights.IMAGENET1K_V1")
        .unwrap();
    let gz = zoo_dir().join(format!("{}.gz", row["file"]));
    let (from_gz, _) = graph_from_onnx_file(&gz).unwrap();
    let plain = std::env::temp_dir().join(format!("cgpredict-alexnet-{}.onnx", std::process::id()));
    std::fs::write(&plain, zoo_bytes(&row)).unwrap();
    let (from_plain, _) = graph_from_onnx_file(&plain).unwrap();
    std::fs::remove_file(&plain).unwrap();
    assert_eq!(from_gz.to_json(), from_plain.to_json());

    let missing = graph_from_onnx_file(Path::new("/nonexistent/model.onnx")).unwrap_err();
    assert_eq!(missing.kind, ErrorKind::Io);
    assert!(
        missing.message.contains("/nonexistent/model.onnx"),
        "{missing}"
    );

    let mut broken = std::fs::read(&gz).unwrap();
    broken.truncate(broken.len() / 2);
    let path =
        std::env::temp_dir().join(format!("cgpredict-broken-{}.onnx.gz", std::process::id()));
    std::fs::write(&path, broken).unwrap();
    let error = graph_from_onnx_file(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert!(error.message.contains("gzip"), "{error}");
}

/// Exporters store the weights in the file (`raw_data`); import reads a file without the
/// values of large tensors, which it never uses: a model with its weights inline imports from
/// its file exactly as from its bytes, which are decoded whole.
#[test]
fn models_with_inline_weights_import_from_files_as_from_bytes() {
    use cgpredict::import::onnx::proto::ModelProto;
    use prost::Message;
    for name in [
        "ResNet18_Weights.IMAGENET1K_V1",
        "MobileNet_V3_Small_Weights.IMAGENET1K_V1",
        "Swin_T_Weights.IMAGENET1K_V1",
    ] {
        let row = manifest().into_iter().find(|r| r["name"] == name).unwrap();
        let mut model = ModelProto::decode(zoo_bytes(&row).as_slice()).unwrap();
        let mut inlined = 0;
        for tensor in &mut model.graph.as_mut().unwrap().initializer {
            if tensor.data_location != Some(1) {
                continue;
            }
            let width = match tensor.data_type {
                Some(1 | 6) => 4,
                Some(7 | 11) => 8,
                other => panic!("{name}: an external tensor of type {other:?}"),
            };
            let elements: i64 = tensor.dims.iter().product();
            tensor.raw_data = Some(vec![0; width * elements as usize]);
            tensor.data_location = None;
            tensor.external_data.clear();
            inlined += 1;
        }
        assert!(inlined > 10, "{name}");
        let bytes = model.encode_to_vec();
        let path = std::env::temp_dir().join(format!(
            "cgpredict-inline-{name}-{}.onnx",
            std::process::id()
        ));
        std::fs::write(&path, &bytes).unwrap();
        let from_file = graph_from_onnx_file(&path);
        std::fs::remove_file(&path).unwrap();
        let (from_file, file_report) = from_file.unwrap();
        let (from_bytes, bytes_report) = graph_from_onnx_bytes(&bytes).unwrap();
        assert_eq!(from_file.to_json(), from_bytes.to_json(), "{name}");
        assert_eq!(file_report, bytes_report, "{name}");
    }
}

#[test]
fn the_zoo_loads_with_published_labels_grouped_by_architecture() {
    let models = cgpredict::import::zoo::load_zoo(&zoo_dir()).expect("the zoo loads");
    let rows = manifest();
    assert_eq!(models.len(), rows.len());
    for (model, row) in models.iter().zip(&rows) {
        assert_eq!(model.name, row["name"]);
        assert_eq!(
            model.top1,
            row["top1"].parse::<f64>().unwrap(),
            "{}",
            model.name
        );
        assert!(model.graph.node_count() > 0, "{}", model.name);
    }
    // 104 weights of 75 architectures (counted from the manifest's names by hand with
    // `cut -d, -f1 manifest.csv | sed 's/_Weights.*//' | sort -u`); RegNet_Y_16GF has four.
    let architectures: BTreeSet<&str> = models.iter().map(|m| m.architecture.as_str()).collect();
    assert_eq!(architectures.len(), 75);
    let regnet = models
        .iter()
        .filter(|m| m.architecture == "RegNet_Y_16GF")
        .count();
    assert_eq!(regnet, 4);
}

/// PaddleOCR's text-direction classifier, a MobileNetV3-Small x0.35 exported by paddle2onnx
/// (structure-only fixture: `scripts/fixtures/strip_onnx_weights.py`). Paddle writes hard
/// swish as `x * relu6(x + 3) / 6` and its weights as Constant nodes; the network has the
/// 18 hard-swish activations and 9 squeeze-excite gates of MobileNetV3-Small (Howard et al.,
/// "Searching for MobileNetV3", Table 2: the first conv, both activations of the 8 h-swish
/// blocks, and the last conv; SE in blocks 1 and 4-11).
#[test]
fn a_paddle_mobilenet_v3_imports_with_its_hard_activations() {
    let bytes = read_model_file(&fixtures().join("paddleocr_mobile_v2_cls.onnx.gz")).unwrap();
    // Its height and width are symbolic: without a shape, import says which axis is missing.
    let error = graph_from_onnx_bytes(&bytes).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert!(
        error
            .message
            .contains("graph input 'x' has no fixed size at axis 2"),
        "{error}"
    );
    let options = ImportOptions {
        input_shape: Some(vec![1, 3, 48, 192]),
        ..ImportOptions::default()
    };
    let (graph, report) = graph_from_onnx_bytes_with(&bytes, &options).unwrap();
    let by_name = ImportOptions {
        input_shapes: [("x".to_owned(), vec![1, 3, 48, 192])].into(),
        ..ImportOptions::default()
    };
    let (named, _) = graph_from_onnx_bytes_with(&bytes, &by_name).unwrap();
    assert_eq!(named.to_json(), graph.to_json());
    assert_eq!(count(&graph, &Op::HardSwish), 18);
    assert_eq!(count(&graph, &Op::HardSigmoid), 9);
    assert_eq!(report.fused["hardswish (x * relu6(x + 3) / 6)"], 18);
    assert_eq!(report.unknown_total(), 0, "{:?}", report.ops);
    // The classifier maps the 200 pooled features to the two text orientations (0 and 180
    // degrees); CG weights are [out, in] whichever way the exporter stored them.
    let classifier = graph.nodes().find(|(_, n)| n.op == Op::Linear).unwrap().1;
    assert_eq!(classifier.weight_shape, vec![2, 200]);
}

/// Silero VAD (16 kHz, sequence variant), exported by PyTorch: a convolution as STFT over
/// 576 samples, four convolutions, an LSTM of 128 units fed the graph's initial states, and
/// a sigmoid. The LSTM is outside the vocabulary and becomes an unknown node with its shapes.
#[test]
fn a_recurrent_network_imports_with_its_lstm_as_an_unknown_node() {
    let bytes = read_model_file(&fixtures().join("silero_vad_16k_sequence.onnx.gz")).unwrap();
    let (graph, report) = graph_from_onnx_bytes(&bytes).unwrap();
    assert_eq!(report.ops["LSTM"].unknown, 1);
    let (lstm, node) = graph
        .nodes()
        .find(|(_, n)| n.op.to_string() == "unknown:LSTM")
        .unwrap();
    // 4 gates x 128 units over 128 features; one output state per step, 128 wide.
    assert_eq!(node.weight_shape, vec![1, 512, 128]);
    assert_eq!(node.output.c, 128);
    // Reflect padding of 128 on both sides: (576 + 256 - 256) / 128 + 1 = 5 frames.
    let stft = graph
        .nodes()
        .find(|(_, n)| n.name == "/stft/Conv")
        .unwrap()
        .1;
    assert_eq!((stft.output.h, stft.output.c), (5, 258));
    // The initial hidden and cell states are graph inputs read by the LSTM.
    let readers: BTreeSet<String> = ["h", "c"]
        .iter()
        .flat_map(|state| {
            let (id, _) = graph.nodes().find(|(_, n)| n.name == *state).unwrap();
            graph
                .successors(id)
                .into_iter()
                .map(|s| graph.node(s).unwrap().name.clone())
        })
        .collect();
    assert_eq!(
        readers,
        BTreeSet::from([graph.node(lstm).unwrap().name.clone()])
    );
}
