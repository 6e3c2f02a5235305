//! The Once-for-All MobileNetV3 (width 1.0) space, as OFA's own evolutionary search samples
//! and mutates it (mit-han-lab/once-for-all, `ofa/tutorial/evolution_finder.py`).

use rand::RngExt;

use super::{SearchRng, SearchSpace};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::import::ofa::{
    OFA_BLOCK_SLOTS, OFA_DEPTHS, OFA_EXPAND_RATIOS, OFA_KERNEL_SIZES, OFA_STAGES, ofa_mbv3,
};

/// The resolutions OFA's search draws from (`ArchManager.resolutions`).
pub const OFA_SEARCH_RESOLUTIONS: [u32; 5] = [160, 176, 192, 208, 224];
/// OFA's per-choice mutation probability (`arch_mutate_prob`).
const ARCH_MUTATE_PROB: f64 = 0.1;
/// OFA's resolution mutation probability (`resolution_mutate_prob`).
const RESOLUTION_MUTATE_PROB: f64 = 0.5;
/// Draws tried before sampling or mutation under a MACs budget gives up.
const TRIES: usize = 100_000;
const SLOTS_PER_STAGE: usize = OFA_BLOCK_SLOTS / OFA_STAGES;

/// An OFA-MobileNetV3 subnet in normal form: the kernel size and expand ratio of a block slot
/// that its stage's depth leaves out are set to the smallest choice (3 and 3), so that equal
/// values are the same network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfaArch {
    ks: [u8; OFA_BLOCK_SLOTS],
    e: [u8; OFA_BLOCK_SLOTS],
    d: [u8; OFA_STAGES],
    resolution: u32,
}

impl OfaArch {
    /// The subnet with these choices (validated as [`ofa_mbv3`] does; any resolution it
    /// accepts), in normal form.
    pub fn new(ks: &[u8], e: &[u8], d: &[u8], resolution: u32) -> Result<OfaArch> {
        // The generator's checks give the messages; its graph is not needed here.
        ofa_mbv3(ks, e, d, resolution)?;
        let mut arch = OfaArch {
            ks: ks.try_into().expect("checked length"),
            e: e.try_into().expect("checked length"),
            d: d.try_into().expect("checked length"),
            resolution,
        };
        arch.normalize();
        Ok(arch)
    }

    /// Kernel size of each of the 20 block slots.
    pub fn ks(&self) -> &[u8; OFA_BLOCK_SLOTS] {
        &self.ks
    }

    /// Expand ratio of each of the 20 block slots.
    pub fn e(&self) -> &[u8; OFA_BLOCK_SLOTS] {
        &self.e
    }

    /// Depth of each of the 5 stages.
    pub fn d(&self) -> &[u8; OFA_STAGES] {
        &self.d
    }

    /// Input resolution.
    pub fn resolution(&self) -> u32 {
        self.resolution
    }

    /// Whether block slot `slot` runs (its stage is deep enough).
    pub fn is_active(&self, slot: usize) -> bool {
        slot % SLOTS_PER_STAGE < usize::from(self.d[slot / SLOTS_PER_STAGE])
    }

    fn normalize(&mut self) {
        for slot in 0..OFA_BLOCK_SLOTS {
            if !self.is_active(slot) {
                self.ks[slot] = OFA_KERNEL_SIZES[0];
                self.e[slot] = OFA_EXPAND_RATIOS[0];
            }
        }
    }

    fn graph(&self) -> Result<Graph> {
        ofa_mbv3(&self.ks, &self.e, &self.d, self.resolution)
    }
}

/// OFA-MobileNetV3 subnets at the resolutions of `OFA_SEARCH_RESOLUTIONS` (160 to 224 pixels in steps of 16).
///
/// Sampling draws every choice uniformly (`ArchManager.random_sample`). Mutation follows
/// `EvolutionFinder.mutate_sample`: each block slot's kernel size and expand ratio and each
/// stage's depth is redrawn with probability 0.1, the resolution with probability 0.5; a slot
/// that a deeper stage newly runs gets random choices; a draw that changes nothing is redrawn.
/// With a MACs budget, sampling and mutation redraw until the subnet fits it (up to 100,000
/// draws; then sampling returns the smallest subnet, mutation a sample).
#[derive(Debug, Clone, Copy, Default)]
pub struct OfaSpace {
    max_macs: Option<u64>,
}

