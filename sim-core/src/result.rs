//! The forecast of one run: what was delivered, lost, and how the queue behaved.
//!
//! It serializes to the `--json` object (`summary.json`) and reads back from it.

use crate::observer::Notable;
use serde::{Deserialize, Serialize};

/// Everything `rwsim run --json` prints. Field order is the JSON order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// Scenario name.
    pub scenario: String,
    /// Modelled Prometheus version (`"2.42"` or `"3.x"`).
    pub prometheus: String,
    /// Seed of the run.
    pub seed: u64,
    /// Simulated duration.
    pub simulated_seconds: f64,
    /// Where every appended sample ended up.
    pub samples: SampleTotals,
    /// Lag of the queue (newest committed sample minus newest sent sample).
    pub lag_seconds: LagStats,
    /// Queue depth.
    pub pending: PendingStats,
    /// Time from a sample's timestamp to its acknowledged delivery.
    pub delivery_latency_seconds: LatencyStats,
    /// Shard counts and reshards.
    pub shards: ShardStats,
    /// Peak estimated memory of the shard queues and send buffers.
    pub queue_memory_bytes_peak: u64,
    /// What the receiver saw.
    pub receiver: ReceiverStats,
    /// WAL segments, truncations and watcher restarts.
    pub wal: WalStats,
    /// appended = delivered + failed + dropped + pending_at_end held at every step.
    pub conservation_ok: bool,
    /// Events the simulator processed.
    pub events_processed: u64,
    /// Fault windows, incidents, receiver crashes and full disks, for shading charts.
    pub incident_windows: Vec<crate::receiver::IncidentWindow>,
    /// Windows beyond the cap of [`crate::incident::WindowLog`] (for the receiver's and for
    /// the sender's windows) that were not kept; absent when none were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub incident_windows_omitted: u64,
    /// Notable moments, in time order.
    pub timeline: Vec<Notable>,
    /// Notable moments beyond the timeline cap that were not kept.
    pub timeline_omitted: u64,
    /// The lost samples as ranges of sample timestamps: what a dashboard of the receiver's
    /// data will show as holes. Their samples add up to `failed + dropped.* +
    /// unsendable_at_end + not_scraped`.
    #[serde(default)]
    pub gaps: crate::gaps::Gaps,
    /// The sender process's own life: restarts, kills, reloads (§18).
    #[serde(default)]
    pub sender: SenderStats,
    /// vmagent's own numbers, for a vmagent run (`sender.mode = "vmagent"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmagent: Option<VmagentStats>,
}

/// Lag (seconds) above which remote write is behind: the timeline's "fell behind", and a run
/// that ends this far behind has not settled (what it has not sent may still be lost after
/// the run, at the next WAL truncation or a disk cap). A queue that keeps up stays well
/// under it.
pub const BEHIND_LAG_SECS: f64 = 60.0;
/// Lag (seconds) below which remote write has caught up again (the timeline's "caught up").
pub const CAUGHT_UP_LAG_SECS: f64 = 30.0;

impl RunResult {
    /// The final lag and the samples not yet sent (and not already counted lost as
    /// unsendable) when the run ends [`BEHIND_LAG_SECS`] or more behind.
    pub fn behind_at_end(&self) -> Option<(f64, u64)> {
        let unsent = self.samples.pending_at_end.saturating_sub(self.samples.unsendable_at_end);
        let lag = self.lag_seconds.final_;
        (lag >= BEHIND_LAG_SECS && unsent > 0).then_some((lag, unsent))
    }

    /// Samples the workload produced: appended to the WAL, plus those never scraped while
    /// the sender was down (§18), which are lost without ever being appended.
    pub fn produced(&self) -> u64 {
        self.samples.appended + self.samples.not_scraped
    }

    /// The share of the produced samples that never reach the receiver: every gap's samples
    /// over [`RunResult::produced`] (0 when nothing was produced). The one definition of the
    /// loss that the forecast, the robust answer, the outage budget and sweeps report.
    pub fn loss_fraction(&self) -> f64 {
        loss_share(self.gaps.samples, self.produced())
    }
}

/// `lost / produced`, 0 when nothing was produced.
pub fn loss_share(lost: u64, produced: u64) -> f64 {
    if produced == 0 { 0.0 } else { lost as f64 / produced as f64 }
}

