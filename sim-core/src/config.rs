//! The validated model configuration: what one run simulates.
//!
//! Field names follow Prometheus (`capacity`, `max_shards`, `batch_send_deadline`, ...) and
//! every default says where it comes from. [`SimConfig::validate`] refuses settings that are
//! impossible or would make a run hang or exhaust memory; each error names the scenario key
//! it concerns, so the scenario loader can point at the line.

use crate::profile::Profile;
use crate::time::{Clock, NANOS_PER_MILLI, SimDuration};
use std::fmt;

/// Everything one simulation run needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Scenario name, echoed in results.
    pub name: String,
    /// Which Prometheus sender to model.
    pub profile: Profile,
    /// Seed of every random stream in the run.
    pub seed: u64,
    /// Length of the simulated run.
    pub duration: SimDuration,
    /// Where the run sits on the Unix clock (default 2024-01-01T00:00:00Z, a block boundary).
    pub clock: Clock,
    /// Scrape workload.
    pub workload: WorkloadConfig,
    /// The `remote_write` entry.
    pub remote_write: RemoteWriteConfig,
    /// Prometheus process settings that are flags, not `remote_write` keys.
    pub sender: SenderConfig,
    /// TSDB settings that decide when WAL segments are deleted.
    pub tsdb: TsdbConfig,
    /// The receiving endpoint and its faults.
    pub receiver: ReceiverConfig,
    /// Interval between rows of the metrics time series.
    pub output_step: SimDuration,
    /// Resource limits for the run itself.
    pub limits: Limits,
}

/// The scraped workload.
#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    /// Scraped series across all targets (excluding the per-target report series).
    pub series: u64,
    /// `scrape_interval` (Prometheus default 1m).
    pub scrape_interval: SimDuration,
    /// Number of scrape targets; each scrapes at its own fixed phase within the interval.
    pub targets: u32,
    /// Time from scrape start (the sample timestamp) to commit into the WAL. Default 0s.
    pub scrape_duration: SimDuration,
    /// Add Prometheus's 5 report series (`up`, `scrape_duration_seconds`, ...) per target.
    /// Default true, as in every real scrape.
    pub report_series: bool,
    /// Compressed remote-write request bytes per sample (for `bytes_total` and body limits).
    pub wire_bytes_per_sample: f64,
    /// Step changes of the series count, in time order.
    pub changes: Vec<WorkloadChange>,
}

/// A step change of the workload at a given offset.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadChange {
    /// Offset from the start of the run.
    pub at: SimDuration,
    /// The new number of scraped series from `at` on.
    pub series: u64,
}

/// One `remote_write` entry of prometheus.yml.
#[derive(Clone, Debug)]
pub struct RemoteWriteConfig {
    /// `remote_timeout`: per HTTP attempt, not per batch (§8). Default 30s.
    pub remote_timeout: SimDuration,
    /// `queue_config`.
    pub queue: QueueConfig,
}

/// `queue_config` with Prometheus's key names (§1).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueConfig {
    /// Per-shard buffer in samples, rounded down to whole batches (§6).
    pub capacity: u32,
    /// Upper clamp of the reshard result.
    pub max_shards: u32,
    /// Lower clamp; also the shard count at start.
    pub min_shards: u32,
    /// Batch size.
    pub max_samples_per_send: u32,
    /// Flush timer for partial batches, reset after every send.
    pub batch_send_deadline: SimDuration,
    /// First retry sleep after a recoverable error.
    pub min_backoff: SimDuration,
    /// Cap of send retries and of enqueue retries.
    pub max_backoff: SimDuration,
    /// Makes 429 recoverable. Default false in every version.
    pub retry_on_http_429: bool,
    /// v2.50+: drop data older than now − limit. Zero is off (the default).
    pub sample_age_limit: SimDuration,
}

impl QueueConfig {
    /// `config/config.go: DefaultQueueConfig` of the profile's version (§1).
    pub fn defaults(profile: Profile) -> Self {
        let (capacity, max_shards, msps) = match profile {
            // v2.42.0
            Profile::V2_42 => (2500, 200, 500),
            // v2.44.0 raised these; unchanged through v3.14.
            Profile::V3 => (10_000, 50, 2000),
        };
        QueueConfig {
            capacity,
            max_shards,
            min_shards: 1,
            max_samples_per_send: msps,
            batch_send_deadline: SimDuration::from_secs(5),
            min_backoff: SimDuration::from_millis(30),
            max_backoff: SimDuration::from_secs(5),
            retry_on_http_429: false,
            sample_age_limit: SimDuration::ZERO,
        }
    }

