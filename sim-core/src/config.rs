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
    /// Time from scrape start (the sample timestamp) to commit into the WAL: fixed, or a
    /// distribution drawn per scrape (cut at its 99.9th percentile). Default 0s. Measured on
    /// Prometheus 2.42 it varies from scrape to scrape, and a constant makes decisions that sit
    /// on a knife-edge (does a send land before or after a reshard tick?) go one way every time.
    pub scrape_duration: Latency,
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

/// The `queue_config` keys of prometheus.yml, in Prometheus's order: the scenario format, the
/// importer and the sweep analysis all use these names for [`QueueConfig`]'s fields.
pub const QUEUE_CONFIG_KEYS: [&str; 9] = [
    "capacity",
    "max_shards",
    "min_shards",
    "max_samples_per_send",
    "batch_send_deadline",
    "min_backoff",
    "max_backoff",
    "retry_on_http_429",
    "sample_age_limit",
];

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
    /// The defaults of `sender`: Prometheus's for the profile, or Alloy's `DefaultQueueOptions`
    /// (the 3.x values, but 429 is retried).
    pub fn defaults_for(profile: Profile, sender: &SenderMode) -> Self {
        let mut q = QueueConfig::defaults(profile);
        if let SenderMode::Alloy(_) = sender {
            q.retry_on_http_429 = true;
        }
        q
    }

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
    /// Time the sender adds to every HTTP attempt on top of the receiver's answer time: the
    /// HTTP client, the network round trip, reading the answer. It counts toward
    /// `remote_timeout` and `sent_batch_duration_seconds`, and so toward the time per sample
    /// that resharding uses. Default 0 (the receiver's `latency` is what the client sees);
    /// calibrate as the mean `sent_batch_duration_seconds` minus the receiver's own request
    /// duration. Measured: about 2 ms on one machine over loopback (docs/fidelity.md).
    pub request_overhead: SimDuration,
    /// CPU time the sender spends per sample of a batch it sends: reading the WAL, batching,
    /// protobuf and Snappy encoding, the HTTP client. Measured on Prometheus 2.42 during
    /// catch-ups: 1.3–1.7 µs per sample (`process_cpu_seconds_total` over samples sent).
    /// Spent once per batch (a retry reuses the encoded request). Default 1.5µs.
    pub cpu_per_sample: SimDuration,
    /// CPU cores the sender's remote-write work gets. Concurrent sends share them: with K
    /// requests being prepared at once on C cores, each takes `cpu_per_sample × samples ×
    /// max(1, K / C)` (processor sharing). On a 2-core host shared with a receiver,
    /// Prometheus 2.42 got about 0.8 (docs/fidelity.md). Default 2.
    pub cpu_cores: f64,
    /// Which program sends, which decides who truncates the WAL and when (§11, §19).
    pub mode: SenderMode,
    /// Restarts, kills, config reloads and OOM kills of the sender process, in time order
    /// (§18).
    pub events: Vec<SenderEvent>,
    /// Whether the data directory survives a restart. `false` is a Kubernetes `emptyDir`:
    /// a restarted pod starts with an empty WAL (nothing to replay, nothing left to send).
    /// Default true.
    pub wal_persisted: bool,
    /// WAL replay speed at start-up, in WAL bytes per second (`tsdb/head_wal.go:
    /// Head.loadWAL`). Replay time = WAL bytes on disk / this speed, unless an event gives its
    /// own `replay_time`. Calibrate from `prometheus_tsdb_data_replay_duration_seconds`.
    pub wal_replay_bytes_per_second: f64,
    /// From the end of start-up (config loaded, queue started) to the scrape manager applying
    /// its targets (`scrape/manager.go: Manager.Run` waits for its 5 s reload tick); each
    /// target then scrapes at its own phase. Default 5s.
    pub scrape_start_delay: SimDuration,
    /// The sender's memory, for `oom` events.
    pub memory: SenderMemory,
}

/// The sender's memory (§18, `oom`): what the head and the remote-write buffers hold. Only
/// consulted when an `oom` event sets a limit.
#[derive(Clone, Debug, PartialEq)]
pub struct SenderMemory {
    /// Memory with no series and empty queues (runtime, caches), bytes. Default 0.
    pub base: u64,
    /// Memory per active series: head series and chunks, the remote-write label cache,
    /// bytes. Default 4096.
    pub per_series: f64,
    /// Extra memory while the WAL replays at start-up, as a multiple of the series memory
    /// (replay rebuilds every series and holds decoded records). Default 1.0: start-up
    /// briefly needs twice the steady-state series memory.
    pub replay_factor: f64,
}

impl Default for SenderMemory {
    fn default() -> Self {
        SenderMemory { base: 0, per_series: 4096.0, replay_factor: 1.0 }
    }
}

impl SenderOom {
    /// A limit with kubelet's CrashLoopBackOff defaults.
    pub fn with_limit(memory_limit: u64) -> Self {
        SenderOom {
            memory_limit,
            end: None,
            backoff_initial: SimDuration::from_secs(10),
            backoff_max: SimDuration::from_mins(5),
            backoff_reset: SimDuration::from_mins(10),
        }
    }
}

/// One event in the sender's life.
#[derive(Clone, Debug, PartialEq)]
pub struct SenderEvent {
    /// Offset from the start of the run.
    pub at: SimDuration,
    /// What happens.
    pub kind: SenderEventKind,
}

/// Kinds of [`SenderEvent`].
#[derive(Clone, Debug, PartialEq)]
pub enum SenderEventKind {
    /// SIGTERM (a rolling update, `systemctl restart`): scraping stops, the queue flushes for
    /// up to `flush_deadline`, the process exits; it is down for `down_for`, replays its WAL
    /// and starts a new queue whose watcher skips everything not yet sent.
    Restart {
        /// From the exit to the new process starting.
        down_for: SimDuration,
        /// WAL replay time (`None`: from the WAL's size and `wal_replay_bytes_per_second`).
        replay_time: Option<SimDuration>,
    },
    /// `kill -9`, a node failure: no flush; the same start-up.
    Crash {
        /// From the kill to the new process starting.
        down_for: SimDuration,
        /// WAL replay time (`None`: computed).
        replay_time: Option<SimDuration>,
    },
    /// A configuration reload (SIGHUP, `/-/reload`).
    Reload {
        /// What changed.
        change: ReloadChange,
    },
    /// The process is killed whenever its memory passes a limit, from `at` until `end`.
    Oom(SenderOom),
}

