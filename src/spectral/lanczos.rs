//! The smallest eigenvalues of a large sparse normalized Laplacian: shift-and-invert
//! Lanczos with full reorthogonalization, locking and a final check for missed copies.
//!
//! Why shift-and-invert: the smallest eigenvalues of a long chain-like graph are clustered
//! near 0 (about `j²/n²`), so plain Lanczos on `2I − Δ` separates them poorly and needs
//! hundreds of steps at a few thousand nodes. Lanczos on `M = (Δ + εI)⁻¹`, applied through
//! a sparse Cholesky factorization, sees them as its largest eigenvalues `1/(λ + ε)`,
//! whose ratios `λ_{j+1}/λ_j` are large; a few dozen steps suffice at any size.
//!
//! Why locking and a final check: single-vector Krylov spaces hold one vector per distinct
//! eigenvalue, so the second copy of a repeated eigenvalue (parallel identical branches
//! give many) is invisible to one Lanczos run. Converged eigenvectors are locked (every
//! later vector is kept orthogonal to them) and runs from fresh random vectors continue
//! until one finds nothing below the `count`-th locked eigenvalue.
//!
//! The null space is known exactly (one vector per connected component) and is locked
//! from the start. The returned eigenvalues are Rayleigh–Ritz values of `Δ` itself on the
//! locked vectors, so the shift's conditioning does not limit their accuracy.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::linalg::matmul::matmul;
use faer::sparse::linalg::cholesky::{
    LltRef, SymbolicCholesky, SymmetricOrdering, factorize_symbolic_cholesky,
};
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par, Side};

use super::laplacian::Laplacian;
use super::tridiagonal;
use crate::error::{Error, ErrorKind, Result};

/// Residual norm `‖Δy − λy‖` below which a Ritz pair is locked. The eigenvalue error is
/// at most this (and usually its square over the gap to the next eigenvalue).
const TOLERANCE: f64 = 1e-11;
/// A missed eigenvalue below the `count`-th locked one by less than this changes no
/// returned value by more than this, so the final check ignores it.
const CHECK_MARGIN: f64 = 1e-9;
/// Runs allowed before giving up: each run locks at least one pair or restarts from a
/// better vector, and needs are at most `count`, so this is generous.
const MAX_RUNS_PER_EIGENVALUE: usize = 8;
/// `β` below this times the largest `|α|` so far (a lower bound on the norm of `M`) ends a
/// run: the Krylov space is invariant.
const BREAKDOWN: f64 = 1e-12;
/// Steps between convergence checks (each costs O(steps²)).
const CHECK_EVERY: usize = 3;

/// The `count` smallest eigenvalues of `laplacian`, ascending; `count` must be at most the
/// order of the matrix.
pub(super) fn smallest(laplacian: &Laplacian, count: usize) -> Result<Vec<f64>> {
    let n = laplacian.order();
    debug_assert!(count <= n);
    let (label, components) = laplacian.components();
    if components >= count {
        return Ok(vec![0.0; count]);
    }
    let mut solver = Solver::new(laplacian, &label, components)?;
    solver.run_until_certified(count)?;
    solver.rayleigh_ritz(count)
}

/// `(Δ + εI)⁻¹` through a sparse Cholesky factorization.
struct ShiftInvert {
    shift: f64,
    symbolic: SymbolicCholesky<usize>,
    factor: Vec<f64>,
    scratch: MemBuffer,
}