impl OfaSpace {
    /// The space of subnets with at most `max_macs` multiply-accumulates (`None`: all). A
    /// budget below the smallest subnet's MACs is an error.
    pub fn new(max_macs: Option<u64>) -> Result<OfaSpace> {
        if let Some(limit) = max_macs {
            let macs = smallest().graph()?.macs();
            if macs > limit {
                return Err(Error::invalid(format!(
                    "OFA space: a budget of {limit} MACs is below the smallest subnet's {macs}"
                )));
            }
        }
        Ok(OfaSpace { max_macs })
    }

    /// The MACs budget, if any.
    pub fn max_macs(&self) -> Option<u64> {
        self.max_macs
    }

    /// Whether `arch` fits the MACs budget.
    pub fn fits(&self, arch: &OfaArch) -> bool {
        match self.max_macs {
            None => true,
            Some(limit) => arch.graph().is_ok_and(|graph| graph.macs() <= limit),
        }
    }

    fn sample_unconstrained(rng: &mut SearchRng) -> OfaArch {
        let mut arch = OfaArch {
            ks: std::array::from_fn(|_| pick(&OFA_KERNEL_SIZES, rng)),
            e: std::array::from_fn(|_| pick(&OFA_EXPAND_RATIOS, rng)),
            d: std::array::from_fn(|_| pick(&OFA_DEPTHS, rng)),
            resolution: pick(&OFA_SEARCH_RESOLUTIONS, rng),
        };
        arch.normalize();
        arch
    }

    fn mutate_unconstrained(arch: &OfaArch, rng: &mut SearchRng) -> OfaArch {
        let mut child = *arch;
        for slot in 0..OFA_BLOCK_SLOTS {
            if rng.random_bool(ARCH_MUTATE_PROB) {
                child.ks[slot] = pick(&OFA_KERNEL_SIZES, rng);
            }
            if rng.random_bool(ARCH_MUTATE_PROB) {
                child.e[slot] = pick(&OFA_EXPAND_RATIOS, rng);
            }
        }
        for depth in &mut child.d {
            if rng.random_bool(ARCH_MUTATE_PROB) {
                *depth = pick(&OFA_DEPTHS, rng);
            }
        }
        if rng.random_bool(RESOLUTION_MUTATE_PROB) {
            child.resolution = pick(&OFA_SEARCH_RESOLUTIONS, rng);
        }
        // The normal form fixed the choices of slots the parent did not run; OFA keeps random
        // ones there, which a deeper stage now runs.
        for slot in 0..OFA_BLOCK_SLOTS {
            if child.is_active(slot) && !arch.is_active(slot) {
                child.ks[slot] = pick(&OFA_KERNEL_SIZES, rng);
                child.e[slot] = pick(&OFA_EXPAND_RATIOS, rng);
            }
        }
        child.normalize();
        child
    }
}

impl SearchSpace for OfaSpace {
    type Arch = OfaArch;

    fn name(&self) -> &'static str {
        "ofa"
    }

    fn size(&self) -> Option<usize> {
        // About 2 * 10^19 subnets per resolution: never exhausted.
        None
    }

    fn sample(&self, rng: &mut SearchRng) -> OfaArch {
        for _ in 0..TRIES {
            let arch = OfaSpace::sample_unconstrained(rng);
            if self.fits(&arch) {
                return arch;
            }
        }
        // A budget so tight that uniform draws miss it: the smallest subnet, which fits.
        smallest()
    }

    fn mutate(&self, arch: &OfaArch, rng: &mut SearchRng) -> OfaArch {
        for _ in 0..TRIES {
            let child = OfaSpace::mutate_unconstrained(arch, rng);
            if child != *arch && self.fits(&child) {
                return child;
            }
        }
        self.sample(rng)
    }

    fn graph(&self, arch: &OfaArch) -> Result<Graph> {
        arch.graph()
    }

    fn describe(&self, arch: &OfaArch) -> String {
        serde_json::json!({
            "ks": arch.ks, "e": arch.e, "d": arch.d, "r": arch.resolution
        })
        .to_string()
    }
}

/// The smallest subnet of the space: smallest choices everywhere, lowest resolution.
fn smallest() -> OfaArch {
    OfaArch {
        ks: [OFA_KERNEL_SIZES[0]; OFA_BLOCK_SLOTS],
        e: [OFA_EXPAND_RATIOS[0]; OFA_BLOCK_SLOTS],
        d: [OFA_DEPTHS[0]; OFA_STAGES],
        resolution: OFA_SEARCH_RESOLUTIONS[0],
    }
}

fn pick<T: Copy>(choices: &[T], rng: &mut SearchRng) -> T {
    choices[rng.random_range(0..choices.len())]
}
