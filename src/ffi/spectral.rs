//! C entry points for graph spectra and spectral distance.

use super::{arg_ref, cgp_graph, cgp_status, ffi_call, out_arg, write_out};
use crate::error::{Error, ErrorKind};
use crate::spectral;

/// Writes the `k` smallest eigenvalues of the graph's normalized Laplacian, ascending, into
/// `out[0..k]` (edge directions are dropped, an isolated node adds an eigenvalue 0, and a
/// graph of fewer than `k` nodes gets zeros in front; see `cgpredict::spectral`). The paper
/// uses `k = 11`.
/// `CGP_BUFFER_TOO_SMALL` if `out_len < k`; `CGP_INVALID_ARGUMENT` for `k = 0`, `k` over
/// 65536 or a graph without nodes.
///
/// # Safety
/// `g` is valid; `out` is valid for writes of `out_len` doubles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_graph_spectrum(
    g: *const cgp_graph,
    k: usize,
    out: *mut f64,
    out_len: usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let graph = unsafe { arg_ref(g, "g")? };
        out_arg(out, "out")?;
        if out_len < k {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("out has room for {out_len} values but k = {k} were asked for"),
            ));
        }
        let values = spectral::spectrum(&graph.graph, k)?;
        // SAFETY: `out` is valid for `out_len >= k = values.len()` writes.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), out, values.len()) };
        Ok(())
    })
}

/// Writes the spectral distance of two graphs: the Euclidean distance between their
/// `k`-spectra (as `cgp_graph_spectrum` computes them).
///
/// # Safety
/// `a`, `b` and `out` are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_spectral_distance(
    a: *const cgp_graph,
    b: *const cgp_graph,
    k: usize,
    out: *mut f64,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: validity is the caller's contract; NULL is checked.
        let (first, second) = unsafe { (arg_ref(a, "a")?, arg_ref(b, "b")?) };
        out_arg(out, "out")?;
        let distance = spectral::spectral_distance(&first.graph, &second.graph, k)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, distance) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::ptr;

    use super::*;
    use crate::ffi::last_error;
    use crate::graph::{Graph, Node, Op, Shape};

    /// A path of `n` identity nodes, handed over as a C graph.
    fn path(n: u32) -> cgp_graph {
        let mut graph = Graph::new();
        for _ in 0..n {
            graph
                .add_node(Node::same_shape(Op::Identity, Shape::new(1, 1, 1)))
                .unwrap();
        }
        for i in 1..n {
            graph.add_edge(i - 1, i).unwrap();
        }
        cgp_graph { graph }
    }

    #[test]
    fn spectrum_fills_the_buffer_or_says_why_not() {
        let g = path(4);
        let mut out = [f64::NAN; 6];
        // SAFETY: a live graph and a buffer of 6.
        let status = unsafe { cgp_graph_spectrum(&g, 5, out.as_mut_ptr(), out.len()) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // P4: 0, 1/2, 3/2, 2, with one zero in front for k = 5; out[5] untouched.
        for (value, expected) in out[..5].iter().zip([0.0, 0.0, 0.5, 1.5, 2.0]) {
            assert!((value - expected).abs() < 1e-12, "{out:?}");
        }
        assert!(out[5].is_nan());

        // SAFETY: as above; the buffer is declared shorter than k.
        let status = unsafe { cgp_graph_spectrum(&g, 11, out.as_mut_ptr(), out.len()) };
        assert_eq!(status, cgp_status::CGP_BUFFER_TOO_SMALL);
        assert!(
            last_error().contains("room for 6 values but k = 11"),
            "{}",
            last_error()
        );
        // SAFETY: NULL arguments are refused before use.
        let status = unsafe { cgp_graph_spectrum(ptr::null(), 3, out.as_mut_ptr(), 6) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert_eq!(last_error(), "g is NULL");
        // SAFETY: as above.
        let status = unsafe { cgp_graph_spectrum(&g, 3, ptr::null_mut(), 6) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        // SAFETY: a live graph and buffer.
        let status = unsafe { cgp_graph_spectrum(&g, 0, out.as_mut_ptr(), 6) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(last_error().contains("at least 1"), "{}", last_error());
    }

    #[test]
    fn distance_between_two_graphs() {
        let (a, b) = (path(4), path(5));
        let mut distance = f64::NAN;
        // SAFETY: live graphs and a valid out-parameter.
        let status = unsafe { cgp_spectral_distance(&a, &b, 5, &mut distance) };
        assert_eq!(status, cgp_status::CGP_OK, "{}", last_error());
        // [0, 0, 1/2, 3/2, 2] against P5's [0, 1 - c, 1, 1 + c, 2], c = cos(pi/4).
        let c = std::f64::consts::FRAC_1_SQRT_2;
        let expected = ((1.0 - c).powi(2) + 0.25 + (0.5 - c).powi(2)).sqrt();
        assert!((distance - expected).abs() < 1e-12, "{distance}");
        let empty = cgp_graph {
            graph: Graph::new(),
        };
        // SAFETY: as above.
        let status = unsafe { cgp_spectral_distance(&a, &empty, 5, &mut distance) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
        assert!(
            last_error().starts_with("second graph: "),
            "{}",
            last_error()
        );
        // SAFETY: NULL is refused before use.
        let status = unsafe { cgp_spectral_distance(&a, &b, 5, ptr::null_mut()) };
        assert_eq!(status, cgp_status::CGP_INVALID_ARGUMENT);
    }
}
