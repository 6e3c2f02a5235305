//! The NAS-Bench-201 space: any of the 5 ops on each of the 6 edges of the cell.

use rand::RngExt;

use super::{SearchRng, SearchSpace};
use crate::error::Result;
use crate::graph::Graph;
use crate::import::{Nb201Arch, Nb201Op};

/// The benchmark's CIFAR-10 network: 10 classes, 32x32 input.
const CLASSES: u32 = 10;
const RESOLUTION: u32 = 32;
const EDGES: usize = 6;

/// All 15,625 NAS-Bench-201 cells (the `none` op included). Sampling draws each edge's op
/// uniformly; mutation gives one random edge another op, as NASLib's NAS-Bench-201 space
/// does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nb201Space;

impl SearchSpace for Nb201Space {
    type Arch = Nb201Arch;

    fn name(&self) -> &'static str {
        "nb201"
    }

    fn size(&self) -> Option<usize> {
        Some(Nb201Op::ALL.len().pow(EDGES as u32))
    }

    fn sample(&self, rng: &mut SearchRng) -> Nb201Arch {
        Nb201Arch::new(std::array::from_fn(|_| random_op(rng)))
    }

    fn mutate(&self, arch: &Nb201Arch, rng: &mut SearchRng) -> Nb201Arch {
        let mut edges = arch.edges();
        let edge = rng.random_range(0..EDGES);
        // One of the other 4 ops, uniformly.
        let others: Vec<Nb201Op> = Nb201Op::ALL
            .into_iter()
            .filter(|&op| op != edges[edge])
            .collect();
        edges[edge] = others[rng.random_range(0..others.len())];
        Nb201Arch::new(edges)
    }

    fn graph(&self, arch: &Nb201Arch) -> Result<Graph> {
        arch.to_graph(CLASSES, RESOLUTION)
    }

    fn describe(&self, arch: &Nb201Arch) -> String {
        arch.to_string()
    }
}

fn random_op(rng: &mut SearchRng) -> Nb201Op {
    Nb201Op::ALL[rng.random_range(0..Nb201Op::ALL.len())]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;

    use super::*;

    #[test]
    fn sampling_reaches_every_cell_and_mutation_changes_one_edge() {
        let space = Nb201Space;
        let mut rng = SearchRng::seed_from_u64(7);
        let mut seen = HashSet::new();
        // 15,625 cells; 400,000 uniform draws miss one with probability 15,625 e^-25.6 < 1e-6.
        for _ in 0..400_000 {
            seen.insert(space.sample(&mut rng));
        }
        assert_eq!(seen.len(), space.size().unwrap());

        for arch in seen.iter().take(2_000) {
            let child = space.mutate(arch, &mut rng);
            let changed = (0..EDGES)
                .filter(|&e| child.edges()[e] != arch.edges()[e])
                .count();
            assert_eq!(changed, 1, "{arch} -> {child}");
            space.graph(&child).unwrap();
        }
    }
}
