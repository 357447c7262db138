//! `rwsim compare`: the same workload, receiver and faults through several senders, reduced
//! to what an SRE asks after an outage — how much time went missing and where, what arrived,
//! how far behind each sender fell, what it held in memory and on disk, and how long it took
//! to catch up. Rendering is in `reports::compare`; running the senders is the CLI's job.

use serde::{Deserialize, Serialize};
use sim_core::config::SimConfig;
use sim_core::metrics::MetricsRow;
use sim_core::observer::Observer;
use sim_core::result::RunResult;

/// Lag below which a sender counts as caught up after the outage (the timeline's
/// "caught up" threshold).
pub use sim_core::result::CAUGHT_UP_LAG_SECS;

/// The few per-step values the comparison keeps of a run (memory stays small: five numbers
/// per output step).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Seconds since the start.
    pub t: Vec<f64>,
    /// Lag, seconds.
    pub lag: Vec<f64>,
    /// Samples lost so far, every reason (failed, dropped, never scraped, certain to be lost).
    pub lost: Vec<u64>,
    /// Samples the workload produced so far (appended plus never scraped).
    pub produced: Vec<u64>,
    /// Remote-write queue memory estimate, bytes.
    pub memory: Vec<u64>,
    /// Remote-write data on disk, bytes.
    pub disk: Vec<u64>,
}

impl Trace {
    fn lost_of(r: &MetricsRow) -> u64 {
        r.failed_once_total
            + r.lost_wal_truncation_total
            + r.lost_reshard_shutdown_total
            + r.lost_restart_skip_total
            + r.lost_too_old_total
            + r.not_scraped_total
            + r.lost_disk_full_total
            + r.lost_sender_crash_total
            + r.unsendable_samples
    }
}

impl Observer for Trace {
    fn on_step(&mut self, r: &MetricsRow) {
        self.t.push(r.t_seconds);
        self.lag.push(r.lag_seconds);
        self.lost.push(Self::lost_of(r));
        self.produced.push(r.appended_total + r.not_scraped_total);
        self.memory.push(r.queue_memory_bytes);
        self.disk.push(r.disk_bytes);
    }
}

/// One sender's line of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SenderOutcome {
    /// The name given to `--senders`.
    pub label: String,
    /// The sender in words (`Prometheus 3.x in agent mode`, `vmagent 1.79.5`).
    pub sender: String,
    /// Time's worth of data missing at the receiver (Σ gap duration × coverage), seconds.
    pub lost_seconds: f64,
    /// Gaps.
    pub gaps: usize,
    /// The largest gap as `from`–`to` seconds, if any.
    pub largest_gap: Option<(f64, f64)>,
    /// Samples scraped (appended).
    pub appended: u64,
    /// Samples delivered.
    pub delivered: u64,
    /// Samples rejected for good (4xx).
    pub failed: u64,
    /// Samples lost any other way (dropped, never scraped, certain to be lost at the end).
    pub lost_other: u64,
    /// Of `lost_other`: never scraped (the sender was down).
    pub not_scraped: u64,
    /// Largest lag, seconds.
    pub max_lag_seconds: f64,
    /// Peak memory of the remote-write queue (Prometheus: shard queues and send buffers;
    /// vmagent: buffers, in-memory blocks and blocks in flight), bytes, an estimate. The
    /// series memory of a Prometheus head is not included.
    pub peak_memory_bytes: u64,
    /// Peak remote-write data on disk, bytes.
    pub peak_disk_bytes: u64,
    /// From the end of the last receiver fault or incident to the first step with lag under
    /// [`CAUGHT_UP_LAG_SECS`]: `None` without an outage, `Some(None)` if it never caught up.
    pub catch_up_seconds: Option<Option<f64>>,
    /// Whether every sample was accounted for.
    pub conservation_ok: bool,
}

/// The comparison: the outage it is about and one line per sender, in `--senders` order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Run length, seconds.
    pub duration_seconds: f64,
    /// End of the last receiver fault or incident, seconds (`None`: no outage).
    pub outage_end_seconds: Option<f64>,
    /// The senders.
    pub senders: Vec<SenderOutcome>,
}

/// End of the last fault window or receiver incident with an end.
pub fn outage_end(cfg: &SimConfig) -> Option<f64> {
    let faults = cfg.receiver.faults.iter().map(|f| f.end.min(cfg.duration));
    let incidents = cfg.receiver.incidents.iter().map(|i| i.end_or(cfg.duration));
    faults.chain(incidents).max().map(|d| d.as_secs_f64())
}

/// Seconds from `end` to the first step at or after it with lag under the threshold.
pub fn catch_up(trace: &Trace, end: f64) -> Option<f64> {
    trace.t.iter().zip(&trace.lag).find(|(t, lag)| **t >= end && **lag < CAUGHT_UP_LAG_SECS).map(|(t, _)| t - end)
}

/// One sender's outcome from its run and trace.
pub fn outcome(label: &str, sender: &str, r: &RunResult, trace: &Trace, outage_end: Option<f64>) -> SenderOutcome {
    let s = &r.samples;
    let largest = r.gaps.largest_gap().map(|g| (g.from_seconds, g.to_seconds));
    SenderOutcome {
        label: label.to_string(),
        sender: sender.to_string(),
        lost_seconds: r.gaps.lost_seconds,
        gaps: r.gaps.list.len(),
        largest_gap: largest,
        appended: s.appended,
        delivered: s.delivered,
        failed: s.failed,
        lost_other: s.dropped.total() + s.not_scraped + s.unsendable_at_end,
        not_scraped: s.not_scraped,
        max_lag_seconds: r.lag_seconds.max,
        peak_memory_bytes: r.queue_memory_bytes_peak,
        peak_disk_bytes: trace.disk.iter().copied().max().unwrap_or(0),
        catch_up_seconds: outage_end.map(|e| catch_up(trace, e)),
        conservation_ok: r.conservation_ok,
    }
}

impl Comparison {
    /// The sender that lost the least time (first in `--senders` order on a tie).
    pub fn best(&self) -> Option<&SenderOutcome> {
        self.senders.iter().reduce(|a, b| if b.lost_seconds < a.lost_seconds { b } else { a })
    }

    /// The sender that lost the most time (first in `--senders` order on a tie).
    pub fn worst(&self) -> Option<&SenderOutcome> {
        self.senders.iter().reduce(|a, b| if b.lost_seconds > a.lost_seconds { b } else { a })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_counts_from_the_outage_end_to_the_first_small_lag() {
        let t =
            Trace { t: vec![0.0, 10.0, 20.0, 30.0, 40.0], lag: vec![0.0, 50.0, 90.0, 40.0, 5.0], ..Trace::default() };
        assert_eq!(catch_up(&t, 20.0), Some(20.0));
        assert_eq!(catch_up(&t, 45.0), None, "no step after the end");
        let never = Trace { t: vec![0.0, 10.0], lag: vec![100.0, 100.0], ..Trace::default() };
        assert_eq!(catch_up(&never, 0.0), None);
    }
}
