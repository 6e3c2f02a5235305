//! The smallest eigenvalues of a small Laplacian from a full dense eigendecomposition.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::{MatRef, Par};

use super::laplacian::Laplacian;
use crate::error::{Error, ErrorKind, Result};

/// The `count` smallest eigenvalues of `laplacian`, ascending, clamped to `[0, 2]` (where
/// they lie exactly; rounding can push a zero to −1e-16).
pub(super) fn smallest(laplacian: &Laplacian, count: usize) -> Result<Vec<f64>> {
    let mut values = symmetric_eigenvalues(laplacian.dense().as_ref())?;
    values.truncate(count);
    values.iter_mut().for_each(|v| *v = v.clamp(0.0, 2.0));
    Ok(values)
}

/// All eigenvalues of the symmetric `matrix` (its lower triangle is read), ascending.
/// Sequential: callers parallelize over graphs.
pub(super) fn symmetric_eigenvalues(matrix: MatRef<'_, f64>) -> Result<Vec<f64>> {
    let n = matrix.nrows();
    let mut values = Diag::<f64>::zeros(n);
    let mut buffer = MemBuffer::new(self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::No,
        Par::Seq,
        Default::default(),
    ));
    self_adjoint_evd(
        matrix,
        values.as_mut(),
        None,
        Par::Seq,
        MemStack::new(&mut buffer),
        Default::default(),
    )
    .map_err(|error| {
        Error::new(
            ErrorKind::Runtime,
            format!("the dense symmetric eigensolver failed on a {n}x{n} matrix: {error:?}"),
        )
    })?;
    let mut values: Vec<f64> = values.column_vector().iter().copied().collect();
    values.sort_by(f64::total_cmp);
    Ok(values)
}