impl SenderEventKind {
    /// The scenario spelling.
    pub fn name(&self) -> &'static str {
        match self {
            SenderEventKind::Restart { .. } => "restart",
            SenderEventKind::Crash { .. } => "crash",
            SenderEventKind::Reload { .. } => "reload",
            SenderEventKind::Oom(_) => "oom",
        }
    }
}

/// What a reload changed (`storage/remote/write.go: WriteStorage.ApplyConfig` hashes each
/// `remote_write` entry; secrets marshal as `<secret>`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReloadChange {
    /// Any value of the `remote_write` entry other than a secret (a `queue_config` tuning,
    /// the URL, headers, relabelling): the queue is stopped and recreated.
    RemoteWrite,
    /// Only a password or bearer token: the hash is unchanged, the queue keeps running.
    Secret,
    /// Only scrape configuration: remote write is untouched.
    ScrapeConfig,
    /// `global.external_labels`: every queue is recreated.
    ExternalLabels,
}

impl ReloadChange {
    /// The scenario spelling.
    pub fn name(self) -> &'static str {
        match self {
            ReloadChange::RemoteWrite => "remote_write",
            ReloadChange::Secret => "secret",
            ReloadChange::ScrapeConfig => "scrape_config",
            ReloadChange::ExternalLabels => "external_labels",
        }
    }

    /// Whether the reload stops the queue and starts a new one.
    pub fn recreates_queue(self) -> bool {
        matches!(self, ReloadChange::RemoteWrite | ReloadChange::ExternalLabels)
    }
}

/// `oom`: a memory limit (a Kubernetes `limits.memory`), with CrashLoopBackOff between kills.
#[derive(Clone, Debug, PartialEq)]
pub struct SenderOom {
    /// The limit, bytes.
    pub memory_limit: u64,
    /// When the limit stops applying (`None`: the end of the run).
    pub end: Option<SimDuration>,
    /// First CrashLoopBackOff delay. Default 10s (kubelet).
    pub backoff_initial: SimDuration,
    /// Cap of the delay. Default 5m.
    pub backoff_max: SimDuration,
    /// Running this long resets the delay. Default 10m.
    pub backoff_reset: SimDuration,
}

/// The sending program. All three run the same remote-write queue; they differ in the WAL's
/// truncation (§19).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum SenderMode {
    /// Prometheus server: head compaction truncates the WAL about every block range (§11).
    #[default]
    Server,
    /// Prometheus in agent mode (`--enable-feature=agent` in 2.42, `--agent` in 3.x): a
    /// timer truncates the WAL (`tsdb/agent/db.go: DB.run`).
    Agent(AgentWal),
    /// Grafana Alloy's `prometheus.remote_write` component: the agent's loop, but a tick whose
    /// timestamp has not moved is skipped (`remote_write.go: Component.Run`).
    Alloy(AlloyWal),
    /// VictoriaMetrics vmagent: no WAL, a memory-then-disk queue and fixed workers; a model
    /// of its own ([`crate::sender::vmagent`]).
    Vmagent(crate::sender::vmagent::VmagentConfig),
}

impl SenderMode {
    /// The scenario spelling: `server`, `agent` or `alloy`.
    pub fn name(&self) -> &'static str {
        match self {
            SenderMode::Server => "server",
            SenderMode::Agent(_) => "agent",
            SenderMode::Alloy(_) => "alloy",
            SenderMode::Vmagent(_) => "vmagent",
        }
    }

    /// The sender in words for headers, from its [`SenderMode::name`]: "Prometheus 3.x",
    /// "Prometheus 3.x in agent mode", "Grafana Alloy (Prometheus 3.x code)".
    pub fn describe(name: &str, profile: &str) -> String {
        match name {
            "agent" => format!("Prometheus {profile} in agent mode"),
            "alloy" => format!("Grafana Alloy (Prometheus {profile} code)"),
            "vmagent" => "VictoriaMetrics vmagent".to_string(),
            _ => format!("Prometheus {profile}"),
        }
    }
}

/// The agent-mode WAL flags as given. Like the flags, a zero value means "the default"
/// (`tsdb/agent/db.go: validateOptions`, see [`crate::sender::agent::AgentOptions`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentWal {
    /// `--storage.agent.wal-truncate-frequency` (hidden). Default 2h.
    pub wal_truncate_frequency: SimDuration,
    /// `--storage.agent.retention.min-time`. Default 5m.
    pub retention_min_time: SimDuration,
    /// `--storage.agent.retention.max-time`. Default 4h.
    pub retention_max_time: SimDuration,
}

impl Default for AgentWal {
    /// `tsdb/agent/db.go: DefaultOptions`, the same in 2.42 and 3.x.
    fn default() -> Self {
        AgentWal {
            wal_truncate_frequency: SimDuration::from_hours(2),
            retention_min_time: SimDuration::from_mins(5),
            retention_max_time: SimDuration::from_hours(4),
        }
    }
}

/// The `wal` block of Alloy's `prometheus.remote_write` (`WALOptions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlloyWal {
    /// `truncate_frequency`. Default 2h; 0 is refused.
    pub truncate_frequency: SimDuration,
    /// `min_keepalive_time`. Default 5m.
    pub min_keepalive_time: SimDuration,
    /// `max_keepalive_time`. Default 8h; must be above `min_keepalive_time`.
    pub max_keepalive_time: SimDuration,
}

impl Default for AlloyWal {
    /// `DefaultWALOptions`, unchanged from Alloy v1.0 to v1.18.
    fn default() -> Self {
        AlloyWal {
            truncate_frequency: SimDuration::from_hours(2),
            min_keepalive_time: SimDuration::from_mins(5),
            max_keepalive_time: SimDuration::from_hours(8),
        }
    }
}

