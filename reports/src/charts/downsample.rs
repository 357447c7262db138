//! A bounded, per-pixel downsample of a run's rows: what the dashboard draws, kept while the
//! run streams its rows to `timeseries.csv`, so `rwsim run --out` needs the same memory for
//! a year as for an hour.
//!
//! Each dashboard series is a *channel*; time is cut into at most [`BUCKETS`] equal buckets
//! (about 1.5 per horizontal pixel of a dashboard plot), and each bucket keeps, per channel,
//! the minimum and the maximum with their times and the last value. Drawing the minima and
//! maxima in time order looks the same at one pixel per bucket as drawing every row (the
//! peaks of an outage survive); drawing the band between them is a min/max envelope. A row
//! later than the planned range doubles the bucket width and merges neighbouring buckets in
//! pairs, so the memory bound holds for any run length.

use super::run::rate_between;
use sim_core::metrics::MetricsRow;
use sim_core::observer::Observer;

/// Most time buckets kept.
pub const BUCKETS: usize = 2048;

/// A series the dashboard draws, one per channel of [`RunSeries`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Rate of `appended_total`, samples/s.
    InRate,
    /// Rate of `delivered_total`, samples/s.
    DeliveredRate,
    /// `backlog_samples`.
    Backlog,
    /// `samples_pending`.
    Pending,
    /// `lag_seconds`.
    Lag,
    /// `shards`.
    Shards,
    /// `shards_desired`.
    ShardsDesired,
    /// Rate of `responses_2xx_total`, requests/s.
    Rate2xx,
    /// Rate of `responses_5xx_total`.
    Rate5xx,
    /// Rate of `responses_429_total`.
    Rate429,
    /// Rate of `responses_4xx_total`.
    Rate4xx,
    /// Rate of `responses_timeout_total`.
    RateTimeout,
    /// Rate of `responses_refused_total`.
    RateRefused,
    /// Rate of `samples_retried_total`, samples/s.
    RetriedRate,
    /// `lost_wal_truncation_total`.
    LostTruncation,
    /// `failed_once_total`.
    Failed,
    /// `lost_too_old_total`.
    LostTooOld,
    /// `lost_reshard_shutdown_total`.
    LostShutdown,
    /// `lost_restart_skip_total`.
    LostRestartSkip,
    /// `not_scraped_total`.
    NotScraped,
    /// `unsendable_samples`.
    Unsendable,
}

/// Number of [`Channel`]s.
const N: usize = 21;

/// What a channel is computed from: a gauge's value, or a counter's per-second rate.
enum Source {
    Gauge(fn(&MetricsRow) -> f64),
    Rate(fn(&MetricsRow) -> u64),
}

/// The source of each channel, in [`Channel`] order.
const SOURCES: [Source; N] = [
    Source::Rate(|r| r.appended_total),
    Source::Rate(|r| r.delivered_total),
    Source::Gauge(|r| r.backlog_samples as f64),
    Source::Gauge(|r| r.samples_pending as f64),
    Source::Gauge(|r| r.lag_seconds),
    Source::Gauge(|r| f64::from(r.shards)),
    Source::Gauge(|r| r.shards_desired),
    Source::Rate(|r| r.responses_2xx_total),
    Source::Rate(|r| r.responses_5xx_total),
    Source::Rate(|r| r.responses_429_total),
    Source::Rate(|r| r.responses_4xx_total),
    Source::Rate(|r| r.responses_timeout_total),
    Source::Rate(|r| r.responses_refused_total),
    Source::Rate(|r| r.samples_retried_total),
    Source::Gauge(|r| r.lost_wal_truncation_total as f64),
    Source::Gauge(|r| r.failed_once_total as f64),
    Source::Gauge(|r| r.lost_too_old_total as f64),
    Source::Gauge(|r| r.lost_reshard_shutdown_total as f64),
    Source::Gauge(|r| r.lost_restart_skip_total as f64),
    Source::Gauge(|r| r.not_scraped_total as f64),
    Source::Gauge(|r| r.unsendable_samples as f64),
];

