//! Sweep results: one row per grid point with statistics across replications, the
//! `sweep.csv` contract, the Pareto front and a `queue_config` recommendation.
//!
//! Everything here is pure: [`SweepResult`] in, text or CSV bytes out. The same result
//! renders the same bytes, so a sweep run in one go and one merged from partitions print and
//! write identical output.

use serde::{Deserialize, Serialize};
use sim_core::config::QueueConfig;
use sim_core::result::RunResult;
use sim_core::time::{NANOS_PER_MILLI, SimDuration};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::fmt::{self, Write as _};
use std::io::{Read, Write};

use crate::summary::{bytes, secs};

/// Confidence level of the intervals in `sweep.csv`.
pub const CONFIDENCE: f64 = 0.95;

/// Rows of the Pareto table printed before "... and N more".
pub const PARETO_LINES: usize = 30;

/// What a sweep keeps of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetrics {
    /// Samples appended to the WAL.
    pub appended: u64,
    /// Samples failed (4xx, 429 without retry).
    pub failed: u64,
    /// Samples lost to WAL truncation.
    pub dropped_wal_truncation: u64,
    /// Samples dropped as too old (`sample_age_limit`).
    pub dropped_too_old: u64,
    /// Samples dropped at a reshard's hard shutdown.
    pub dropped_reshard_shutdown: u64,
    /// Samples still queued or unread at the end.
    pub pending_at_end: u64,
    /// Largest lag, seconds.
    pub lag_max_seconds: f64,
    /// Median delivery latency, seconds.
    pub delivery_latency_p50_seconds: f64,
    /// 99th percentile delivery latency, seconds.
    pub delivery_latency_p99_seconds: f64,
    /// Peak estimated queue memory, bytes.
    pub queue_memory_bytes_peak: u64,
    /// Most shards running at once.
    pub shards_max: u32,
    /// Receiver HTTP attempts per simulated second.
    pub receiver_requests_per_second: f64,
}

impl RunMetrics {
    /// Extracts the metrics of one run.
    pub fn from_result(r: &RunResult) -> Self {
        let s = &r.samples;
        RunMetrics {
            appended: s.appended,
            failed: s.failed,
            dropped_wal_truncation: s.dropped.wal_truncation,
            dropped_too_old: s.dropped.too_old,
            dropped_reshard_shutdown: s.dropped.reshard_shutdown,
            pending_at_end: s.pending_at_end,
            lag_max_seconds: r.lag_seconds.max,
            delivery_latency_p50_seconds: r.delivery_latency_seconds.p50,
            delivery_latency_p99_seconds: r.delivery_latency_seconds.p99,
            queue_memory_bytes_peak: r.queue_memory_bytes_peak,
            shards_max: r.shards.max,
            receiver_requests_per_second: if r.simulated_seconds > 0.0 {
                r.receiver.requests as f64 / r.simulated_seconds
            } else {
                0.0
            },
        }
    }

    /// Samples that never reached the receiver: failed plus dropped for every reason.
    pub fn lost(&self) -> u64 {
        self.failed + self.dropped_wal_truncation + self.dropped_too_old + self.dropped_reshard_shutdown
    }

    /// `lost / appended` (0 when nothing was appended).
    pub fn loss_fraction(&self) -> f64 {
        if self.appended == 0 { 0.0 } else { self.lost() as f64 / self.appended as f64 }
    }
}

/// A metric over the replications of a point: the mean, and a two-sided Student-t
/// confidence interval at [`CONFIDENCE`] when there are at least two replications.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Stat {
    /// Arithmetic mean.
    pub mean: f64,
    /// `(low, high)`, clamped at 0 (every metric is non-negative); `None` for one replication.
    pub ci: Option<(f64, f64)>,
}

impl Stat {
    /// The mean and interval of `values`, in the given order (so the float sums, and the
    /// bytes written, never depend on scheduling).
    pub fn of(values: &[f64]) -> Stat {
        assert!(!values.is_empty(), "a point has at least one replication");
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        if values.len() < 2 {
            return Stat { mean, ci: None };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let half = t_quantile(values.len() - 1) * (var / n).sqrt();
        Stat { mean, ci: Some(((mean - half).max(0.0), mean + half)) }
    }

    /// The value targets are checked against: the upper end of the interval when there is
    /// one, else the mean.
    pub fn upper(&self) -> f64 {
        self.ci.map_or(self.mean, |(_, hi)| hi)
    }
}

/// The two-sided [`CONFIDENCE`] quantile of Student's t with `df` degrees of freedom.
fn t_quantile(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df >= 1 is a valid Student-t")
        .inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// A duration as Prometheus prints it in YAML (`model.Duration`): `5s`, `30ms`, `1m30s`, `0s`.
pub fn prometheus_duration(d: SimDuration) -> String {
    let mut ms = d.nanos() / NANOS_PER_MILLI;
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, mult) in [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        let v = ms / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            ms -= v * mult;
        }
    }
    out
}