    /// Batch slots per shard: `capacity div MSPS`, at least 1 (§6).
    pub fn slots(&self) -> u64 {
        (u64::from(self.capacity) / u64::from(self.max_samples_per_send)).max(1)
    }
}

/// Process flags and model knobs of the sender that are not `remote_write` keys.
#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// `--storage.remote.flush-deadline`: how long a reshard waits for shards to drain. Default 1m.
    pub flush_deadline: SimDuration,
    /// Phase of the queue's 10 s `updateShardsLoop` ticker after the process-wide `dataIn`
    /// ticker (§9.1: arbitrary in Prometheus). Default 0: both tick together, dataIn first.
    pub reshard_tick_offset: SimDuration,
}

/// TSDB settings behind head compaction and WAL truncation (§11, §16).
#[derive(Clone, Debug)]
pub struct TsdbConfig {
    /// `--storage.tsdb.min-block-duration`, the block range R. Default 2h.
    pub min_block_duration: SimDuration,
    /// `--storage.tsdb.wal-segment-size`. Default 128 MiB; 10–256 MiB, multiple of 32 KiB.
    pub wal_segment_size: u64,
    /// WAL bytes per sample (compressed Samples records). Calibrated default, see docs.
    pub wal_bytes_per_sample: f64,
}

/// The receiving endpoint.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// Service time of a healthy request.
    pub latency: Latency,
    /// Requests processed at once; more wait in a FIFO. `None` is unlimited.
    pub max_concurrency: Option<u32>,
    /// Ingestion rate limit; requests beyond it get 429.
    pub rate_limit: Option<RateLimit>,
    /// Whether a request whose client timed out is still ingested (it usually is: the
    /// server finishes the work), which makes the sender's retry a duplicate. Default true.
    pub ingest_after_client_timeout: bool,
    /// Fault windows, consulted in order; the first that applies decides the response.
    pub faults: Vec<FaultWindow>,
}

/// A latency model.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    /// Always the same.
    Fixed(SimDuration),
    /// Log-normal fitted to a median and a 99th percentile.
    LogNormal {
        /// 50th percentile.
        median: SimDuration,
        /// 99th percentile.
        p99: SimDuration,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: SimDuration,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound.
        min: SimDuration,
        /// Upper bound.
        max: SimDuration,
    },
}

/// A token-bucket ingestion limit (Mimir/Cortex `ingestion_rate` and `ingestion_burst_size`).
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained samples per second.
    pub samples_per_second: f64,
    /// Bucket size in samples (default: one second of the rate).
    pub burst: u64,
    /// Retry-After sent with the 429, if any.
    pub retry_after: Option<SimDuration>,
}

/// What a faulty receiver answers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// An HTTP status code.
    Status(u16),
    /// No answer: the attempt ends at `remote_timeout`.
    Timeout,
    /// Connection refused: the attempt fails at once.
    Refused,
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Response::Status(s) => write!(f, "{s}"),
            Response::Timeout => f.write_str("timeout"),
            Response::Refused => f.write_str("connection refused"),
        }
    }
}

/// A `[[receiver.fault]]` window.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    /// Start offset (inclusive).
    pub start: SimDuration,
    /// End offset (exclusive).
    pub end: SimDuration,
    /// The answer during the window.
    pub response: Response,
    /// Fraction of requests affected, in `[0, 1]`. Default 1.
    pub probability: f64,
    /// Retry-After header value sent with the answer.
    pub retry_after: Option<SimDuration>,
    /// Service time of affected requests, replacing the receiver's latency.
    pub latency: Option<Latency>,
}

/// Limits on the run itself, so that no input can hang the simulator.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Events processed before the run stops with an error. Default 1e9 (about two minutes).
    pub max_events: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 1_000_000_000 }
    }
}