/// One channel over one bucket: the lowest and highest value and the last, each with its
/// time (seconds since the start).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Span {
    /// `(t, value)` of the minimum (the earliest, on a tie).
    pub min: (f64, f64),
    /// `(t, value)` of the maximum (the earliest, on a tie).
    pub max: (f64, f64),
    /// `(t, value)` of the last value.
    pub last: (f64, f64),
}

impl Span {
    fn new(p: (f64, f64)) -> Span {
        Span { min: p, max: p, last: p }
    }

    fn add(&mut self, p: (f64, f64)) {
        if p.1 < self.min.1 {
            self.min = p;
        }
        if p.1 > self.max.1 {
            self.max = p;
        }
        self.last = p;
    }

    /// Merges the span of the bucket that follows this one.
    fn merge(&mut self, later: &Span) {
        if later.min.1 < self.min.1 {
            self.min = later.min;
        }
        if later.max.1 > self.max.1 {
            self.max = later.max;
        }
        self.last = later.last;
    }
}

type Bucket = [Option<Span>; N];

/// The dashboard's series of a run, downsampled as the rows arrive: an [`Observer`] to pass
/// to `sim_core::simulate` (beside the CSV writer), or fed rows read back from
/// `timeseries.csv` with [`RunSeries::push`]. Memory is bounded by [`BUCKETS`] whatever the
/// run length; the result depends only on the rows, so it is deterministic.
#[derive(Clone, Debug)]
pub struct RunSeries {
    /// Seconds per bucket.
    width: f64,
    buckets: Vec<Bucket>,
    /// The previous row's counters, for rates.
    prev: Option<MetricsRow>,
    rows: u64,
}

impl RunSeries {
    /// An empty downsample for a run planned to last `duration_s` seconds (longer runs are
    /// re-bucketed as they go).
    pub fn new(duration_s: f64) -> RunSeries {
        // The last row falls at exactly `duration_s`: plan for one bucket more.
        let width = if duration_s.is_finite() && duration_s > 0.0 { duration_s / (BUCKETS - 1) as f64 } else { 1.0 };
        RunSeries { width, buckets: Vec::new(), prev: None, rows: 0 }
    }

    /// The downsample of `rows` (tests and small runs).
    pub fn from_rows(duration_s: f64, rows: &[MetricsRow]) -> RunSeries {
        let mut s = RunSeries::new(duration_s);
        for r in rows {
            s.push(r);
        }
        s
    }

    /// Adds the next row (rows come in time order).
    pub fn push(&mut self, row: &MetricsRow) {
        let t = row.t_seconds.max(0.0);
        let mut i = (t / self.width) as usize;
        while i >= BUCKETS {
            self.halve();
            i = (t / self.width) as usize;
        }
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, [None; N]);
        }
        let bucket = &mut self.buckets[i];
        for (slot, source) in bucket.iter_mut().zip(&SOURCES) {
            let v = match source {
                Source::Gauge(f) => Some(f(row)),
                Source::Rate(f) => self.prev.as_ref().and_then(|p| rate_between(p, row, *f)),
            };
            if let Some(v) = v {
                match slot {
                    Some(s) => s.add((t, v)),
                    None => *slot = Some(Span::new((t, v))),
                }
            }
        }
        self.prev = Some(row.clone());
        self.rows += 1;
    }

    /// Doubles the bucket width, merging buckets in pairs.
    fn halve(&mut self) {
        let merged = self
            .buckets
            .chunks(2)
            .map(|pair| {
                let mut b = pair[0];
                if let Some(later) = pair.get(1) {
                    for (slot, l) in b.iter_mut().zip(later) {
                        match (slot.as_mut(), l) {
                            (Some(s), Some(l)) => s.merge(l),
                            (None, Some(l)) => *slot = Some(*l),
                            (_, None) => {}
                        }
                    }
                }
                b
            })
            .collect();
        self.buckets = merged;
        self.width *= 2.0;
    }

    /// Rows seen.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The last row seen.
    pub fn last(&self) -> Option<&MetricsRow> {
        self.prev.as_ref()
    }

    /// Seconds per bucket.
    pub fn bucket_seconds(&self) -> f64 {
        self.width
    }

    /// The non-empty buckets of a channel, in time order.
    pub fn spans(&self, ch: Channel) -> impl Iterator<Item = &Span> {
        self.buckets.iter().filter_map(move |b| b[ch as usize].as_ref())
    }

    /// The channel as a line: each bucket's minimum and maximum in time order, and the last
    /// value, so peaks, dips and the end of the run are drawn as with every row.
    pub fn points(&self, ch: Channel) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for s in self.spans(ch) {
            let (a, b) = if s.min.0 <= s.max.0 { (s.min, s.max) } else { (s.max, s.min) };
            out.push(a);
            if b.0 != a.0 {
                out.push(b);
            }
            if s.last.0 != b.0 {
                out.push(s.last);
            }
        }
        out
    }

    /// The channel as a min/max envelope: per bucket `(t, min, max)`, at the time of the
    /// bucket's last value.
    pub fn envelope(&self, ch: Channel) -> Vec<(f64, f64, f64)> {
        self.spans(ch).map(|s| (s.last.0, s.min.1, s.max.1)).collect()
    }

    /// The largest value of a channel, if it has any.
    pub fn max(&self, ch: Channel) -> Option<f64> {
        self.spans(ch).map(|s| s.max.1).reduce(f64::max)
    }
}