impl ShiftInvert {
    /// `ε` at most a tenth of the smallest positive eigenvalue, which is at least
    /// `1/(diameter · volume)` (Chung, Spectral Graph Theory, Lemma 1.9) and so at least
    /// `1/(n · volume)`: the shifted values keep the ratios of the eigenvalues. The floor
    /// keeps the factorization positive definite in floating point.
    fn new(laplacian: &Laplacian) -> Result<ShiftInvert> {
        let n = laplacian.order();
        let volume = laplacian.off_diagonal_count().max(1) as f64;
        let mut shift = (0.1 / (n as f64 * volume)).max(1e-12);
        let lower = laplacian.shifted_lower(shift)?;
        let symbolic = factorize_symbolic_cholesky(
            lower.symbolic(),
            Side::Lower,
            SymmetricOrdering::Amd,
            Default::default(),
        )
        .map_err(|error| {
            Error::invalid(format!(
                "cannot analyse the {n}x{n} shifted Laplacian for a sparse Cholesky \
                 factorization: {error:?}"
            ))
        })?;
        let mut factor = vec![0.0; symbolic.len_val()];
        // A rounding error could make the shifted matrix look indefinite; a larger shift
        // only slows convergence.
        for _ in 0..4 {
            let matrix = laplacian.shifted_lower(shift)?;
            let mut buffer = MemBuffer::new(
                symbolic.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default()),
            );
            let factorized = symbolic.factorize_numeric_llt(
                &mut factor,
                matrix.as_ref(),
                Side::Lower,
                LltRegularization::default(),
                Par::Seq,
                MemStack::new(&mut buffer),
                Default::default(),
            );
            if factorized.is_ok() {
                let scratch = MemBuffer::new(symbolic.solve_in_place_scratch::<f64>(1, Par::Seq));
                return Ok(ShiftInvert {
                    shift,
                    symbolic,
                    factor,
                    scratch,
                });
            }
            shift *= 100.0;
        }
        Err(Error::invalid(format!(
            "the {n}x{n} Laplacian shifted by {shift:e} is not numerically positive definite"
        )))
    }

    /// `x ← (Δ + εI)⁻¹ x`.
    fn apply(&mut self, x: &mut [f64]) {
        let n = x.len();
        LltRef::new(&self.symbolic, &self.factor).solve_in_place_with_conj(
            Conj::No,
            MatMut::from_column_major_slice_mut(x, n, 1),
            Par::Seq,
            MemStack::new(&mut self.scratch),
        );
    }
}

/// Locked eigenvectors (columns of `locked`, null space first) and the working state.
struct Solver<'a> {
    laplacian: &'a Laplacian,
    n: usize,
    operator: ShiftInvert,
    /// Column-major `n × locked_count`.
    locked: Vec<f64>,
    /// Eigenvalue estimates of the locked columns.
    locked_values: Vec<f64>,
    null_count: usize,
    next_seed: u64,
}

/// What one Lanczos run found.
struct RunOutcome {
    /// Converged Ritz pairs as `(λ, vector)`, λ ascending.
    converged: Vec<(f64, Vec<f64>)>,
    /// The smallest Ritz λ of the run, and whether it converged.
    lowest: Option<(f64, bool)>,
    /// A start vector for the next run made of the wanted pairs that did not converge.
    restart: Option<Vec<f64>>,
}

