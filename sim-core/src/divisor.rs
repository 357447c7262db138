//! Exact integer division by a divisor fixed for a while (the scrape interval, an epoch's
//! samples per interval, the shard count), as a multiplication.
//!
//! A 64-bit `div` costs tens of cycles; the engine divides by the same few numbers several
//! times per batch (mapping WAL positions to scrapes, positions to shards). [`Divisor`]
//! keeps `⌊(2⁶⁴ − 1) / d⌋` and turns each division into one widening multiply and at most
//! one correction step. The result is the exact quotient, so runs stay bit-identical.

/// A non-zero divisor with its precomputed reciprocal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divisor {
    d: u64,
    /// `⌊(2⁶⁴ − 1) / d⌋`: at most one below `2⁶⁴ / d`, so the estimated quotient
    /// `⌊n · m / 2⁶⁴⌋` is the true one or one less.
    m: u64,
}

impl Divisor {
    /// Divisor `d`. Panics if `d` is zero (a caller bug: every divisor here is validated).
    pub const fn new(d: u64) -> Self {
        assert!(d > 0, "division by zero");
        Divisor { d, m: u64::MAX / d }
    }

    /// The divisor.
    #[inline]
    pub const fn get(self) -> u64 {
        self.d
    }

    /// `(n / d, n % d)`.
    #[inline]
    pub const fn div_rem(self, n: u64) -> (u64, u64) {
        let mut q = ((n as u128 * self.m as u128) >> 64) as u64;
        // q ≤ n / d, so this cannot underflow; it is below 2d.
        let mut r = n - q * self.d;
        if r >= self.d {
            q += 1;
            r -= self.d;
        }
        (q, r)
    }

    /// `n / d`.
    #[inline]
    pub const fn div(self, n: u64) -> u64 {
        self.div_rem(n).0
    }

    /// `n / d`, rounded up.
    #[inline]
    pub const fn div_ceil(self, n: u64) -> u64 {
        let (q, r) = self.div_rem(n);
        if r > 0 { q + 1 } else { q }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges_match_native_division() {
        let ds = [1, 2, 3, 7, 10, 1000, 15_000_000_000, (1 << 32) + 1, u64::MAX / 3, u64::MAX - 1, u64::MAX];
        let ns = [0, 1, 2, 999, 1 << 32, u64::MAX / 2, u64::MAX - 1, u64::MAX];
        for d in ds {
            let div = Divisor::new(d);
            for n in ns.iter().copied().chain([d - 1, d, d.saturating_add(1), d.saturating_mul(2).saturating_sub(1)]) {
                assert_eq!(div.div_rem(n), (n / d, n % d), "{n} / {d}");
                assert_eq!(div.div_ceil(n), n.div_ceil(d), "{n} / {d} rounded up");
            }
        }
    }

    proptest! {
        #[test]
        fn quotient_and_remainder_are_exact(n: u64, d in 1u64..) {
            let div = Divisor::new(d);
            prop_assert_eq!(div.div_rem(n), (n / d, n % d));
            prop_assert_eq!(div.div_ceil(n), n.div_ceil(d));
        }

        #[test]
        fn small_divisors_are_exact(n: u64, d in 1u64..100_000) {
            prop_assert_eq!(Divisor::new(d).div_rem(n), (n / d, n % d));
        }
    }
}
