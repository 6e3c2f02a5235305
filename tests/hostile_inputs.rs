//! Hostile inputs of issue #28, tried as a new user would: each must give a clear error (or
//! a graph) quickly, never a panic, an abort or a blocked process. Memory is checked in
//! `tests/hostile_memory.rs`, which counts allocations.

#[path = "support/hostile.rs"]
mod hostile;

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use std::ffi::{c_char, c_void};

/// The opaque handles, as C sees them.
type CGraph = c_void;
type CPredictor = c_void;

use cgpredict::ffi::{cgp_last_error_message, cgp_node_desc, cgp_status};
use cgpredict::graph::Limits;
use cgpredict::import::onnx::{graph_from_onnx_bytes, graph_from_onnx_file};
use cgpredict::runtime::{Device, Predictor, PredictorOptions};
use cgpredict::{ErrorKind, Graph, Node, Op, Shape};
use hostile::{field, model, node, reversed_chain_json};

// The C ABI's entry points, as a C caller links them (the header's declarations).
unsafe extern "C" {
    fn cgp_graph_new(out: *mut *mut CGraph) -> cgp_status;
    fn cgp_graph_free(g: *mut CGraph);
    fn cgp_graph_add_node(g: *mut CGraph, d: *const cgp_node_desc, out_id: *mut u32) -> cgp_status;
    fn cgp_graph_node_count(g: *const CGraph, out: *mut usize) -> cgp_status;
    fn cgp_graph_from_nasbench201(
        arch: *const c_char,
        num_classes: u32,
        out: *mut *mut CGraph,
    ) -> cgp_status;
    fn cgp_graph_from_onnx_bytes(bytes: *const u8, len: usize, out: *mut *mut CGraph)
    -> cgp_status;
    fn cgp_predictor_open(
        model_path: *const c_char,
        device: u32,
        out: *mut *mut CPredictor,
    ) -> cgp_status;
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn last_error() -> String {
    // SAFETY: the library returns a valid NUL-terminated string (empty when none).
    unsafe { CStr::from_ptr(cgp_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Item 2: a graph input with no name (`3a 02 5a 00`: a graph holding one empty
/// `ValueInfoProto` as input) panicked in the importer's lookup of its number.
#[test]
fn unnamed_graph_inputs_and_initializers_are_parse_errors() {
    let error = graph_from_onnx_bytes(&[0x3a, 0x02, 0x5a, 0x00]).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert_eq!(error.message, "ONNX model: graph input #0 has no name");
    // An initializer of dims [1] and no name (`2a 02 08 01` in the graph).
    let error = graph_from_onnx_bytes(&[0x3a, 0x04, 0x2a, 0x02, 0x08, 0x01]).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert_eq!(error.message, "ONNX model: initializer #0 has no name");
    // The same through the C ABI: a parse error, not CGP_PANIC.
    let bytes = [0x3a, 0x02, 0x5a, 0x00];
    let mut graph: *mut CGraph = std::ptr::null_mut();
    // SAFETY: valid buffer and out-pointer.
    let status = unsafe { cgp_graph_from_onnx_bytes(bytes.as_ptr(), bytes.len(), &mut graph) };
    assert_eq!(status, cgp_status::CGP_PARSE_ERROR, "{}", last_error());
    assert!(graph.is_null());
}

/// Item 5: the node list is bounded while it is read, and `weight_shape` is bounded.
#[test]
fn json_limits_are_checked_while_reading() {
    let limits = Limits {
        max_nodes: 10,
        ..Limits::DEFAULT
    };
    // Eleven nodes, then text that is not JSON: the limit is met before the bad text.
    let text = reversed_chain_json(11);
    let broken = format!("{}<not JSON>", &text[..text.find("],\"edges\"").unwrap()]);
    let error = Graph::from_json_with_limits(&broken, &limits).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unsupported, "{error}");
    assert_eq!(
        error.message,
        "graph JSON has at least 11 nodes, more than the limit max_nodes = 10"
    );
    let long_shape = vec!["1"; 1_000_000].join(",");
    let text = format!(
        r#"{{"format":"cgpredict-graph","version":1,"edges":[],"nodes":[{{"id":0,
        "op":"unknown:X","input":[1,1,1],"output":[1,1,1],"weight_shape":[{long_shape}]}}]}}"#
    );
    let error = Graph::from_json(&text).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert!(
        error
            .message
            .contains("weight_shape has more than 16 dimensions"),
        "{error}"
    );
    // A cycle among backward edges names its nodes.
    let cycle = r#"{"format":"cgpredict-graph","version":1,"edges":[[2,1],[1,0],[0,2]],
        "nodes":[{"id":0,"op":"relu","input":[1,1,1],"output":[1,1,1]},
                 {"id":1,"op":"relu","input":[1,1,1],"output":[1,1,1]},
                 {"id":2,"op":"relu","input":[1,1,1],"output":[1,1,1]}]}"#;
    let error = Graph::from_json(cycle).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Parse);
    assert!(
        error.message.contains("the edges form a cycle: "),
        "{error}"
    );
    let path = error.message.rsplit(": ").next().unwrap();
    let ids: Vec<&str> = path.split(" -> ").collect();
    assert_eq!(ids.len(), 4, "{error}");
    assert_eq!(ids.first(), ids.last(), "{error}");
}

