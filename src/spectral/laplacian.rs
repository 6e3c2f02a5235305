//! The normalized Laplacian of a graph's undirected, unweighted skeleton, stored sparse.

use faer::Mat;
use faer::sparse::{SparseColMat, Triplet};

use crate::error::{Error, Result};
use crate::graph::Graph;

/// `Δ = I − D^-1/2 A D^-1/2` with networkx's handling of isolated nodes (their row and
/// column are all zero, diagonal included).
pub(super) struct Laplacian {
    /// Row `i`'s off-diagonal entries are `cols/vals[row_ptr[i]..row_ptr[i + 1]]`, columns
    /// ascending; the matrix is symmetric, so rows double as columns.
    row_ptr: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
    /// 1 for a node with an edge, 0 for an isolated node.
    diag: Vec<f64>,
}

impl Laplacian {
    pub(super) fn of(graph: &Graph) -> Laplacian {
        let n = graph.node_count();
        let mut neighbours = vec![Vec::new(); n];
        for (from, to) in graph.edges() {
            neighbours[from as usize].push(to as usize);
            neighbours[to as usize].push(from as usize);
        }
        // A DAG holds at most one of i -> j and j -> i, so this only guards the invariant.
        for list in &mut neighbours {
            list.sort_unstable();
            list.dedup();
        }
        let inv_sqrt_degree: Vec<f64> = neighbours
            .iter()
            .map(|list| match list.len() {
                0 => 0.0,
                degree => 1.0 / (degree as f64).sqrt(),
            })
            .collect();
        let mut row_ptr = Vec::with_capacity(n + 1);
        row_ptr.push(0);
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        for (i, list) in neighbours.iter().enumerate() {
            for &j in list {
                cols.push(j);
                vals.push(-inv_sqrt_degree[i] * inv_sqrt_degree[j]);
            }
            row_ptr.push(cols.len());
        }
        let diag = neighbours
            .iter()
            .map(|list| if list.is_empty() { 0.0 } else { 1.0 })
            .collect();
        Laplacian {
            row_ptr,
            cols,
            vals,
            diag,
        }
    }

    pub(super) fn order(&self) -> usize {
        self.diag.len()
    }

    /// Number of off-diagonal nonzeros (twice the number of undirected edges).
    pub(super) fn off_diagonal_count(&self) -> usize {
        self.cols.len()
    }

    /// `y = Δ x`.
    pub(super) fn apply(&self, x: &[f64], y: &mut [f64]) {
        for (i, out) in y.iter_mut().enumerate() {
            let range = self.row_ptr[i]..self.row_ptr[i + 1];
            let off: f64 = self.cols[range.clone()]
                .iter()
                .zip(&self.vals[range])
                .map(|(&j, &v)| v * x[j])
                .sum();
            *out = self.diag[i] * x[i] + off;
        }
    }

    pub(super) fn dense(&self) -> Mat<f64> {
        let n = self.order();
        let mut matrix = Mat::zeros(n, n);
        for i in 0..n {
            matrix[(i, i)] = self.diag[i];
            for p in self.row_ptr[i]..self.row_ptr[i + 1] {
                matrix[(i, self.cols[p])] = self.vals[p];
            }
        }
        matrix
    }

    /// The lower triangle of `Δ + shift·I`, compressed by columns.
    pub(super) fn shifted_lower(&self, shift: f64) -> Result<SparseColMat<usize, f64>> {
        let n = self.order();
        let mut triplets = Vec::with_capacity(n + self.cols.len() / 2);
        for i in 0..n {
            triplets.push(Triplet::new(i, i, self.diag[i] + shift));
            for p in self.row_ptr[i]..self.row_ptr[i + 1] {
                if self.cols[p] > i {
                    triplets.push(Triplet::new(self.cols[p], i, self.vals[p]));
                }
            }
        }
        SparseColMat::try_new_from_triplets(n, n, &triplets).map_err(|error| {
            Error::invalid(format!(
                "cannot store the {n}x{n} Laplacian as a sparse matrix: {error:?}"
            ))
        })
    }