/// One row of `sweep.csv` after the `point` column and the swept keys' columns. Field
/// order is column order; this is the file's contract.
///
/// Counts are totals over the point's replications; every other metric is the mean over
/// them, with `_ci_low` / `_ci_high` the [`CONFIDENCE`] Student-t interval, empty with one
/// replication. Samples "lost" are those that never reached the receiver: `failed` plus
/// every `dropped_*` reason (WAL truncation included, which Prometheus reports nowhere);
/// `pending_at_end` is not lost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PointRow {
    /// Replications run for this point.
    pub replications: u32,
    /// Seed of replication 0 (`rwsim run FILE --set ... --seed SEED` reproduces it).
    pub seed: u64,
    /// `"2.42"` or `"3.x"`.
    pub prometheus: String,
    /// `queue_config.capacity` of the point (swept or not), samples per shard.
    pub capacity: u32,
    /// `queue_config.max_shards`.
    pub max_shards: u32,
    /// `queue_config.min_shards`.
    pub min_shards: u32,
    /// `queue_config.max_samples_per_send`.
    pub max_samples_per_send: u32,
    /// `queue_config.batch_send_deadline`, Prometheus syntax (`5s`).
    pub batch_send_deadline: String,
    /// `queue_config.min_backoff`.
    pub min_backoff: String,
    /// `queue_config.max_backoff`.
    pub max_backoff: String,
    /// `queue_config.retry_on_http_429`.
    pub retry_on_http_429: bool,
    /// `queue_config.sample_age_limit` (`0s` is off).
    pub sample_age_limit: String,
    /// Lost samples / appended samples, mean over replications.
    pub loss_fraction: f64,
    /// Lower end of the interval of `loss_fraction`.
    pub loss_fraction_ci_low: Option<f64>,
    /// Upper end of the interval of `loss_fraction`.
    pub loss_fraction_ci_high: Option<f64>,
    /// Samples appended to the WAL (total).
    pub appended: u64,
    /// Samples failed: 4xx, or 429 without `retry_on_http_429` (total).
    pub failed: u64,
    /// Samples lost to WAL truncation (total).
    pub dropped_wal_truncation: u64,
    /// Samples dropped as older than `sample_age_limit` (total).
    pub dropped_too_old: u64,
    /// Samples dropped when a reshard hit `flush_deadline` (total).
    pub dropped_reshard_shutdown: u64,
    /// Samples not yet delivered when the run ended (total; not lost).
    pub pending_at_end: u64,
    /// Largest lag (newest appended − newest sent timestamp), seconds.
    pub lag_max_seconds: f64,
    /// Lower end of the interval of `lag_max_seconds`.
    pub lag_max_seconds_ci_low: Option<f64>,
    /// Upper end of the interval of `lag_max_seconds`.
    pub lag_max_seconds_ci_high: Option<f64>,
    /// Median time from a sample's timestamp to its delivery, seconds.
    pub delivery_latency_p50_seconds: f64,
    /// Lower end of the interval of `delivery_latency_p50_seconds`.
    pub delivery_latency_p50_seconds_ci_low: Option<f64>,
    /// Upper end of the interval of `delivery_latency_p50_seconds`.
    pub delivery_latency_p50_seconds_ci_high: Option<f64>,
    /// 99th percentile of the delivery latency, seconds.
    pub delivery_latency_p99_seconds: f64,
    /// Lower end of the interval of `delivery_latency_p99_seconds`.
    pub delivery_latency_p99_seconds_ci_low: Option<f64>,
    /// Upper end of the interval of `delivery_latency_p99_seconds`.
    pub delivery_latency_p99_seconds_ci_high: Option<f64>,
    /// Peak estimated memory of the shard queues and send buffers, bytes.
    pub queue_memory_bytes_peak: f64,
    /// Lower end of the interval of `queue_memory_bytes_peak`.
    pub queue_memory_bytes_peak_ci_low: Option<f64>,
    /// Upper end of the interval of `queue_memory_bytes_peak`.
    pub queue_memory_bytes_peak_ci_high: Option<f64>,
    /// Most shards running at once.
    pub shards_max: f64,
    /// Lower end of the interval of `shards_max`.
    pub shards_max_ci_low: Option<f64>,
    /// Upper end of the interval of `shards_max`.
    pub shards_max_ci_high: Option<f64>,
    /// Receiver HTTP attempts (retries included) per simulated second.
    pub receiver_requests_per_second: f64,
    /// Lower end of the interval of `receiver_requests_per_second`.
    pub receiver_requests_per_second_ci_low: Option<f64>,
    /// Upper end of the interval of `receiver_requests_per_second`.
    pub receiver_requests_per_second_ci_high: Option<f64>,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the scenario text, the grid and the replication count (16 hex digits);
    /// `rwsim merge` refuses to join files whose ids differ.
    pub sweep_id: String,
    /// Points in the whole grid (all partitions).
    pub grid_points: u64,
}

/// What a row says about the sweep it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepMeta {
    /// Scenario name.
    pub scenario: String,
    /// See [`PointRow::sweep_id`].
    pub sweep_id: String,
    /// Points in the whole grid.
    pub grid_points: u64,
    /// `"2.42"` or `"3.x"`.
    pub prometheus: String,
}

impl PointRow {
    /// The row of a point from its replications' metrics, in replication order.
    pub fn new(meta: &SweepMeta, seed: u64, queue: &QueueConfig, runs: &[RunMetrics]) -> PointRow {
        let stat = |f: fn(&RunMetrics) -> f64| Stat::of(&runs.iter().map(f).collect::<Vec<_>>());
        let total = |f: fn(&RunMetrics) -> u64| runs.iter().map(f).sum::<u64>();
        let loss = stat(RunMetrics::loss_fraction);
        let lag = stat(|m| m.lag_max_seconds);
        let p50 = stat(|m| m.delivery_latency_p50_seconds);
        let p99 = stat(|m| m.delivery_latency_p99_seconds);
        let mem = stat(|m| m.queue_memory_bytes_peak as f64);
        let shards = stat(|m| f64::from(m.shards_max));
        let rps = stat(|m| m.receiver_requests_per_second);
        let lo = |s: Stat| s.ci.map(|c| c.0);
        let hi = |s: Stat| s.ci.map(|c| c.1);
        PointRow {
            replications: runs.len() as u32,
            seed,
            prometheus: meta.prometheus.clone(),
            capacity: queue.capacity,
            max_shards: queue.max_shards,
            min_shards: queue.min_shards,
            max_samples_per_send: queue.max_samples_per_send,
            batch_send_deadline: prometheus_duration(queue.batch_send_deadline),
            min_backoff: prometheus_duration(queue.min_backoff),
            max_backoff: prometheus_duration(queue.max_backoff),
            retry_on_http_429: queue.retry_on_http_429,
            sample_age_limit: prometheus_duration(queue.sample_age_limit),
            loss_fraction: loss.mean,
            loss_fraction_ci_low: lo(loss),
            loss_fraction_ci_high: hi(loss),
            appended: total(|m| m.appended),
            failed: total(|m| m.failed),
            dropped_wal_truncation: total(|m| m.dropped_wal_truncation),
            dropped_too_old: total(|m| m.dropped_too_old),
            dropped_reshard_shutdown: total(|m| m.dropped_reshard_shutdown),
            pending_at_end: total(|m| m.pending_at_end),
            lag_max_seconds: lag.mean,
            lag_max_seconds_ci_low: lo(lag),
            lag_max_seconds_ci_high: hi(lag),
            delivery_latency_p50_seconds: p50.mean,
            delivery_latency_p50_seconds_ci_low: lo(p50),
            delivery_latency_p50_seconds_ci_high: hi(p50),
            delivery_latency_p99_seconds: p99.mean,
            delivery_latency_p99_seconds_ci_low: lo(p99),
            delivery_latency_p99_seconds_ci_high: hi(p99),
            queue_memory_bytes_peak: mem.mean,
            queue_memory_bytes_peak_ci_low: lo(mem),
            queue_memory_bytes_peak_ci_high: hi(mem),
            shards_max: shards.mean,
            shards_max_ci_low: lo(shards),
            shards_max_ci_high: hi(shards),
            receiver_requests_per_second: rps.mean,
            receiver_requests_per_second_ci_low: lo(rps),
            receiver_requests_per_second_ci_high: hi(rps),
            scenario: meta.scenario.clone(),
            sweep_id: meta.sweep_id.clone(),
            grid_points: meta.grid_points,
        }
    }