/// Alloy's WAL segment size, fixed (`internal/static/metrics/wal: NewStorage` passes
/// `wlog.DefaultSegmentSize`).
pub const ALLOY_WAL_SEGMENT_SIZE: u64 = 128 << 20;
/// Alloy's flush deadline, fixed (`remoteFlushDeadline` in `prometheus.remote_write`).
pub const ALLOY_FLUSH_DEADLINE: SimDuration = SimDuration::from_mins(1);
/// Most truncation ticks of an agent or Alloy run (each is an event and may start a segment).
pub const MAX_TRUNCATION_TICKS: u64 = 10_000_000;

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

/// The receiving endpoint: a pool of workers behind an accept queue, with rules (fault
/// windows, rate limit) and incidents consulted before a request is ingested.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// Random part of a request's service time.
    pub latency: Latency,
    /// Requests processed at once; more wait in the accept queue. `None` is unlimited.
    pub workers: Option<u32>,
    /// Requests that may wait for a worker; beyond it the receiver answers
    /// `queue_full_status`. `None` is unlimited.
    pub queue_size: Option<u32>,
    /// Status when the accept queue is full (429 or 503; default 503).
    pub queue_full_status: u16,
    /// Fixed part of every request's service time (default 0).
    pub request_overhead: SimDuration,
    /// Samples per second one worker ingests; adds `samples / throughput` to the service
    /// time. `None` is unlimited.
    pub worker_throughput: Option<f64>,
    /// Memory of the receiver with nothing in flight, bytes (for `oom`). Default 0.
    pub memory_base: u64,
    /// Memory per accepted, not yet completed sample, bytes (decoded request, replication
    /// buffers). Default 1024.
    pub memory_per_inflight_sample: f64,
    /// Ingestion rate limit; requests beyond it get 429.
    pub rate_limit: Option<RateLimit>,
    /// Whether a request whose client timed out is still ingested (it usually is: the
    /// server finishes the work), which makes the sender's retry a duplicate. Default true.
    pub ingest_after_client_timeout: bool,
    /// Fault windows, consulted in order; the first that applies decides the response.
    pub faults: Vec<FaultWindow>,
    /// Incidents of real receivers (Mimir, Cortex, Thanos Receive, VictoriaMetrics).
    pub incidents: Vec<Incident>,
}

/// A receiver incident from the troubleshooting guides, active in `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// Offset where it begins.
    pub start: SimDuration,
    /// Offset where it ends (`None`: the end of the run).
    pub end: Option<SimDuration>,
    /// What happens.
    pub kind: IncidentKind,
}

/// The incident catalog.
#[derive(Clone, Debug, PartialEq)]
pub enum IncidentKind {
    /// Out-of-memory kills and Kubernetes CrashLoopBackOff.
    Oom(Oom),
    /// A rolling restart of ingesters behind a hash ring.
    Rollout(Rollout),
    /// A reverse proxy with a read timeout and a body size limit.
    Proxy(Proxy),
    /// A per-tenant ingestion rate limit.
    Throttle(RateLimit),
    /// Samples or requests rejected as invalid.
    Reject(Reject),
    /// Object storage unavailable: local disks fill, then writes fail.
    ObjectStorage(ObjectStorage),
    /// The network path is down.
    Network(Network),
}

impl IncidentKind {
    /// The scenario spelling of the kind.
    pub fn name(&self) -> &'static str {
        match self {
            IncidentKind::Oom(_) => "oom",
            IncidentKind::Rollout(_) => "rollout",
            IncidentKind::Proxy(_) => "proxy",
            IncidentKind::Throttle(_) => "throttle",
            IncidentKind::Reject(_) => "reject",
            IncidentKind::ObjectStorage(_) => "object_storage",
            IncidentKind::Network(_) => "network",
        }
    }
}

impl fmt::Display for IncidentKind {
    /// One line for timelines and reports: `rollout: 9 ingesters (RF 3) restarted every 2m, ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        match self {
            IncidentKind::Oom(o) => match (o.memory_limit, o.crash_at) {
                (Some(l), Some(at)) => write!(
                    f,
                    "oom: receiver killed at {} and whenever its memory passes {:.2} GiB",
                    crate::time::SimTime(at.nanos()),
                    gib(l)
                ),
                (Some(l), None) => write!(f, "oom: receiver killed when its memory passes {:.2} GiB", gib(l)),
                (None, Some(at)) => write!(f, "oom: receiver killed at {}", crate::time::SimTime(at.nanos())),
                (None, None) => f.write_str("oom"),
            },
            IncidentKind::Rollout(r) => write!(
                f,
                "rollout: {} ingesters (RF {}) restarted every {}, each unready for {}",
                r.ingesters, r.replication_factor, r.interval, r.unready_for
            ),
            IncidentKind::Proxy(p) => {
                let mut parts = Vec::new();
                if let Some(t) = p.read_timeout {
                    parts.push(format!("read timeout {t} answered {}", p.timeout_status));
                }
                if let Some(b) = p.max_body_bytes {
                    parts.push(format!("bodies over {b} bytes answered {}", p.body_too_large_status));
                }
                write!(f, "proxy: {}", parts.join(", "))
            }
            IncidentKind::Throttle(t) => {
                write!(f, "throttle: tenant limited to {:.0} samples/s (burst {})", t.samples_per_second, t.burst)?;
                match t.retry_after {
                    Some(ra) => write!(f, ", 429 with Retry-After {ra}"),
                    None => Ok(()),
                }
            }
            IncidentKind::Reject(r) => write!(
                f,
                "reject: {:.2}% of {} answered {} ({})",
                r.fraction * 100.0,
                if r.per_sample { "samples" } else { "requests" },
                r.status,
                r.reason
            ),
            IncidentKind::ObjectStorage(o) => {
                write!(f, "object storage down: local disks have {:.2} GiB of headroom", gib(o.disk_headroom))
            }
            IncidentKind::Network(Network::Refused) => f.write_str("network: connections refused"),
            IncidentKind::Network(Network::Blackhole) => f.write_str("network: black hole"),
        }
    }
}

