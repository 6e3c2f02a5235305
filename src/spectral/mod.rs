//! Spectral distance between computation graphs (paper, section 4.2).
//!
//! A graph's *spectrum* here is the `k` smallest eigenvalues, ascending, of the normalized
//! Laplacian `Δ = I − D^-1/2 A D^-1/2` of its undirected, unweighted skeleton; the
//! *spectral distance* of two graphs is the Euclidean distance of their spectra
//! ([`DEFAULT_K`] = 11 as in the paper).
//!
//! # Conventions (those of networkx's `normalized_laplacian_matrix`)
//! - Edge directions are dropped and `A` is 0/1: `i → j` and `j → i` would be one
//!   undirected edge (a [`Graph`] is a simple DAG, so this cannot arise), there are no
//!   self-loops, and node attributes play no part.
//! - An isolated node (degree 0) has a zero row and column in `Δ`, *diagonal included*
//!   (networkx computes `D^-1/2 (D − A) D^-1/2` with `1/√0` taken as 0). So eigenvalue 0
//!   has the multiplicity of the connected components, isolated nodes counted, and every
//!   eigenvalue lies in `[0, 2]`.
//! - A graph with `n < k` nodes gets `k − n` zeros *in front of* its `n` eigenvalues: the
//!   spectrum of the graph plus `k − n` isolated nodes, under the rule above. It is still
//!   an ascending spectrum of a real graph, and its largest values stay aligned with the
//!   graph's own, rather than zeros breaking the order at the end or a made-up value
//!   standing in for missing ones. (Real computation graphs have well over 11 nodes.)
//! - A graph without nodes has no spectrum: an error.
//!
//! # Solvers
//! Small graphs (up to [`DENSE_MAX_NODES`] nodes) use a full dense eigendecomposition;
//! larger ones shift-and-invert Lanczos on a sparse Cholesky factorization, with locking
//! so that repeated eigenvalues come with their multiplicity (see `lanczos.rs`). Both
//! return every eigenvalue to within 1e-10 or better; [`spectrum_with`] picks one by hand.

mod dense;
mod distance;
mod lanczos;
mod laplacian;
#[cfg(test)]
mod tests;
mod tridiagonal;

use rayon::prelude::*;

pub use distance::{
    DistanceMatrix, Neighbour, all_nearest_neighbours, distance, nearest_neighbours,
    pairwise_distances,
};

use crate::error::{Error, Result};
use crate::graph::Graph;
use laplacian::Laplacian;

/// The number of eigenvalues the paper compares.
pub const DEFAULT_K: usize = 11;

/// The largest `k` accepted: a spectrum is a short signature, and this bounds the memory a
/// mistaken `k` can claim.
pub const MAX_K: usize = 1 << 16;

/// Graphs up to this many nodes take the dense solver under [`Solver::Auto`]: measured
/// crossover on CG-like graphs (`benches/spectral.rs`).
pub const DENSE_MAX_NODES: usize = 80;

/// Which eigensolver computes a spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// Dense up to [`DENSE_MAX_NODES`] nodes or when `k` is over a quarter of the nodes,
    /// sparse otherwise.
    #[default]
    Auto,
    /// Full dense eigendecomposition: O(n³) time, O(n²) memory.
    Dense,
    /// Shift-and-invert Lanczos: about linear in the nodes for a fixed `k`.
    Sparse,
}

/// The `k` smallest normalized-Laplacian eigenvalues of `graph`, ascending (see the module
/// documentation for the conventions).
pub fn spectrum(graph: &Graph, k: usize) -> Result<Vec<f64>> {
    spectrum_with(graph, k, Solver::Auto)
}

/// [`spectrum`] with a chosen solver.
pub fn spectrum_with(graph: &Graph, k: usize, solver: Solver) -> Result<Vec<f64>> {
    check_k(k)?;
    if graph.node_count() == 0 {
        return Err(Error::invalid(
            "the graph has no nodes, so it has no spectrum",
        ));
    }
    smallest_padded(&Laplacian::of(graph), k, solver)
}

/// The spectral distance of two graphs: the Euclidean distance of their `k`-spectra.
pub fn spectral_distance(a: &Graph, b: &Graph, k: usize) -> Result<f64> {
    let first = spectrum(a, k).map_err(|error| error.context("first graph"))?;
    let second = spectrum(b, k).map_err(|error| error.context("second graph"))?;
    distance(&first, &second)
}

/// The `k`-spectra of many graphs, computed in parallel; entry `i` is for `graphs[i]`.
pub fn spectra(graphs: &[Graph], k: usize) -> Result<Vec<Vec<f64>>> {
    check_k(k)?;
    if let Some(i) = graphs.iter().position(|graph| graph.node_count() == 0) {
        return Err(Error::invalid(format!(
            "graph {i} has no nodes, so it has no spectrum"
        )));
    }
    // A `Graph` is not `Sync` (its cycle check keeps scratch space), so the Laplacians,
    // cheap to build, are made here and the eigensolvers run in parallel.
    let laplacians: Vec<Laplacian> = graphs.iter().map(Laplacian::of).collect();
    laplacians
        .par_iter()
        .enumerate()
        .map(|(i, laplacian)| {
            smallest_padded(laplacian, k, Solver::Auto)
                .map_err(|error| error.context(format!("graph {i}")))
        })
        .collect()
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::invalid(
            "k, the number of eigenvalues, must be at least 1",
        ));
    }
    if k > MAX_K {
        return Err(Error::invalid(format!(
            "k = {k} eigenvalues is more than the {MAX_K} allowed"
        )));
    }
    Ok(())
}

/// The `k` smallest eigenvalues, with zeros in front when the graph has fewer than `k`
/// nodes.
fn smallest_padded(laplacian: &Laplacian, k: usize, solver: Solver) -> Result<Vec<f64>> {
    let n = laplacian.order();
    let count = k.min(n);
    let dense = match solver {
        Solver::Auto => n <= DENSE_MAX_NODES || 4 * count > n,
        Solver::Dense => true,
        Solver::Sparse => false,
    };
    let values = if dense {
        dense::smallest(laplacian, count)?
    } else {
        lanczos::smallest(laplacian, count)?
    };
    let mut padded = vec![0.0; k - count];
    padded.extend(values);
    Ok(padded)
}