    /// Value checked against `--max-loss`: the interval's upper end, else the mean.
    pub fn loss_upper(&self) -> f64 {
        self.loss_fraction_ci_high.unwrap_or(self.loss_fraction)
    }
    /// Value checked against `--max-p99-latency`.
    pub fn p99_upper(&self) -> f64 {
        self.delivery_latency_p99_seconds_ci_high.unwrap_or(self.delivery_latency_p99_seconds)
    }
    /// Value checked against `--max-memory`.
    pub fn memory_upper(&self) -> f64 {
        self.queue_memory_bytes_peak_ci_high.unwrap_or(self.queue_memory_bytes_peak)
    }
    /// Whether any sample of any replication never reached the receiver.
    pub fn loses_data(&self) -> bool {
        self.failed + self.dropped_wal_truncation + self.dropped_too_old + self.dropped_reshard_shutdown > 0
    }
}

/// One grid point: its index, the values of the swept keys, and its row.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPoint {
    /// 0-based index in the grid.
    pub index: u64,
    /// Values of the swept keys, in [`SweepResult::params`] order, in scenario syntax.
    pub params: Vec<String>,
    /// Metrics.
    pub row: PointRow,
}

/// The points of a sweep (all of them, or one partition's), sorted by index.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepResult {
    /// The swept keys, in grid order.
    pub params: Vec<String>,
    /// The points, sorted by [`SweepPoint::index`].
    pub points: Vec<SweepPoint>,
}

/// A `sweep.csv` that cannot be read or joined.
#[derive(Debug)]
pub enum SweepCsvError {
    /// The CSV layer failed (I/O or malformed CSV).
    Csv(csv::Error),
    /// The file is CSV but not a sweep.csv, or does not fit the others.
    Content(String),
}

impl fmt::Display for SweepCsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepCsvError::Csv(e) => e.fmt(f),
            SweepCsvError::Content(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SweepCsvError {}

impl From<csv::Error> for SweepCsvError {
    fn from(e: csv::Error) -> Self {
        SweepCsvError::Csv(e)
    }
}

/// The column names of [`PointRow`], in order.
pub fn row_columns() -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(PointRow::default()).expect("PointRow serialises to CSV");
    let bytes = w.into_inner().expect("in-memory writer");
    let text = String::from_utf8(bytes).expect("CSV is UTF-8");
    let header = text.lines().next().expect("a header line");
    header.split(',').map(str::to_string).collect()
}

/// Writes `sweep.csv`: a header (`point`, the swept keys, then [`row_columns`]) and one
/// line per point.
pub fn write_csv<W: Write>(result: &SweepResult, w: W) -> Result<W, csv::Error> {
    let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(w);
    let mut header = vec!["point".to_string()];
    header.extend(result.params.iter().cloned());
    header.extend(row_columns());
    out.write_record(&header)?;
    for p in &result.points {
        out.write_field(p.index.to_string())?;
        for v in &p.params {
            out.write_field(v)?;
        }
        out.serialize(&p.row)?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Reads a `sweep.csv` written by [`write_csv`].
pub fn read_csv<R: Read>(r: R) -> Result<SweepResult, SweepCsvError> {
    let mut rd = csv::ReaderBuilder::new().has_headers(true).from_reader(r);
    let header = rd.headers()?.clone();
    let cols = row_columns();
    let n_params = header.len().checked_sub(1 + cols.len()).filter(|_| {
        header.get(0) == Some("point")
            && header.iter().skip(header.len() - cols.len()).eq(cols.iter().map(String::as_str))
    });
    let Some(n_params) = n_params else {
        return Err(SweepCsvError::Content(
            "not a sweep.csv of this rwsim version: expected the columns point, the swept keys, then \
             replications, seed, ... grid_points"
                .into(),
        ));
    };
    let params: Vec<String> = header.iter().skip(1).take(n_params).map(str::to_string).collect();
    let row_header = csv::StringRecord::from(cols);
    let mut points = Vec::new();
    for rec in rd.records() {
        let rec = rec?;
        let index: u64 = rec[0].parse().map_err(|_| {
            SweepCsvError::Content(format!(
                "line {}: point {:?} is not a point index",
                rec.position().map_or(0, |p| p.line()),
                &rec[0]
            ))
        })?;
        let tail: csv::StringRecord = rec.iter().skip(1 + n_params).collect();
        let row: PointRow = tail.deserialize(Some(&row_header))?;
        points.push(SweepPoint { index, params: rec.iter().skip(1).take(n_params).map(str::to_string).collect(), row });
    }
    Ok(SweepResult { params, points })
}

/// Joins the points of partial results into one, sorted by index, and checks that they
/// belong to the same sweep and cover every point of its grid exactly once. `names` label
/// the parts in errors (file paths).
pub fn merge(parts: Vec<(String, SweepResult)>) -> Result<SweepResult, SweepCsvError> {
    let content = |m: String| Err(SweepCsvError::Content(m));
    let mut params: Option<(String, Vec<String>)> = None;
    let mut id: Option<(String, String, u64)> = None;
    let mut points: Vec<(SweepPoint, usize)> = Vec::new();
    let names: Vec<String> = parts.iter().map(|(n, _)| n.clone()).collect();
    for (i, (name, part)) in parts.into_iter().enumerate() {
        match &params {
            None => params = Some((name.clone(), part.params.clone())),
            Some((first, p)) if *p != part.params => {
                return content(format!(
                    "{name} sweeps {} but {first} sweeps {}: they are not parts of one sweep",
                    part.params.join(", "),
                    p.join(", ")
                ));
            }
            Some(_) => {}
        }
        for p in part.points {
            match &id {
                None => {
                    id = Some((name.clone(), p.row.sweep_id.clone(), p.row.grid_points));
                }
                Some((first, sid, _)) if *sid != p.row.sweep_id => {
                    return content(format!(
                        "{name} has sweep_id {} but {first} has {sid}: they come from different \
                         scenarios, grids or replication counts",
                        p.row.sweep_id
                    ));
                }
                Some(_) => {}
            }
            points.push((p, i));
        }
    }
    let Some((_, _, grid_points)) = id else {
        return content("no points in any of the files".into());
    };
    points.sort_by_key(|(p, _)| p.index);
    for w in points.windows(2) {
        if w[0].0.index == w[1].0.index {
            return content(format!(
                "point {} is in both {} and {}: was a partition run twice?",
                w[0].0.index, names[w[0].1], names[w[1].1]
            ));
        }
    }
    let present: Vec<u64> = points.iter().map(|(p, _)| p.index).collect();
    if let Some(bad) = present.iter().find(|&&i| i >= grid_points) {
        return content(format!("point {bad} is outside the grid of {grid_points} points"));
    }
    if present.len() as u64 != grid_points {
        let missing: Vec<u64> = (0..grid_points).filter(|i| present.binary_search(i).is_err()).collect();
        let shown: Vec<String> = missing.iter().take(10).map(u64::to_string).collect();
        let more = if missing.len() > 10 { format!(" and {} more", missing.len() - 10) } else { String::new() };
        return content(format!(
            "{} of the {grid_points} points are missing (points {}{more}): did every partition finish?",
            missing.len(),
            shown.join(", ")
        ));
    }
    Ok(SweepResult {
        params: params.map(|(_, p)| p).unwrap_or_default(),
        points: points.into_iter().map(|(p, _)| p).collect(),
    })
}

/// Targets of the recommendation. A point meets a target when its value — the upper end of
/// the 95 % interval with two or more replications, else the mean — is at most the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    /// Largest acceptable loss fraction (0 = no sample may be lost).
    pub max_loss: f64,
    /// Largest acceptable p99 delivery latency, seconds.
    pub max_p99_seconds: Option<f64>,
    /// Largest acceptable peak queue memory, bytes.
    pub max_memory_bytes: Option<u64>,
}

impl Default for Targets {
    fn default() -> Self {
        Targets { max_loss: 0.0, max_p99_seconds: None, max_memory_bytes: None }
    }
}

/// One target, for reporting.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// `--max-loss`.
    Loss,
    /// `--max-p99-latency`.
    P99,
    /// `--max-memory`.
    Memory,
}

