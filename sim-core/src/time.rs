//! Virtual time: integer nanoseconds, so that every run is exact and reproducible.
//!
//! [`SimTime`] is an instant measured from the start of the simulation; [`SimDuration`] is a
//! span. Both wrap a `u64` of nanoseconds (about 584 years of range). Wall-clock Unix time is
//! only needed where Prometheus itself truncates to whole seconds or milliseconds; see
//! [`Clock`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per millisecond.
pub const NANOS_PER_MILLI: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant on the virtual clock, in nanoseconds since the simulation started.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimTime(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of the simulation.
    pub const ZERO: SimTime = SimTime(0);
    /// A time later than any event; used as "never".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start.
    pub const fn nanos(self) -> u64 {
        self.0
    }
    /// Seconds since the start, as a float (for reports only, never for model decisions).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// The span since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, saturating at [`SimTime::NEVER`].
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    /// Zero length.
    pub const ZERO: SimDuration = SimDuration(0);

    /// From whole nanoseconds.
    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NANOS_PER_MILLI)
    }
    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }
    /// From whole minutes.
    pub const fn from_mins(m: u64) -> Self {
        SimDuration(m * 60 * NANOS_PER_SEC)
    }
    /// From whole hours.
    pub const fn from_hours(h: u64) -> Self {
        SimDuration(h * 3600 * NANOS_PER_SEC)
    }
    /// From float seconds, rounded to the nearest nanosecond and clamped to the valid range.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            return SimDuration::ZERO;
        }
        let ns = s * NANOS_PER_SEC as f64;
        if ns >= u64::MAX as f64 {
            return SimDuration(u64::MAX);
        }
        // `ns.round()` (half away from zero), without the libm call it compiles to on
        // baseline x86-64: the truncation is exact and so is the fraction `ns - whole`.
        let whole = ns as u64;
        SimDuration(if ns - whole as f64 >= 0.5 { whole + 1 } else { whole })
    }
    /// Nanoseconds.
    pub const fn nanos(self) -> u64 {
        self.0
    }
    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// `self − other`, or zero.
    pub fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
    /// `min(2·self, cap)`: the doubling step shared by every backoff in Prometheus.
    pub fn doubled_capped(self, cap: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_mul(2).min(cap.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}
impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, other: SimTime) -> SimDuration {
        SimDuration(self.0 - other.0)
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 + d.0)
    }
}

impl fmt::Display for SimDuration {
    /// Human form used in timelines and errors: `250ms`, `30s`, `1h30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return write!(f, "0s");
        }
        if ns < NANOS_PER_MILLI {
            return write!(f, "{ns}ns");
        }
        if ns < NANOS_PER_SEC {
            let ms = ns as f64 / NANOS_PER_MILLI as f64;
            return if ns.is_multiple_of(NANOS_PER_MILLI) {
                write!(f, "{}ms", ns / NANOS_PER_MILLI)
            } else {
                write!(f, "{ms:.3}ms")
            };
        }
        let total_ms = ns / NANOS_PER_MILLI;
        let (h, rem) = (total_ms / 3_600_000, total_ms % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1000, rem % 1000);
        // Every unit from the largest non-zero one down to the smallest non-zero one, as Go
        // prints durations: `3h0m34.630s`, never the ambiguous `3h34.630s`.
        let secs_nonzero = s > 0 || ms > 0;
        let mut out = String::new();
        if h > 0 {
            out += &format!("{h}h");
        }
        if m > 0 || (h > 0 && secs_nonzero) {
            out += &format!("{m}m");
        }
        if secs_nonzero {
            if ms > 0 {
                out += &format!("{s}.{ms:03}s");
            } else {
                out += &format!("{s}s");
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Display for SimTime {
    /// Offset from the start as `HH:MM:SS(.mmm)`, the form timelines use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total_ms = self.0 / NANOS_PER_MILLI;
        let (h, rem) = (total_ms / 3_600_000, total_ms % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1000, rem % 1000);
        if ms == 0 { write!(f, "{h:02}:{m:02}:{s:02}") } else { write!(f, "{h:02}:{m:02}:{s:02}.{ms:03}") }
    }
}

/// `a · b / c` without overflow: 64-bit arithmetic when the product fits (the common case,
/// and much cheaper than a 128-bit division), 128-bit otherwise. `c` must be non-zero.
#[inline]
pub fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    match a.checked_mul(b) {
        Some(p) => p / c,
        None => ((u128::from(a) * u128::from(b)) / u128::from(c)) as u64,
    }
}

