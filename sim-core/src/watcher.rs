//! The WAL watcher (§4): where it is in the WAL, and when it can read a given position.
//!
//! The watcher's position is the WAL position of the next sample it will hand to
//! `QueueManager.Append`. While it is reading, its position follows the write head (at once in
//! v3.x, on a 10 ms tick in v2.42) up to the first sample whose shard is full; then it is
//! blocked and retries on the enqueue backoff. If its segment is deleted, it finishes the
//! segment, fails, sleeps 5 s and restarts at the newest data, skipping everything between.

use crate::backoff::EnqueueBackoff;
use crate::profile::ReadTrigger;
use crate::time::{SimDuration, SimTime};
use crate::workload::Workload;

/// v2.42 read ticker period (`readPeriod`).
pub const READ_PERIOD: SimDuration = SimDuration::from_millis(10);
/// Sleep between a failed `Run` and the next (`loop` in watcher.go).
pub const RESTART_DELAY: SimDuration = SimDuration::from_secs(5);

/// Why the watcher cannot enqueue.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BlockCause {
    /// The target shard of the next sample is full.
    Shard(u32),
    /// The shards are in soft shutdown (a reshard is draining).
    Shutdown,
}

/// The watcher's state.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WatcherState {
    /// Tailing the WAL.
    Reading,
    /// Stuck in `Append`, retrying on the enqueue backoff.
    Blocked {
        /// Retry schedule since the first failure.
        backoff: EnqueueBackoff,
        /// What it waits for.
        cause: BlockCause,
        /// The retry that will succeed, once known.
        resume_at: Option<SimTime>,
    },
    /// `Run` failed (its next segment was deleted); it restarts at `until`.
    Failed {
        /// Restart time.
        until: SimTime,
    },
    /// The queue is stopping or gone (`QueueManager.Stop` closed its quit channel): nothing
    /// more is enqueued until a new queue starts a new watcher.
    Stopped,
}

/// The WAL watcher of the (single) remote-write queue.
#[derive(Clone, Debug)]
pub struct Watcher {
    /// WAL position of the next sample to enqueue.
    pub pos: u64,
    /// Current state.
    pub state: WatcherState,
    trigger: ReadTrigger,
    /// Time the current `Run` started (its read ticker is aligned to it).
    started: SimTime,
    /// End position of a segment that was deleted under the watcher: it fails on reaching it.
    pub doom_end: Option<u64>,
    /// The segment the watcher is still reading after a truncation deleted it (it reads on
    /// from its open file). `prometheus_wal_watcher_current_segment` keeps showing it.
    pub deleted_segment: Option<u64>,
}

impl Watcher {
    /// A watcher started at `t` at position `pos`.
    pub fn new(trigger: ReadTrigger, t: SimTime, pos: u64) -> Self {
        Watcher { pos, state: WatcherState::Reading, trigger, started: t, doom_end: None, deleted_segment: None }
    }

    /// Restarts `Run` at `t`: a new ticker phase, no doom.
    pub fn restart(&mut self, t: SimTime, pos: u64) {
        self.pos = self.pos.max(pos);
        self.state = WatcherState::Reading;
        self.started = t;
        self.doom_end = None;
        self.deleted_segment = None;
    }

    /// The last read tick at or before `t` (v2.42), or `t` itself (v3.x).
    fn last_read_at(&self, t: SimTime) -> Option<SimTime> {
        match self.trigger {
            ReadTrigger::Notify => Some(t),
            ReadTrigger::Poll10ms => {
                let p = READ_PERIOD.nanos();
                let since = t.saturating_since(self.started).nanos();
                (since >= p).then(|| SimTime(self.started.nanos() + since / p * p))
            }
        }
    }

    /// The first read at or after `t` (v2.42: the next tick of the ticker; v3.x: `t`).
    fn next_read_at(&self, t: SimTime) -> SimTime {
        match self.trigger {
            ReadTrigger::Notify => t,
            ReadTrigger::Poll10ms => {
                if t == SimTime::NEVER {
                    return t;
                }
                let p = READ_PERIOD.nanos();
                let since = t.saturating_since(self.started).nanos().max(p);
                SimTime(self.started.nanos() + since.div_ceil(p) * p)
            }
        }
    }

    /// WAL positions the watcher could have read by `t` if nothing blocked it.
    pub fn visible(&self, wl: &Workload, t: SimTime) -> u64 {
        self.last_read_at(t).map_or(0, |r| wl.committed_by(r))
    }

    /// The earliest time the watcher can read position `p`.
    pub fn readable_at(&self, wl: &Workload, p: u64) -> SimTime {
        self.next_read_at(wl.commit_time_of(p))
    }

    /// `prometheus_wal_watcher_current_segment` (`watcher.go: Watcher.Run` sets it before
    /// each `watch`): the segment holding the watcher's position (`on_disk`, `None` if that
    /// segment was deleted), else the deleted segment it is still reading. Once it has
    /// failed to open the next one, the gauge already names that next segment, during the
    /// 5 s wait and until `Run` starts again.
    pub fn current_segment(&self, on_disk: Option<u64>, oldest_on_disk: u64) -> u64 {
        match (self.state, self.deleted_segment) {
            (WatcherState::Failed { .. }, Some(c)) => c + 1,
            _ => on_disk.or(self.deleted_segment).unwrap_or(oldest_on_disk),
        }
    }

    /// True while blocked.
    pub fn is_blocked(&self) -> bool {
        matches!(self.state, WatcherState::Blocked { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorkloadConfig;

    #[test]
    fn poll_reads_on_10ms_ticks_after_start() {
        let cfg = WorkloadConfig {
            series: 10,
            scrape_interval: SimDuration::from_secs(1),
            targets: 1,
            scrape_duration: crate::config::Latency::Fixed(SimDuration::ZERO),
            report_series: false,
            wire_bytes_per_sample: 1.0,
            changes: vec![],
        };
        let wl = Workload::new(&cfg, 1);
        let phase = wl.timestamp_of(0);
        let w = Watcher::new(ReadTrigger::Poll10ms, SimTime(3_000_000), 0);
        let at = w.readable_at(&wl, 0);
        assert!(at >= phase && at < phase + READ_PERIOD + SimDuration(1));
        assert_eq!((at.nanos() - 3_000_000) % 10_000_000, 0, "aligned to the watcher's start");
        assert_eq!(w.visible(&wl, at), 10);
        assert_eq!(w.visible(&wl, SimTime(at.nanos() - 1)), 0);
        let n = Watcher::new(ReadTrigger::Notify, SimTime(0), 0);
        assert_eq!(n.readable_at(&wl, 0), phase);
    }
}
