//! Sweep results as data: one row per grid point with statistics across replications, the
//! Pareto front over settings, the noise-aware recommendation, and the outage budget of each
//! setting when the outage length is swept.
//!
//! Everything here is pure: a [`SweepResult`] in, indices and rows out. `reports` renders
//! them (`sweep.csv`, `sweep.json`, text, charts); the same result gives the same answer, so
//! a sweep run in one go and one merged from partitions agree.

pub use crate::stats::{CONFIDENCE, Stat};
use crate::stats::{LOSS_TIE_ABS, LOSS_TIE_REL, indistinct};
use serde::{Deserialize, Serialize};
use sim_core::config::QueueConfig;
use sim_core::result::RunResult;
use sim_core::time::{NANOS_PER_MILLI, SimDuration};
use std::fmt::Write as _;

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
    /// The other losses of the run's gaps: the sender's own (WAL skipped by a restarted
    /// queue, samples never scraped while the process was down, unread WAL certain to be
    /// skipped at the end) and vmagent's (blocks dropped from a full disk queue, what a kill
    /// loses). `sweep.csv` has no column for them, but they count in the loss, so that a
    /// sweep's loss is the run's (`RunResult::gaps`).
    pub dropped_other: u64,
    /// Samples never scraped while the sender was down: not appended, but produced, so part
    /// of the loss's denominator as in [`RunResult::loss_fraction`] (no column of its own).
    pub not_scraped: u64,
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
            dropped_other: s.dropped.restart_skip
                + s.not_scraped
                + s.unsendable_at_end
                + s.dropped.disk_full
                + s.dropped.sender_crash,
            not_scraped: s.not_scraped,
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
        self.failed
            + self.dropped_wal_truncation
            + self.dropped_too_old
            + self.dropped_reshard_shutdown
            + self.dropped_other
    }

    /// `lost / (appended + not_scraped)`, as [`RunResult::loss_fraction`] (0 when nothing was
    /// produced).
    pub fn loss_fraction(&self) -> f64 {
        sim_core::result::loss_share(self.lost(), self.appended + self.not_scraped)
    }
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
/// every `dropped_*` reason (WAL truncation included, which Prometheus reports nowhere), and
/// for vmagent its disk-full and crash drops, which have no column; `pending_at_end` is not
/// lost.
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
    /// The outage budget of this point's setting, seconds: the longest swept outage length
    /// (`receiver.fault[N].length`) such that it and every shorter swept length lose nothing,
    /// under every other swept condition; 0 when even the shortest loses data; empty when no
    /// length is swept (or in a partition's file: `rwsim merge` fills it). See
    /// [`fill_budgets`].
    pub outage_budget_seconds: Option<f64>,
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
            outage_budget_seconds: None,
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
        // The loss also holds vmagent's drops, which have no column.
        self.failed + self.dropped_wal_truncation + self.dropped_too_old + self.dropped_reshard_shutdown > 0
            || self.loss_fraction > 0.0
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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepResult {
    /// The swept keys, in grid order.
    pub params: Vec<String>,
    /// The points, sorted by [`SweepPoint::index`].
    pub points: Vec<SweepPoint>,
    /// The sending program: how the recommended settings are spelled.
    pub sender: crate::settings::Sender,
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

    /// Whether a worst case given as plain values (no intervals) meets every target.
    pub fn meets_values(&self, loss: f64, p99_seconds: f64, memory_bytes: f64) -> bool {
        loss <= self.max_loss
            && self.max_p99_seconds.is_none_or(|m| p99_seconds <= m)
            && self.max_memory_bytes.is_none_or(|m| memory_bytes <= m as f64)
    }
}

