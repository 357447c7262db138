//! What the live receiver received, stored and answered: counters, a per-second time series,
//! stored samples per timestamp second (for loss at the receiver) and a bounded duplicate
//! detector.
//!
//! Pure: every method takes the time it concerns as an argument; the server owns the clock.
//!
//! Memory is bounded by [`BookLimits`]:
//! - duplicates are detected exactly for samples whose timestamp is within `dedup_window` of
//!   the highest timestamp stored, up to `dedup_max_keys` keys (8 bytes each plus hash-set
//!   overhead, about 20 bytes); older samples, or the oldest minute once the cap is reached,
//!   are no longer checked and are counted in `samples_unchecked`;
//! - the highest timestamp follows only samples at most [`MAX_AHEAD`] ahead of the server's
//!   clock: one sample at `i64::MAX` would otherwise move the window past every real sample
//!   and switch duplicate detection off for good. Samples further ahead are stored and
//!   counted, as unchecked (Prometheus 3's receiver refuses them outright, `maxAheadTime` in
//!   `storage/remote/write_handler.go`; here the model decides the answer);
//! - the per-second rows stop growing after `max_rows` seconds (the last row then takes
//!   everything);
//! - the per-timestamp-second counts keep at most `max_timestamp_seconds` distinct seconds.

use crate::proto::SampleKey;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

/// How far ahead of the server's clock a sample timestamp may be and still move the highest
/// timestamp: 10 minutes, Prometheus 3's `maxAheadTime` for remote-write receivers.
pub const MAX_AHEAD: Duration = Duration::from_secs(600);

/// Memory bounds of the books.
#[derive(Clone, Copy, Debug)]
pub struct BookLimits {
    /// Samples older than this, relative to the highest timestamp stored, are not checked for
    /// duplicates. Default 30 minutes.
    pub dedup_window: Duration,
    /// Most keys the duplicate detector holds. Default 8,000,000 (about 160 MB).
    pub dedup_max_keys: usize,
    /// Most per-second rows (one per second since start). Default 1,000,000 (11.5 days).
    pub max_rows: usize,
    /// Most distinct timestamp seconds counted. Default 1,000,000.
    pub max_timestamp_seconds: usize,
}

impl Default for BookLimits {
    fn default() -> Self {
        BookLimits {
            dedup_window: Duration::from_secs(30 * 60),
            dedup_max_keys: 8_000_000,
            max_rows: 1_000_000,
            max_timestamp_seconds: 1_000_000,
        }
    }
}

/// How a request ended, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered with this HTTP status.
    Status(u16),
    /// Never answered: the connection was closed after the client's timeout.
    Hang,
    /// Closed without an answer at once (the model's "connection refused").
    Refused,
    /// Closed without an answer after a receiver crash (the model's "connection reset").
    Reset,
    /// The body was not Snappy + protobuf: 400.
    Malformed,
    /// The body was over the limit: 413.
    TooLarge,
    /// The body did not arrive within the read timeout: 408.
    ReadTimeout,
    /// A `Content-Type` or `Content-Encoding` other than remote-write 1.0's: 415.
    Unsupported,
}

/// One row of `serve.csv`: what happened during one wall-clock second since the server
/// started. Field order is the column order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecondRow {
    /// Seconds since the server started (the row covers `[t, t+1)`).
    pub t_seconds: u64,
    /// Remote-write requests answered (or closed) in this second.
    pub requests: u64,
    /// Answered 2xx.
    pub requests_2xx: u64,
    /// Answered 429.
    pub requests_429: u64,
    /// Answered another 4xx by the fault model (not malformed, too large or read timeout).
    pub requests_4xx: u64,
    /// Answered 5xx.
    pub requests_5xx: u64,
    /// Never answered (closed after the client's timeout).
    pub requests_hang: u64,
    /// Closed at once without an answer ("connection refused").
    pub requests_refused: u64,
    /// Closed without an answer by a receiver crash.
    pub requests_reset: u64,
    /// Malformed bodies (400), bodies over the limit (413), slow bodies (408) and unsupported
    /// content types or encodings (415).
    pub requests_bad: u64,
    /// Samples stored (duplicates included).
    pub samples_accepted: u64,
    /// Samples in decoded requests that were not stored.
    pub samples_rejected: u64,
    /// Stored samples whose (series, timestamp) had been stored before.
    pub samples_duplicate: u64,
    /// Highest sample timestamp stored so far, ms since the Unix epoch (0 before any).
    pub highest_timestamp_ms: i64,
}

