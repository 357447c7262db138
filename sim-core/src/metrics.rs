//! The time series a run produces: one [`MetricsRow`] per `output.step`.
//!
//! Columns named after a Prometheus metric mirror `prometheus_remote_storage_<name>` with the
//! same semantics, including Prometheus's own quirks (`samples_total` counts every attempt,
//! `samples_failed_total` over-counts at hard shutdown, `samples_pending` resets at every
//! reshard). Columns without a Prometheus twin are rwsim's own and say so.

use crate::receiver::{ReceiverSnapshot, ReceiverTotals};
use crate::result::Responses;
use serde::{Deserialize, Serialize};

/// One row of `timeseries.csv`. Field order is the column order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsRow {
    /// Seconds since the start of the run.
    pub t_seconds: f64,
    /// `samples_in_total`: samples committed to the WAL (process-wide).
    pub samples_in_total: u64,
    /// `samples_total`: samples in every send attempt, retries included.
    pub samples_total: u64,
    /// `samples_failed_total`: non-recoverable errors and hard-shutdown discards (as counted by Prometheus).
    pub samples_failed_total: u64,
    /// `samples_retried_total`.
    pub samples_retried_total: u64,
    /// `samples_dropped_total` (v3: `reason="too_old"`).
    pub samples_dropped_total: u64,
    /// `samples_pending`: enqueued in shards and not yet completed.
    pub samples_pending: u64,
    /// `enqueue_retries_total`: failed enqueue attempts of the WAL watcher.
    pub enqueue_retries_total: u64,
    /// `shards`.
    pub shards: u32,
    /// `shards_desired` (raw float of the last computation).
    pub shards_desired: f64,
    /// `shards_max`.
    pub shards_max: u32,
    /// `shards_min`.
    pub shards_min: u32,
    /// `shard_capacity`.
    pub shard_capacity: u32,
    /// `max_samples_per_send`.
    pub max_samples_per_send: u32,
    /// `bytes_total`: compressed bytes of completed batches.
    pub bytes_total: u64,
    /// `sent_batch_duration_seconds_sum`.
    pub sent_batch_duration_seconds_sum: f64,
    /// `sent_batch_duration_seconds_count`: HTTP attempts.
    pub sent_batch_duration_seconds_count: u64,
    /// `highest_timestamp_in_seconds`.
    pub highest_timestamp_in_seconds: u64,
    /// `queue_highest_sent_timestamp_seconds`.
    pub queue_highest_sent_timestamp_seconds: u64,
    /// Newest committed sample minus newest sent sample, seconds (millisecond precision):
    /// the usual remote-write lag panel.
    pub lag_seconds: f64,
    /// rwsim: samples acknowledged by the receiver.
    pub delivered_total: u64,
    /// rwsim: samples lost because the watcher skipped unread WAL (truncation).
    pub lost_wal_truncation_total: u64,
    /// rwsim: samples discarded at a reshard's hard shutdown (counted once).
    pub lost_reshard_shutdown_total: u64,
    /// rwsim: samples written to the WAL and not yet completed (unread WAL plus queued).
    pub backlog_samples: u64,
    /// rwsim: unread samples certain to be skipped: their WAL segments are already deleted
    /// (lost at the watcher's restart), or their queue has stopped (lost when the next one
    /// starts). A gauge; it drops when they move into a `lost_*` total.
    pub unsendable_samples: u64,
    /// rwsim: estimated bytes held by the shard queues and send buffers.
    pub queue_memory_bytes: u64,
    /// `prometheus_tsdb_wal_segment_current`.
    pub tsdb_wal_segment_current: u64,
    /// `prometheus_wal_watcher_current_segment`.
    pub wal_watcher_current_segment: u64,
    /// rwsim: 1 while the watcher is blocked on a full shard or a reshard.
    pub watcher_blocked: u8,
    /// rwsim: attempts answered 2xx.
    pub responses_2xx_total: u64,
    /// rwsim: attempts answered 429.
    pub responses_429_total: u64,
    /// rwsim: attempts answered another 4xx (or 3xx).
    pub responses_4xx_total: u64,
    /// rwsim: attempts answered 5xx.
    pub responses_5xx_total: u64,
    /// rwsim: attempts that hit `remote_timeout`.
    pub responses_timeout_total: u64,
    /// rwsim: attempts whose connection was refused.
    pub responses_refused_total: u64,
    /// rwsim: samples the receiver ingested more than once (retries of timed-out requests).
    pub duplicate_samples_total: u64,
    /// rwsim: attempts whose connection was reset (the receiver died mid-request).
    pub responses_reset_total: u64,
    /// rwsim: receiver memory, bytes (`memory_base` + accepted, unfinished samples).
    pub receiver_memory_bytes: u64,
    /// rwsim: requests the receiver accepted and has not finished (queued or in service).
    pub receiver_inflight_requests: u64,
    /// rwsim: receiver process state: 2 serving, 1 replaying its WAL, 0 down.
    pub receiver_up: u8,
    /// rwsim: receiver process crashes so far.
    pub receiver_crashes_total: u64,
    /// rwsim: sender process state: 2 running, 1 starting (WAL replay) or stopping (SIGTERM
    /// flush), 0 down. While it is not 2, Prometheus's own counters above may have reset.
    pub sender_up: u8,
    /// rwsim: samples skipped by a queue's watcher starting at "now" after a restart, crash
    /// or reload (never sent; Prometheus counts none of them).
    pub lost_restart_skip_total: u64,
    /// rwsim: samples never scraped while the sender was down or not yet scraping.
    pub not_scraped_total: u64,
    /// rwsim: estimated sender memory (series, queues, replay), bytes, for `oom` events.
    pub sender_memory_bytes: u64,
    /// rwsim: samples committed to the WAL over the whole run (`samples_in_total` starts
    /// again with every sender process).
    pub appended_total: u64,
    /// rwsim: samples dropped on a non-recoverable answer (4xx, 429 without retry), each
    /// counted once (Prometheus's `samples_failed_total` also counts hard-shutdown discards,
    /// several times over, and starts again with every queue).
    pub failed_once_total: u64,
    /// rwsim: samples dropped as older than `sample_age_limit`, over the whole run.
    pub lost_too_old_total: u64,
    /// vmagent: `vmagent_remotewrite_blocks_sent_total` (1.79: counted when a block is taken
    /// for sending; current: on 2xx). 0 for Prometheus. Like every `vmagent_*` and
    /// `vm_persistentqueue_*` counter here it starts again at 0 with each vmagent process;
    /// the run's totals are in the summary's `vmagent` object.
    #[serde(default)]
    pub vmagent_remotewrite_blocks_sent_total: u64,
    /// vmagent: `vmagent_remotewrite_bytes_sent_total` (compressed; same rule).
    #[serde(default)]
    pub vmagent_remotewrite_bytes_sent_total: u64,
    /// vmagent: `vmagent_remotewrite_retries_count_total`: sleeps before a retry.
    #[serde(default)]
    pub vmagent_remotewrite_retries_count_total: u64,
    /// vmagent: `vmagent_remotewrite_errors_total`: transport errors and timeouts.
    #[serde(default)]
    pub vmagent_remotewrite_errors_total: u64,
    /// vmagent: `vmagent_remotewrite_packets_dropped_total`: blocks dropped on 400/409.
    #[serde(default)]
    pub vmagent_remotewrite_packets_dropped_total: u64,
    /// vmagent: `vmagent_remotewrite_pending_data_bytes`: in-memory plus file-queue bytes.
    #[serde(default)]
    pub vmagent_remotewrite_pending_data_bytes: u64,
    /// vmagent: `vmagent_remotewrite_pending_inmemory_blocks`.
    #[serde(default)]
    pub vmagent_remotewrite_pending_inmemory_blocks: u64,
    /// vmagent: `vmagent_remotewrite_queues` (workers, fixed).
    #[serde(default)]
    pub vmagent_remotewrite_queues: u32,
    /// vmagent: `vmagent_remotewrite_rate_limit_reached_total`.
    #[serde(default)]
    pub vmagent_remotewrite_rate_limit_reached_total: u64,
    /// vmagent: `vm_persistentqueue_bytes_pending` (writer minus reader offset; what the
    /// disk cap limits).
    #[serde(default)]
    pub vm_persistentqueue_bytes_pending: u64,
    /// vmagent: `vm_persistentqueue_blocks_written_total`.
    #[serde(default)]
    pub vm_persistentqueue_blocks_written_total: u64,
    /// vmagent: `vm_persistentqueue_blocks_read_total`.
    #[serde(default)]
    pub vm_persistentqueue_blocks_read_total: u64,
    /// vmagent: `vm_persistentqueue_blocks_dropped_total`: oldest blocks dropped by the cap.
    #[serde(default)]
    pub vm_persistentqueue_blocks_dropped_total: u64,
    /// vmagent: `vm_persistentqueue_bytes_dropped_total`.
    #[serde(default)]
    pub vm_persistentqueue_bytes_dropped_total: u64,
    /// rwsim (vmagent): samples in blocks the disk cap dropped.
    #[serde(default)]
    pub lost_disk_full_total: u64,
    /// rwsim (vmagent): samples lost at kills.
    #[serde(default)]
    pub lost_sender_crash_total: u64,
    /// rwsim: the sender's remote-write data on disk, bytes. vmagent: its persistent queue's
    /// chunk files. Prometheus: the WAL's segments on disk, each counted at full segment size
    /// (an upper bound; checkpoints not included).
    #[serde(default)]
    pub disk_bytes: u64,
}

impl MetricsRow {
    /// A row with only the receiver's columns set: the answers the sender counted (`r`), the
    /// receiver's state and its totals. Both sender models fill the rest (`..` this row), so
    /// these columns mean the same for Prometheus and vmagent.
    pub fn receiver_columns(r: &Responses, rs: &ReceiverSnapshot, totals: &ReceiverTotals) -> MetricsRow {
        MetricsRow {
            responses_2xx_total: r.ok,
            responses_429_total: r.throttled,
            responses_4xx_total: r.client_error,
            responses_5xx_total: r.server_error,
            responses_timeout_total: r.timeout,
            responses_refused_total: r.refused,
            duplicate_samples_total: totals.duplicate_samples,
            responses_reset_total: r.reset,
            receiver_memory_bytes: rs.memory_bytes,
            receiver_inflight_requests: rs.inflight_requests,
            receiver_up: rs.up,
            receiver_crashes_total: u64::from(totals.crashes),
            ..MetricsRow::default()
        }
    }
}