/// Upper bounds that keep inputs physically meaningful and arithmetic exact.
pub mod bounds {
    use crate::time::SimDuration;
    /// Longest simulated run.
    pub const MAX_DURATION: SimDuration = SimDuration::from_hours(24 * 366);
    /// Most scraped series (a very large Prometheus has tens of millions).
    pub const MAX_SERIES: u64 = 1_000_000_000;
    /// Most targets (each has a phase entry in memory).
    pub const MAX_TARGETS: u32 = 10_000_000;
    /// Most shards (Prometheus allows more, but each is a goroutine and buffers).
    pub const MAX_SHARDS: u32 = 100_000;
    /// Largest queue capacity and batch size.
    pub const MAX_CAPACITY: u32 = 1_000_000_000;
    /// Most rows in the metrics time series.
    pub const MAX_OUTPUT_ROWS: u64 = 10_000_000;
    /// Latest simulated instant on the Unix clock (2200-01-01T00:00:00Z), far from overflow.
    pub const MAX_UNIX_NANOS: u64 = 7_258_118_400 * 1_000_000_000;
}

/// A configuration value that cannot be simulated, with the key it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted scenario key, e.g. `remote_write.queue_config.capacity` or `receiver.fault[1].end`.
    pub key: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}
impl std::error::Error for ConfigError {}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.into(), message: message.into() }
}

impl Latency {
    fn validate(&self, key: &str) -> Result<(), ConfigError> {
        match *self {
            Latency::Fixed(_) => Ok(()),
            Latency::LogNormal { median, p99 } => {
                if median.nanos() == 0 {
                    return Err(err(format!("{key}.median"), "must be greater than 0"));
                }
                if p99 < median {
                    return Err(err(
                        format!("{key}.p99"),
                        format!("p99 ({p99}) must be at least the median ({median})"),
                    ));
                }
                Ok(())
            }
            Latency::Exponential { mean } => {
                if mean.nanos() == 0 {
                    return Err(err(format!("{key}.mean"), "must be greater than 0"));
                }
                Ok(())
            }
            Latency::Uniform { min, max } => {
                if max < min {
                    return Err(err(format!("{key}.max"), format!("max ({max}) must be at least min ({min})")));
                }
                Ok(())
            }
        }
    }
}

impl SimConfig {
    /// A healthy baseline for `profile`: 100k series every 15 s from 100 targets for 1 h, a
    /// 20 ms receiver, and the version's default `queue_config`. Meant as a starting point for
    /// library users and tests.
    pub fn baseline(profile: Profile) -> Self {
        SimConfig {
            name: "baseline".into(),
            profile,
            seed: 1,
            duration: SimDuration::from_hours(1),
            clock: Clock { start_unix_nanos: DEFAULT_START_UNIX_SECS * crate::time::NANOS_PER_SEC },
            workload: WorkloadConfig {
                series: 100_000,
                scrape_interval: SimDuration::from_secs(15),
                targets: 100,
                scrape_duration: SimDuration::ZERO,
                report_series: true,
                wire_bytes_per_sample: DEFAULT_WIRE_BYTES_PER_SAMPLE,
                changes: Vec::new(),
            },
            remote_write: RemoteWriteConfig {
                remote_timeout: SimDuration::from_secs(30),
                queue: QueueConfig::defaults(profile),
            },
            sender: SenderConfig { flush_deadline: SimDuration::from_mins(1), reshard_tick_offset: SimDuration::ZERO },
            tsdb: TsdbConfig {
                min_block_duration: SimDuration::from_hours(2),
                wal_segment_size: 128 << 20,
                wal_bytes_per_sample: DEFAULT_WAL_BYTES_PER_SAMPLE,
            },
            receiver: ReceiverConfig {
                latency: Latency::Fixed(SimDuration::from_millis(20)),
                max_concurrency: None,
                rate_limit: None,
                ingest_after_client_timeout: true,
                faults: Vec::new(),
            },
            output_step: SimDuration::from_secs(10),
            limits: Limits::default(),
        }
    }

    /// Checks every value and every relation between values. A configuration that passes
    /// cannot panic, hang or exhaust memory in [`crate::simulate`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        use bounds::*;
        let d = self.duration;
        if d.nanos() == 0 {
            return Err(err("duration", "must be greater than 0"));
        }
        if d > MAX_DURATION {
            return Err(err("duration", format!("{d} is longer than the limit of 366 days")));
        }