impl Observer for RunSeries {
    fn on_step(&mut self, row: &MetricsRow) {
        self.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: f64, pending: u64, appended: u64) -> MetricsRow {
        MetricsRow { t_seconds: t, samples_pending: pending, appended_total: appended, ..MetricsRow::default() }
    }

    #[test]
    fn memory_is_bounded_and_peaks_survive_any_run_length() {
        // A year at a 10 s step, planned as a day: re-bucketed as it goes.
        let mut s = RunSeries::new(86_400.0);
        let n = 366 * 8640;
        for i in 0..=n {
            let spike = if i == 2_000_000 { 1_000_000 } else { i % 7 };
            s.push(&row(i as f64 * 10.0, spike, i * 100));
        }
        assert!(s.buckets.len() <= BUCKETS);
        assert_eq!(s.rows(), n + 1);
        let pts = s.points(Channel::Pending);
        assert!(pts.len() <= 3 * BUCKETS);
        assert!(pts.contains(&(20_000_000.0, 1_000_000.0)), "the spike survives");
        assert_eq!(pts.last(), Some(&(n as f64 * 10.0, (n % 7) as f64)), "the line reaches the end");
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0), "time order");
        assert_eq!(s.max(Channel::InRate), Some(10.0));
        let env = s.envelope(Channel::Pending);
        assert!(env.iter().all(|&(_, lo, hi)| lo <= hi));
        assert!(env.iter().any(|&(_, lo, hi)| lo == 0.0 && hi == 6.0), "a sawtooth becomes a band");
    }

    #[test]
    fn a_short_run_keeps_every_row() {
        let rows: Vec<MetricsRow> = (0..=60).map(|i| row(i as f64 * 10.0, i, i * 50)).collect();
        let s = RunSeries::from_rows(600.0, &rows);
        let pending = s.points(Channel::Pending);
        assert_eq!(pending.len(), 61);
        assert_eq!(pending[7], (70.0, 7.0));
        // Rates start at the second row, as Prometheus's rate() does.
        assert_eq!(s.points(Channel::InRate).first(), Some(&(10.0, 5.0)));
    }

    #[test]
    fn merging_equals_bucketing_at_the_coarser_width_from_the_start() {
        let rows: Vec<MetricsRow> =
            (0..=20_000u64).map(|i| row(i as f64 * 15.0, (i * 7919) % 1000, i * i % 977 + i * 1000)).collect();
        let end = 20_000.0 * 15.0;
        let grown = RunSeries::from_rows(end / 4.0, &rows);
        let mut planned = RunSeries::new(end / 4.0);
        while planned.width < grown.width {
            planned.width *= 2.0;
        }
        for r in &rows {
            planned.push(r);
        }
        assert_eq!(grown.points(Channel::Pending), planned.points(Channel::Pending));
        assert_eq!(grown.points(Channel::InRate), planned.points(Channel::InRate));
    }
}
