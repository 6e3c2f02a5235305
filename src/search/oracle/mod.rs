//! Oracles, the expensive "real" evaluation that a search tries to call as little as possible,
//! and the counting of their queries.
//!
//! - [`Table`]: a benchmark's published accuracies ([`nb201_table`]: NAS-Bench-201's CIFAR-10
//!   test accuracy after 200 epochs, all 15,625 cells; [`nb101_table`]: NAS-Bench-101's
//!   CIFAR-10 validation accuracy after 108 epochs, the 20,001 vendored cells);
//! - [`OfaAccuracyPredictor`]: MIT's published OFA-MobileNetV3 accuracy predictor, a stand-in
//!   for evaluating subnets with the OFA supernet on ImageNet (which this project cannot run).
//!
//! [`Queries`] puts a budget on an oracle and counts **unique** architectures evaluated, as
//! the paper's #Q does: asking again for an architecture already evaluated costs nothing, and
//! every label a method uses (the predictor's fine-tuning labels included) is a query.

mod ofa;
mod table;

use std::collections::HashMap;
use std::hash::Hash;

pub use ofa::{OFA_FEATURES, OfaAccuracyPredictor};
pub use table::{Table, nb101_table, nb201_table};

use crate::error::{Error, Result};

/// The real evaluation of an architecture.
pub trait Oracle<A>: Sync {
    /// The accuracy of `arch`, in percent.
    fn accuracy(&self, arch: &A) -> Result<f64>;
}

/// An oracle under a budget of unique queries, remembering every answer in query order.
pub struct Queries<'o, A> {
    oracle: &'o dyn Oracle<A>,
    budget: usize,
    labels: HashMap<A, f64>,
    log: Vec<(A, f64)>,
}

impl<'o, A: Clone + Eq + Hash> Queries<'o, A> {
    /// At most `budget` unique architectures of `oracle`.
    pub fn new(oracle: &'o dyn Oracle<A>, budget: usize) -> Queries<'o, A> {
        Queries {
            oracle,
            budget,
            labels: HashMap::new(),
            log: Vec::new(),
        }
    }

    /// The accuracy of `arch`: free when it was queried before, one query of the budget
    /// otherwise. Asking for a new architecture with no budget left is an error.
    pub fn query(&mut self, arch: &A) -> Result<f64> {
        if let Some(&accuracy) = self.labels.get(arch) {
            return Ok(accuracy);
        }
        if self.remaining() == 0 {
            return Err(Error::invalid(format!(
                "the budget of {} oracle queries is spent",
                self.budget
            )));
        }
        let accuracy = self.oracle.accuracy(arch)?;
        self.labels.insert(arch.clone(), accuracy);
        self.log.push((arch.clone(), accuracy));
        Ok(accuracy)
    }

    /// Whether `arch` was queried.
    pub fn is_queried(&self, arch: &A) -> bool {
        self.labels.contains_key(arch)
    }

    /// Unique architectures queried so far (#Q).
    pub fn count(&self) -> usize {
        self.log.len()
    }

    /// The budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Queries left.
    pub fn remaining(&self) -> usize {
        self.budget - self.log.len()
    }

    /// Every queried architecture with its accuracy, in query order.
    pub fn labeled(&self) -> &[(A, f64)] {
        &self.log
    }

    /// The most accurate architecture queried (the first of equals).
    pub fn best(&self) -> Option<&(A, f64)> {
        self.log
            .iter()
            .reduce(|best, entry| if entry.1 > best.1 { entry } else { best })
    }

    /// After each query, the best accuracy found so far.
    pub fn best_so_far(&self) -> Vec<f64> {
        self.log
            .iter()
            .scan(f64::NEG_INFINITY, |best, &(_, accuracy)| {
                *best = best.max(accuracy);
                Some(*best)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Square;

    impl Oracle<u32> for Square {
        fn accuracy(&self, arch: &u32) -> Result<f64> {
            Ok(f64::from(*arch * *arch % 7))
        }
    }

    #[test]
    fn counts_unique_queries_and_enforces_the_budget() {
        let mut queries = Queries::new(&Square, 3);
        assert_eq!(queries.query(&3).unwrap(), 2.0);
        assert_eq!(queries.query(&3).unwrap(), 2.0);
        assert_eq!(queries.query(&2).unwrap(), 4.0);
        assert_eq!(queries.count(), 2);
        assert_eq!(queries.query(&1).unwrap(), 1.0);
        assert_eq!((queries.count(), queries.remaining()), (3, 0));
        // Known answers stay free; a new architecture is refused.
        assert_eq!(queries.query(&2).unwrap(), 4.0);
        let error = queries.query(&5).unwrap_err();
        assert!(error.message.contains("budget of 3"), "{error}");
        assert_eq!(queries.count(), 3);
        assert_eq!(queries.best(), Some(&(2, 4.0)));
        assert_eq!(queries.best_so_far(), [2.0, 4.0, 4.0]);
        assert!(queries.is_queried(&1) && !queries.is_queried(&5));
    }
}
