//! C entry points that build the computation graph of a NAS benchmark's architecture, one
//! function per benchmark family.

use std::ffi::c_char;

use super::{arg_slice, arg_str, cgp_graph, cgp_status, ffi_call, out_arg, write_out};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::import::darts::{Genotype, darts};
use crate::import::ofa::{OFA_BLOCK_SLOTS, OFA_STAGES, ofa_mbv3};
use crate::import::{nasbench101, nasbench201};

/// Writes a freshly built graph through a checked out-parameter.
fn write_graph(out: *mut *mut cgp_graph, build: impl FnOnce() -> Result<Graph>) -> Result<()> {
    out_arg(out, "out")?;
    let graph = build()?;
    // SAFETY: checked non-NULL; validity is the caller's contract.
    unsafe { write_out(out, cgp_graph::into_raw(graph)) };
    Ok(())
}

/// Builds the NAS-Bench-101 network (CIFAR-10: 32x32 input, 10 classes) of a cell, as the
/// benchmark trained it: `adjacency` is the cell's `n x n` 0/1 matrix, row-major
/// (`adjacency[i * n + j]` = edge i -> j, strictly upper triangular), `ops` its `n` op names
/// ("input", then "conv3x3-bn-relu", "conv1x1-bn-relu" or "maxpool3x3" for each inner
/// vertex, then "output"). Every vertex must lie on a path from the input to the output;
/// at most 7 vertices and 9 edges. The cell is put in the vertex order the benchmark used,
/// which decides how channels are split, so the graph's parameter count is the benchmark's
/// `trainable_parameters`. A malformed cell is `CGP_INVALID_ARGUMENT` with a message naming
/// the entry, op or vertex at fault. Release the graph with `cgp_graph_free`.
///
/// # Safety
/// `adjacency` is valid for reads of `n * n` bytes; `ops` for reads of `n` pointers, each a
/// NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_nasbench101(
    adjacency: *const u8,
    n: usize,
    ops: *const *const c_char,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        write_graph(out, || {
            let entries = n
                .checked_mul(n)
                .ok_or_else(|| Error::invalid(format!("n = {n}: n * n overflows")))?;
            // SAFETY: validity of n * n bytes and n pointers is the caller's contract.
            let adjacency = unsafe { arg_slice(adjacency, entries, "adjacency")? };
            let pointers = unsafe { arg_slice(ops, n, "ops")? };
            let names = pointers
                .iter()
                .enumerate()
                // SAFETY: each pointer is NULL or NUL-terminated by the caller's contract.
                .map(|(i, &name)| unsafe { arg_str(name, &format!("ops[{i}]")) })
                .collect::<Result<Vec<&str>>>()?;
            nasbench101(adjacency, n, &names)
        })
    })
}

/// Builds the NAS-Bench-201 network of the cell `arch`, the benchmark's string
/// (`|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|`),
/// for `num_classes` classes on 32x32 input (CIFAR-10: 10, CIFAR-100: 100). A malformed string
/// is `CGP_PARSE_ERROR` naming the node, edge and op; `num_classes` 0 is
/// `CGP_INVALID_ARGUMENT`. Release the graph with `cgp_graph_free`.
///
/// # Safety
/// `arch` is a NUL-terminated string; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_nasbench201(
    arch: *const c_char,
    num_classes: u32,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        write_graph(out, || {
            // SAFETY: NULL or NUL-terminated by the caller's contract.
            let arch = unsafe { arg_str(arch, "arch")? };
            nasbench201(arch, num_classes)
        })
    })
}

/// Builds the NAS-Bench-301 (DARTS space) CIFAR-10 network of a genotype: 32 initial
/// channels, 8 cells, as NAS-Bench-301 trained it (the auxiliary head is not part of the
/// graph). `genotype_json` is NUL-terminated UTF-8:
/// `{"normal": [["sep_conv_3x3", 0], ... 8 pairs], "reduce": [... 8 pairs]}`. A malformed
/// genotype is `CGP_PARSE_ERROR`, naming the cell, the pair and the problem.
///
/// # Safety
/// `genotype_json` is NULL or NUL-terminated; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_darts(
    genotype_json: *const c_char,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        write_graph(out, || {
            // SAFETY: NULL is checked; NUL termination is the caller's contract.
            let text = unsafe { arg_str(genotype_json, "genotype_json")? };
            darts(&Genotype::from_json(text)?)
        })
    })
}