        if !self.clock.start_unix_nanos.is_multiple_of(NANOS_PER_MILLI) {
            return Err(err("start", "must be a whole number of milliseconds (Prometheus timestamps are in ms)"));
        }
        if self.clock.start_unix_nanos.checked_add(d.nanos()).is_none_or(|end| end > MAX_UNIX_NANOS) {
            return Err(err("start", "the run must end before the year 2200"));
        }
        if self.sender.reshard_tick_offset >= crate::resharder::SHARD_UPDATE_DURATION {
            return Err(err("sender.reshard_tick_offset", "must be shorter than the 10s reshard interval"));
        }

        let w = &self.workload;
        if w.series > MAX_SERIES {
            return Err(err(
                "workload.series",
                format!("{} series is beyond what one Prometheus holds; the limit is {MAX_SERIES}", w.series),
            ));
        }
        if w.targets == 0 {
            return Err(err("workload.targets", "must be at least 1"));
        }
        if w.targets > MAX_TARGETS {
            return Err(err("workload.targets", format!("{} targets exceeds the limit of {MAX_TARGETS}", w.targets)));
        }
        if w.scrape_interval.nanos() < NANOS_PER_MILLI || !w.scrape_interval.nanos().is_multiple_of(NANOS_PER_MILLI) {
            return Err(err("workload.scrape_interval", "must be a whole number of milliseconds, at least 1ms"));
        }
        if w.scrape_interval > SimDuration::from_hours(24) {
            return Err(err("workload.scrape_interval", "must be at most 24h"));
        }
        if w.scrape_duration >= w.scrape_interval {
            return Err(err(
                "workload.scrape_duration",
                format!("{} must be shorter than scrape_interval ({})", w.scrape_duration, w.scrape_interval),
            ));
        }
        if !(w.wire_bytes_per_sample > 0.0 && w.wire_bytes_per_sample <= 100_000.0) {
            return Err(err("workload.wire_bytes_per_sample", "must be greater than 0 and at most 100000"));
        }
        let mut prev = SimDuration::ZERO;
        for (i, c) in w.changes.iter().enumerate() {
            let key = format!("workload.change[{i}]");
            if c.at.nanos() == 0 || c.at <= prev {
                return Err(err(format!("{key}.at"), "changes must be after the start and in increasing time order"));
            }
            if c.at >= d {
                return Err(err(format!("{key}.at"), format!("{} is not before the end of the run ({d})", c.at)));
            }
            if c.series > MAX_SERIES {
                return Err(err(format!("{key}.series"), format!("the limit is {MAX_SERIES}")));
            }
            prev = c.at;
        }

        let rw = &self.remote_write;
        if rw.remote_timeout.nanos() == 0 {
            return Err(err("remote_write.remote_timeout", "must be greater than 0"));
        }
        let q = &rw.queue;
        let qk = "remote_write.queue_config";
        if q.capacity == 0 {
            return Err(err(format!("{qk}.capacity"), "must be at least 1 (it is the per-shard buffer in samples)"));
        }
        if q.capacity > MAX_CAPACITY {
            return Err(err(format!("{qk}.capacity"), format!("the limit is {MAX_CAPACITY}")));
        }
        if q.max_samples_per_send == 0 {
            return Err(err(format!("{qk}.max_samples_per_send"), "must be at least 1 (Prometheus divides by it)"));
        }
        if q.max_samples_per_send > MAX_CAPACITY {
            return Err(err(format!("{qk}.max_samples_per_send"), format!("the limit is {MAX_CAPACITY}")));
        }
        if q.min_shards == 0 {
            return Err(err(format!("{qk}.min_shards"), "must be at least 1"));
        }
        if q.max_shards == 0 {
            return Err(err(format!("{qk}.max_shards"), "must be at least 1"));
        }
        if q.max_shards > MAX_SHARDS {
            return Err(err(format!("{qk}.max_shards"), format!("{} exceeds the limit of {MAX_SHARDS}", q.max_shards)));
        }
        if q.min_shards > q.max_shards {
            return Err(err(
                format!("{qk}.min_shards"),
                format!("min_shards ({}) exceeds max_shards ({})", q.min_shards, q.max_shards),
            ));
        }
        if q.batch_send_deadline.nanos() == 0 {
            return Err(err(format!("{qk}.batch_send_deadline"), "must be greater than 0"));
        }
        if q.min_backoff.nanos() == 0 {
            return Err(err(
                format!("{qk}.min_backoff"),
                "must be greater than 0 (a zero backoff retries a failing receiver in a busy loop)",
            ));
        }
        if q.max_backoff < q.min_backoff {
            return Err(err(
                format!("{qk}.max_backoff"),
                format!("max_backoff ({}) is below min_backoff ({})", q.max_backoff, q.min_backoff),
            ));
        }
        if q.sample_age_limit.nanos() > 0 && !self.profile.has_sample_age_limit() {
            return Err(err(
                format!("{qk}.sample_age_limit"),
                format!("does not exist in Prometheus {} (added in v2.50.0); use prometheus = \"3.x\"", self.profile),
            ));
        }