impl Targets {
    /// The targets that are set, in a fixed order.
    pub fn active(&self) -> Vec<Target> {
        let mut t = vec![Target::Loss];
        if self.max_p99_seconds.is_some() {
            t.push(Target::P99);
        }
        if self.max_memory_bytes.is_some() {
            t.push(Target::Memory);
        }
        t
    }

    /// Whether `row` meets target `t`.
    pub fn meets(&self, t: Target, row: &PointRow) -> bool {
        match t {
            Target::Loss => row.loss_upper() <= self.max_loss,
            Target::P99 => self.max_p99_seconds.is_none_or(|m| row.p99_upper() <= m),
            Target::Memory => self.max_memory_bytes.is_none_or(|m| row.memory_upper() <= m as f64),
        }
    }

    /// Whether `row` meets every target.
    pub fn meets_all(&self, row: &PointRow) -> bool {
        self.active().into_iter().all(|t| self.meets(t, row))
    }

    /// `loss ≤ 0%`, `p99 delivery latency ≤ 30s`, ...
    pub fn describe(&self, t: Target) -> String {
        match t {
            Target::Loss => format!("loss ≤ {}", percent(self.max_loss)),
            Target::P99 => format!("p99 delivery latency ≤ {}", secs(self.max_p99_seconds.unwrap_or(0.0))),
            Target::Memory => format!("peak queue memory ≤ {}", bytes(self.max_memory_bytes.unwrap_or(0))),
        }
    }
}

/// Indices (into `result.points`) of the Pareto front over (loss fraction, peak queue
/// memory, p99 delivery latency), all minimised, using means. A point is on the front when
/// no other point is at least as good in all three and better in one. Sorted by loss, then
/// memory, then p99, then grid order.
pub fn pareto_front(result: &SweepResult) -> Vec<usize> {
    let key = |i: usize| {
        let r = &result.points[i].row;
        (r.loss_fraction, r.queue_memory_bytes_peak, r.delivery_latency_p99_seconds)
    };
    let mut order: Vec<usize> = (0..result.points.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then(result.points[a].index.cmp(&result.points[b].index))
    });
    // In this order a dominating point always comes first, and dominance is transitive, so
    // checking against the front found so far is enough.
    let dominates = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        a.0 <= b.0 && a.1 <= b.1 && a.2 <= b.2 && (a.0 < b.0 || a.1 < b.1 || a.2 < b.2)
    };
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        if !front.iter().any(|&f| dominates(key(f), key(i))) {
            front.push(i);
        }
    }
    front
}

/// The outcome of checking the points against the targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// A point meets every target.
    Chosen {
        /// Index into `result.points`.
        point: usize,
        /// How many points meet every target.
        candidates: usize,
    },
    /// No point meets every target.
    NoneMeets {
        /// For each target: how many points meet it.
        met_by: Vec<(Target, usize)>,
        /// The point closest to the targets (index into `result.points`): the most targets
        /// met, then the lowest loss, then the lowest p99, then the least memory.
        closest: usize,
    },
}

/// Whether a swept key is a sender setting — `remote_write.*`, `sender.*` or `tsdb.*`, what
/// an SRE sets in `prometheus.yml` or Prometheus's flags — rather than a condition of the
/// world (the workload, the receiver, its faults and incidents) that a setting has to hold
/// across.
pub fn is_setting(key: &str) -> bool {
    ["remote_write.", "sender.", "tsdb."].iter().any(|p| key.starts_with(p))
}

/// The swept keys that are conditions (see [`is_setting`]).
pub fn condition_keys(result: &SweepResult) -> Vec<&str> {
    result.params.iter().map(String::as_str).filter(|k| !is_setting(k)).collect()
}

