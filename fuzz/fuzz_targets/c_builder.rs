//! Bytes decoded into a sequence of `cgp_graph_add_node` and `cgp_graph_add_edge` calls
//! through the C ABI, as a C caller would make them: every call returns a status (never
//! `CGP_PANIC`), a refused call leaves the graph unchanged, and the graph built agrees with
//! one built through the Rust API from the calls that succeeded.
#![no_main]

use std::ffi::{CString, c_char, c_void};

use cgpredict::ffi::{cgp_node_desc, cgp_status, cgp_string_free};
use cgpredict::{Graph, Node, Op, Shape};
use libfuzzer_sys::fuzz_target;

/// A graph handle, opaque as C sees it.
type CGraph = c_void;

// The graph builder's entry points, as a C caller links them (the header's declarations).
unsafe extern "C" {
    fn cgp_graph_new(out: *mut *mut CGraph) -> cgp_status;
    fn cgp_graph_free(g: *mut CGraph);
    fn cgp_graph_add_node(g: *mut CGraph, d: *const cgp_node_desc, out_id: *mut u32) -> cgp_status;
    fn cgp_graph_add_edge(g: *mut CGraph, from: u32, to: u32) -> cgp_status;
    fn cgp_graph_to_json(g: *const CGraph, out: *mut *mut c_char) -> cgp_status;
}

/// Op names a caller might pass, valid and not.
const OPS: [&str; 12] = [
    "input",
    "output",
    "conv",
    "depthwise_conv",
    "relu",
    "add",
    "concat",
    "linear",
    "max_pool",
    "unknown:Foo",
    "rleu",
    "",
];

/// A small size from one byte (0 stays 0, to reach the zero-size checks).
fn size(byte: u8) -> u32 {
    match byte {
        0 => 0,
        255 => u32::MAX,
        byte => u32::from(byte % 16) + 1,
    }
}

fuzz_target!(|bytes: &[u8]| {
    let ops: Vec<CString> = OPS.iter().map(|op| CString::new(*op).unwrap()).collect();
    let mut graph: *mut CGraph = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { cgp_graph_new(&mut graph) }, cgp_status::CGP_OK);
    let mut mirror = Graph::new();
    let mut calls = bytes.chunks_exact(9);
    for call in &mut calls {
        if call[0] % 3 == 0 {
            let (from, to) = (u32::from(call[1] % 32), u32::from(call[2] % 32));
            // SAFETY: a valid graph.
            let status = unsafe { cgp_graph_add_edge(graph, from, to) };
            assert_ne!(status, cgp_status::CGP_PANIC);
            assert_eq!(
                status == cgp_status::CGP_OK,
                mirror.add_edge(from, to).is_ok()
            );
            continue;
        }
        let op = usize::from(call[1]) % OPS.len();
        let desc = cgp_node_desc {
            op: ops[op].as_ptr(),
            in_h: size(call[2]),
            in_w: size(call[2] / 16),
            in_c: size(call[3]),
            out_h: size(call[4]),
            out_w: size(call[4] / 16),
            out_c: size(call[5]),
            kernel_h: size(call[6]) % 8,
            kernel_w: size(call[6] / 8) % 8,
            stride_h: u32::from(call[7] % 3),
            stride_w: u32::from(call[7] / 3 % 3),
            dilation_h: 1,
            dilation_w: 1,
            groups: size(call[8]),
            has_bias: call[0] % 2 == 0,
        };
        let mut id = u32::MAX;
        // SAFETY: a valid graph, descriptor and out-pointer.
        let status = unsafe { cgp_graph_add_node(graph, &desc, &mut id) };
        assert_ne!(status, cgp_status::CGP_PANIC);
        let node = OPS[op].parse::<Op>().ok().map(|op| Node {
            op,
            name: String::new(),
            input: Shape::new(desc.in_h, desc.in_w, desc.in_c),
            output: Shape::new(desc.out_h, desc.out_w, desc.out_c),
            kernel: [desc.kernel_h, desc.kernel_w],
            stride: [desc.stride_h, desc.stride_w],
            dilation: [desc.dilation_h, desc.dilation_w],
            groups: desc.groups,
            has_bias: desc.has_bias,
            weight_shape: Vec::new(),
        });
        match node.map(|node| mirror.add_node(node)) {
            Some(Ok(expected)) => assert!(status == cgp_status::CGP_OK && id == expected),
            _ => assert!(status != cgp_status::CGP_OK && id == u32::MAX),
        }
    }
    let mut json = std::ptr::null_mut();
    // SAFETY: a valid graph and out-pointer; the string and graph are freed once.
    unsafe {
        assert_eq!(cgp_graph_to_json(graph, &mut json), cgp_status::CGP_OK);
        let text = std::ffi::CStr::from_ptr(json).to_str().unwrap().to_owned();
        assert_eq!(
            text,
            mirror.to_json(),
            "the C graph differs from the Rust one"
        );
        cgp_string_free(json);
        cgp_graph_free(graph);
    }
    cgpredict_fuzz::check_graph(&mirror);
});