/// `oom`: the receiver is killed when its memory passes a limit, or at a given time; it is
/// down while Kubernetes waits and the process starts, then replays its WAL answering 503;
/// repeated crashes back off like CrashLoopBackOff.
#[derive(Clone, Debug, PartialEq)]
pub struct Oom {
    /// Memory limit in bytes (`memory_base + memory_per_inflight_sample × in-flight samples`).
    pub memory_limit: Option<u64>,
    /// A crash at this offset regardless of memory (e.g. a node failure starting the loop).
    pub crash_at: Option<SimDuration>,
    /// From the restart to listening again. Default 30s.
    pub restart_time: SimDuration,
    /// WAL replay after listening, answering 503. Default 1m.
    pub replay_time: SimDuration,
    /// First CrashLoopBackOff delay. Default 10s (kubelet).
    pub backoff_initial: SimDuration,
    /// Cap of the delay. Default 5m (kubelet).
    pub backoff_max: SimDuration,
    /// Running this long resets the delay. Default 10m (kubelet).
    pub backoff_reset: SimDuration,
    /// What clients get while the process is down (default: connection refused).
    pub while_down: Response,
    /// Status during WAL replay (default 503).
    pub replay_status: u16,
}

/// `rollout`: ingesters restarted one by one; a write needs a quorum of each series'
/// replicas, so overlapping unready windows fail requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollout {
    /// Ingesters in the ring.
    pub ingesters: u32,
    /// Replicas per series (Mimir/Cortex default 3).
    pub replication_factor: u32,
    /// Time between the restarts of consecutive ingesters.
    pub interval: SimDuration,
    /// How long each restarted ingester is not ready.
    pub unready_for: SimDuration,
    /// Status when a series lacks a quorum (default 500).
    pub status: u16,
}

/// `proxy`: a reverse proxy in front of the receiver.
#[derive(Clone, Debug, PartialEq)]
pub struct Proxy {
    /// Upstream answers slower than this are cut: the client gets `timeout_status`, the
    /// upstream still finishes (and ingests).
    pub read_timeout: Option<SimDuration>,
    /// Status for a cut request (default 504; some setups map it to 500).
    pub timeout_status: u16,
    /// Larger bodies are refused before reaching the upstream.
    pub max_body_bytes: Option<u64>,
    /// Status for a too-large body (default 413; a mis-mapping to 500 makes Prometheus retry
    /// the batch forever).
    pub body_too_large_status: u16,
}

/// `reject`: invalid data answered with 400 (out of order, too old, per-series limits).
#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    /// Fraction of requests (or of samples) rejected.
    pub fraction: f64,
    /// Whether the fraction is of samples (a request with any invalid sample gets 400, the
    /// valid ones are still stored) or of whole requests.
    pub per_sample: bool,
    /// Status (default 400).
    pub status: u16,
    /// Why, for the timeline (e.g. "out of order").
    pub reason: String,
    /// How long a rejection takes to come back (`None`: the receiver's `latency`). A
    /// validation error is often answered faster than a write completes.
    pub latency: Option<Latency>,
}

/// `object_storage`: block uploads fail from `start`; writes succeed until the local disk
/// headroom is used, then fail until storage is back and the backlog is uploaded.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectStorage {
    /// Free local disk when uploads start failing, bytes.
    pub disk_headroom: u64,
    /// Local disk used per ingested sample, bytes (default 2).
    pub disk_bytes_per_sample: f64,
    /// After storage recovers, time to upload the backlog before writes are accepted.
    pub catch_up: SimDuration,
    /// Status while the disk is full (default 500).
    pub status: u16,
}

/// `network`: the path to the receiver is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Connections are refused at once.
    Refused,
    /// Packets vanish: every attempt waits for `remote_timeout`.
    Blackhole,
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
    /// How long a 429 takes to come back (`None`: the receiver's `latency`). A limiter in
    /// front of the ingesters usually answers faster than a write completes, which decides
    /// how quickly a sender that does not retry 429s burns through its batches.
    pub latency: Option<Latency>,
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
    /// Whether to record the delivery-latency histogram (`RunResult::delivery_latency_seconds`,
    /// zero when off). It is work that only that report needs, about an eighth of a large
    /// run's time; analyses that read only losses (the robust answer's variations, the outage
    /// budget) turn it off. Nothing else in the run depends on it. Default on.
    pub delivery_latency: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 1_000_000_000, delivery_latency: true }
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
    /// Most scrapes stamped within a `scrape_duration` distribution's spread (each lookup of
    /// the commit point scans them).
    pub const MAX_COMMIT_SPREAD_SCRAPES: u128 = 4096;
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

/// An HTTP error status (400–599).
fn error_status(key: &str, s: u16) -> Result<(), ConfigError> {
    if (400..=599).contains(&s) {
        Ok(())
    } else {
        Err(err(key, format!("{s} is not an HTTP error status (400 to 599)")))
    }
}

impl RateLimit {
    fn validate(&self, rate_key: &str, burst_key: &str, latency_key: &str) -> Result<(), ConfigError> {
        if !(self.samples_per_second > 0.0 && self.samples_per_second.is_finite()) {
            return Err(err(rate_key, "must be greater than 0 samples/s"));
        }
        if self.burst == 0 {
            return Err(err(burst_key, "must be at least 1 sample"));
        }
        if let Some(l) = &self.latency {
            l.validate(latency_key)?;
        }
        Ok(())
    }
}

impl Incident {
    /// The end of the incident within a run of length `run`.
    pub fn end_or(&self, run: SimDuration) -> SimDuration {
        self.end.unwrap_or(run)
    }

