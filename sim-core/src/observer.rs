//! Hooks for watching a run as it happens. Every hook does nothing by default, so a recorder
//! implements only what it needs; `()` is the observer that records nothing.

use crate::metrics::MetricsRow;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};

/// A notable moment in a run, for the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notable {
    /// When it happened.
    #[serde(serialize_with = "ser_secs", deserialize_with = "de_secs", rename = "t_seconds")]
    pub at: SimTime,
    /// What kind of moment it is.
    pub kind: NotableKind,
    /// One line for a human.
    pub message: String,
    /// Whether a summary should always show it. Minor moments are routine dynamics — small
    /// reshards (shard-count flapping), watcher stalls under a minute — that a summary counts
    /// rather than lists.
    pub major: bool,
}

fn ser_secs<S: serde::Serializer>(t: &SimTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(t.as_secs_f64())
}

/// Reads [`ser_secs`]' float seconds back, to the nearest nanosecond.
fn de_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SimTime, D::Error> {
    let s = f64::deserialize(d)?;
    Ok(SimTime(crate::time::SimDuration::from_secs_f64(s).nanos()))
}

/// Kinds of [`Notable`] moments.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotableKind {
    /// A `[[receiver.fault]]` window opened.
    FaultStarted,
    /// A fault window closed.
    FaultEnded,
    /// The series count changed.
    WorkloadChanged,
    /// The WAL watcher could not enqueue (a shard was full) for a sustained period.
    WalReadingBlocked,
    /// A reshard was decided.
    Reshard,
    /// A reshard finished draining and the new shards started.
    ReshardDone,
    /// A reshard's drain exceeded the flush deadline and queued data was discarded.
    HardShutdown,
    /// The WAL was truncated (head compaction, or an agent or Alloy truncation tick).
    WalTruncation,
    /// Alloy skipped a truncation tick: its timestamp had not moved since the last one.
    WalTruncationSkipped,
    /// WAL segments the watcher had not read were deleted: data will be lost.
    WalTruncationLoss,
    /// The watcher restarted and skipped everything it had not read.
    WatcherRestart,
    /// The queue fell more than a minute behind.
    FellBehind,
    /// The queue caught up after falling behind.
    CaughtUp,
    /// A receiver incident began.
    IncidentStarted,
    /// A receiver incident ended.
    IncidentEnded,
    /// The receiver process died (OOM kill).
    ReceiverDown,
    /// The receiver is serving again after a crash.
    ReceiverUp,
    /// The receiver started failing writes for a reason of its own (full disks).
    ReceiverDegraded,
    /// The sender received SIGTERM and is flushing (or an event could not apply).
    SenderStopping,
    /// The sender process exited or was killed.
    SenderDown,
    /// The sender process is starting (WAL replay) or scraping resumes.
    SenderStarting,
    /// The sender reloaded its configuration.
    SenderReload,
    /// A (new) remote-write queue started; its watcher skipped what was not sent.
    QueueStarted,
}

/// Receives rows and notable moments while a run progresses.
pub trait Observer {
    /// A metrics row, once per `output.step`.
    fn on_step(&mut self, _row: &MetricsRow) {}
    /// A notable moment (in the order they are detected; episodes are reported when they end).
    fn on_event(&mut self, _event: &Notable) {}
}

impl Observer for () {}

/// A borrowed observer observes, so `(&mut a, &mut b)` fans out without giving them up.
impl<O: Observer + ?Sized> Observer for &mut O {
    fn on_step(&mut self, row: &MetricsRow) {
        (**self).on_step(row);
    }
    fn on_event(&mut self, event: &Notable) {
        (**self).on_event(event);
    }
}

/// A pair of observers is a fan-out: both see every row and every moment, first then second.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn on_step(&mut self, row: &MetricsRow) {
        self.0.on_step(row);
        self.1.on_step(row);
    }
    fn on_event(&mut self, event: &Notable) {
        self.0.on_event(event);
        self.1.on_event(event);
    }
}

/// An observer that keeps every row in memory.
#[derive(Default, Debug)]
pub struct RowRecorder {
    /// The rows, in time order.
    pub rows: Vec<MetricsRow>,
}

impl Observer for RowRecorder {
    fn on_step(&mut self, row: &MetricsRow) {
        self.rows.push(row.clone());
    }
}