        let t = &self.tsdb;
        let r = t.min_block_duration.nanos();
        if r < NANOS_PER_MILLI || !r.is_multiple_of(NANOS_PER_MILLI) {
            return Err(err("tsdb.min_block_duration", "must be a whole number of milliseconds, at least 1ms"));
        }
        if !(10 << 20..=256 << 20).contains(&t.wal_segment_size) || !t.wal_segment_size.is_multiple_of(32 << 10) {
            return Err(err(
                "tsdb.wal_segment_size",
                "must be between 10MiB and 256MiB and a multiple of 32KiB, as Prometheus requires",
            ));
        }
        if !(t.wal_bytes_per_sample >= 0.1 && t.wal_bytes_per_sample <= 1000.0) {
            return Err(err("tsdb.wal_bytes_per_sample", "must be between 0.1 and 1000"));
        }

        let rc = &self.receiver;
        rc.latency.validate("receiver.latency")?;
        if rc.max_concurrency == Some(0) {
            return Err(err("receiver.max_concurrency", "must be at least 1 (omit it for unlimited)"));
        }
        if let Some(rl) = &rc.rate_limit {
            if !(rl.samples_per_second > 0.0 && rl.samples_per_second.is_finite()) {
                return Err(err("receiver.rate_limit", "must be greater than 0 samples/s"));
            }
            if rl.burst == 0 {
                return Err(err("receiver.rate_limit_burst", "must be at least 1 sample"));
            }
        }
        for (i, f) in rc.faults.iter().enumerate() {
            let key = format!("receiver.fault[{i}]");
            if f.end <= f.start {
                return Err(err(format!("{key}.end"), format!("end ({}) must be after start ({})", f.end, f.start)));
            }
            if f.start >= d {
                return Err(err(format!("{key}.start"), format!("{} is not before the end of the run ({d})", f.start)));
            }
            if f.end > d {
                return Err(err(format!("{key}.end"), format!("{} is after the end of the run ({d})", f.end)));
            }
            if !(0.0..=1.0).contains(&f.probability) {
                return Err(err(format!("{key}.probability"), "must be between 0 and 1"));
            }
            if let Response::Status(s) = f.response
                && !(200..=599).contains(&s)
            {
                return Err(err(format!("{key}.status"), format!("{s} is not an HTTP status between 200 and 599")));
            }
            if let Some(l) = &f.latency {
                l.validate(&format!("{key}.latency"))?;
            }
        }

