//! Search spaces: how to sample an architecture, mutate one, and build its computation graph.
//!
//! - [`Nb201Space`]: every NAS-Bench-201 cell (5 ops on 6 edges, 15,625 cells);
//! - [`Nb101Space`]: the NAS-Bench-101 cells that have a label in the vendored data (20,001
//!   of the 423,624; see [`Nb101Space`] for how mutation stays inside them);
//! - [`OfaSpace`]: Once-for-All MobileNetV3 subnets (kernel sizes, expand ratios, depths and
//!   resolution), optionally under a MACs budget.

mod nb101;
mod nb201;
mod ofa;

use std::fmt::Debug;
use std::hash::Hash;

pub use nb101::Nb101Space;
pub use nb201::Nb201Space;
pub use ofa::{OfaArch, OfaSpace};

use crate::error::Result;
use crate::graph::Graph;

/// The random number generator of the search: ChaCha8, portable and reproducible from a seed.
pub type SearchRng = rand::rngs::ChaCha8Rng;

/// A space of architectures that a search explores.
pub trait SearchSpace: Sync {
    /// One architecture, in a normal form: two values are equal exactly when they are the same
    /// network, so that queries can be counted by architecture.
    type Arch: Clone + Eq + Hash + Debug + Send + Sync;

    /// The space's short name (`nb201`, `nb101`, `ofa`).
    fn name(&self) -> &'static str;

    /// How many architectures the space holds, when that is a practical number (`None` for
    /// spaces too large to exhaust).
    fn size(&self) -> Option<usize>;

    /// An architecture drawn uniformly (per the space's choices).
    fn sample(&self, rng: &mut SearchRng) -> Self::Arch;

    /// A random neighbour of `arch`: a small change, never `arch` itself.
    fn mutate(&self, arch: &Self::Arch, rng: &mut SearchRng) -> Self::Arch;

    /// The computation graph of the network `arch` stands for.
    fn graph(&self, arch: &Self::Arch) -> Result<Graph>;

    /// `arch` in the benchmark's own spelling, for reports.
    fn describe(&self, arch: &Self::Arch) -> String;
}