    /// The connected-component label of every node (labels 0, 1, ... in order of first
    /// node) and the number of components, which is the multiplicity of eigenvalue 0.
    pub(super) fn components(&self) -> (Vec<usize>, usize) {
        let n = self.order();
        let mut label = vec![usize::MAX; n];
        let mut count = 0;
        let mut stack = Vec::new();
        for root in 0..n {
            if label[root] != usize::MAX {
                continue;
            }
            label[root] = count;
            stack.push(root);
            while let Some(i) = stack.pop() {
                for &j in &self.cols[self.row_ptr[i]..self.row_ptr[i + 1]] {
                    if label[j] == usize::MAX {
                        label[j] = count;
                        stack.push(j);
                    }
                }
            }
            count += 1;
        }
        (label, count)
    }

    /// An orthonormal basis of the null space, one vector per component: `D^1/2 1`
    /// restricted to the component, or the unit vector of an isolated node.
    pub(super) fn null_space(&self, label: &[usize], count: usize) -> Vec<Vec<f64>> {
        let mut basis = vec![vec![0.0; self.order()]; count];
        for (i, &c) in label.iter().enumerate() {
            let degree = self.row_ptr[i + 1] - self.row_ptr[i];
            basis[c][i] = if degree == 0 {
                1.0
            } else {
                (degree as f64).sqrt()
            };
        }
        for vector in &mut basis {
            let norm = vector.iter().map(|x| x * x).sum::<f64>().sqrt();
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        basis
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Node, Op, Shape};

    /// 0 -> 1 -> 2 and 0 -> 2, plus an isolated node 3.
    fn triangle_and_isolated() -> Graph {
        let mut g = Graph::new();
        for _ in 0..4 {
            g.add_node(Node::same_shape(Op::Identity, Shape::new(1, 1, 1)))
                .unwrap();
        }
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            g.add_edge(a, b).unwrap();
        }
        g
    }

    #[test]
    fn entries_follow_networkx_including_isolated_nodes() {
        let laplacian = Laplacian::of(&triangle_and_isolated());
        let dense = laplacian.dense();
        // Every triangle node has degree 2: off-diagonal -1/sqrt(2 * 2).
        for i in 0..3 {
            assert_eq!(dense[(i, i)], 1.0);
            for j in (0..3).filter(|&j| j != i) {
                assert!((dense[(i, j)] + 0.5).abs() < 1e-15);
            }
        }
        // The isolated node's row and column are zero, diagonal included.
        for j in 0..4 {
            assert_eq!(dense[(3, j)], 0.0);
            assert_eq!(dense[(j, 3)], 0.0);
        }
        assert_eq!(laplacian.off_diagonal_count(), 6);
        let mut y = [0.0; 4];
        laplacian.apply(&[1.0, 2.0, 3.0, 4.0], &mut y);
        for (value, expected) in y.iter().zip([1.0 - 2.5, 2.0 - 2.0, 3.0 - 1.5, 0.0]) {
            assert!((value - expected).abs() < 1e-14, "{y:?}");
        }
    }

    #[test]
    fn null_space_has_one_unit_vector_per_component() {
        let laplacian = Laplacian::of(&triangle_and_isolated());
        let (label, count) = laplacian.components();
        assert_eq!((label, count), (vec![0, 0, 0, 1], 2));
        let basis = laplacian.null_space(&[0, 0, 0, 1], 2);
        let third = 1.0 / 3.0_f64.sqrt();
        for (vector, expected) in basis
            .iter()
            .zip([[third, third, third, 0.0], [0.0, 0.0, 0.0, 1.0]])
        {
            let mut image = [0.0; 4];
            laplacian.apply(vector, &mut image);
            for i in 0..4 {
                assert!((vector[i] - expected[i]).abs() < 1e-15);
                assert!(image[i].abs() < 1e-15);
            }
        }
    }
}