/// What a vmagent run did, in vmagent's units (blocks and bytes) where vmagent counts them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VmagentStats {
    /// `"1.79"` or `"current"`.
    pub version: String,
    /// `-remoteWrite.queues` in effect (workers; fixed).
    pub queues: u32,
    /// Capacity of the in-memory queue, blocks.
    pub max_inmemory_blocks: u64,
    /// Disk cap in effect, bytes (0 = unlimited).
    pub disk_cap_bytes: u64,
    /// `vmagent_remotewrite_blocks_sent_total` (1.79: blocks taken for sending).
    pub blocks_sent: u64,
    /// `vmagent_remotewrite_retries_count_total`.
    pub retries: u64,
    /// `vmagent_remotewrite_packets_dropped_total`: blocks dropped on 400/409 (current: 415).
    pub packets_dropped: u64,
    /// `vm_persistentqueue_blocks_dropped_total`: oldest blocks dropped by the disk cap.
    pub disk_blocks_dropped: u64,
    /// `vm_persistentqueue_bytes_dropped_total`.
    pub disk_bytes_dropped: u64,
    /// Blocks larger than the whole cap, dropped without any counter.
    pub disk_blocks_dropped_uncounted: u64,
    /// Peak `vm_persistentqueue_bytes_pending`.
    pub disk_pending_peak_bytes: u64,
    /// Peak bytes of the queue's chunk files on the file system.
    pub disk_file_peak_bytes: u64,
    /// `vmagent_remotewrite_rate_limit_reached_total`.
    pub rate_limit_reached: u64,
}

/// What happened to the sender process.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SenderStats {
    /// SIGTERM restarts.
    pub restarts: u32,
    /// `kill -9` crashes (events of kind `crash`).
    pub crashes: u32,
    /// OOM kills.
    pub oom_kills: u32,
    /// Configuration reloads.
    pub reloads: u32,
    /// Remote-write queues started (1 plus every restart and recreating reload).
    pub queue_starts: u32,
    /// Time the process was down (from exit or kill to the next start), seconds.
    pub down_seconds: f64,
    /// Highest estimated sender memory seen at an output step, bytes.
    pub memory_peak_bytes: u64,
    /// The sending program: `"server"` (Prometheus), `"agent"` (Prometheus agent mode) or
    /// `"alloy"` (Grafana Alloy, §19). Empty in results written before it existed.
    #[serde(default)]
    pub mode: String,
}

/// The conservation buckets. `retried` is a count of retry events, not a bucket.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SampleTotals {
    /// Samples committed to the WAL.
    pub appended: u64,
    /// Acknowledged by the receiver (2xx).
    pub delivered: u64,
    /// Dropped on a non-recoverable answer (4xx, 429 without retry).
    pub failed: u64,
    /// Samples re-sent after a recoverable error (sum over retries, as `samples_retried_total`).
    pub retried: u64,
    /// Lost before any answer, by reason.
    pub dropped: Dropped,
    /// Still in the WAL or the queues when the run ended.
    pub pending_at_end: u64,
    /// Of `pending_at_end`: written to the WAL but not yet read by the watcher.
    pub unread_wal_at_end: u64,
    /// Of `pending_at_end`: unread samples that can no longer be sent, because WAL truncation
    /// deleted the segments the watcher still needed (they are lost when it restarts), or
    /// because their queue stopped and the next one will start after them (a sender down at
    /// the end of the run).
    pub unsendable_at_end: u64,
    /// Samples never scraped (never appended) because the sender was down, replaying its
    /// WAL or not yet scraping: what the workload would have produced in those windows.
    #[serde(default)]
    pub not_scraped: u64,
}

/// Lost samples by reason.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dropped {
    /// Skipped by the watcher after WAL segments it had not read were deleted (silent in Prometheus).
    pub wal_truncation: u64,
    /// Older than `sample_age_limit` (v3.x).
    pub too_old: u64,
    /// Discarded at a hard shutdown: a reshard's drain, or a queue stop at SIGTERM or reload,
    /// exceeded the flush deadline.
    pub reshard_shutdown: u64,
    /// Written to the WAL but skipped when a queue's watcher started at "now": after a
    /// restart, a kill (with what the queues held) or a reload that recreated the queue.
    /// Silent in Prometheus.
    #[serde(default)]
    pub restart_skip: u64,
    /// vmagent: the oldest blocks dropped by `-remoteWrite.maxDiskUsagePerURL` (and blocks
    /// larger than the whole cap), in samples.
    #[serde(default)]
    pub disk_full: u64,
    /// vmagent: lost at a kill (buffers, in-memory queue, sends in flight, unsynced file data).
    #[serde(default)]
    pub sender_crash: u64,
}

