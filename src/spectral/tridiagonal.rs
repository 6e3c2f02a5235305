//! Eigen-decomposition of the small symmetric tridiagonal matrices that Lanczos builds.
//!
//! The implicit QL algorithm (EISPACK `tql2`, as in JAMA). The eigenvector matrix is
//! `I·G1·G2···` (plane rotations applied on the right), so each of its rows evolves on its
//! own: the caller asks for just the rows it needs. Lanczos's convergence test needs only
//! the last row, which costs O(m) per sweep instead of O(m²). `sqrt(a² + b²)` replaces
//! `hypot` (several times slower, and the entries here are far from overflow: they are
//! at most `1/ε ≈ 1e12`) for speed.

/// Eigenvalues in ascending order and the requested rows of the eigenvector matrix
/// (`rows[r][j]` is row `row_ids[r]` of the eigenvector of `values[j]`).
pub(super) struct TridiagonalEigen {
    pub(super) values: Vec<f64>,
    pub(super) rows: Vec<Vec<f64>>,
}

/// Sweeps allowed per eigenvalue; QL converges cubically, so this is never reached in
/// practice, but it bounds the loop.
const MAX_SWEEPS: usize = 64;

/// Decomposes the tridiagonal matrix with diagonal `diag` and off-diagonal `off`
/// (`off[i]` couples `i` and `i + 1`; `off.len() + 1 == diag.len()`). `None` if QL did
/// not converge.
pub(super) fn eigen(diag: &[f64], off: &[f64], row_ids: &[usize]) -> Option<TridiagonalEigen> {
    let n = diag.len();
    debug_assert_eq!(off.len() + 1, n.max(1));
    let mut d = diag.to_vec();
    let mut e = vec![0.0; n];
    e[..n.saturating_sub(1)].copy_from_slice(&off[..n.saturating_sub(1)]);
    // Column-major: column `c` holds the requested rows of eigenvector column `c`, so a
    // rotation of two columns runs over two contiguous slices.
    let r = row_ids.len();
    let mut z = vec![0.0; r * n];
    for (position, &row) in row_ids.iter().enumerate() {
        z[row * r + position] = 1.0;
    }
    let mut f = 0.0;
    let mut tst1: f64 = 0.0;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n && e[m].abs() > f64::EPSILON * tst1 {
            m += 1;
        }
        if m > l {
            let mut sweeps = 0;
            loop {
                sweeps += 1;
                if sweeps > MAX_SWEEPS {
                    return None;
                }
                let g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut root = (p * p + 1.0).sqrt();
                if p < 0.0 {
                    root = -root;
                }
                d[l] = e[l] / (p + root);
                d[l + 1] = e[l] * (p + root);
                let dl1 = d[l + 1];
                let h = g - d[l];
                for di in &mut d[l + 2..] {
                    *di -= h;
                }
                f += h;
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0, 0.0);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    let g = c * e[i];
                    let h = c * p;
                    let root = (p * p + e[i] * e[i]).sqrt();
                    e[i + 1] = s * root;
                    s = e[i] / root;
                    c = p / root;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    let (left, right) = z[i * r..(i + 2) * r].split_at_mut(r);
                    for (zi, zi1) in left.iter_mut().zip(right) {
                        let h = *zi1;
                        *zi1 = s * *zi + c * h;
                        *zi = c * *zi - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= f64::EPSILON * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    Some(TridiagonalEigen {
        values: order.iter().map(|&j| d[j]).collect(),
        rows: (0..r)
            .map(|position| order.iter().map(|&j| z[j * r + position]).collect())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_matrix_has_its_closed_form_spectrum_and_orthonormal_vectors() {
        // tridiag(-1, 2, -1) of order n: 2 - 2 cos(pi j / (n + 1)), j = 1..n.
        let n = 40;
        let all: Vec<usize> = (0..n).collect();
        let decomposition = eigen(&vec![2.0; n], &vec![-1.0; n - 1], &all).unwrap();
        for (j, value) in decomposition.values.iter().enumerate() {
            let expected =
                2.0 - 2.0 * (std::f64::consts::PI * (j + 1) as f64 / (n + 1) as f64).cos();
            assert!(
                (value - expected).abs() < 1e-13,
                "{j}: {value} vs {expected}"
            );
        }
        let z = &decomposition.rows;
        for a in 0..n {
            for b in 0..n {
                let dot: f64 = (0..n).map(|r| z[r][a] * z[r][b]).sum();
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-13, "columns {a}, {b}: {dot}");
            }
        }
    }

    #[test]
    fn last_row_alone_matches_the_full_decomposition() {
        let diag = [0.3, -1.2, 4.0, 0.0, 2.5, 2.5];
        let off = [0.7, 1e-3, -2.0, 0.0, 0.4];
        let full = eigen(&diag, &off, &[0, 1, 2, 3, 4, 5]).unwrap();
        let last = eigen(&diag, &off, &[5]).unwrap();
        assert_eq!(full.values, last.values);
        assert_eq!(full.rows[5], last.rows[0]);
        // Each eigenpair satisfies T z = lambda z.
        for j in 0..6 {
            let z: Vec<f64> = (0..6).map(|r| full.rows[r][j]).collect();
            for i in 0..6 {
                let mut tz = diag[i] * z[i];
                if i > 0 {
                    tz += off[i - 1] * z[i - 1];
                }
                if i < 5 {
                    tz += off[i] * z[i + 1];
                }
                assert!((tz - full.values[j] * z[i]).abs() < 1e-13);
            }
        }
    }
}
