//! C entry points of the search module.

use super::predictor::graph_refs;
use super::{arg_ref, cgp_graph, cgp_predictor, cgp_status, ffi_call, out_arg};
use crate::search::rank_graphs;

/// Ranks `n` candidate graphs by the predictor, for frameworks that run their own search:
/// writes to `out_order[0..n]` the indices `0..n-1`, best predicted first (by the scores of
/// `cgp_predict`, so by the adapted head after `cgp_predictor_adapt`). Equal scores keep their
/// order; a NaN score ranks last. `out_order` may be NULL only when `n` is 0; nothing is
/// written unless the call succeeds.
///
/// # Safety
/// `p` is valid; `graphs` holds `n` valid graph pointers; `out_order` is valid for `n` writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cgp_rank(
    p: *const cgp_predictor,
    graphs: *const *const cgp_graph,
    n: usize,
    out_order: *mut usize,
) -> cgp_status {
    ffi_call(|| {
        // SAFETY: the caller's contract; NULLs are checked.
        let (p, graphs) = unsafe { (arg_ref(p, "p")?, graph_refs(graphs, n)?) };
        if n > 0 {
            out_arg(out_order, "out_order")?;
        }
        let order = rank_graphs(&p.predictor, &graphs)?;
        if !order.is_empty() {
            // SAFETY: non-NULL (n > 0) and valid for n = order.len() writes by the caller's
            // contract.
            unsafe { std::ptr::copy_nonoverlapping(order.as_ptr(), out_order, order.len()) };
        }
        Ok(())
    })
}