impl Dropped {
    /// Every bucket.
    pub fn total(&self) -> u64 {
        self.wal_truncation
            + self.too_old
            + self.reshard_shutdown
            + self.restart_skip
            + self.disk_full
            + self.sender_crash
    }
}

/// Lag statistics, sampled at every output step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LagStats {
    /// Largest lag.
    pub max: f64,
    /// Lag at the end.
    #[serde(rename = "final")]
    pub final_: f64,
}

/// Queue depth statistics, sampled at every output step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PendingStats {
    /// Largest `samples_pending` (enqueued in shards).
    pub max: u64,
    /// Largest backlog including unread WAL.
    pub backlog_max: u64,
}

/// Delivery latency quantiles in seconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

/// Shard statistics.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ShardStats {
    /// Fewest shards running.
    pub min: u32,
    /// Most shards running.
    pub max: u32,
    /// Shards at the end.
    #[serde(rename = "final")]
    pub final_: u32,
    /// Reshards applied.
    pub reshards: u32,
    /// Reshards wanted but refused by the gate (no recent send, or disabled after a retry).
    pub reshards_skipped: u32,
    /// Reshards whose drain hit the flush deadline.
    pub hard_shutdowns: u32,
}

/// The receiver's view.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReceiverStats {
    /// HTTP attempts.
    pub requests: u64,
    /// Attempts by outcome: `2xx`, `429`, `4xx`, `5xx`, `timeout`, `refused`, `reset`.
    pub responses: Responses,
    /// Samples stored (duplicates included).
    pub samples_ingested: u64,
    /// Samples stored more than once.
    pub duplicate_samples: u64,
    /// Receiver process crashes (`oom` incidents).
    pub crashes: u32,
    /// Highest receiver memory, bytes (`memory_base` + in-flight samples).
    pub memory_peak_bytes: u64,
}

/// Attempt outcomes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Responses {
    /// 2xx.
    #[serde(rename = "2xx")]
    pub ok: u64,
    /// 429.
    #[serde(rename = "429")]
    pub throttled: u64,
    /// Other 3xx/4xx.
    #[serde(rename = "4xx")]
    pub client_error: u64,
    /// 5xx.
    #[serde(rename = "5xx")]
    pub server_error: u64,
    /// `remote_timeout` expired.
    pub timeout: u64,
    /// Connection refused.
    pub refused: u64,
    /// Connection reset mid-request (the receiver died).
    pub reset: u64,
}

/// The class of one attempt's result, as both sender models count it in [`Responses`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResponseClass {
    Ok,
    Throttled,
    ClientError,
    ServerError,
    Timeout,
    Refused,
    Reset,
}

impl Responses {
    /// Counts one attempt's result.
    pub(crate) fn count(&mut self, class: ResponseClass) {
        let n = match class {
            ResponseClass::Ok => &mut self.ok,
            ResponseClass::Throttled => &mut self.throttled,
            ResponseClass::ClientError => &mut self.client_error,
            ResponseClass::ServerError => &mut self.server_error,
            ResponseClass::Timeout => &mut self.timeout,
            ResponseClass::Refused => &mut self.refused,
            ResponseClass::Reset => &mut self.reset,
        };
        *n += 1;
    }
}

/// WAL statistics.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WalStats {
    /// Segments created.
    pub segments_created: u64,
    /// WAL truncations (head compactions that truncated, or executed agent/Alloy ticks).
    pub truncations: u64,
    /// Segments deleted.
    pub segments_deleted: u64,
    /// Watcher restarts after its segment was deleted.
    pub watcher_restarts: u64,
    /// Failed enqueue attempts (`enqueue_retries_total`).
    pub enqueue_retries: u64,
    /// Alloy: truncation ticks skipped because the remote-write timestamp had not moved
    /// (no truncation, no new segment). Always 0 for Prometheus.
    #[serde(default)]
    pub truncations_skipped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
