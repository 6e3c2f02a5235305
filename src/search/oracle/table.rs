//! Benchmark tables as oracles: the published accuracy of every architecture they hold.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;

use super::Oracle;
use crate::error::{Error, Result};
use crate::import::dataset::{Family, Spec, read_family};
use crate::import::{Nb101Spec, Nb201Arch};

/// Architectures with their published accuracies (percent), in file order.
#[derive(Debug, Clone)]
pub struct Table<A> {
    entries: Vec<(A, f64)>,
    index: HashMap<A, usize>,
    /// Every accuracy, highest first, for ranks.
    descending: Vec<f64>,
}

impl<A: Clone + Eq + Hash> Table<A> {
    /// A table of these entries; a repeated architecture or a non-finite accuracy is an error.
    pub fn new(entries: Vec<(A, f64)>) -> Result<Table<A>> {
        let mut index = HashMap::with_capacity(entries.len());
        for (position, (arch, accuracy)) in entries.iter().enumerate() {
            if !accuracy.is_finite() {
                return Err(Error::invalid(format!(
                    "table entry {position} has accuracy {accuracy}"
                )));
            }
            if let Some(first) = index.insert(arch.clone(), position) {
                return Err(Error::invalid(format!(
                    "table entries {first} and {position} are the same architecture"
                )));
            }
        }
        let mut descending: Vec<f64> = entries.iter().map(|&(_, accuracy)| accuracy).collect();
        descending.sort_by(|a, b| b.total_cmp(a));
        Ok(Table {
            entries,
            index,
            descending,
        })
    }

    /// Number of architectures.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[(A, f64)] {
        &self.entries
    }

    /// The accuracy of `arch`, if the table has it.
    pub fn get(&self, arch: &A) -> Option<f64> {
        self.index
            .get(arch)
            .map(|&position| self.entries[position].1)
    }

    /// The highest accuracy in the table (NaN for an empty table).
    pub fn best(&self) -> f64 {
        self.descending.first().copied().unwrap_or(f64::NAN)
    }

    /// The rank an architecture of this accuracy has in the table: 1 + the number of
    /// architectures strictly more accurate (so ties share the better rank).
    pub fn rank(&self, accuracy: f64) -> usize {
        1 + self.descending.partition_point(|&other| other > accuracy)
    }
}

impl<A: Clone + Eq + Hash + Sync + std::fmt::Debug> Oracle<A> for Table<A> {
    fn accuracy(&self, arch: &A) -> Result<f64> {
        self.get(arch)
            .ok_or_else(|| Error::invalid(format!("{arch:?} is not in the benchmark table")))
    }
}

/// The labeled rows of `family` as a table, each spec taken apart by `architecture` (which
/// hands back a spec of another family).
fn family_table<A: Clone + Eq + Hash>(
    data_dir: &Path,
    family: Family,
    architecture: impl Fn(Spec) -> std::result::Result<A, Spec>,
) -> Result<Table<A>> {
    let entries = read_family(data_dir, family)?
        .into_iter()
        .map(|(spec, label)| match (architecture(spec), label) {
            (Ok(architecture), Some(accuracy)) => Ok((architecture, accuracy)),
            (Ok(_), None) => Err(Error::parse(format!("an unlabeled {family} row"))),
            (Err(spec), _) => Err(Error::parse(format!("not a {family} row: {spec:?}"))),
        })
        .collect::<Result<Vec<_>>>()?;
    Table::new(entries)
}

/// NAS-Bench-201, all 15,625 cells, with their CIFAR-10 test accuracy after 200 epochs
/// (`data_dir` is the repository's `data/`).
pub fn nb201_table(data_dir: &Path) -> Result<Table<Nb201Arch>> {
    family_table(data_dir, Family::Nb201, |spec| match spec {
        Spec::Nb201(arch) => Ok(arch),
        other => Err(other),
    })
}

/// NAS-Bench-101, the 20,001 vendored cells (canonical form), with their CIFAR-10 validation
/// accuracy after 108 epochs (`data_dir` is the repository's `data/`).
pub fn nb101_table(data_dir: &Path) -> Result<Table<Nb101Spec>> {
    family_table(data_dir, Family::Nb101, |spec| match spec {
        Spec::Nb101(cell) => Ok(cell),
        other => Err(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties_and_refuse_duplicates() {
        let table = Table::new(vec![('a', 90.0), ('b', 94.0), ('c', 94.0), ('d', 80.0)]).unwrap();
        assert_eq!(table.best(), 94.0);
        assert_eq!(
            [94.0, 93.0, 90.0, 80.0, 10.0].map(|accuracy| table.rank(accuracy)),
            [1, 3, 3, 4, 5]
        );
        assert_eq!(table.accuracy(&'c').unwrap(), 94.0);
        assert!(table.accuracy(&'z').unwrap_err().message.contains("'z'"));
        let error = Table::new(vec![('a', 1.0), ('a', 2.0)]).unwrap_err();
        assert!(error.message.contains("entries 0 and 1"), "{error}");
        assert!(Table::new(vec![('a', f64::NAN)]).is_err());
    }
}