/// Cumulative totals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Requests by HTTP status (model answers and protocol errors).
    pub by_status: BTreeMap<u16, u64>,
    /// Requests never answered.
    pub hang: u64,
    /// Requests closed at once.
    pub refused: u64,
    /// Requests reset by a crash.
    pub reset: u64,
    /// Malformed bodies.
    pub malformed: u64,
    /// Oversized bodies.
    pub too_large: u64,
    /// Bodies too slow to arrive.
    pub read_timeout: u64,
    /// Unsupported content types or encodings.
    pub unsupported: u64,
    /// Samples stored, duplicates included.
    pub samples_accepted: u64,
    /// Samples not stored.
    pub samples_rejected: u64,
    /// Stored samples seen before.
    pub samples_duplicate: u64,
    /// Stored samples too old (or past the key cap), or too far ahead of the server's clock,
    /// to check for duplicates.
    pub samples_unchecked: u64,
    /// Highest timestamp stored, ms.
    pub highest_timestamp_ms: i64,
}

impl Totals {
    /// Stored samples counted once: accepted minus duplicates.
    pub fn samples_unique(&self) -> u64 {
        self.samples_accepted - self.samples_duplicate
    }
}

/// Exact duplicate detection over a sliding window of sample timestamps, in one hash set per
/// minute of timestamp so that old minutes are dropped whole.
#[derive(Debug, Default)]
struct Dedup {
    minutes: BTreeMap<i64, HashSet<u64>>,
    keys: usize,
    window_ms: i64,
    max_keys: usize,
}

