//! A topological order kept up to date as edges are added (Pearce and Kelly, "A dynamic
//! topological sort algorithm for directed acyclic graphs", 2006): an edge that goes forward
//! in the order costs nothing; one that goes backward reorders only the nodes between its
//! ends, and is refused when it would close a cycle.

use foldhash::{HashSet, HashSetExt};

/// Node ids (`u32`, dense from 0) in an order where every edge goes forward.
#[derive(Debug, Clone, Default)]
pub(super) struct TopologicalOrder {
    /// Node ids by position.
    nodes: Vec<u32>,
    /// Positions by node id.
    positions: Vec<u32>,
}

/// An order of the nodes `0..count` where every edge goes forward: the ids' own order when
/// it is one (as adding the nodes and edges one by one would keep it), else Kahn's
/// algorithm's, in time linear in the nodes and edges. A cycle, as its node ids with the
/// first repeated at the end, when there is no such order.
pub(super) fn sorted<P, S>(
    count: usize,
    predecessors: impl Fn(u32) -> P,
    successors: impl Fn(u32) -> S,
) -> Result<TopologicalOrder, Vec<u32>>
where
    P: Iterator<Item = u32>,
    S: Iterator<Item = u32>,
{
    let ids = 0..count as u32;
    if ids
        .clone()
        .all(|id| successors(id).all(|successor| successor > id))
    {
        return Ok(TopologicalOrder {
            nodes: ids.clone().collect(),
            positions: ids.collect(),
        });
    }
    let mut waiting: Vec<u32> = (0..count as u32)
        .map(|id| predecessors(id).count() as u32)
        .collect();
    let mut nodes: Vec<u32> = (0..count as u32)
        .filter(|&id| waiting[id as usize] == 0)
        .collect();
    let mut next = 0;
    while let Some(&id) = nodes.get(next) {
        next += 1;
        for successor in successors(id) {
            waiting[successor as usize] -= 1;
            if waiting[successor as usize] == 0 {
                nodes.push(successor);
            }
        }
    }
    if nodes.len() < count {
        return Err(find_cycle(&waiting, predecessors));
    }
    let mut positions = vec![0; count];
    for (position, &id) in nodes.iter().enumerate() {
        positions[id as usize] = position as u32;
    }
    Ok(TopologicalOrder { nodes, positions })
}

/// A cycle among the nodes that Kahn's algorithm left waiting: each has a waiting
/// predecessor, so walking back from one must come round.
fn find_cycle<P: Iterator<Item = u32>>(
    waiting: &[u32],
    predecessors: impl Fn(u32) -> P,
) -> Vec<u32> {
    let mut step = vec![usize::MAX; waiting.len()];
    let mut walk: Vec<u32> = Vec::new();
    let mut id = waiting.iter().position(|&count| count > 0).unwrap_or(0) as u32;
    while step[id as usize] == usize::MAX {
        step[id as usize] = walk.len();
        walk.push(id);
        match predecessors(id).find(|&p| waiting[p as usize] > 0) {
            Some(predecessor) => id = predecessor,
            None => break,
        }
    }
    let start = step[id as usize].min(walk.len());
    let mut cycle: Vec<u32> = walk[start..].iter().rev().copied().collect();
    cycle.push(cycle.first().copied().unwrap_or(id));
    cycle
}

impl TopologicalOrder {
    /// Adds the next node id, last in the order.
    pub(super) fn push_node(&mut self) {
        let id = self.nodes.len() as u32;
        self.nodes.push(id);
        self.positions.push(id);
    }

    /// The node ids in order.
    pub(super) fn nodes(&self) -> &[u32] {
        &self.nodes
    }

    /// Makes room for the edge `from -> to` (distinct, existing nodes) in the order, given the
    /// graph's current neighbours; false, with the order unchanged, when `to` reaches `from`.
    pub(super) fn insert_edge<S, P>(
        &mut self,
        from: u32,
        to: u32,
        successors: impl Fn(u32) -> S,
        predecessors: impl Fn(u32) -> P,
    ) -> bool
    where
        S: Iterator<Item = u32>,
        P: Iterator<Item = u32>,
    {
        let (low, high) = (self.position(to), self.position(from));
        if high < low {
            return true;
        }
        // Nodes reachable from `to` that sit before `from`, and nodes reaching `from` that
        // sit after `to`: only these can be out of order once the edge exists.
        let Some(forward) = self.cone(to, successors, |position| position <= high, from) else {
            return false;
        };
        let backward = self
            .cone(from, predecessors, |position| position >= low, to)
            .expect("`to` does not reach `from`, so `from` is not reached from `to` backward");
        let mut slots: Vec<u32> = forward
            .iter()
            .chain(&backward)
            .map(|&id| self.position(id))
            .collect();
        slots.sort_unstable();
        let mut moved = backward;
        moved.sort_unstable_by_key(|&id| self.position(id));
        let mut after = forward;
        after.sort_unstable_by_key(|&id| self.position(id));
        moved.extend(after);
        for (slot, id) in slots.into_iter().zip(moved) {
            self.nodes[slot as usize] = id;
            self.positions[id as usize] = slot;
        }
        true
    }

