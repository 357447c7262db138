//! A log-linear histogram of delivery latencies (about 2 % relative resolution).
//!
//! Values are nanoseconds. Bucket `(e, m)` holds values whose highest set bit is `e` and whose
//! next `SUB_BITS` (5) bits are `m`, as in HdrHistogram. Fixed memory (16 KiB), `O(1)` insert,
//! and the same bytes on every machine.

const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = 64 * SUB;

/// Counts of values by log-linear bucket, plus the exact maximum.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0, max: 0 }
    }
}

#[inline]
fn bucket(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros();
    let m = (v >> (e - SUB_BITS)) as usize & (SUB - 1);
    (e - SUB_BITS + 1) as usize * SUB + m
}

/// Midpoint of a bucket, used as its representative value.
fn bucket_mid(b: usize) -> u64 {
    if b < SUB {
        return b as u64;
    }
    let e = (b / SUB) as u32 + SUB_BITS - 1;
    let m = (b % SUB) as u64;
    let lo = (1u64 << e) | (m << (e - SUB_BITS));
    lo + (1u64 << (e - SUB_BITS)) / 2
}

impl Histogram {
    /// Records `count` values equal to `v`.
    #[inline]
    pub fn add(&mut self, v: u64, count: u64) {
        if count == 0 {
            return;
        }
        self.counts[bucket(v)] += count;
        self.total += count;
        self.max = self.max.max(v);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest recorded value (exact).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile (`0 < q ≤ 1`), within one bucket's resolution; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_mid(b).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_resolution() {
        let mut h = Histogram::default();
        for v in 1..=10_000u64 {
            h.add(v * 1_000_000, 1);
        }
        for (q, want) in [(0.5, 5_000e6), (0.99, 9_900e6), (1.0, 10_000e6)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.02, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.max(), 10_000_000_000);
        assert_eq!(h.count(), 10_000);
    }

    #[test]
    fn buckets_are_monotone() {
        let mut prev = 0;
        for v in (0..40).map(|s| 1u64 << s).flat_map(|x| [x, x + x / 3, x + x / 2]) {
            let b = bucket(v);
            assert!(b >= prev);
            prev = b;
            let mid = bucket_mid(b) as f64;
            assert!((mid - v as f64).abs() <= (v as f64 / 30.0).max(1.0), "{v} → {mid}");
        }
    }
}