        if self.output_step.nanos() < 100 * NANOS_PER_MILLI {
            return Err(err("output.step", "must be at least 100ms"));
        }
        if d.nanos() / self.output_step.nanos() > MAX_OUTPUT_ROWS {
            return Err(err(
                "output.step",
                format!("would produce more than {MAX_OUTPUT_ROWS} rows; use a larger step"),
            ));
        }
        let est = self.estimated_events();
        if est > self.limits.max_events {
            return Err(err(
                "remote_write.queue_config.max_samples_per_send",
                format!(
                    "this scenario needs about {est:.3e} events (mostly batches of max_samples_per_send), more than the \
                     budget of {:.0e}; raise max_samples_per_send, shorten the run or raise simulation.max_events",
                    self.limits.max_events
                ),
            ));
        }
        Ok(())
    }

    /// Samples per scrape interval across all targets at the peak of the workload.
    pub fn peak_samples_per_interval(&self) -> u64 {
        let w = &self.workload;
        let peak = w.changes.iter().map(|c| c.series).chain([w.series]).max().unwrap_or(0);
        peak + if w.report_series { 5 * u64::from(w.targets) } else { 0 }
    }

    /// A rough upper estimate of the events a run takes, used to refuse runaway scenarios
    /// before they start.
    pub fn estimated_events(&self) -> u64 {
        let q = &self.remote_write.queue;
        let d = self.duration.as_secs_f64();
        let per_sec = self.peak_samples_per_interval() as f64 / self.workload.scrape_interval.as_secs_f64();
        let batches = per_sec * d / f64::from(q.max_samples_per_send);
        // Partial batches on the timer, and retry attempts of every shard during faults.
        let retry_period = q.min_backoff.max(SimDuration::from_millis(1)).as_secs_f64();
        let timer = d / q.batch_send_deadline.as_secs_f64() * f64::from(q.max_shards);
        let fault_secs: f64 =
            self.receiver.faults.iter().map(|f| f.end.min(self.duration).saturating_sub(f.start).as_secs_f64()).sum();
        let retries = fault_secs / q.max_backoff.as_secs_f64().max(retry_period) * f64::from(q.max_shards);
        let scrapes = d / self.workload.scrape_interval.as_secs_f64();
        let est = 2.0 * batches + timer.min(2.0 * batches + d) + retries + scrapes.min(d * 10.0);
        if est >= u64::MAX as f64 { u64::MAX } else { est as u64 }
    }
}

/// Unix time of the default start, 2024-01-01T00:00:00Z: a multiple of every usual block range.
pub const DEFAULT_START_UNIX_SECS: u64 = 1_704_067_200;
/// Default WAL bytes per sample (Snappy-compressed Samples records). See docs/scenario.md.
pub const DEFAULT_WAL_BYTES_PER_SAMPLE: f64 = 3.5;
/// Default remote-write request bytes per sample (Snappy-compressed protobuf).
pub const DEFAULT_WIRE_BYTES_PER_SAMPLE: f64 = 25.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> SimConfig {
        SimConfig::baseline(Profile::V3)
    }

    #[test]
    fn baseline_is_valid_for_both_profiles() {
        SimConfig::baseline(Profile::V2_42).validate().unwrap();
        base().validate().unwrap();
    }

    #[test]
    fn slots_follow_capacity_div_msps() {
        let mut q = QueueConfig::defaults(Profile::V2_42);
        assert_eq!(q.slots(), 5);
        q = QueueConfig::defaults(Profile::V3);
        assert_eq!(q.slots(), 5);
        q.capacity = 20;
        q.max_samples_per_send = 10;
        assert_eq!(q.slots(), 2);
        q.capacity = 2999;
        q.max_samples_per_send = 500;
        assert_eq!(q.slots(), 5);
        q.capacity = 100;
        assert_eq!(q.slots(), 1, "capacity below MSPS still has one slot");
    }

    #[test]
    fn impossible_settings_name_their_key() {
        type Mutation = fn(&mut SimConfig);
        let cases: Vec<(Mutation, &str)> = vec![
            (|c| c.remote_write.queue.capacity = 0, "remote_write.queue_config.capacity"),
            (
                |c| c.remote_write.queue.max_backoff = SimDuration::from_millis(1),
                "remote_write.queue_config.max_backoff",
            ),
            (|c| c.remote_write.queue.min_backoff = SimDuration::ZERO, "remote_write.queue_config.min_backoff"),
            (|c| c.remote_write.queue.min_shards = 60, "remote_write.queue_config.min_shards"),
            (|c| c.duration = SimDuration::ZERO, "duration"),
            (|c| c.workload.series = 1_000_000_000_000, "workload.series"),
            (|c| c.tsdb.wal_segment_size = 1 << 20, "tsdb.wal_segment_size"),
            (|c| c.remote_write.queue.max_samples_per_send = 1, "remote_write.queue_config.max_samples_per_send"),
        ];
        for (mutate, key) in cases {
            let mut c = base();
            c.duration = SimDuration::from_hours(24 * 30);
            mutate(&mut c);
            let e = c.validate().expect_err(key);
            assert_eq!(e.key, key, "{e}");
        }
    }

    #[test]
    fn sample_age_limit_is_refused_for_2_42() {
        let mut c = SimConfig::baseline(Profile::V2_42);
        c.remote_write.queue.sample_age_limit = SimDuration::from_mins(10);
        assert!(c.validate().unwrap_err().message.contains("v2.50.0"));
    }
}