    fn validate(&self, key: &str, run: SimDuration, rc: &ReceiverConfig) -> Result<(), ConfigError> {
        let k = |field: &str| format!("{key}.{field}");
        if self.start >= run {
            return Err(err(k("start"), format!("{} is not before the end of the run ({run})", self.start)));
        }
        if let Some(end) = self.end {
            if end <= self.start {
                return Err(err(k("end"), format!("end ({end}) must be after start ({})", self.start)));
            }
            if end > run {
                return Err(err(k("end"), format!("{end} is after the end of the run ({run})")));
            }
        }
        match &self.kind {
            IncidentKind::Oom(o) => {
                if o.memory_limit.is_none() && o.crash_at.is_none() {
                    return Err(err(key, "an oom incident needs memory_limit, crash_at, or both"));
                }
                if let Some(limit) = o.memory_limit
                    && limit <= rc.memory_base
                {
                    return Err(err(
                        k("memory_limit"),
                        format!(
                            "{limit} bytes is not above receiver.memory_base ({} bytes): the receiver could never run",
                            rc.memory_base
                        ),
                    ));
                }
                if let Some(at) = o.crash_at
                    && (at < self.start || at >= self.end_or(run))
                {
                    return Err(err(
                        k("crash_at"),
                        format!("{at} is outside the incident ({} to {})", self.start, self.end_or(run)),
                    ));
                }
                if o.backoff_initial.nanos() == 0 {
                    return Err(err(k("backoff_initial"), "must be greater than 0"));
                }
                if o.backoff_max < o.backoff_initial {
                    return Err(err(
                        k("backoff_max"),
                        format!("{} is below backoff_initial ({})", o.backoff_max, o.backoff_initial),
                    ));
                }
                if o.backoff_reset.nanos() == 0 {
                    return Err(err(k("backoff_reset"), "must be greater than 0"));
                }
                error_status(&k("replay_status"), o.replay_status)?;
                if let Response::Status(s) = o.while_down {
                    error_status(&k("while_down"), s)?;
                }
            }
            IncidentKind::Rollout(r) => {
                if r.replication_factor == 0 || r.replication_factor > 9 {
                    return Err(err(k("replication_factor"), "must be between 1 and 9"));
                }
                if r.ingesters < r.replication_factor {
                    return Err(err(
                        k("ingesters"),
                        format!("{} ingesters cannot hold {} replicas of a series", r.ingesters, r.replication_factor),
                    ));
                }
                if r.ingesters > 10_000 {
                    return Err(err(k("ingesters"), "the limit is 10000"));
                }
                if r.interval.nanos() == 0 {
                    return Err(err(k("interval"), "must be greater than 0"));
                }
                if r.unready_for.nanos() == 0 {
                    return Err(err(k("unready_for"), "must be greater than 0"));
                }
                error_status(&k("status"), r.status)?;
            }
            IncidentKind::Proxy(p) => {
                if p.read_timeout.is_none() && p.max_body_bytes.is_none() {
                    return Err(err(key, "a proxy incident needs read_timeout, max_body_bytes, or both"));
                }
                if p.read_timeout.is_some_and(|t| t.nanos() == 0) {
                    return Err(err(k("read_timeout"), "must be greater than 0"));
                }
                if p.max_body_bytes == Some(0) {
                    return Err(err(k("max_body_bytes"), "must be at least 1 byte"));
                }
                error_status(&k("timeout_status"), p.timeout_status)?;
                error_status(&k("body_too_large_status"), p.body_too_large_status)?;
            }
            IncidentKind::Throttle(t) => t.validate(&k("rate"), &k("burst"), &k("latency"))?,
            IncidentKind::Reject(r) => {
                if !(r.fraction > 0.0 && r.fraction <= 1.0) {
                    return Err(err(k("fraction"), "must be greater than 0 and at most 1"));
                }
                error_status(&k("status"), r.status)?;
                if let Some(l) = &r.latency {
                    l.validate(&k("latency"))?;
                }
            }
            IncidentKind::ObjectStorage(o) => {
                if !(o.disk_bytes_per_sample > 0.0 && o.disk_bytes_per_sample.is_finite()) {
                    return Err(err(k("disk_bytes_per_sample"), "must be greater than 0"));
                }
                error_status(&k("status"), o.status)?;
            }
            IncidentKind::Network(_) => {}
        }
        Ok(())
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
                scrape_duration: Latency::Fixed(SimDuration::ZERO),
                report_series: true,
                wire_bytes_per_sample: DEFAULT_WIRE_BYTES_PER_SAMPLE,
                changes: Vec::new(),
            },
            remote_write: RemoteWriteConfig {
                remote_timeout: SimDuration::from_secs(30),
                queue: QueueConfig::defaults(profile),
            },
            sender: SenderConfig {
                flush_deadline: SimDuration::from_mins(1),
                reshard_tick_offset: SimDuration::ZERO,
                request_overhead: SimDuration::ZERO,
                cpu_per_sample: DEFAULT_CPU_PER_SAMPLE,
                cpu_cores: DEFAULT_CPU_CORES,
                mode: SenderMode::Server,
                events: Vec::new(),
                wal_persisted: true,
                wal_replay_bytes_per_second: DEFAULT_WAL_REPLAY_BYTES_PER_SECOND,
                scrape_start_delay: SimDuration::from_secs(5),
                memory: SenderMemory::default(),
            },
            tsdb: TsdbConfig {
                min_block_duration: SimDuration::from_hours(2),
                wal_segment_size: 128 << 20,
                wal_bytes_per_sample: DEFAULT_WAL_BYTES_PER_SAMPLE,
            },
            receiver: ReceiverConfig {
                latency: Latency::Fixed(SimDuration::from_millis(20)),
                workers: None,
                queue_size: None,
                queue_full_status: 503,
                request_overhead: SimDuration::ZERO,
                worker_throughput: None,
                memory_base: 0,
                memory_per_inflight_sample: 1024.0,
                rate_limit: None,
                ingest_after_client_timeout: true,
                faults: Vec::new(),
                incidents: Vec::new(),
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
            let days = d.as_secs_f64() / 86_400.0;
            return Err(err("duration", format!("{d} ({days:.1} days) is longer than the limit of 366 days")));
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
        if self.sender.request_overhead >= self.remote_write.remote_timeout {
            return Err(err(
                "sender.request_overhead",
                format!(
                    "{} must be shorter than remote_write.remote_timeout ({})",
                    self.sender.request_overhead, self.remote_write.remote_timeout
                ),
            ));
        }

        self.validate_sender_events()?;
        if let SenderMode::Vmagent(v) = &self.sender.mode {
            v.validate()?;
            if let Some(i) = self.sender.events.iter().position(|e| matches!(e.kind, SenderEventKind::Oom(_))) {
                return Err(err(
                    format!("sender.event[{i}].kind"),
                    "rwsim has no memory model for vmagent, so oom events apply to Prometheus senders only; use kind = \"crash\"",
                ));
            }
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
        w.scrape_duration.validate("workload.scrape_duration")?;
        let (commit_min, commit_max) = crate::workload::commit_delay_bounds(&w.scrape_duration);
        if commit_max >= w.scrape_interval {
            let what = if commit_min == commit_max { "" } else { "its 99.9th percentile " };
            return Err(err(
                "workload.scrape_duration",
                format!("{what}{commit_max} must be shorter than scrape_interval ({})", w.scrape_interval),
            ));
        }
        // Finding the commit point scans the scrapes stamped within the distribution's spread.
        let spread_scrapes = u128::from(w.targets) * u128::from(commit_max.saturating_sub(commit_min).nanos())
            / u128::from(w.scrape_interval.nanos());
        if spread_scrapes > MAX_COMMIT_SPREAD_SCRAPES {
            return Err(err(
                "workload.scrape_duration",
                format!(
                    "a spread of {} with {} targets every {} puts about {spread_scrapes} scrapes in flight at once, more \
                     than the limit of {MAX_COMMIT_SPREAD_SCRAPES}; with that many targets a fixed scrape_duration (the \
                     median) gives the same result",
                    commit_max.saturating_sub(commit_min),
                    w.targets,
                    w.scrape_interval
                ),
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

        self.validate_sender_mode()?;

        let rc = &self.receiver;
        rc.latency.validate("receiver.latency")?;
        if rc.workers == Some(0) {
            return Err(err("receiver.workers", "must be at least 1 (omit it for unlimited)"));
        }
        error_status("receiver.queue_full_status", rc.queue_full_status)?;
        if let Some(t) = rc.worker_throughput
            && !(t > 0.0 && t.is_finite())
        {
            return Err(err("receiver.worker_throughput", "must be greater than 0 samples/s (omit it for unlimited)"));
        }
        if !(rc.memory_per_inflight_sample >= 0.0 && rc.memory_per_inflight_sample.is_finite()) {
            return Err(err("receiver.memory_per_inflight_sample", "must be 0 or more bytes"));
        }
        for (i, inc) in rc.incidents.iter().enumerate() {
            inc.validate(&format!("receiver.incident[{i}]"), d, rc)?;
        }
        if let Some(rl) = &rc.rate_limit {
            rl.validate("receiver.rate_limit", "receiver.rate_limit_burst", "receiver.rate_limit_latency")?;
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
        let cost = self.run_cost();
        let total = cost.total();
        if total > self.limits.max_events as f64 {
            let top = cost.largest();
            return Err(err(
                top.key.clone(),
                format!(
                    "this scenario needs about {total:.3e} events, more than the budget of {:.0e} (simulation.max_events); \
                     the largest part is {}: about {:.3e}; {}, or raise simulation.max_events",
                    self.limits.max_events, top.what, top.events, top.hint
                ),
            ));
        }
        Ok(())
    }

    /// Agent mode and Alloy: what their upstream refuses, and a bound on the ticks.
    fn validate_sender_mode(&self) -> Result<(), ConfigError> {
        let (period, key) = match &self.sender.mode {
            SenderMode::Server | SenderMode::Vmagent(_) => return Ok(()),
            SenderMode::Agent(a) => (
                crate::sender::agent::AgentOptions::from_flags(a).truncate_frequency,
                "sender.agent.wal_truncate_frequency",
            ),
            SenderMode::Alloy(a) => {
                if self.profile == Profile::V2_42 {
                    return Err(err(
                        "prometheus",
                        "Grafana Alloy is built on Prometheus 3.x code (v1.18 on v3.12), not 2.42; write \
                         prometheus = \"3.x\" or leave it out",
                    ));
                }
                // `WALOptions.Validate`: Alloy refuses to load such a component.
                if a.truncate_frequency.nanos() == 0 {
                    return Err(err(
                        "sender.alloy.truncate_frequency",
                        "truncate_frequency must not be 0 (Alloy refuses it)",
                    ));
                }
                if a.max_keepalive_time <= a.min_keepalive_time {
                    return Err(err(
                        "sender.alloy.max_keepalive_time",
                        format!(
                            "min_keepalive_time must be smaller than max_keepalive_time ({} is not above {}); Alloy \
                             refuses it",
                            a.max_keepalive_time, a.min_keepalive_time
                        ),
                    ));
                }
                if self.tsdb.wal_segment_size != ALLOY_WAL_SEGMENT_SIZE {
                    return Err(err(
                        "tsdb.wal_segment_size",
                        "Alloy's WAL segments are fixed at 128MiB; it has no setting for their size",
                    ));
                }
                if self.sender.flush_deadline != ALLOY_FLUSH_DEADLINE {
                    return Err(err(
                        "sender.flush_deadline",
                        "Alloy's flush deadline is fixed at 1m; it has no setting for it",
                    ));
                }
                (a.truncate_frequency, "sender.alloy.truncate_frequency")
            }
        };
        let ticks = self.duration.nanos() / period.nanos();
        if ticks > MAX_TRUNCATION_TICKS {
            return Err(err(
                key,
                format!(
                    "a truncation every {period} makes {ticks} ticks in {}, more than the limit of \
                     {MAX_TRUNCATION_TICKS}; use a longer period or a shorter run",
                    self.duration
                ),
            ));
        }
        Ok(())
    }

    fn validate_sender_events(&self) -> Result<(), ConfigError> {
        let s = &self.sender;
        if !(s.cpu_cores > 0.0 && s.cpu_cores <= 1024.0) {
            return Err(err("sender.cpu_cores", "must be greater than 0 and at most 1024"));
        }
        if s.cpu_per_sample > SimDuration::from_millis(1) {
            return Err(err("sender.cpu_per_sample", "must be at most 1ms (measured: about 1.5µs)"));
        }
        if !(s.wal_replay_bytes_per_second > 0.0 && s.wal_replay_bytes_per_second.is_finite()) {
            return Err(err("sender.wal_replay_bytes_per_second", "must be greater than 0"));
        }
        if !(s.memory.per_series >= 0.0 && s.memory.per_series.is_finite()) {
            return Err(err("sender.memory_per_series", "must be 0 or more bytes"));
        }
        if !(s.memory.replay_factor >= 0.0 && s.memory.replay_factor.is_finite()) {
            return Err(err("sender.replay_memory_factor", "must be 0 or more"));
        }
        if s.scrape_start_delay > SimDuration::from_hours(1) {
            return Err(err("sender.scrape_start_delay", "must be at most 1h"));
        }
        let mut prev = None;
        for (i, e) in s.events.iter().enumerate() {
            let key = format!("sender.event[{i}]");
            if e.at >= self.duration {
                return Err(err(
                    format!("{key}.at"),
                    format!("{} is not before the end of the run ({})", e.at, self.duration),
                ));
            }
            if prev.is_some_and(|p| e.at < p) {
                return Err(err(format!("{key}.at"), "events must be in time order"));
            }
            prev = Some(e.at);
            match &e.kind {
                SenderEventKind::Restart { down_for, .. } | SenderEventKind::Crash { down_for, .. } => {
                    if *down_for > bounds::MAX_DURATION {
                        return Err(err(format!("{key}.down_for"), "must be at most 366 days"));
                    }
                }
                SenderEventKind::Reload { .. } => {}
                SenderEventKind::Oom(o) => {
                    if o.memory_limit == 0 {
                        return Err(err(format!("{key}.memory_limit"), "must be at least 1 byte"));
                    }
                    if let Some(end) = o.end
                        && end <= e.at
                    {
                        return Err(err(format!("{key}.end"), format!("end ({end}) must be after at ({})", e.at)));
                    }
                    if o.backoff_initial.nanos() == 0 {
                        return Err(err(format!("{key}.backoff_initial"), "must be greater than 0"));
                    }
                    if o.backoff_max < o.backoff_initial {
                        return Err(err(
                            format!("{key}.backoff_max"),
                            format!("{} is below backoff_initial ({})", o.backoff_max, o.backoff_initial),
                        ));
                    }
                    if o.backoff_reset.nanos() == 0 {
                        return Err(err(format!("{key}.backoff_reset"), "must be greater than 0"));
                    }
                }
            }
        }
        if s.events.iter().filter(|e| matches!(e.kind, SenderEventKind::Oom(_))).count() > 1 {
            return Err(err("sender.event", "at most one oom event: it sets the memory limit for a window"));
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
    /// before they start: the sum of [`SimConfig::run_cost`].
    pub fn estimated_events(&self) -> u64 {
        let est = self.run_cost().total();
        if est >= u64::MAX as f64 { u64::MAX } else { est as u64 }
    }

    /// The run's work by source, in events (a shard timer firing or a block written counts
    /// as one). Each source is an upper estimate from the configuration alone, so a
    /// scenario that would run for minutes — or stop at `max_events` after them — is refused
    /// up front, naming the source that costs most.
    pub fn run_cost(&self) -> RunCost {
        if let SenderMode::Vmagent(v) = &self.sender.mode {
            return v.run_cost(self);
        }
        let q = &self.remote_write.queue;
        let d = self.duration.as_secs_f64();
        let run = |x: SimDuration| x.as_secs_f64().max(1e-9);
        let per_sec = self.peak_samples_per_interval() as f64 / run(self.workload.scrape_interval);
        let batches = per_sec * d / f64::from(q.max_samples_per_send);
        let mut sources = vec![CostSource {
            what: "sends (a batch of max_samples_per_send and its answer)",
            key: "remote_write.queue_config.max_samples_per_send".into(),
            events: 2.0 * batches,
            hint: "raise max_samples_per_send or shorten the run",
        }];

        // Every running shard's flush timer fires each batch_send_deadline: min_shards always
        // run; more run only when the load needs them (then they also send batches).
        let ticks = d / run(q.batch_send_deadline);
        let (floor, up_to) =
            (ticks * f64::from(q.min_shards), (ticks * f64::from(q.max_shards)).min(2.0 * batches + d));
        sources.push(CostSource {
            what: "shard flush timers (every running shard, every batch_send_deadline)",
            key: if floor >= up_to {
                "remote_write.queue_config.min_shards"
            } else {
                "remote_write.queue_config.max_shards"
            }
            .into(),
            events: floor.max(up_to),
            hint: "use fewer shards, a longer batch_send_deadline or a shorter run",
        });

        // Retries: every shard at least each max_backoff while the receiver fails, which
        // a fault window or any incident may make it do for its whole span.
        let retry_period = run(q.max_backoff.max(q.min_backoff).max(SimDuration::from_millis(1)));
        let span = |start: SimDuration, end: SimDuration| end.min(self.duration).saturating_sub(start).as_secs_f64();
        let failing: f64 = self.receiver.faults.iter().map(|f| span(f.start, f.end)).sum::<f64>()
            + self.receiver.incidents.iter().map(|i| span(i.start, i.end_or(self.duration))).sum::<f64>();
        let retries = failing / retry_period * f64::from(q.max_shards);
        sources.push(CostSource {
            what: "retries (every shard, each max_backoff, while a fault or incident lasts)",
            key: "remote_write.queue_config.max_backoff".into(),
            events: retries,
            hint: "raise max_backoff, use fewer max_shards, or shorten the faults",
        });

        // Receiver crash loops: a crash per CrashLoopBackOff cycle at most, and never more
        // than one per request; each crash is a kill, a restart and a ready again.
        let requests = batches + retries;
        for (i, inc) in self.receiver.incidents.iter().enumerate() {
            if let IncidentKind::Oom(o) = &inc.kind {
                let cycle = run(o.backoff_initial + o.restart_time + o.replay_time);
                let crashes = (span(inc.start, inc.end_or(self.duration)) / cycle).min(requests + 1.0);
                sources.push(CostSource {
                    what: "receiver crashes (an OOM crash loop)",
                    key: format!("receiver.incident[{i}].backoff_initial"),
                    events: 3.0 * crashes,
                    hint: "use a longer backoff_initial, restart_time or replay_time, or a shorter incident",
                });
            }
        }
        // Sender OOM kills: one per backoff at most, each a kill, a start, a replay and a
        // new queue.
        for (i, e) in self.sender.events.iter().enumerate() {
            if let SenderEventKind::Oom(o) = &e.kind {
                let kills = span(e.at, o.end.unwrap_or(self.duration)) / run(o.backoff_initial);
                sources.push(CostSource {
                    what: "sender OOM kills (a crash loop)",
                    key: format!("sender.event[{i}].backoff_initial"),
                    events: 4.0 * kills,
                    hint: "use a longer backoff_initial or an earlier end",
                });
            }
        }

        sources.push(CostSource {
            what: "scrapes",
            key: "workload.scrape_interval".into(),
            events: (d / run(self.workload.scrape_interval)).min(d * 10.0),
            hint: "use a longer scrape_interval or a shorter run",
        });
        // WAL retention: a server compacts at most once per scrape (a commit nudges it) and
        // once per block range; agent mode and Alloy tick on a timer.
        let (what, key, period) = match &self.sender.mode {
            SenderMode::Server => (
                "head compactions and WAL truncations",
                "tsdb.min_block_duration",
                self.tsdb.min_block_duration.max(self.workload.scrape_interval),
            ),
            SenderMode::Agent(a) => (
                "WAL truncation ticks",
                "sender.agent.wal_truncate_frequency",
                crate::sender::agent::AgentOptions::from_flags(a).truncate_frequency,
            ),
            SenderMode::Alloy(a) => ("WAL truncation ticks", "sender.alloy.truncate_frequency", a.truncate_frequency),
            // Not reached: vmagent has its own estimate (above).
            SenderMode::Vmagent(v) => ("flush ticks", "vmagent.remoteWrite.flushInterval", v.flush_interval),
        };
        sources.push(CostSource {
            what,
            key: key.into(),
            events: 2.0 * d / run(period),
            hint: "use a longer period or a shorter run",
        });
        sources.push(CostSource {
            what: "output rows, reshard and data-rate ticks",
            key: "output.step".into(),
            events: d / run(self.output_step) + 2.0 * d / run(crate::resharder::SHARD_UPDATE_DURATION),
            hint: "use a larger output.step or a shorter run",
        });
        let edges = 2 * (self.receiver.faults.len() + self.receiver.incidents.len())
            + self.sender.events.len()
            + self.workload.changes.len();
        sources.push(CostSource {
            what: "fault windows, incidents, sender events and workload changes (their edges)",
            key: "receiver.fault".into(),
            events: edges as f64,
            hint: "merge or remove windows",
        });
        RunCost { sources }
    }
}

/// One source of a run's work, from [`SimConfig::run_cost`].
#[derive(Clone, Debug, PartialEq)]
pub struct CostSource {
    /// What makes the events, for messages.
    pub what: &'static str,
    /// The scenario key that drives it (where an error points).
    pub key: String,
    /// Estimated events.
    pub events: f64,
    /// How to bring it down.
    pub hint: &'static str,
}

/// A run's estimated work by source.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCost {
    /// Every source, in a fixed order.
    pub sources: Vec<CostSource>,
}

impl RunCost {
    /// All sources together.
    pub fn total(&self) -> f64 {
        self.sources.iter().map(|s| s.events).sum()
    }

    /// The source that costs most (the first of equals).
    pub fn largest(&self) -> &CostSource {
        let mut top = &self.sources[0];
        for s in &self.sources[1..] {
            if s.events > top.events {
                top = s;
            }
        }
        top
    }
}

/// Unix time of the default start, 2024-01-01T00:00:00Z: a multiple of every usual block range.
pub const DEFAULT_START_UNIX_SECS: u64 = 1_704_067_200;
/// Default WAL bytes per sample. Prometheus 2.42 (Snappy WAL compression on, the default)
/// measured on realistic series (docs/fidelity.md, issue #12 item 7): 6.3 for small integers
/// or constants, 7.4 for classic histograms, 9.2 for a node-exporter-plus-application mix,
/// 10.5–11.0 for counters with varying increments, 11.1–11.4 for random-valued gauges.
/// More bytes per sample means more segments per block range and an earlier WAL-truncation
/// loss, so the default sits above the mix, toward the earlier loss.
pub const DEFAULT_WAL_BYTES_PER_SAMPLE: f64 = 10.0;
/// Default sender CPU per sample sent (Prometheus 2.42, measured during catch-ups).
pub const DEFAULT_CPU_PER_SAMPLE: SimDuration = SimDuration::from_nanos(1500);
/// Default CPU cores for the sender's remote-write work.
pub const DEFAULT_CPU_CORES: f64 = 2.0;
/// Default WAL replay speed, bytes per second (see [`SenderConfig::wal_replay_bytes_per_second`]).
pub const DEFAULT_WAL_REPLAY_BYTES_PER_SECOND: f64 = 64.0 * 1024.0 * 1024.0;
/// Default remote-write request bytes per sample (Snappy-compressed protobuf): Prometheus 2.42
/// measured 19.3 on node-exporter data and 22.5–23.1 on synthetic application metrics.
pub const DEFAULT_WIRE_BYTES_PER_SAMPLE: f64 = 19.3;

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