/// The `good` runtime fixture with `cgpredict.embedding_dim` set to `dim`.
fn good_model_with_embedding_dim(dim: &str) -> Vec<u8> {
    use cgpredict::import::onnx::proto::ModelProto;
    use prost::Message;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtime/good.onnx");
    let mut model = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
    let entry = model
        .metadata_props
        .iter_mut()
        .find(|entry| entry.key.as_deref() == Some(cgpredict::runtime::META_EMBEDDING_DIM))
        .expect("the fixture declares its embedding width");
    entry.value = Some(dim.into());
    model.encode_to_vec()
}

/// Item 6: an embedding width from a model's metadata sized buffers unchecked (graphs x
/// width overflowed): a width beyond any model's is refused when the model is opened.
#[test]
fn embedding_widths_beyond_any_model_are_refused() {
    let options = PredictorOptions {
        device: Device::Cpu,
        ..PredictorOptions::default()
    };
    let huge = (1u64 << 62).to_string();
    let error = Predictor::from_model_bytes(good_model_with_embedding_dim(&huge), "huge", &options)
        .err()
        .expect("a model claiming a 2^62-wide embedding is refused");
    assert_eq!(error.kind, ErrorKind::Model, "{error}");
    assert!(
        error.message.contains(&format!(
            "cgpredict.embedding_dim is \"{huge}\", not an integer from 1 to 65536"
        )),
        "{error}"
    );
}

/// Item 7: the header says `out_id` of `cgp_graph_add_node` may be NULL.
#[test]
fn add_node_accepts_a_null_out_id() {
    let op = CString::new("relu").unwrap();
    let desc = cgp_node_desc {
        op: op.as_ptr(),
        in_h: 4,
        in_w: 4,
        in_c: 2,
        out_h: 4,
        out_w: 4,
        out_c: 2,
        kernel_h: 0,
        kernel_w: 0,
        stride_h: 0,
        stride_w: 0,
        dilation_h: 0,
        dilation_w: 0,
        groups: 0,
        has_bias: false,
    };
    let mut graph: *mut CGraph = std::ptr::null_mut();
    let mut count = 0usize;
    // SAFETY: valid pointers; the graph is freed once.
    unsafe {
        assert_eq!(cgp_graph_new(&mut graph), cgp_status::CGP_OK);
        assert_eq!(
            cgp_graph_add_node(graph, &desc, std::ptr::null_mut()),
            cgp_status::CGP_OK,
            "{}",
            last_error()
        );
        assert_eq!(cgp_graph_node_count(graph, &mut count), cgp_status::CGP_OK);
        cgp_graph_free(graph);
    }
    assert_eq!(count, 1);
}

/// Runs `work` on a thread and fails if it has not finished within `seconds`: a call that
/// blocks (reading a FIFO) would otherwise hang the test run.
fn within<T: Send + 'static>(seconds: u64, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || send.send(work()));
    receive
        .recv_timeout(Duration::from_secs(seconds))
        .expect("the call still runs after the time allowed")
}