/// Indices (into `result.points`) of the Pareto front over (loss fraction, peak queue
/// memory, p99 delivery latency), all minimised, using means. A candidate is on the front
/// when no other is at least as good in all three and better in one. Candidates are settings
/// judged by their worst case over the swept conditions ([`worst_row`]), each named by its
/// first point — never a condition (an outage length or start) as if it were an option —
/// or, without swept conditions, the points. Sorted by loss, then memory, then p99, then grid
/// order.
pub fn pareto_front(result: &SweepResult) -> Vec<usize> {
    let groups = setting_groups(result);
    let rows: Vec<PointRow> = groups.iter().map(|g| worst_row(result, g)).collect();
    let key = |g: usize| {
        let r = &rows[g];
        (r.loss_fraction, r.queue_memory_bytes_peak, r.delivery_latency_p99_seconds)
    };
    let first = |g: usize| result.points[groups[g][0]].index;
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(ka.2.total_cmp(&kb.2)).then(first(a).cmp(&first(b)))
    });
    // In this order a dominating candidate always comes first, and dominance is transitive,
    // so checking against the front found so far is enough.
    let dominates = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        a.0 <= b.0 && a.1 <= b.1 && a.2 <= b.2 && (a.0 < b.0 || a.1 < b.1 || a.2 < b.2)
    };
    let mut front: Vec<usize> = Vec::new();
    for g in order {
        if !front.iter().any(|&f| dominates(key(f), key(g))) {
            front.push(g);
        }
    }
    front.into_iter().map(|g| groups[g][0]).collect()
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
        /// met, then the lowest loss (within its noise), then the least memory, then the
        /// lowest p99.
        closest: usize,
    },
}

/// Whether a swept key is a sender setting — a `queue_config` or `remote_write` key, a
/// Prometheus flag (`tsdb.min_block_duration`, `tsdb.wal_segment_size`,
/// `sender.flush_deadline`), an attribute of Alloy's `wal` block or a vmagent flag — rather than a condition of the world (the workload, the
/// receiver, its faults and incidents) or a model constant (`tsdb.wal_bytes_per_sample`,
/// `sender.request_overhead`, ...), which a setting has to hold across.
pub fn is_setting(key: &str) -> bool {
    crate::settings::is_setting(key)
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

/// A metric the recommendation compares, with its noise rule.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Metric {
    Loss,
    Memory,
    P99,
}

impl Metric {
    /// The mean and interval of a row.
    fn of(self, r: &PointRow) -> (f64, Option<(f64, f64)>) {
        let ci = |lo: Option<f64>, hi: Option<f64>| lo.zip(hi);
        match self {
            Metric::Loss => (r.loss_fraction, ci(r.loss_fraction_ci_low, r.loss_fraction_ci_high)),
            Metric::Memory => {
                (r.queue_memory_bytes_peak, ci(r.queue_memory_bytes_peak_ci_low, r.queue_memory_bytes_peak_ci_high))
            }
            Metric::P99 => (
                r.delivery_latency_p99_seconds,
                ci(r.delivery_latency_p99_seconds_ci_low, r.delivery_latency_p99_seconds_ci_high),
            ),
        }
    }

    /// Whether two rows cannot be told apart on this metric: overlapping intervals with
    /// replications; without, a loss within [`LOSS_TIE_ABS`] / [`LOSS_TIE_REL`] (memory and
    /// p99 are compared as they are, and the report says a single run is noisy).
    fn tied(self, a: &PointRow, b: &PointRow) -> bool {
        let (tol_abs, tol_rel) = if self == Metric::Loss { (LOSS_TIE_ABS, LOSS_TIE_REL) } else { (0.0, 0.0) };
        indistinct(self.of(a), self.of(b), tol_abs, tol_rel)
    }
}

/// The candidate (index into `rows`) that is best on `metrics` in order, where a candidate
/// indistinguishable from the best on a metric stays in the running for the next one. Among
/// the last survivors, the best on the first metric as measured wins (so the choice is on
/// the Pareto front of the estimates whenever one of them is), then the earliest (`order`).
fn choose(cands: &[usize], rows: &[PointRow], metrics: &[Metric], order: impl Fn(usize) -> u64) -> usize {
    let mut alive: Vec<usize> = cands.to_vec();
    for &m in metrics {
        let best = *alive
            .iter()
            .min_by(|&&a, &&b| m.of(&rows[a]).0.total_cmp(&m.of(&rows[b]).0).then(order(a).cmp(&order(b))))
            .expect("candidates");
        alive.retain(|&c| c == best || m.tied(&rows[c], &rows[best]));
    }
    let first = metrics[0];
    *alive
        .iter()
        .min_by(|&&a, &&b| first.of(&rows[a]).0.total_cmp(&first.of(&rows[b]).0).then(order(a).cmp(&order(b))))
        .expect("the best survives")
}

