//! A fixed-size tournament tree: `O(log n)` update, `O(1)` minimum, ties to the lowest index.
//!
//! The engine keeps one per question it asks of all shards ("which shard blocks the watcher
//! first?", "which idle shard fills its batch first?", "whose flush timer fires next?"), so
//! the cost per event stays logarithmic in the shard count.

/// Minimum of `n` `u64` keys with stable, index-ordered ties.
#[derive(Clone, Debug)]
pub struct MinTree {
    n: usize,
    size: usize,
    /// `(key, index)` of the minimum below each node; leaf `i` lives at `size + i`. Keeping
    /// the key in the node (not only the index) makes an update one pass of direct loads.
    nodes: Vec<(u64, u32)>,
}

impl MinTree {
    /// `n` keys, all `u64::MAX`.
    pub fn new(n: usize) -> Self {
        let size = n.next_power_of_two().max(1);
        let mut nodes = vec![(u64::MAX, 0u32); 2 * size];
        for (i, slot) in nodes[size..].iter_mut().enumerate() {
            slot.1 = i as u32;
        }
        for node in (1..size).rev() {
            nodes[node] = Self::pick(nodes[2 * node], nodes[2 * node + 1]);
        }
        MinTree { n, size, nodes }
    }

    /// The smaller of a left and a right child; the left (lower indices) wins ties.
    #[inline]
    fn pick(a: (u64, u32), b: (u64, u32)) -> (u64, u32) {
        if b.0 < a.0 { b } else { a }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True if there are no keys.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Key `i`.
    pub fn get(&self, i: usize) -> u64 {
        self.nodes[self.size + i].0
    }

    /// Sets key `i`.
    #[inline]
    pub fn set(&mut self, i: usize, v: u64) {
        let mut node = self.size + i;
        if self.nodes[node].0 == v {
            return;
        }
        self.nodes[node].0 = v;
        while node > 1 {
            let left = node & !1;
            let up = Self::pick(self.nodes[left], self.nodes[left + 1]);
            node /= 2;
            if self.nodes[node] == up {
                // Every ancestor already holds what it would be recomputed to.
                return;
            }
            self.nodes[node] = up;
        }
    }

    /// The smallest key and its index (the lowest index among equal keys).
    #[inline]
    pub fn min(&self) -> (u64, usize) {
        let (v, i) = self.nodes[1];
        (v, i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn agrees_with_a_linear_scan(n in 1usize..40, ops in proptest::collection::vec((0usize..40, 0u64..20), 0..200)) {
            let mut t = MinTree::new(n);
            let mut v = vec![u64::MAX; n];
            for (i, x) in ops {
                let i = i % n;
                t.set(i, x);
                v[i] = x;
                let m = *v.iter().min().unwrap();
                let first = v.iter().position(|&y| y == m).unwrap();
                prop_assert_eq!(t.min(), (m, first));
            }
        }
    }
}