/// Mixes a series hash and a timestamp into one 64-bit key (splitmix64 finaliser). Two
/// different samples collide with probability 2⁻⁶⁴ per pair: about 2·10⁻⁶ for 8M keys.
fn mix(k: SampleKey) -> u64 {
    let mut z = k.series ^ (k.timestamp_ms as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Dedup {
    /// `Some(true)` if seen before, `Some(false)` if new, `None` if it cannot be checked.
    fn insert(&mut self, k: SampleKey, highest_ms: i64) -> Option<bool> {
        let floor = highest_ms.saturating_sub(self.window_ms);
        if k.timestamp_ms < floor {
            return None;
        }
        let floor_minute = floor.div_euclid(60_000);
        while let Some((&m, _)) = self.minutes.first_key_value() {
            if m >= floor_minute && self.keys < self.max_keys {
                break;
            }
            let (_, set) = self.minutes.pop_first().expect("non-empty");
            self.keys -= set.len();
        }
        let minute = k.timestamp_ms.div_euclid(60_000);
        if self.minutes.first_key_value().is_some_and(|(&m, _)| minute < m) && self.keys > 0 {
            // Older than what the cap let us keep.
            return None;
        }
        let fresh = self.minutes.entry(minute).or_default().insert(mix(k));
        if fresh {
            self.keys += 1;
        }
        Some(!fresh)
    }
}

/// The receiver's books.
#[derive(Debug)]
pub struct Books {
    limits: BookLimits,
    /// The server's clock at `since_start` zero, ms since the Unix epoch.
    origin_unix_ms: i64,
    totals: Totals,
    rows: Vec<SecondRow>,
    /// Unique stored samples per timestamp second (Unix seconds).
    by_timestamp: BTreeMap<i64, u64>,
    by_timestamp_dropped: u64,
    dedup: Dedup,
}

impl Books {
    /// Empty books of a server whose clock read `origin_unix_ms` (ms since the Unix epoch) at
    /// start.
    pub fn new(limits: BookLimits, origin_unix_ms: i64) -> Self {
        Books {
            dedup: Dedup {
                window_ms: limits.dedup_window.as_millis().min(i64::MAX as u128) as i64,
                max_keys: limits.dedup_max_keys.max(1),
                ..Dedup::default()
            },
            limits,
            origin_unix_ms,
            totals: Totals::default(),
            rows: Vec::new(),
            by_timestamp: BTreeMap::new(),
            by_timestamp_dropped: 0,
        }
    }

    fn row(&mut self, since_start: Duration) -> &mut SecondRow {
        let t = since_start.as_secs();
        let cap = self.limits.max_rows.max(1);
        while self.rows.len() as u64 <= t && self.rows.len() < cap {
            let t_seconds = self.rows.len() as u64;
            let highest_timestamp_ms = self.totals.highest_timestamp_ms;
            self.rows.push(SecondRow { t_seconds, highest_timestamp_ms, ..SecondRow::default() });
        }
        let i = (t as usize).min(self.rows.len() - 1);
        &mut self.rows[i]
    }

    /// Stores the samples of a request at `since_start`; returns how many were duplicates.
    pub fn store(&mut self, since_start: Duration, keys: &[SampleKey]) -> u64 {
        // Earlier quiet seconds are filled in with what was known then.
        self.row(since_start);
        let mut dup = 0;
        let mut highest = self.totals.highest_timestamp_ms;
        let now_ms = self.origin_unix_ms.saturating_add(since_start.as_millis().min(i64::MAX as u128) as i64);
        let ahead_limit = now_ms.saturating_add(MAX_AHEAD.as_millis() as i64);
        for &k in keys {
            let checked = if k.timestamp_ms > ahead_limit {
                None
            } else {
                highest = highest.max(k.timestamp_ms);
                self.dedup.insert(k, highest)
            };
            match checked {
                Some(true) => {
                    dup += 1;
                    continue;
                }
                Some(false) => {}
                None => self.totals.samples_unchecked += 1,
            }
            let second = k.timestamp_ms.div_euclid(1000);
            if let Some(n) = self.by_timestamp.get_mut(&second) {
                *n += 1;
            } else if self.by_timestamp.len() < self.limits.max_timestamp_seconds {
                self.by_timestamp.insert(second, 1);
            } else {
                self.by_timestamp_dropped += 1;
            }
        }
        self.totals.highest_timestamp_ms = highest;
        self.totals.samples_accepted += keys.len() as u64;
        self.totals.samples_duplicate += dup;
        let row = self.row(since_start);
        row.samples_accepted += keys.len() as u64;
        row.samples_duplicate += dup;
        row.highest_timestamp_ms = highest;
        dup
    }

    /// Counts the end of a request with `samples` samples, of which `stored` were stored
    /// (already passed to [`Books::store`]).
    pub fn answer(&mut self, since_start: Duration, outcome: Outcome, samples: u64, stored: u64) {
        let t = &mut self.totals;
        t.samples_rejected += samples.saturating_sub(stored);
        match outcome {
            Outcome::Status(s) => *t.by_status.entry(s).or_default() += 1,
            Outcome::Hang => t.hang += 1,
            Outcome::Refused => t.refused += 1,
            Outcome::Reset => t.reset += 1,
            Outcome::Malformed => {
                t.malformed += 1;
                *t.by_status.entry(400).or_default() += 1;
            }
            Outcome::TooLarge => {
                t.too_large += 1;
                *t.by_status.entry(413).or_default() += 1;
            }
            Outcome::ReadTimeout => {
                t.read_timeout += 1;
                *t.by_status.entry(408).or_default() += 1;
            }
            Outcome::Unsupported => {
                t.unsupported += 1;
                *t.by_status.entry(415).or_default() += 1;
            }
        }
        let row = self.row(since_start);
        row.requests += 1;
        row.samples_rejected += samples.saturating_sub(stored);
        match outcome {
            Outcome::Status(s) if (200..300).contains(&s) => row.requests_2xx += 1,
            Outcome::Status(429) => row.requests_429 += 1,
            Outcome::Status(s) if s < 500 => row.requests_4xx += 1,
            Outcome::Status(_) => row.requests_5xx += 1,
            Outcome::Hang => row.requests_hang += 1,
            Outcome::Refused => row.requests_refused += 1,
            Outcome::Reset => row.requests_reset += 1,
            Outcome::Malformed | Outcome::TooLarge | Outcome::ReadTimeout | Outcome::Unsupported => {
                row.requests_bad += 1
            }
        }
    }

    /// The counters in the Prometheus text format (`/metrics`). `gauges` are extra
    /// `(name, help, value)` lines from the server (uptime, requests in flight, model state).
    pub fn render_metrics(&self, gauges: &[(&str, &str, f64)]) -> String {
        let t = &self.totals;
        let mut o = String::with_capacity(2048);
        let counter = |o: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        let _ = writeln!(o, "# HELP rwsim_serve_requests_total Remote-write requests by how they ended.");
        let _ = writeln!(o, "# TYPE rwsim_serve_requests_total counter");
        for (code, n) in &t.by_status {
            let _ = writeln!(o, "rwsim_serve_requests_total{{code=\"{code}\"}} {n}");
        }
        for (code, n) in [("hang", t.hang), ("refused", t.refused), ("reset", t.reset)] {
            let _ = writeln!(o, "rwsim_serve_requests_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP rwsim_serve_bad_requests_total Requests refused before the model: malformed, too large, too slow, \
             unsupported media type."
        );
        let _ = writeln!(o, "# TYPE rwsim_serve_bad_requests_total counter");
        for (reason, n) in [
            ("malformed", t.malformed),
            ("too_large", t.too_large),
            ("read_timeout", t.read_timeout),
            ("unsupported_media_type", t.unsupported),
        ] {
            let _ = writeln!(o, "rwsim_serve_bad_requests_total{{reason=\"{reason}\"}} {n}");
        }
        counter(
            &mut o,
            "rwsim_serve_samples_accepted_total",
            "Samples stored, duplicates included.",
            t.samples_accepted,
        );
        counter(
            &mut o,
            "rwsim_serve_samples_rejected_total",
            "Samples in decoded requests that were not stored.",
            t.samples_rejected,
        );
        counter(
            &mut o,
            "rwsim_serve_samples_duplicate_total",
            "Stored samples whose series and timestamp were stored before.",
            t.samples_duplicate,
        );
        counter(
            &mut o,
            "rwsim_serve_samples_unique_total",
            "Stored samples counted once (accepted minus duplicates).",
            t.samples_unique(),
        );
        counter(
            &mut o,
            "rwsim_serve_samples_unchecked_total",
            "Stored samples too old for the duplicate window, or more than 10 minutes ahead of the server's clock.",
            t.samples_unchecked,
        );
        let _ = writeln!(
            o,
            "# HELP rwsim_serve_highest_timestamp_seconds Highest sample timestamp stored.\n\
             # TYPE rwsim_serve_highest_timestamp_seconds gauge\n\
             rwsim_serve_highest_timestamp_seconds {}",
            t.highest_timestamp_ms as f64 / 1000.0
        );
        let _ = writeln!(
            o,
            "# HELP rwsim_serve_dedup_keys Keys held by the duplicate detector.\n\
             # TYPE rwsim_serve_dedup_keys gauge\nrwsim_serve_dedup_keys {}",
            self.dedup.keys
        );
        for (name, help, v) in gauges {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        o
    }

    /// The totals so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The per-second rows up to `since_start` (rows are created up to the current second so
    /// that quiet seconds appear as zeros).
    pub fn rows(&mut self, since_start: Duration) -> &[SecondRow] {
        self.row(since_start);
        &self.rows
    }

    /// Unique stored samples per timestamp second, `(unix_seconds, samples)`, ascending.
    pub fn by_timestamp(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.by_timestamp.iter().map(|(&s, &n)| (s, n))
    }

    /// Stored samples not counted per timestamp second because of the cap.
    pub fn by_timestamp_dropped(&self) -> u64 {
        self.by_timestamp_dropped
    }

    /// Keys held by the duplicate detector.
    pub fn dedup_keys(&self) -> usize {
        self.dedup.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(series: u64, ts: &[i64]) -> Vec<SampleKey> {
        ts.iter().map(|&t| SampleKey { series, timestamp_ms: t }).collect()
    }

    const T0: i64 = 1_700_000_000_000;
    /// The server's clock at start: a day after T0.
    const NOW: i64 = T0 + 86_400_000;

    /// A sample far in the future is stored but neither moves the highest timestamp nor
    /// switches duplicate detection off for the samples that follow.
    #[test]
    fn a_timestamp_far_ahead_does_not_poison_the_books() {
        let mut b = Books::new(BookLimits::default(), NOW);
        let s = Duration::from_secs(1);
        assert_eq!(b.store(s, &keys(1, &[i64::MAX])), 0);
        assert_eq!(b.store(s, &keys(2, &[T0, T0 + 1000])), 0);
        assert_eq!(b.store(s, &keys(2, &[T0, T0 + 1000])), 2, "duplicates still detected");
        let t = b.totals();
        assert_eq!(t.highest_timestamp_ms, T0 + 1000);
        assert_eq!((t.samples_accepted, t.samples_unchecked, t.samples_duplicate), (5, 1, 2));
        assert!(b.render_metrics(&[]).contains("rwsim_serve_highest_timestamp_seconds 1700000001\n"));
        // Up to 10 minutes ahead of the clock is a sample like any other.
        let ahead = NOW + 1000 + 9 * 60_000;
        b.store(s, &keys(3, &[ahead]));
        assert_eq!(b.totals().highest_timestamp_ms, ahead);
        assert_eq!(b.store(s, &keys(3, &[ahead])), 1);
    }

    #[test]
    fn duplicates_are_the_same_series_and_timestamp_twice() {
        let mut b = Books::new(BookLimits::default(), NOW);
        let s = Duration::from_millis(1500);
        assert_eq!(b.store(s, &keys(1, &[T0, T0 + 1000])), 0);
        assert_eq!(b.store(s, &keys(2, &[T0])), 0, "another series");
        assert_eq!(b.store(s, &keys(1, &[T0 + 1000, T0 + 2000])), 1);
        let t = b.totals();
        assert_eq!((t.samples_accepted, t.samples_duplicate, t.samples_unique()), (5, 1, 4));
        assert_eq!(t.highest_timestamp_ms, T0 + 2000);
        let by_ts: Vec<_> = b.by_timestamp().collect();
        assert_eq!(by_ts, [(T0 / 1000, 2), (T0 / 1000 + 1, 1), (T0 / 1000 + 2, 1)]);
        let rows = b.rows(Duration::from_secs(2));
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[1].samples_accepted, rows[1].samples_duplicate), (5, 1));
        assert_eq!(rows[2].highest_timestamp_ms, T0 + 2000, "quiet seconds carry the highest so far");
    }

    #[test]
    fn dedup_memory_is_bounded_by_window_and_cap() {
        let limits =
            BookLimits { dedup_window: Duration::from_secs(120), dedup_max_keys: 1000, ..BookLimits::default() };
        let mut b = Books::new(limits, NOW);
        // 10 minutes of one sample per second per 3 series.
        for s in 0..600 {
            for series in 0..3 {
                b.store(Duration::ZERO, &keys(series, &[T0 + s * 1000]));
            }
        }
        assert!(b.dedup_keys() <= 3 * 180, "about the window's worth: {}", b.dedup_keys());
        // A sample from the first minute can no longer be checked: counted, not a duplicate.
        assert_eq!(b.store(Duration::ZERO, &keys(0, &[T0])), 0);
        assert_eq!(b.totals().samples_unchecked, 1);
        // A recent one still is.
        assert_eq!(b.store(Duration::ZERO, &keys(0, &[T0 + 599_000])), 1);

        let limits = BookLimits { dedup_max_keys: 100, ..BookLimits::default() };
        let mut b = Books::new(limits, NOW);
        for s in 0..1000 {
            b.store(Duration::ZERO, &keys(7, &[T0 + s * 100]));
        }
        assert!(b.dedup_keys() <= 100 + 600, "cap, plus at most one minute: {}", b.dedup_keys());
    }

    #[test]
    fn answers_are_counted_by_class() {
        let mut b = Books::new(BookLimits::default(), NOW);
        let s = Duration::ZERO;
        b.answer(s, Outcome::Status(200), 10, 10);
        b.answer(s, Outcome::Status(503), 10, 0);
        b.answer(s, Outcome::Status(429), 10, 0);
        b.answer(s, Outcome::Status(400), 10, 0);
        b.answer(s, Outcome::Hang, 10, 0);
        b.answer(s, Outcome::Malformed, 0, 0);
        let r = b.rows(s)[0].clone();
        assert_eq!(
            (
                r.requests,
                r.requests_2xx,
                r.requests_5xx,
                r.requests_429,
                r.requests_4xx,
                r.requests_hang,
                r.requests_bad
            ),
            (6, 1, 1, 1, 1, 1, 1)
        );
        assert_eq!(r.samples_rejected, 40);
        assert_eq!(b.totals().by_status[&400], 2, "a fault 400 and a malformed body");
    }

    #[test]
    fn rows_stop_growing_at_the_cap() {
        let mut b = Books::new(BookLimits { max_rows: 10, ..BookLimits::default() }, NOW);
        b.answer(Duration::from_secs(100), Outcome::Status(200), 1, 1);
        let rows = b.rows(Duration::from_secs(200));
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[9].requests, 1);
    }
}