/// Item 8: model files had no size limit (`/dev/zero` was read until the process was
/// killed), and importing `/dev/zero` as ONNX read 2 GiB before refusing it.
#[test]
fn devices_and_oversized_model_files_are_refused_before_reading() {
    let error = within(10, || {
        Predictor::open(&PredictorOptions {
            model: Some("/dev/zero".into()),
            device: Device::Cpu,
            ..PredictorOptions::default()
        })
        .err()
        .expect("/dev/zero is not a model")
    });
    assert_eq!(error.kind, ErrorKind::Io, "{error}");
    assert!(error.message.contains("a character device"), "{error}");
    let error = within(10, || {
        graph_from_onnx_file(Path::new("/dev/zero")).unwrap_err()
    });
    assert_eq!(error.kind, ErrorKind::Io, "{error}");
    assert!(error.message.contains("a character device"), "{error}");
    // The C ABI, as the issue tried it.
    let status = within(10, || {
        let path = CString::new("/dev/zero").unwrap();
        let mut predictor: *mut CPredictor = std::ptr::null_mut();
        // SAFETY: valid string and out-pointer.
        let status = unsafe { cgp_predictor_open(path.as_ptr(), 1, &mut predictor) };
        assert!(predictor.is_null());
        (status, last_error())
    });
    assert_eq!(status.0, cgp_status::CGP_IO_ERROR, "{}", status.1);
    // A sparse file beyond the model-file limit: refused from its size, without reading.
    let big = scratch("big.onnx");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(cgpredict::runtime::DEFAULT_MAX_MODEL_BYTES + 1)
        .unwrap();
    let start = Instant::now();
    let error = Predictor::open(&PredictorOptions {
        model: Some(big.clone()),
        ..PredictorOptions::default()
    })
    .err()
    .unwrap();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(error.kind, ErrorKind::Unsupported, "{error}");
    assert!(
        error
            .message
            .contains("has 268435457 bytes, more than the limit max_model_bytes = 268435456"),
        "{error}"
    );
    std::fs::remove_file(big).unwrap();
}

/// Item 9: a FIFO given as a network or a model blocked forever.
#[test]
fn fifos_are_refused_without_blocking() {
    let fifo = scratch("model.fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let path = fifo.clone();
    let error = within(10, move || graph_from_onnx_file(&path).unwrap_err());
    assert!(error.message.contains("it is a FIFO"), "{error}");
    let path = fifo.clone();
    let error = within(10, move || {
        Predictor::open(&PredictorOptions {
            model: Some(path),
            ..PredictorOptions::default()
        })
        .err()
        .unwrap()
    });
    assert!(error.message.contains("it is a FIFO"), "{error}");
    std::fs::remove_file(fifo).unwrap();
}

/// Item 9: error messages repeated the whole input (a 10 MB string came back whole).
#[test]
fn messages_repeat_at_most_an_excerpt_of_the_input() {
    let arch = CString::new(format!("|{}~0|", "x".repeat(10_000_000))).unwrap();
    let mut graph: *mut CGraph = std::ptr::null_mut();
    // SAFETY: valid string and out-pointer.
    let status = unsafe { cgp_graph_from_nasbench201(arch.as_ptr(), 10, &mut graph) };
    assert_eq!(status, cgp_status::CGP_PARSE_ERROR);
    let message = last_error();
    assert!(message.len() < 2_100, "{} bytes", message.len());
    let text = format!(
        r#"{{"format":"cgpredict-graph","version":1,"edges":[],
        "nodes":[{{"id":0,"op":"{}","input":[1,1,1],"output":[1,1,1]}}]}}"#,
        "y".repeat(10_000_000)
    );
    let error = Graph::from_json(&text).unwrap_err();
    assert!(error.message.len() < 1_000, "{} bytes", error.message.len());
    assert!(error.message.contains("more characters)"), "{error}");
}

/// Item 9: parameter and MAC counts saturated silently at 2^64 - 1; a node that would make
/// a graph's sum overflow is now refused, naming it.
#[test]
fn counts_that_overflow_64_bits_are_refused() {
    // A 1x1 convolution from 2^16 to 2^14 channels on a 2^16 x 2^16 map: 2^62 MACs.
    let conv = Node::new(
        Op::Conv,
        Shape::new(65_536, 65_536, 65_536),
        Shape::new(65_536, 65_536, 16_384),
    )
    .with_kernel(1, 1);
    assert_eq!(conv.macs(), Some(1 << 62));
    let mut graph = Graph::new();
    for _ in 0..3 {
        graph.add_node(conv.clone()).unwrap();
    }
    assert_eq!(graph.macs(), 3 << 62);
    let error = graph.add_node(conv).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidArgument);
    assert!(
        error
            .message
            .contains("node 3 (conv): the graph's parameter or MAC count would overflow 64 bits"),
        "{error}"
    );
    assert_eq!(graph.node_count(), 3);
}

/// The hand-written wire models above are valid ONNX for the importer.
#[test]
fn the_hand_written_wire_models_import() {
    let graph = [
        hostile::float_input("x", &[1, 8]),
        field(1, &node("Relu", &["x"], &["y"])),
        hostile::output("y"),
    ]
    .concat();
    let (graph, _) = graph_from_onnx_bytes(&model(&graph)).unwrap();
    let ops: Vec<String> = graph.nodes().map(|(_, node)| node.op.to_string()).collect();
    assert_eq!(ops, ["input", "relu", "output"]);
}