impl<'a> Solver<'a> {
    fn new(laplacian: &'a Laplacian, label: &[usize], components: usize) -> Result<Solver<'a>> {
        let n = laplacian.order();
        let locked: Vec<f64> = laplacian
            .null_space(label, components)
            .into_iter()
            .flatten()
            .collect();
        Ok(Solver {
            laplacian,
            n,
            operator: ShiftInvert::new(laplacian)?,
            locked,
            locked_values: vec![0.0; components],
            null_count: components,
            next_seed: 0,
        })
    }

    fn locked_count(&self) -> usize {
        self.locked_values.len()
    }

    /// Locks eigenpairs until `count` are locked and a run from a fresh random vector finds
    /// none below the `count`-th.
    fn run_until_certified(&mut self, count: usize) -> Result<()> {
        let mut restart = None;
        for _ in 0..MAX_RUNS_PER_EIGENVALUE * count + 8 {
            if self.locked_count() == self.n {
                return Ok(());
            }
            let need = count.saturating_sub(self.locked_count());
            let start = match restart.take() {
                Some(vector) => vector,
                None => self.random_vector(),
            };
            let outcome = self.run(start, need.max(1));
            if need == 0 {
                let mut values = self.locked_values.clone();
                values.sort_by(f64::total_cmp);
                let kth = values[count - 1];
                match outcome.lowest {
                    Some((lowest, true)) if lowest >= kth - CHECK_MARGIN => return Ok(()),
                    _ => {}
                }
            }
            for (value, vector) in outcome.converged {
                self.lock(value, vector);
            }
            restart = outcome.restart;
        }
        Err(Error::new(
            ErrorKind::Runtime,
            format!(
                "the sparse eigensolver did not converge on a Laplacian of order {} \
             ({} of {count} eigenvalues found)",
                self.n,
                self.locked_count().min(count)
            ),
        ))
    }

    /// One Lanczos run on `M` restricted to the complement of the locked vectors, until
    /// its `want` largest Ritz values (smallest λ) converge, the Krylov space stops
    /// growing, or the step limit.
    fn run(&mut self, start: Vec<f64>, want: usize) -> RunOutcome {
        let n = self.n;
        let free = n - self.locked_count();
        // Most runs stop at an early convergence check; the limit is for clusters of
        // eigenvalues 1e-9 apart at the `count`-th (an NB-201 network repeats its cell 15
        // times), which needed more than 2·want + 40 steps to converge from a fresh vector.
        let max_steps = (4 * want + 100).min(free);
        let mut basis = Vec::with_capacity(n * (2 * want + 41).min(max_steps + 1));
        let mut alpha: Vec<f64> = Vec::with_capacity(max_steps);
        let mut beta: Vec<f64> = Vec::with_capacity(max_steps);
        let mut w = start;
        if !self.orthonormalize(&mut w, &[]) {
            return RunOutcome {
                converged: Vec::new(),
                lowest: None,
                restart: None,
            };
        }
        basis.extend_from_slice(&w);
        // The largest |α| so far: a lower bound on the largest Ritz value, the scale of M.
        let mut scale: f64 = 0.0;
        let mut exhausted = false;
        for j in 0..max_steps {
            let q = &basis[j * n..(j + 1) * n];
            w.copy_from_slice(q);
            self.operator.apply(&mut w);
            let a = dot(q, &w);
            axpy(-a, q, &mut w);
            if j > 0 {
                axpy(-beta[j - 1], &basis[(j - 1) * n..j * n], &mut w);
            }
            self.orthogonalize(&mut w, &basis);
            let b = norm(&w);
            alpha.push(a);
            beta.push(b);
            scale = scale.max(a.abs());
            // A tiny β means the Krylov space is (numerically) invariant: its Ritz pairs are
            // as good as they get, and a next vector would be rounding noise.
            exhausted = b <= BREAKDOWN * scale;
            let last = exhausted || j + 1 == max_steps;
            let steps = j + 1;
            let due = last || (steps >= want && (steps - want).is_multiple_of(CHECK_EVERY));
            if due && self.wanted_converged(&alpha, &beta, want) != Some(false) {
                break;
            }
            if last {
                break;
            }
            w.iter_mut().for_each(|x| *x /= b);
            basis.extend_from_slice(&w);
        }
        self.collect(&basis, &alpha, &beta, want, exhausted)
    }

    /// Whether the `want` largest Ritz values of the current tridiagonal matrix have
    /// converged (`None` if its eigensolver failed), from the last row of its eigenvectors:
    /// `‖M y − θ y‖ = β |s_last|`, and then `‖Δy − (1/θ − ε) y‖ ≤ ‖Δ + εI‖ β |s_last| / θ`.
    fn wanted_converged(&self, alpha: &[f64], beta: &[f64], want: usize) -> Option<bool> {
        let m = alpha.len();
        let decomposition = tridiagonal::eigen(alpha, &beta[..m - 1], &[m - 1])?;
        let b = beta[m - 1];
        Some(
            m >= want
                && (m - want..m).all(|j| {
                    let theta = decomposition.values[j];
                    theta > 0.0 && self.residual(b, decomposition.rows[0][j], theta) <= TOLERANCE
                }),
        )
    }

    /// The bound above on the `Δ`-residual of a Ritz pair.
    fn residual(&self, beta: f64, last_component: f64, theta: f64) -> f64 {
        (2.0 + self.operator.shift) * beta * last_component.abs() / theta
    }

    /// Ritz vectors of the run: the converged ones, and a restart vector from the wanted
    /// ones that did not converge.
    fn collect(
        &self,
        basis: &[f64],
        alpha: &[f64],
        beta: &[f64],
        want: usize,
        exhausted: bool,
    ) -> RunOutcome {
        let n = self.n;
        let m = alpha.len();
        let empty = RunOutcome {
            converged: Vec::new(),
            lowest: None,
            restart: None,
        };
        let rows: Vec<usize> = (0..m).collect();
        let Some(decomposition) = tridiagonal::eigen(alpha, &beta[..m - 1], &rows) else {
            return empty;
        };
        let b = beta[m - 1];
        let q = MatRef::from_column_major_slice(&basis[..n * m], n, m);
        let mut converged = Vec::new();
        let mut restart: Option<Vec<f64>> = None;
        let mut lowest = None;
        // Ritz values descending in θ, that is ascending in λ.
        for (rank, j) in (0..m).rev().enumerate() {
            let theta = decomposition.values[j];
            if theta <= 0.0 {
                break;
            }
            let residual =
                (2.0 + self.operator.shift) * b * decomposition.rows[m - 1][j].abs() / theta;
            let lambda = 1.0 / theta - self.operator.shift;
            let is_converged = residual <= TOLERANCE;
            if rank == 0 {
                lowest = Some((lambda, is_converged));
            }
            if !is_converged && rank >= want {
                continue;
            }
            let s: Vec<f64> = (0..m).map(|r| decomposition.rows[r][j]).collect();
            let mut y = vec![0.0; n];
            matmul(
                MatMut::from_column_major_slice_mut(&mut y, n, 1),
                Accum::Replace,
                q,
                MatRef::from_column_major_slice(&s, m, 1),
                1.0,
                Par::Seq,
            );
            if is_converged {
                converged.push((lambda, y));
            } else if let Some(r) = restart.as_mut() {
                axpy(1.0, &y, r);
            } else {
                restart = Some(y);
            }
        }
        RunOutcome {
            converged,
            lowest,
            // After a breakdown the same start would rebuild the same space.
            restart: restart.filter(|_| !exhausted),
        }
    }

    /// Appends an eigenvector, orthonormal to the locked ones.
    fn lock(&mut self, value: f64, mut vector: Vec<f64>) {
        if self.orthonormalize(&mut vector, &[]) {
            self.locked.extend_from_slice(&vector);
            self.locked_values.push(value);
        }
    }

    /// Removes from `w` its components along the locked vectors and `basis` by classical
    /// Gram–Schmidt, repeated when the first pass cancelled much of `w` (the DGKS test:
    /// then rounding may have left it measurably non-orthogonal; "twice is enough").
    fn orthogonalize(&self, w: &mut [f64], basis: &[f64]) {
        let before = norm(w);
        project_out(&self.locked, w);
        project_out(basis, w);
        if norm(w) < std::f64::consts::FRAC_1_SQRT_2 * before {
            project_out(&self.locked, w);
            project_out(basis, w);
        }
    }

    /// Orthogonalizes `w` as above and scales it to unit norm; false if almost nothing of
    /// it was left (it lay in the span already).
    fn orthonormalize(&self, w: &mut [f64], basis: &[f64]) -> bool {
        let before = norm(w);
        self.orthogonalize(w, basis);
        let after = norm(w);
        if after.is_nan() || after <= 1e-8 * before {
            return false;
        }
        w.iter_mut().for_each(|x| *x /= after);
        true
    }

    /// The eigenvalues of `Δ` on the span of the locked vectors, with the exact zeros of
    /// the null space; the `count` smallest, clamped to `[0, 2]`.
    fn rayleigh_ritz(&self, count: usize) -> Result<Vec<f64>> {
        let n = self.n;
        let found = self.locked_count() - self.null_count;
        let x = MatRef::from_column_major_slice(&self.locked[self.null_count * n..], n, found);
        let mut delta_x = vec![0.0; n * found];
        for (column, out) in delta_x.chunks_exact_mut(n).enumerate() {
            let start = (self.null_count + column) * n;
            self.laplacian.apply(&self.locked[start..start + n], out);
        }
        let mut h = Mat::<f64>::zeros(found, found);
        matmul(
            h.as_mut(),
            Accum::Replace,
            x.transpose(),
            MatRef::from_column_major_slice(&delta_x, n, found),
            1.0,
            Par::Seq,
        );
        let values = super::dense::symmetric_eigenvalues(h.as_ref())?;
        let mut all = vec![0.0; self.null_count];
        all.extend(values.into_iter().map(|v| v.clamp(0.0, 2.0)));
        all.sort_by(f64::total_cmp);
        all.truncate(count);
        Ok(all)
    }

    /// A reproducible pseudo-random vector (SplitMix64), uniform in `[-1, 1)`.
    fn random_vector(&mut self) -> Vec<f64> {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(self.next_seed + 1);
        self.next_seed += 1;
        (0..self.n)
            .map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }
}

/// `w ← w − V Vᵀ w` for the column-major `n × (v.len() / n)` matrix `V`.
fn project_out(v: &[f64], w: &mut [f64]) {
    let n = w.len();
    let k = v.len() / n;
    if k == 0 {
        return;
    }
    let v = MatRef::from_column_major_slice(v, n, k);
    let mut h = vec![0.0; k];
    matmul(
        MatMut::from_column_major_slice_mut(&mut h, k, 1),
        Accum::Replace,
        v.transpose(),
        MatRef::from_column_major_slice(w, n, 1),
        1.0,
        Par::Seq,
    );
    matmul(
        MatMut::from_column_major_slice_mut(w, n, 1),
        Accum::Add,
        v,
        MatRef::from_column_major_slice(&h, k, 1),
        -1.0,
        Par::Seq,
    );
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}