/// Points grouped by the values of their setting keys, each group in grid order, groups in
/// the order of their first point. Without swept conditions every point is its own group.
pub fn setting_groups(result: &SweepResult) -> Vec<Vec<usize>> {
    let settings: Vec<usize> = (0..result.params.len()).filter(|&k| is_setting(&result.params[k])).collect();
    let mut groups: Vec<(Vec<&str>, Vec<usize>)> = Vec::new();
    for (i, p) in result.points.iter().enumerate() {
        let key: Vec<&str> = settings.iter().map(|&k| p.params[k].as_str()).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

/// The worst case of a group of points: the row of its lossiest point with every metric —
/// mean and interval — at its largest over the group. A setting is judged by this.
pub fn worst_row(result: &SweepResult, group: &[usize]) -> PointRow {
    let rows: Vec<&PointRow> = group.iter().map(|&i| &result.points[i].row).collect();
    let lossiest = rows.iter().copied().max_by(|a, b| a.loss_upper().total_cmp(&b.loss_upper())).expect("a group");
    let mut w = lossiest.clone();
    let max = |f: fn(&PointRow) -> f64| rows.iter().map(|r| f(r)).fold(f64::NEG_INFINITY, f64::max);
    let max_opt = |f: fn(&PointRow) -> Option<f64>| rows.iter().filter_map(|r| f(r)).reduce(f64::max);
    w.loss_fraction = max(|r| r.loss_fraction);
    w.loss_fraction_ci_high = max_opt(|r| r.loss_fraction_ci_high);
    w.lag_max_seconds = max(|r| r.lag_max_seconds);
    w.delivery_latency_p50_seconds = max(|r| r.delivery_latency_p50_seconds);
    w.delivery_latency_p99_seconds = max(|r| r.delivery_latency_p99_seconds);
    w.delivery_latency_p99_seconds_ci_high = max_opt(|r| r.delivery_latency_p99_seconds_ci_high);
    w.queue_memory_bytes_peak = max(|r| r.queue_memory_bytes_peak);
    w.queue_memory_bytes_peak_ci_high = max_opt(|r| r.queue_memory_bytes_peak_ci_high);
    w.shards_max = max(|r| r.shards_max);
    w.receiver_requests_per_second = max(|r| r.receiver_requests_per_second);
    w
}

/// The worst case of the setting that `point` (an index into `result.points`) belongs to:
/// what a recommendation promises. Without swept conditions, the point's own row.
pub fn recommended_row(result: &SweepResult, point: usize) -> PointRow {
    let group = setting_groups(result).into_iter().find(|g| g.contains(&point)).expect("every point has a group");
    worst_row(result, &group)
}

/// Picks the recommended setting. A candidate is a combination of the swept sender settings,
/// judged by its worst case over every swept condition (outage length, workload size,
/// receiver faults, ...): it must meet every target under all of them — the answer to "which
/// queue_config is safe for any of these outages". Among the candidates that do, the one with
/// the least peak queue memory wins; ties go to the lower p99 delivery latency, then the lower
/// loss, then the earlier grid point. Without swept conditions a candidate is a point.
/// `point` in the outcome is the first grid point of the chosen setting. `None` for an empty
/// result.
pub fn recommend(result: &SweepResult, targets: &Targets) -> Option<Recommendation> {
    let groups = setting_groups(result);
    if groups.is_empty() {
        return None;
    }
    let rows: Vec<PointRow> = groups.iter().map(|g| worst_row(result, g)).collect();
    let first = |g: usize| result.points[groups[g][0]].index;
    let by = |a: usize, b: usize, keys: &[fn(&PointRow) -> f64]| {
        keys.iter()
            .map(|k| k(&rows[a]).total_cmp(&k(&rows[b])))
            .fold(std::cmp::Ordering::Equal, std::cmp::Ordering::then)
            .then(first(a).cmp(&first(b)))
    };
    let meeting: Vec<usize> = (0..rows.len()).filter(|&g| targets.meets_all(&rows[g])).collect();
    if let Some(&best) = meeting.iter().min_by(|&&a, &&b| {
        by(a, b, &[|r| r.queue_memory_bytes_peak, |r| r.delivery_latency_p99_seconds, |r| r.loss_fraction])
    }) {
        return Some(Recommendation::Chosen { point: groups[best][0], candidates: meeting.len() });
    }
    let active = targets.active();
    let met = |g: usize| active.iter().filter(|&&t| targets.meets(t, &rows[g])).count();
    let closest = (0..rows.len())
        .min_by(|&a, &b| {
            met(b).cmp(&met(a)).then(by(
                a,
                b,
                &[|r| r.loss_fraction, |r| r.delivery_latency_p99_seconds, |r| r.queue_memory_bytes_peak],
            ))
        })
        .expect("non-empty");
    Some(Recommendation::NoneMeets {
        met_by: active.iter().map(|&t| (t, rows.iter().filter(|r| targets.meets(t, r)).count())).collect(),
        closest: groups[closest][0],
    })
}

/// What a candidate is, for messages: `points`, or `settings` when conditions are swept,
/// with how many there are.
pub fn candidates_of(result: &SweepResult) -> (usize, &'static str) {
    if condition_keys(result).is_empty() {
        (result.points.len(), "points")
    } else {
        (setting_groups(result).len(), "settings")
    }
}

/// A fraction as a percentage with enough digits to tell 0 from a small loss.
pub fn percent(f: f64) -> String {
    if f == 0.0 {
        "0%".into()
    } else if f >= 0.001 {
        format!("{:.2}%", f * 100.0)
    } else {
        format!("{:.2e}%", f * 100.0)
    }
}

/// Display names of the swept keys: the last dotted part when that is unambiguous.
pub fn short_names(params: &[String]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    let shorts: Vec<String> = params.iter().map(|k| last(k)).collect();
    let unique = shorts.iter().enumerate().all(|(i, s)| !shorts[..i].contains(s));
    if unique { shorts } else { params.to_vec() }
}

/// `key = value, key = value` of a point (or "the scenario as written" without keys).
pub fn assignments(result: &SweepResult, p: &SweepPoint) -> String {
    if result.params.is_empty() {
        return "the scenario as written".into();
    }
    result.params.iter().zip(&p.params).map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// `loss 0%, p99 delivery latency 1h41m, peak queue memory 10.1 MiB`.
pub fn metrics_line(r: &PointRow) -> String {
    format!(
        "loss {}, p99 delivery latency {}, peak queue memory {}",
        percent(r.loss_fraction),
        secs(r.delivery_latency_p99_seconds),
        bytes(r.queue_memory_bytes_peak.round() as u64)
    )
}

/// The `queue_config:` block of a point, in `prometheus.yml` spelling, indented by `indent`.
pub fn queue_config_yaml(r: &PointRow, indent: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{indent}queue_config:");
    let mut kv = |k: &str, v: &dyn fmt::Display| {
        let _ = writeln!(o, "{indent}  {k}: {v}");
    };
    kv("capacity", &r.capacity);
    kv("max_shards", &r.max_shards);
    kv("min_shards", &r.min_shards);
    kv("max_samples_per_send", &r.max_samples_per_send);
    kv("batch_send_deadline", &r.batch_send_deadline);
    kv("min_backoff", &r.min_backoff);
    kv("max_backoff", &r.max_backoff);
    kv("retry_on_http_429", &r.retry_on_http_429);
    // Added in v2.50.0: a 2.42 config must not have the key at all.
    if r.prometheus != "2.42" {
        kv("sample_age_limit", &r.sample_age_limit);
    }
    o
}

/// Why the recommendation was chosen among `candidates` qualifying candidates.
pub fn why(result: &SweepResult, candidates: usize) -> String {
    let (n, noun) = candidates_of(result);
    let conditions = condition_keys(result);
    if conditions.is_empty() {
        return format!(
            "the least peak queue memory of the {candidates} of {n} {noun} that meet every target \
             (ties go to the lower p99 latency, then the lower loss, then the earlier point)"
        );
    }
    let per = result.points.len() / n.max(1);
    format!(
        "the least worst-case peak queue memory of the {candidates} of {n} {noun} that meet every target \
         under all {per} swept conditions ({}); the metrics shown are its worst case \
         (ties go to the lower p99 latency, then the lower loss, then the earlier point)",
        conditions.join(", ")
    )
}

/// `key = value, ...` of the setting a point belongs to: the swept setting keys only when
/// conditions are swept too (the recommendation holds for all of them).
pub fn setting_assignments(result: &SweepResult, p: &SweepPoint) -> String {
    if condition_keys(result).is_empty() {
        return assignments(result, p);
    }
    let set: Vec<String> =
        result.params.iter().zip(&p.params).filter(|(k, _)| is_setting(k)).map(|(k, v)| format!("{k} = {v}")).collect();
    let conditions = condition_keys(result).join(", ");
    if set.is_empty() {
        format!("the scenario's own settings, for every swept {conditions}")
    } else {
        format!("{}, for every swept {conditions}", set.join(", "))
    }
}

/// The distinct values of swept key `key` (an index into `result.params`), in the order
/// the points first use them: for a whole grid, the order of the key's values.
pub fn distinct_values(result: &SweepResult, key: usize) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for p in &result.points {
        if !out.contains(&p.params[key].as_str()) {
            out.push(&p.params[key]);
        }
    }
    out
}

/// A swept key and its values in grid order, as `sweep.json` lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridKey {
    /// The key, e.g. `remote_write.queue_config.max_shards`.
    pub key: String,
    /// Its values in scenario syntax, in grid order.
    pub values: Vec<String>,
}

/// `sweep.json`, written next to `sweep.csv` by `rwsim sweep` and `rwsim merge`: the
/// targets the recommendation was made against (which `sweep.csv` does not hold, and
/// `rwsim report DIR` needs), the outcome, and the chart files. Field order is the file's.
/// Every point is named by its grid index (the `point` column of `sweep.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// Scenario name.
    pub scenario: String,
    /// `"2.42"` or `"3.x"`.
    pub prometheus: String,
    /// See [`PointRow::sweep_id`].
    pub sweep_id: String,
    /// Points in the grid.
    pub grid_points: u64,
    /// Replications per point.
    pub replications: u32,
    /// The swept keys and their values.
    pub grid: Vec<GridKey>,
    /// The recommendation's targets.
    pub targets: Targets,
    /// The Pareto front ([`pareto_front`]), in the order of the printed table.
    pub pareto_front: Vec<u64>,
    /// The outcome ([`recommend`]); `null` for an empty sweep.
    pub recommendation: Option<Recommendation>,
    /// File stems of the charts next to it (`NAME.png`, `NAME.svg`).
    pub charts: Vec<String>,
}