/// Builds a Once-for-All MobileNetV3 (width 1.0) subnet for ImageNet: `ks` holds 20 kernel
/// sizes (3, 5 or 7), `e` 20 expand ratios (3, 4 or 6), `d` 5 stage depths (2, 3 or 4;
/// stage s runs block slots 4s..4s+d[s]-1), `resolution` is a multiple of 4 from 128 to 224.
/// A value out of range is `CGP_INVALID_ARGUMENT`, naming the array and position.
///
/// # Safety
/// `ks` and `e` are valid for reads of 20 bytes, `d` of 5; `out` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_from_ofa_mbv3(
    ks: *const u8,
    e: *const u8,
    d: *const u8,
    resolution: u32,
    out: *mut *mut cgp_graph,
) -> cgp_status {
    ffi_call(|| {
        write_graph(out, || {
            // SAFETY: NULL is checked; the lengths are the documented contract.
            let (ks, e, d) = unsafe {
                (
                    arg_slice(ks, OFA_BLOCK_SLOTS, "ks")?,
                    arg_slice(e, OFA_BLOCK_SLOTS, "e")?,
                    arg_slice(d, OFA_STAGES, "d")?,
                )
            };
            ofa_mbv3(ks, e, d, resolution)
        })
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::ptr;

    use super::*;
    use crate::ffi::graph::{cgp_graph_free, cgp_graph_param_count};
    use crate::ffi::last_error;

    fn params(g: *mut cgp_graph) -> u64 {
        let mut count = 0;
        // SAFETY: a live graph and a valid out-parameter.
        assert_eq!(
            unsafe { cgp_graph_param_count(g, &mut count) },
            cgp_status::CGP_OK
        );
        // SAFETY: a live graph, freed once.
        unsafe { cgp_graph_free(g) };
        count
    }

    #[test]
    fn nasbench101_from_c_arrays() {
        let names = ["input", "conv3x3-bn-relu", "output"].map(|s| CString::new(s).unwrap());
        let ops = names.each_ref().map(|name| name.as_ptr());
        let adjacency = [0u8, 1, 0, 0, 0, 1, 0, 0, 0];
        let mut g = ptr::null_mut();
        // SAFETY: arrays of 9 bytes and 3 strings.
        let status =
            unsafe { cgp_graph_from_nasbench101(adjacency.as_ptr(), 3, ops.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // Worked out by hand in import::nasbench101's tests.
        assert_eq!(params(g), 10_177_674);

        // Vertex 1 is not reachable from the input.
        let bad = [0u8, 0, 1, 0, 0, 1, 0, 0, 0];
        let mut g = ptr::null_mut();
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_nasbench101(bad.as_ptr(), 3, ops.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(
            last_error().contains("vertex 1 (conv3x3-bn-relu)"),
            "{}",
            last_error()
        );
        assert!(g.is_null(), "no graph on failure");
        let with_null = [ops[0], ptr::null(), ops[2]];
        // SAFETY: as above; the NULL op is the point.
        let status = unsafe {
            cgp_graph_from_nasbench101(adjacency.as_ptr(), 3, with_null.as_ptr(), &mut g)
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "ops[1] is NULL");
        // SAFETY: NULL arrays with non-zero n are refused before any read.
        let status = unsafe { cgp_graph_from_nasbench101(ptr::null(), 3, ops.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(
            last_error().contains("adjacency is NULL"),
            "{}",
            last_error()
        );
        // SAFETY: an n whose square overflows is refused before any read.
        let status = unsafe {
            cgp_graph_from_nasbench101(adjacency.as_ptr(), usize::MAX, ops.as_ptr(), &mut g)
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(last_error().contains("overflows"), "{}", last_error());
        // SAFETY: a NULL out-parameter is refused.
        let status = unsafe {
            cgp_graph_from_nasbench101(adjacency.as_ptr(), 3, ops.as_ptr(), ptr::null_mut())
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "out is NULL");
    }

    #[test]
    fn nasbench201_from_c_string() {
        let arch = CString::new("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").unwrap();
        let mut g = ptr::null_mut();
        // SAFETY: a NUL-terminated string and a valid out-parameter.
        let status = unsafe { cgp_graph_from_nasbench201(arch.as_ptr(), 10, &mut g) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // The benchmark's smallest CIFAR-10 network.
        assert_eq!(params(g), 73_306);
        g = ptr::null_mut();

        let typo = CString::new("|none~0|+|none~0|nor_conv3x3~1|+|none~0|none~1|none~2|").unwrap();
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_nasbench201(typo.as_ptr(), 10, &mut g) };
        assert_eq!(status, cgp_status::CGP_PARSE_ERROR);
        assert!(
            last_error().contains("node 2, edge 1: op \"nor_conv3x3\""),
            "{}",
            last_error()
        );
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_nasbench201(arch.as_ptr(), 0, &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        // SAFETY: a NULL string is refused.
        let status = unsafe { cgp_graph_from_nasbench201(ptr::null(), 10, &mut g) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "arch is NULL");
        assert!(g.is_null());
    }

    #[test]
    fn darts_from_c() {
        let genotype = c"{\"normal\": [[\"sep_conv_3x3\", 0], [\"sep_conv_3x3\", 1], [\"sep_conv_3x3\", 0], [\"sep_conv_3x3\", 1], [\"sep_conv_3x3\", 1], [\"skip_connect\", 0], [\"skip_connect\", 0], [\"dil_conv_3x3\", 2]], \"reduce\": [[\"max_pool_3x3\", 0], [\"max_pool_3x3\", 1], [\"skip_connect\", 2], [\"max_pool_3x3\", 1], [\"max_pool_3x3\", 0], [\"skip_connect\", 2], [\"skip_connect\", 2], [\"max_pool_3x3\", 1]]}";
        let mut g = ptr::null_mut();
        // SAFETY: a NUL-terminated string and a valid out-parameter.
        let status = unsafe { cgp_graph_from_darts(genotype.as_ptr(), &mut g) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        let expected = darts(&Genotype::from_json(genotype.to_str().unwrap()).unwrap()).unwrap();
        assert_eq!(params(g), expected.param_count());

        let bad = c"{\"normal\": [], \"reduce\": []}";
        let mut untouched = ptr::null_mut();
        // SAFETY: as above.
        let status = unsafe { cgp_graph_from_darts(bad.as_ptr(), &mut untouched) };
        assert_eq!(status, cgp_status::CGP_PARSE_ERROR);
        assert!(untouched.is_null());
        assert!(last_error().contains("normal has 0 [op, input] pairs"));
        // SAFETY: NULL arguments are checked.
        let status = unsafe { cgp_graph_from_darts(ptr::null(), &mut untouched) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "genotype_json is NULL");
    }

    #[test]
    fn ofa_mbv3_from_c() {
        let (ks, e, d) = ([7u8; 20], [6u8; 20], [4u8; 5]);
        let mut g = ptr::null_mut();
        // SAFETY: arrays of the documented lengths and a valid out-parameter.
        let status =
            unsafe { cgp_graph_from_ofa_mbv3(ks.as_ptr(), e.as_ptr(), d.as_ptr(), 224, &mut g) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // The largest subnet, counted by hand in the generator's tests.
        assert_eq!(params(g), 7_664_760);

        let mut untouched = ptr::null_mut();
        let bad_d = [4u8, 4, 5, 4, 4];
        // SAFETY: as above.
        let status = unsafe {
            cgp_graph_from_ofa_mbv3(ks.as_ptr(), e.as_ptr(), bad_d.as_ptr(), 224, &mut untouched)
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(untouched.is_null());
        assert!(last_error().contains("d[2] = 5"), "{}", last_error());
        // SAFETY: NULL arrays are checked.
        let status = unsafe {
            cgp_graph_from_ofa_mbv3(ptr::null(), e.as_ptr(), d.as_ptr(), 224, &mut untouched)
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "ks is NULL but its length is 20");
        // SAFETY: as above.
        let status = unsafe {
            cgp_graph_from_ofa_mbv3(ks.as_ptr(), e.as_ptr(), d.as_ptr(), 200, ptr::null_mut())
        };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "out is NULL");
    }
}
