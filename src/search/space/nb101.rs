//! The NAS-Bench-101 space, restricted to the cells with a label in the vendored data.

use std::collections::HashSet;
use std::sync::Arc;

use rand::RngExt;

use super::{SearchRng, SearchSpace};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::import::nasbench101::NB101_MAX_VERTICES;
use crate::import::{Nb101Op, Nb101Spec};

/// Mutations tried before [`Nb101Space::mutate`] gives up on finding a labeled neighbour.
const MUTATION_TRIES: usize = 10_000;

/// The NAS-Bench-101 cells that have a label: the vendored data holds 20,001 of the
/// benchmark's 423,624 cells (about 4.7%), so a search can only be scored inside them.
///
/// Cells are in the benchmark's canonical vertex order ([`Nb101Spec::canonical`]), which is an
/// isomorphism-invariant normal form: equal cells are the same network.
///
/// - Sampling draws one of the labeled cells uniformly.
/// - Mutation is NAS-Bench-101's own (`mutate_spec` in the benchmark's example, mutation rate
///   1): the cell is padded to 7 vertices (extra vertices unconnected, with random ops), each
///   of the 21 possible edges flips with probability 1/7 and each of the 5 interior ops
///   changes with probability 1/5, and the result is pruned. A result that is not a valid
///   cell, equals the parent, or **lies outside the labeled subset is rejected and the
///   mutation redrawn**, up to 10,000 times; should all fail, a uniformly drawn labeled cell
///   takes its place. Mutation is thus the benchmark's, conditioned on staying in the subset.
#[derive(Debug, Clone)]
pub struct Nb101Space {
    cells: Arc<[Nb101Spec]>,
    members: Arc<HashSet<Nb101Spec>>,
}

impl Nb101Space {
    /// The space of these cells (each put in canonical form); duplicates are an error.
    pub fn new(cells: impl IntoIterator<Item = Nb101Spec>) -> Result<Nb101Space> {
        let cells: Vec<Nb101Spec> = cells.into_iter().map(|cell| cell.canonical()).collect();
        let members: HashSet<Nb101Spec> = cells.iter().cloned().collect();
        if members.len() != cells.len() {
            return Err(Error::invalid(format!(
                "NAS-Bench-101 space: {} cells but only {} distinct ones",
                cells.len(),
                members.len()
            )));
        }
        if cells.len() < 2 {
            return Err(Error::invalid(
                "NAS-Bench-101 space: a search needs at least 2 cells",
            ));
        }
        Ok(Nb101Space {
            cells: cells.into(),
            members: Arc::new(members),
        })
    }

    /// Whether `cell` (in canonical form) is in the space.
    pub fn contains(&self, cell: &Nb101Spec) -> bool {
        self.members.contains(cell)
    }

    /// One draw of NAS-Bench-101's mutation, pruned and canonical; `None` when the result is
    /// not a valid cell.
    fn mutate_once(&self, cell: &Nb101Spec, rng: &mut SearchRng) -> Option<Nb101Spec> {
        const N: usize = NB101_MAX_VERTICES;
        let n = cell.num_vertices();
        // Vertex v of the cell goes to slot[v]: interior vertices keep their place, the output
        // moves to the last slot; slots n-1..N-1 are the padding.
        let slot = |v: usize| if v == n - 1 { N - 1 } else { v };
        let mut adjacency = [0u8; N * N];
        for from in 0..n {
            for to in 0..n {
                if cell.has_edge(from, to) {
                    adjacency[slot(from) * N + slot(to)] = 1;
                }
            }
        }
        let mut ops: [Nb101Op; N - 2] = std::array::from_fn(|i| {
            // Vertices past the cell's interior (op(v) is None there) are padding.
            cell.op(i + 1).unwrap_or_else(|| random_op(rng))
        });
        for from in 0..N - 1 {
            for to in from + 1..N {
                if rng.random_bool(1.0 / N as f64) {
                    adjacency[from * N + to] ^= 1;
                }
            }
        }
        for op in &mut ops {
            if rng.random_bool(1.0 / (N - 2) as f64) {
                let others: Vec<Nb101Op> = Nb101Op::ALL.into_iter().filter(|o| o != op).collect();
                *op = others[rng.random_range(0..others.len())];
            }
        }
        let mut names = vec!["input"];
        names.extend(ops.iter().map(|op| op.name()));
        names.push("output");
        Nb101Spec::pruned(&adjacency, N, &names)
            .ok()
            .map(|spec| spec.canonical())
    }
}

impl SearchSpace for Nb101Space {
    type Arch = Nb101Spec;

    fn name(&self) -> &'static str {
        "nb101"
    }

    fn size(&self) -> Option<usize> {
        Some(self.cells.len())
    }

    fn sample(&self, rng: &mut SearchRng) -> Nb101Spec {
        self.cells[rng.random_range(0..self.cells.len())].clone()
    }

    fn mutate(&self, cell: &Nb101Spec, rng: &mut SearchRng) -> Nb101Spec {
        for _ in 0..MUTATION_TRIES {
            if let Some(child) = self.mutate_once(cell, rng)
                && child != *cell
                && self.contains(&child)
            {
                return child;
            }
        }
        loop {
            let other = self.sample(rng);
            if other != *cell {
                return other;
            }
        }
    }

    fn graph(&self, cell: &Nb101Spec) -> Result<Graph> {
        cell.to_graph()
    }

    fn describe(&self, cell: &Nb101Spec) -> String {
        let n = cell.num_vertices();
        let rows: Vec<Vec<u8>> = (0..n)
            .map(|from| (0..n).map(|to| u8::from(cell.has_edge(from, to))).collect())
            .collect();
        let ops: Vec<&str> = (0..n)
            .map(|v| match cell.op(v) {
                Some(op) => op.name(),
                None if v == 0 => "input",
                None => "output",
            })
            .collect();
        serde_json::json!({"adjacency": rows, "ops": ops}).to_string()
    }
}

fn random_op(rng: &mut SearchRng) -> Nb101Op {
    Nb101Op::ALL[rng.random_range(0..Nb101Op::ALL.len())]
}