/// Maps virtual time to the Unix clock of the simulated Prometheus.
///
/// Prometheus truncates some values to whole Unix seconds (`lastSendTimestamp`,
/// `highest_timestamp_in_seconds`) and aligns TSDB blocks to multiples of the block range in
/// Unix milliseconds. Those effects depend on where the run starts on the real clock.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Unix time of [`SimTime::ZERO`], in nanoseconds.
    pub start_unix_nanos: u64,
}

impl Clock {
    /// Unix milliseconds (a Prometheus sample timestamp) at `t`.
    pub fn unix_millis(&self, t: SimTime) -> u64 {
        (self.start_unix_nanos + t.0) / NANOS_PER_MILLI
    }
    /// Whole Unix seconds at `t`, as Go's `time.Now().Unix()` would give.
    pub fn unix_secs(&self, t: SimTime) -> u64 {
        (self.start_unix_nanos + t.0) / NANOS_PER_SEC
    }
    /// The virtual time of a Unix millisecond timestamp (saturating at the start).
    pub fn from_unix_millis(&self, ms: u64) -> SimTime {
        SimTime((ms * NANOS_PER_MILLI).saturating_sub(self.start_unix_nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_prometheus_config() {
        assert_eq!(SimDuration::from_secs(30).to_string(), "30s");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!((SimDuration::from_hours(1) + SimDuration::from_mins(30)).to_string(), "1h30m");
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1.500s");
        assert_eq!((SimDuration::from_hours(3) + SimDuration::from_millis(34_630)).to_string(), "3h0m34.630s");
        assert_eq!(SimDuration::from_hours(2).to_string(), "2h");
        assert_eq!(SimTime(3_723_000_000_000).to_string(), "01:02:03");
    }

    #[test]
    fn mul_div_is_exact_on_both_paths() {
        assert_eq!(mul_div(10, 20, 3), 66);
        assert_eq!(mul_div(u64::MAX, 2, 4), u64::MAX / 2, "128-bit path");
        assert_eq!(mul_div(1 << 40, 1 << 40, 1 << 50), 1 << 30);
    }

    proptest::proptest! {
        /// The hand-rolled rounding of `from_secs_f64` is `f64::round` (half away from zero).
        #[test]
        fn from_secs_f64_rounds_like_f64_round(s in 0.0f64..2e10, half in 0u64..1_000_000) {
            let want = |s: f64| (s * NANOS_PER_SEC as f64).round() as u64;
            proptest::prop_assert_eq!(SimDuration::from_secs_f64(s).nanos(), want(s));
            // Exact halves of a nanosecond.
            let h = (half as f64 + 0.5) / NANOS_PER_SEC as f64;
            proptest::prop_assert_eq!(SimDuration::from_secs_f64(h).nanos(), want(h));
        }
    }

    #[test]
    fn unix_truncation_matches_go() {
        let c = Clock { start_unix_nanos: 1_700_000_000_500_000_000 };
        assert_eq!(c.unix_secs(SimTime(400_000_000)), 1_700_000_000);
        assert_eq!(c.unix_secs(SimTime(500_000_000)), 1_700_000_001);
        assert_eq!(c.unix_millis(SimTime(1)), 1_700_000_000_500);
    }
}
