//! The node id sets of canonicalization's working graph.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use smallvec::SmallVec;

/// Above this many ids a set is a B-tree: a sorted vector's insertion and removal move every
/// later id, which made a node read by a million others (each merged away in turn) cost
/// time quadratic in its readers.
const SMALL: usize = 64;

/// A set of node ids, iterated in ascending order. Most sets hold a few ids, which live
/// inline in a sorted vector (no allocation up to four ids, where a `Vec` costs one per node
/// and direction and a `BTreeSet` a node of eleven slots); a set that grows beyond [`SMALL`]
/// ids becomes a B-tree, with logarithmic insertion and removal.
#[derive(Debug, Clone)]
pub(super) enum IdSet {
    Small(SmallVec<[usize; 4]>),
    Large(BTreeSet<usize>),
}

impl Default for IdSet {
    fn default() -> IdSet {
        IdSet::Small(SmallVec::new())
    }
}

impl IdSet {
    pub(super) fn insert(&mut self, id: usize) {
        match self {
            IdSet::Small(ids) => {
                if let Err(at) = ids.binary_search(&id) {
                    if ids.len() < SMALL {
                        ids.insert(at, id);
                    } else {
                        let mut large: BTreeSet<usize> = ids.iter().copied().collect();
                        large.insert(id);
                        *self = IdSet::Large(large);
                    }
                }
            }
            IdSet::Large(ids) => {
                ids.insert(id);
            }
        }
    }

    pub(super) fn remove(&mut self, id: &usize) {
        match self {
            IdSet::Small(ids) => {
                if let Ok(at) = ids.binary_search(id) {
                    ids.remove(at);
                }
            }
            IdSet::Large(ids) => {
                ids.remove(id);
            }
        }
    }

    pub(super) fn first(&self) -> Option<&usize> {
        match self {
            IdSet::Small(ids) => ids.first(),
            IdSet::Large(ids) => ids.first(),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            IdSet::Small(ids) => ids.len(),
            IdSet::Large(ids) => ids.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn iter(&self) -> Iter<'_> {
        match self {
            IdSet::Small(ids) => Iter::Small(ids.iter()),
            IdSet::Large(ids) => Iter::Large(ids.iter()),
        }
    }
}

/// Equal when they hold the same ids, whichever their form.
impl PartialEq for IdSet {
    fn eq(&self, other: &IdSet) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for IdSet {}

/// The ids in order, so that equal sets hash alike whichever their form.
impl Hash for IdSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for id in self {
            id.hash(state);
        }
    }
}

/// The ids of an [`IdSet`] in ascending order.
pub(super) enum Iter<'s> {
    Small(std::slice::Iter<'s, usize>),
    Large(std::collections::btree_set::Iter<'s, usize>),
}

impl<'s> Iterator for Iter<'s> {
    type Item = &'s usize;

    fn next(&mut self) -> Option<&'s usize> {
        match self {
            Iter::Small(ids) => ids.next(),
            Iter::Large(ids) => ids.next(),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(ids) => ids.next_back(),
            Iter::Large(ids) => ids.next_back(),
        }
    }
}

impl<'s> IntoIterator for &'s IdSet {
    type Item = &'s usize;
    type IntoIter = Iter<'s>;

    fn into_iter(self) -> Iter<'s> {
        self.iter()
    }
}

impl IntoIterator for IdSet {
    type Item = usize;
    type IntoIter = Box<dyn Iterator<Item = usize>>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            IdSet::Small(ids) => Box::new(ids.into_iter()),
            IdSet::Large(ids) => Box::new(ids.into_iter()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_hold_the_same_ids_in_order() {
        let mut small = IdSet::default();
        let mut large = IdSet::default();
        for id in (0..200).rev() {
            large.insert(id * 3 % 200);
        }
        for id in [5, 1, 3, 1] {
            small.insert(id);
        }
        assert!(matches!(small, IdSet::Small(_)) && matches!(large, IdSet::Large(_)));
        assert_eq!(small.iter().copied().collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(
            large.iter().copied().collect::<Vec<_>>(),
            (0..200).collect::<Vec<_>>()
        );
        for id in 3..200 {
            large.remove(&id);
        }
        large.insert(5);
        small.insert(0);
        small.insert(2);
        small.remove(&3);
        large.remove(&4);
        assert_eq!(small, large, "equal ids, different forms");
        let hash = |set: &IdSet| foldhash::fast::FixedState::default().hash_one(set);
        use std::hash::BuildHasher;
        assert_eq!(hash(&small), hash(&large));
        assert_eq!(large.first(), Some(&0));
        assert_eq!(large.into_iter().collect::<Vec<_>>(), [0, 1, 2, 5]);
    }
}
