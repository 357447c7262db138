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
    /// Leaf values live at `size + i`; inner nodes hold the index of their minimum leaf.
    vals: Vec<u64>,
    idx: Vec<u32>,
}

impl MinTree {
    /// `n` keys, all `u64::MAX`.
    pub fn new(n: usize) -> Self {
        let size = n.next_power_of_two().max(1);
        let mut idx = vec![0u32; 2 * size];
        for (i, slot) in idx[size..].iter_mut().enumerate() {
            *slot = i as u32;
        }
        let mut t = MinTree { n, size, vals: vec![u64::MAX; size], idx };
        for node in (1..size).rev() {
            t.idx[node] = t.pick(t.idx[2 * node], t.idx[2 * node + 1]);
        }
        t
    }

    fn pick(&self, a: u32, b: u32) -> u32 {
        if self.vals[b as usize] < self.vals[a as usize] { b } else { a }
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
        self.vals[i]
    }

    /// Sets key `i`.
    pub fn set(&mut self, i: usize, v: u64) {
        if self.vals[i] == v {
            return;
        }
        self.vals[i] = v;
        let mut node = (self.size + i) / 2;
        while node >= 1 {
            self.idx[node] = self.pick(self.idx[2 * node], self.idx[2 * node + 1]);
            node /= 2;
        }
    }

    /// The smallest key and its index (the lowest index among equal keys).
    pub fn min(&self) -> (u64, usize) {
        let i = if self.size == 1 { 0 } else { self.idx[1] as usize };
        (self.vals[i], i)
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
