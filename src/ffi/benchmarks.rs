//! C entry points that build the computation graph of a benchmark architecture.

use std::ffi::c_char;

use super::{arg_slice, arg_str, cgp_status, ffi_call, out_arg, write_out};
use crate::import::darts::{Genotype, darts};
use crate::import::ofa::{OFA_BLOCK_SLOTS, OFA_STAGES, ofa_mbv3};

use super::graph::cgp_graph;

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
        // SAFETY: NULL is checked; NUL termination is the caller's contract.
        let text = unsafe { arg_str(genotype_json, "genotype_json")? };
        out_arg(out, "out")?;
        let graph = darts(&Genotype::from_json(text)?)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, cgp_graph::into_raw(graph)) };
        Ok(())
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
        // SAFETY: NULL is checked; the lengths are the documented contract.
        let (ks, e, d) = unsafe {
            (
                arg_slice(ks, OFA_BLOCK_SLOTS, "ks")?,
                arg_slice(e, OFA_BLOCK_SLOTS, "e")?,
                arg_slice(d, OFA_STAGES, "d")?,
            )
        };
        out_arg(out, "out")?;
        let graph = ofa_mbv3(ks, e, d, resolution)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, cgp_graph::into_raw(graph)) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;
    use std::ptr;

    use super::*;
    use crate::ffi::cgp_last_error_message;
    use crate::ffi::graph::{cgp_graph_free, cgp_graph_param_count};

    fn last_error() -> String {
        // SAFETY: never NULL.
        unsafe { CStr::from_ptr(cgp_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    fn params(g: *const cgp_graph) -> u64 {
        let mut count = 0;
        // SAFETY: a live graph and a valid out-parameter.
        assert_eq!(
            unsafe { cgp_graph_param_count(g, &mut count) },
            cgp_status::CGP_OK
        );
        count
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
        // SAFETY: freed once.
        unsafe { cgp_graph_free(g) };

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
        // SAFETY: freed once.
        unsafe { cgp_graph_free(g) };

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
