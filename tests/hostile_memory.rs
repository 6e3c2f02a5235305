//! Memory on hostile ONNX input (issue #28, items 1 and 3): every allocation of this test
//! binary is counted, and importing a model may hold at most 3 times the model's
//! (inflated) size + 100 MB at its peak, whatever its bytes. The tests run one at a time
//! (a lock), since the count is process-wide.

#[path = "support/hostile.rs"]
mod hostile;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cgpredict::ErrorKind;
use cgpredict::import::onnx::{graph_from_onnx_bytes, graph_from_onnx_file};
use hostile::{field, model};

/// The system allocator, counting the bytes held and their peak.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(pointer, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            let held = HELD.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(held, Ordering::Relaxed);
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The most bytes held at once while `work` ran, beyond what was held before it.
fn peak_during<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = work();
    (result, PEAK.load(Ordering::Relaxed) - before)
}

/// The goal: at most 3 times the (inflated) input + 100 MB.
fn budget(input_bytes: usize) -> usize {
    3 * input_bytes + 100_000_000
}

/// A model whose graph is `repeat` copies of `element` after `head`.
fn graph_of(head: &[u8], element: &[u8], repeat: usize) -> Vec<u8> {
    let mut graph = Vec::with_capacity(head.len() + element.len() * repeat);
    graph.extend_from_slice(head);
    for _ in 0..repeat {
        graph.extend_from_slice(element);
    }
    model(&graph)
}

/// Item 1: one node carrying millions of empty attributes (`2a 00` repeated), gzip-compressed
/// to a small file, made the importer reserve 168 bytes per attribute at once (200 million
/// of them: 33.6 GB, and SIGABRT). 50 million here (100 MB inflated, 100 kB compressed).
#[test]
fn a_node_of_millions_of_empty_attributes_is_refused_within_memory() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let attributes = 50_000_000;
    let node = {
        let mut node = [field(2, b"y"), field(4, b"Relu")].concat();
        node.reserve(2 * attributes);
        for _ in 0..attributes {
            node.extend_from_slice(&[0x2a, 0x00]);
        }
        node
    };
    let bytes = model(&[hostile::float_input("x", &[1, 8]), field(1, &node)].concat());
    drop(node);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty_attributes.onnx.gz");
    let mut gzip = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    gzip.write_all(&bytes).unwrap();
    gzip.finish().unwrap();
    let inflated = bytes.len();
    drop(bytes);
    let (result, peak) = peak_during(|| graph_from_onnx_file(&path));
    println!("{attributes} empty attributes: {inflated} bytes inflated, peak {peak} bytes");
    let error = result.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unsupported, "{error}");
    assert!(
        error.message.contains("for node #0's links and attributes"),
        "{error}"
    );
    assert!(
        peak <= budget(inflated),
        "peak {peak} bytes for {inflated} inflated bytes"
    );
    std::fs::remove_file(path).unwrap();
}

/// Item 3: attributes, initializers and dimensions were not counted by the limits: a 40 MB
/// file took 3.95 GB. Each kind of empty element, 16 MB of it, must import or fail within
/// the budget.
#[test]
fn empty_elements_of_every_list_stay_within_memory() {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let input = hostile::float_input("x", &[1, 8]);
    let relu = field(1, &hostile::node("Relu", &["x"], &["y"]));
    let head = [input.clone(), relu.clone()].concat();
    let count = 8_000_000;
    // An empty dimension inside a value info's shape, many to one value info.
    let dims: Vec<u8> = std::iter::repeat_n([0x0a, 0x00], count).flatten().collect();
    let many_dims = [
        head.clone(),
        field(
            13,
            &[field(1, b"y"), field(2, &field(1, &field(2, &dims)))].concat(),
        ),
    ]
    .concat();
    // Zeros as packed int64 values of one initializer: 1 byte each, 8 decoded.
    let zeros = vec![0u8; 2 * count];
    let packed_zeros = [
        head.clone(),
        field(5, &[field(8, b"w"), field(7, &zeros)].concat()),
    ]
    .concat();
    // Empty ints of an attribute, unpacked (`40 00`: 2 bytes each, 8 decoded).
    let ints: Vec<u8> = std::iter::repeat_n([0x40, 0x00], count).flatten().collect();
    let node_with_ints = [
        input.clone(),
        field(
            1,
            &[
                field(1, b"x"),
                field(2, b"y"),
                field(4, b"Relu"),
                field(5, &[field(1, b"a"), ints].concat()),
            ]
            .concat(),
        ),
    ]
    .concat();
    let cases: [(&str, Vec<u8>); 6] = [
        // Initializers named "w" and nothing else (5 bytes each).
        (
            "bare initializers",
            graph_of(&head, &[0x2a, 0x03, 0x42, 0x01, b'w'], count),
        ),
        ("empty value infos", graph_of(&head, &[0x6a, 0x00], count)),
        ("empty nodes", graph_of(&head, &[0x0a, 0x00], count)),
        ("empty dimensions", model(&many_dims)),
        ("packed zero int64 values", model(&packed_zeros)),
        ("unpacked attribute ints", model(&node_with_ints)),
    ];
    let mut over = Vec::new();
    for (what, bytes) in cases {
        let size = bytes.len();
        let (result, peak) = peak_during(|| graph_from_onnx_bytes(&bytes).map(|_| ()));
        // Printed for SECURITY.md's figures (--nocapture).
        println!(
            "{what}: {size} bytes, peak {peak} bytes ({:.2} per byte): {}",
            peak as f64 / size as f64,
            result
                .err()
                .map_or("imported".into(), |error| error.message)
        );
        if peak > budget(size) {
            over.push(format!("{what}: peak {peak} bytes for a {size}-byte model"));
        }
    }
    assert!(over.is_empty(), "{over:#?}");
}