/// Picks the recommended setting. A candidate is a combination of the swept sender settings,
/// judged by its worst case over every swept condition (outage length, workload size,
/// receiver faults, model constants, ...): it must meet every target under all of them — the
/// answer to "which queue_config is safe for any of these outages". Among the candidates that
/// do, the one with the least peak queue memory wins; candidates whose memory cannot be told
/// apart from the least (overlapping confidence intervals) go on to the lower p99 delivery
/// latency, then the lower loss, then the least memory as measured, then the earlier grid
/// point. When none meets every target,
/// the closest is among those meeting the most targets the lowest loss — where a loss within
/// the noise of the lowest counts as equal and the cheaper memory decides, so a setting is
/// never named for a difference smaller than its noise. Without swept conditions a candidate
/// is a point. `point` in the outcome is the first grid point of the chosen setting. `None`
/// for an empty result.
pub fn recommend(result: &SweepResult, targets: &Targets) -> Option<Recommendation> {
    let groups = setting_groups(result);
    if groups.is_empty() {
        return None;
    }
    let rows: Vec<PointRow> = groups.iter().map(|g| worst_row(result, g)).collect();
    let first = |g: usize| result.points[groups[g][0]].index;
    let meeting: Vec<usize> = (0..rows.len()).filter(|&g| targets.meets_all(&rows[g])).collect();
    if !meeting.is_empty() {
        let best = choose(&meeting, &rows, &[Metric::Memory, Metric::P99, Metric::Loss], first);
        return Some(Recommendation::Chosen { point: groups[best][0], candidates: meeting.len() });
    }
    let active = targets.active();
    let met = |g: usize| active.iter().filter(|&&t| targets.meets(t, &rows[g])).count();
    let most = (0..rows.len()).map(met).max().unwrap_or(0);
    let cands: Vec<usize> = (0..rows.len()).filter(|&g| met(g) == most).collect();
    let closest = choose(&cands, &rows, &[Metric::Loss, Metric::Memory, Metric::P99], first);
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

/// The index of the swept outage-length key (`receiver.fault[N].length`, the first one), if
/// any.
pub fn length_key(result: &SweepResult) -> Option<usize> {
    result.params.iter().position(|k| k.starts_with("receiver.fault[") && k.ends_with("].length"))
}

/// A duration in scenario syntax (`"1h30m"`, `"90s"`, `"250ms"`, `"1d"`) in seconds.
///
/// ```
/// assert_eq!(analysis::sweep::duration_seconds("1h30m"), Some(5400.0));
/// assert_eq!(analysis::sweep::duration_seconds("250ms"), Some(0.25));
/// assert_eq!(analysis::sweep::duration_seconds("5000"), None);
/// ```
pub fn duration_seconds(s: &str) -> Option<f64> {
    if s == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = [("ms", 0.001), ("d", 86_400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)]
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .map(|(u, m)| (*m, u.len()))?;
        total += n * unit;
        rest = &rest[len..];
    }
    Some(total)
}

/// Sets [`PointRow::outage_budget_seconds`] on every point when the outage length is swept:
/// per setting, the longest swept length that loses nothing — it and every shorter swept
/// length, under every other swept condition (outage start, workload, ...) — so a budget
/// never rests on a lucky long outage after a lossy short one. 0 when even the shortest
/// length loses data. The grid's spacing is the resolution; `rwsim budget` searches finer.
/// Without a swept length every budget is left empty.
pub fn fill_budgets(result: &mut SweepResult) {
    let Some(k) = length_key(result) else {
        for p in &mut result.points {
            p.row.outage_budget_seconds = None;
        }
        return;
    };
    for group in setting_groups(result) {
        let mut by_length: Vec<(f64, bool)> = Vec::new();
        for &i in &group {
            let p = &result.points[i];
            let Some(len) = duration_seconds(&p.params[k]) else { continue };
            let lossy = p.row.loses_data();
            match by_length.iter_mut().find(|(l, _)| *l == len) {
                Some(e) => e.1 |= lossy,
                None => by_length.push((len, lossy)),
            }
        }
        by_length.sort_by(|a, b| a.0.total_cmp(&b.0));
        let budget = by_length.iter().take_while(|(_, lossy)| !lossy).last().map_or(0.0, |(l, _)| *l);
        let known = !by_length.is_empty();
        for &i in &group {
            result.points[i].row.outage_budget_seconds = known.then_some(budget);
        }
    }
}