impl SweepSummary {
    /// The summary of a whole sweep.
    pub fn new(result: &SweepResult, targets: &Targets, charts: Vec<String>) -> SweepSummary {
        let first = result.points.first().map(|p| &p.row);
        let grid_index = |i: usize| result.points[i].index as usize;
        SweepSummary {
            scenario: first.map(|r| r.scenario.clone()).unwrap_or_default(),
            prometheus: first.map(|r| r.prometheus.clone()).unwrap_or_default(),
            sweep_id: first.map(|r| r.sweep_id.clone()).unwrap_or_default(),
            grid_points: first.map_or(0, |r| r.grid_points),
            replications: first.map_or(0, |r| r.replications),
            grid: (0..result.params.len())
                .map(|i| GridKey {
                    key: result.params[i].clone(),
                    values: distinct_values(result, i).into_iter().map(str::to_string).collect(),
                })
                .collect(),
            targets: targets.clone(),
            pareto_front: pareto_front(result).into_iter().map(|i| result.points[i].index).collect(),
            recommendation: recommend(result, targets).map(|r| match r {
                Recommendation::Chosen { point, candidates } => {
                    Recommendation::Chosen { point: grid_index(point), candidates }
                }
                Recommendation::NoneMeets { met_by, closest } => {
                    Recommendation::NoneMeets { met_by, closest: grid_index(closest) }
                }
            }),
            charts,
        }
    }

    /// The file's text: pretty-printed JSON and a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a SweepSummary serialises");
        s.push('\n');
        s
    }
}