    fn position(&self, id: u32) -> u32 {
        self.positions[id as usize]
    }

    /// The nodes reached from `start` through `next` while `inside` holds for their
    /// positions; `None` if `forbidden` is among them.
    fn cone<I: Iterator<Item = u32>>(
        &self,
        start: u32,
        next: impl Fn(u32) -> I,
        inside: impl Fn(u32) -> bool,
        forbidden: u32,
    ) -> Option<Vec<u32>> {
        let mut seen = HashSet::new();
        seen.insert(start);
        let mut stack = vec![start];
        let mut cone = Vec::new();
        while let Some(id) = stack.pop() {
            if id == forbidden {
                return None;
            }
            cone.push(id);
            for neighbour in next(id) {
                if inside(self.position(neighbour)) && seen.insert(neighbour) {
                    stack.push(neighbour);
                }
            }
        }
        Some(cone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph as adjacency lists, with the order under test.
    #[derive(Default)]
    struct Dag {
        succs: Vec<Vec<u32>>,
        preds: Vec<Vec<u32>>,
        order: TopologicalOrder,
    }

    impl Dag {
        fn with_nodes(count: u32) -> Dag {
            let mut dag = Dag::default();
            for _ in 0..count {
                dag.succs.push(Vec::new());
                dag.preds.push(Vec::new());
                dag.order.push_node();
            }
            dag
        }

        fn add(&mut self, from: u32, to: u32) -> bool {
            let (succs, preds) = (&self.succs, &self.preds);
            let added = self.order.insert_edge(
                from,
                to,
                |id| succs[id as usize].clone().into_iter(),
                |id| preds[id as usize].clone().into_iter(),
            );
            if added {
                self.succs[from as usize].push(to);
                self.preds[to as usize].push(from);
            }
            added
        }

        fn assert_forward(&self) {
            for (from, targets) in self.succs.iter().enumerate() {
                for &to in targets {
                    assert!(
                        self.order.position(from as u32) < self.order.position(to),
                        "{from} -> {to} goes backward in {:?}",
                        self.order.nodes()
                    );
                }
            }
        }
    }

    #[test]
    fn backward_edges_reorder_only_what_they_must() {
        let mut dag = Dag::with_nodes(5);
        assert!(dag.add(3, 1));
        assert!(dag.add(4, 3));
        assert!(dag.add(0, 2));
        dag.assert_forward();
        assert_eq!(dag.order.nodes(), [0, 4, 2, 3, 1]);
    }

    #[test]
    fn cycles_are_refused_and_leave_the_order_unchanged() {
        let mut dag = Dag::with_nodes(4);
        assert!(dag.add(0, 1) && dag.add(1, 2) && dag.add(2, 3));
        let before = dag.order.nodes().to_vec();
        assert!(!dag.add(3, 0));
        assert!(!dag.add(2, 1));
        assert_eq!(dag.order.nodes(), before);
    }

    #[test]
    fn every_edge_goes_forward_after_random_insertions() {
        // A fixed pseudo-random sequence of edges, each accepted or refused; accepted ones
        // must all go forward, refused ones must close a cycle.
        let mut dag = Dag::with_nodes(40);
        let mut state = 0x2545_f491_u64;
        for _ in 0..600 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let (from, to) = ((state % 40) as u32, ((state >> 20) % 40) as u32);
            if from == to || dag.succs[from as usize].contains(&to) {
                continue;
            }
            if !dag.add(from, to) {
                assert!(reaches(&dag.succs, to, from), "{from} -> {to} refused");
            }
            dag.assert_forward();
        }
    }

    fn reaches(succs: &[Vec<u32>], start: u32, goal: u32) -> bool {
        let mut stack = vec![start];
        let mut seen = vec![false; succs.len()];
        while let Some(id) = stack.pop() {
            if id == goal {
                return true;
            }
            if !std::mem::replace(&mut seen[id as usize], true) {
                stack.extend(&succs[id as usize]);
            }
        }
        false
    }
}