/// The report printed by `rwsim sweep` and `rwsim merge`: the grid, the Pareto front and
/// the recommendation.
pub fn render(result: &SweepResult, targets: &Targets) -> String {
    let mut o = String::new();
    let Some(first) = result.points.first() else {
        let _ = writeln!(o, "rwsim sweep: no points");
        return o;
    };
    let n = result.points.len();
    let k = first.row.replications;
    let _ = writeln!(
        o,
        "rwsim sweep: {} (Prometheus {}), {n} point{} × {k} replication{}",
        first.row.scenario,
        first.row.prometheus,
        if n == 1 { "" } else { "s" },
        if k == 1 { "" } else { "s" },
    );
    for (i, key) in result.params.iter().enumerate() {
        let distinct = distinct_values(result, i);
        let shown = if distinct.len() <= 8 {
            distinct.join(", ")
        } else {
            format!(
                "{}, {}, ..., {} ({} values)",
                distinct[0],
                distinct[1],
                distinct[distinct.len() - 1],
                distinct.len()
            )
        };
        let _ = writeln!(o, "  {key}: {shown}");
    }
    if k > 1 {
        let _ = writeln!(
            o,
            "  metrics are means over {k} seeds per point; sweep.csv has their {:.0}% confidence intervals",
            CONFIDENCE * 100.0
        );
    }

    let front = pareto_front(result);
    let _ = writeln!(
        o,
        "\nPareto front over loss, peak queue memory and p99 delivery latency (all minimised): {} of {n} points",
        front.len()
    );
    let names = short_names(&result.params);
    let mut header = format!("  {:>6}", "point");
    for name in &names {
        let _ = write!(header, "  {name:>12}");
    }
    let _ = write!(header, "  {:>10}  {:>12}  {:>12}", "loss", "queue memory", "p99 latency");
    let _ = writeln!(o, "{header}");
    for &i in front.iter().take(PARETO_LINES) {
        let p = &result.points[i];
        let mut line = format!("  {:>6}", p.index);
        for v in &p.params {
            let _ = write!(line, "  {v:>12}");
        }
        let _ = write!(
            line,
            "  {:>10}  {:>12}  {:>12}",
            percent(p.row.loss_fraction),
            bytes(p.row.queue_memory_bytes_peak.round() as u64),
            secs(p.row.delivery_latency_p99_seconds)
        );
        let _ = writeln!(o, "{line}");
    }
    if front.len() > PARETO_LINES {
        let _ = writeln!(o, "  ... and {} more on the front (see sweep.csv)", front.len() - PARETO_LINES);
    }

    let active = targets.active();
    let wanted: Vec<String> = active.iter().map(|&t| targets.describe(t)).collect();
    let _ = writeln!(o, "\nTargets: {}", wanted.join(", "));
    if k > 1 {
        let _ = writeln!(o, "  checked against the upper end of each {:.0}% confidence interval", CONFIDENCE * 100.0);
    }
    match recommend(result, targets) {
        Some(Recommendation::Chosen { point, candidates }) => {
            let p = &result.points[point];
            let _ = writeln!(o, "\nRecommendation: point {}: {}", p.index, setting_assignments(result, p));
            let _ = writeln!(o, "  {}", metrics_line(&recommended_row(result, point)));
            let _ = writeln!(o, "  why: {}", why(result, candidates));
            let _ = writeln!(
                o,
                "\n  Paste into the remote_write entry of prometheus.yml (Prometheus {}):\n",
                p.row.prometheus
            );
            o.push_str(&queue_config_yaml(&p.row, "    "));
        }
        Some(Recommendation::NoneMeets { met_by, closest }) => {
            let (total, noun) = candidates_of(result);
            let whole = if noun == "settings" { " under every swept condition" } else { "" };
            let _ = writeln!(o, "\nNo recommendation: no {} meets every target{whole}.", &noun[..noun.len() - 1]);
            for (t, count) in &met_by {
                let _ = writeln!(o, "  {}: met by {count} of {total} {noun}{whole}", targets.describe(*t));
            }
            if result.points.iter().all(|p| p.row.loses_data()) {
                let best = result
                    .points
                    .iter()
                    .min_by(|a, b| a.row.loss_fraction.total_cmp(&b.row.loss_fraction).then(a.index.cmp(&b.index)))
                    .expect("non-empty");
                let _ = writeln!(
                    o,
                    "  Every point of this grid loses data (the least: {} at point {}): no queue_config here \
                     keeps this scenario loss-free.",
                    percent(best.row.loss_fraction),
                    best.index
                );
            }
            let c = &result.points[closest];
            let _ = writeln!(
                o,
                "  Closest: point {}: {}\n    {}",
                c.index,
                setting_assignments(result, c),
                metrics_line(&recommended_row(result, closest))
            );
        }
        None => {}
    }
    let _ = writeln!(
        o,
        "\nLoss counts every sample that never reached the receiver: failed (4xx, 429 without retry) and \
         dropped, including samples deleted by WAL truncation, which no Prometheus metric reports."
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(loss: f64, mem: f64, p99: f64) -> PointRow {
        PointRow {
            replications: 1,
            loss_fraction: loss,
            queue_memory_bytes_peak: mem,
            delivery_latency_p99_seconds: p99,
            appended: 1000,
            failed: (loss * 1000.0) as u64,
            prometheus: "3.x".into(),
            ..PointRow::default()
        }
    }

    fn result(rows: Vec<PointRow>) -> SweepResult {
        SweepResult {
            params: vec!["remote_write.queue_config.capacity".into()],
            points: rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| SweepPoint { index: i as u64, params: vec![(i * 1000).to_string()], row })
                .collect(),
        }
    }

    #[test]
    fn stats_have_an_interval_only_with_replications() {
        let one = Stat::of(&[3.0]);
        assert_eq!((one.mean, one.ci), (3.0, None));
        let s = Stat::of(&[1.0, 2.0, 3.0]);
        assert_eq!(s.mean, 2.0);
        let (lo, hi) = s.ci.unwrap();
        // t(0.975, 2) = 4.303; s = 1; half = 4.303 / sqrt(3) = 2.484
        assert!((hi - 4.484).abs() < 1e-3, "{hi}");
        assert_eq!(lo, 0.0, "clamped at 0");
        assert_eq!(Stat::of(&[5.0, 5.0]).ci, Some((5.0, 5.0)));
    }

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let r = result(vec![
            row(0.0, 100.0, 10.0), // 0: front
            row(0.0, 200.0, 10.0), // 1: dominated by 0
            row(0.0, 200.0, 5.0),  // 2: front (better p99)
            row(0.1, 50.0, 5.0),   // 3: front (least memory)
            row(0.1, 50.0, 5.0),   // 4: equal to 3: neither dominates
            row(0.2, 60.0, 6.0),   // 5: dominated by 3
        ]);
        assert_eq!(pareto_front(&r), vec![0, 2, 3, 4]);
    }

    #[test]
    fn recommendation_takes_least_memory_then_p99_then_loss_then_order() {
        let r = result(vec![
            row(0.0, 300.0, 10.0),
            row(0.0, 100.0, 20.0),
            row(0.0, 100.0, 10.0),
            row(0.0, 100.0, 10.0),
            row(0.5, 10.0, 1.0),
        ]);
        let t = Targets::default();
        assert_eq!(recommend(&r, &t), Some(Recommendation::Chosen { point: 2, candidates: 4 }));
        let t = Targets { max_p99_seconds: Some(15.0), max_memory_bytes: Some(200), ..Targets::default() };
        assert_eq!(recommend(&r, &t), Some(Recommendation::Chosen { point: 2, candidates: 2 }));
        let t = Targets { max_p99_seconds: Some(0.5), ..Targets::default() };
        match recommend(&r, &t) {
            Some(Recommendation::NoneMeets { met_by, closest }) => {
                assert_eq!(met_by, vec![(Target::Loss, 4), (Target::P99, 0)]);
                assert_eq!(closest, 2, "meets loss; then lowest p99, least memory");
            }
            other => panic!("{other:?}"),
        }
    }

    /// capacity (a setting) × outage length (a condition): the cheap setting is loss-free only
    /// at the short outage; the recommendation must hold for every swept outage.
    #[test]
    fn recommendation_holds_across_swept_conditions() {
        let point = |i: u64, cap: &str, len: &str, row: PointRow| SweepPoint {
            index: i,
            params: vec![cap.into(), len.into()],
            row,
        };
        let r = SweepResult {
            params: vec!["remote_write.queue_config.capacity".into(), "receiver.fault[0].length".into()],
            points: vec![
                point(0, "2500", "1h", row(0.0, 100.0, 10.0)),
                point(1, "2500", "3h", row(0.2, 100.0, 10.0)),
                point(2, "10000", "1h", row(0.0, 300.0, 12.0)),
                point(3, "10000", "3h", row(0.0, 400.0, 20.0)),
            ],
        };
        assert_eq!(setting_groups(&r), vec![vec![0, 1], vec![2, 3]]);
        let rec = recommend(&r, &Targets::default());
        assert_eq!(rec, Some(Recommendation::Chosen { point: 2, candidates: 1 }), "not point 0, cheap at 1h only");
        let worst = recommended_row(&r, 2);
        assert_eq!((worst.queue_memory_bytes_peak, worst.delivery_latency_p99_seconds), (400.0, 20.0));
        let text = render(&r, &Targets::default());
        assert!(text.contains("capacity = 10000, for every swept receiver.fault[0].length"), "{text}");
        assert!(text.contains("1 of 2 settings that meet every target under all 2 swept conditions"), "{text}");
        // Nothing meets a 15 s p99 in its worst case, although point 2 alone would.
        let t = Targets { max_p99_seconds: Some(15.0), ..Targets::default() };
        let text = render(&r, &t);
        assert!(text.contains("No recommendation: no setting meets every target under every swept condition."));
        assert!(!text.contains("queue_config:"));
    }

    #[test]
    fn all_lossy_grid_says_so_and_recommends_nothing() {
        let r = result(vec![row(0.2, 100.0, 10.0), row(0.1, 200.0, 10.0)]);
        let text = render(&r, &Targets::default());
        assert!(text.contains("No recommendation: no point meets every target."), "{text}");
        assert!(text.contains("Every point of this grid loses data (the least: 10.00% at point 1)"));
        assert!(!text.contains("queue_config:"));
    }

    #[test]
    fn yaml_uses_prometheus_spelling_and_omits_keys_the_version_lacks() {
        let mut r = row(0.0, 1.0, 1.0);
        r.capacity = 5000;
        r.batch_send_deadline = prometheus_duration(SimDuration::from_secs(5));
        r.min_backoff = prometheus_duration(SimDuration::from_millis(30));
        r.sample_age_limit = prometheus_duration(SimDuration::ZERO);
        let y = queue_config_yaml(&r, "");
        assert!(y.starts_with("queue_config:\n  capacity: 5000\n"), "{y}");
        assert!(y.contains("  batch_send_deadline: 5s\n  min_backoff: 30ms\n"));
        assert!(y.contains("sample_age_limit: 0s"));
        r.prometheus = "2.42".into();
        assert!(!queue_config_yaml(&r, "").contains("sample_age_limit"));
        assert_eq!(prometheus_duration(SimDuration::from_millis(90_500)), "1m30s500ms");
    }

    #[test]
    fn csv_round_trips_byte_for_byte() {
        let mut rows = vec![row(0.0, 100.0, 10.0), row(0.25, 200.5, 1e-7)];
        rows[1].loss_fraction_ci_low = Some(0.1);
        rows[1].loss_fraction_ci_high = Some(0.4);
        let r = result(rows);
        let bytes = write_csv(&r, Vec::new()).unwrap();
        let back = read_csv(bytes.as_slice()).unwrap();
        assert_eq!(back, r);
        assert_eq!(write_csv(&back, Vec::new()).unwrap(), bytes);
        let header = String::from_utf8(bytes).unwrap();
        assert!(header.starts_with("point,remote_write.queue_config.capacity,replications,seed,"));
    }

    #[test]
    fn merge_checks_the_parts_fit() {
        let mut r = result(vec![row(0.0, 1.0, 1.0), row(0.0, 2.0, 1.0), row(0.0, 3.0, 1.0)]);
        for p in &mut r.points {
            p.row.grid_points = 3;
            p.row.sweep_id = "abc".into();
        }
        let part = |keep: &[u64]| SweepResult {
            params: r.params.clone(),
            points: r.points.iter().filter(|p| keep.contains(&p.index)).cloned().collect(),
        };
        let merged = merge(vec![("b".into(), part(&[1])), ("a".into(), part(&[0, 2]))]).unwrap();
        assert_eq!(merged, r);
        let e = merge(vec![("a".into(), part(&[0, 2]))]).unwrap_err().to_string();
        assert!(e.contains("1 of the 3 points are missing (points 1)"), "{e}");
        let e = merge(vec![("a".into(), part(&[0, 1])), ("b".into(), part(&[1, 2]))]).unwrap_err().to_string();
        assert!(e.contains("point 1 is in both a and b"), "{e}");
        let mut other = part(&[1]);
        other.points[0].row.sweep_id = "def".into();
        let e = merge(vec![("a".into(), part(&[0, 2])), ("b".into(), other)]).unwrap_err().to_string();
        assert!(e.contains("different"), "{e}");
    }
}
