//! The program that sends. Prometheus in server mode (§11), Prometheus in agent mode and Grafana
//! Alloy (§19) run the same remote-write queue (the [`crate::engine`]: watcher, shards, sends,
//! resharding); they differ in who owns the WAL and when its segments are deleted. Each
//! sender's retention is its own module; the engine asks it when to look next and, when it
//! looks, whether to truncate. The segment arithmetic itself (start a new segment, delete the
//! lower two thirds) is the same for all of them and lives in [`crate::wal`].

pub mod agent;
pub mod alloy;
pub mod server;
pub mod vmagent;

use crate::config::SenderMode;
use crate::time::{Clock, SimTime};
use crate::workload::Workload;

/// What the engine knows when a sender looks at its WAL.
pub(crate) struct CheckInput<'a> {
    /// The current instant.
    pub now: SimTime,
    /// The workload (timestamps and commit times of WAL positions).
    pub wl: &'a Workload,
    /// The Unix clock of the run.
    pub clock: &'a Clock,
    /// WAL positions committed by `now`.
    pub committed: u64,
    /// `WriteStorage.LowestSentTimestamp` in Unix ms: the queue's
    /// `queue_highest_sent_timestamp_seconds` × 1000 (whole seconds), 0 while the queue has
    /// completed no batch since it started (a new or recreated queue).
    pub lowest_sent_ms: u64,
}

/// What a sender decided when it looked at its WAL.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Check {
    /// Nothing to do.
    Idle,
    /// Start a new segment and delete the lower two thirds of the closed ones; `what` names
    /// the cause for the timeline.
    Truncate {
        /// E.g. "head compaction (blocks up to 02:00:00)".
        what: String,
    },
    /// A truncation tick that did nothing at all (Alloy's unchanged timestamp); `what` says
    /// why, for the timeline.
    Skip {
        /// E.g. "Alloy: not truncating the WAL, remote_write timestamp is unchanged (...)".
        what: String,
    },
}

/// The retention of the configured sender.
#[derive(Clone, Debug)]
pub(crate) enum Retention {
    /// Prometheus server: head compaction.
    Server(server::Server),
    /// Prometheus agent mode: a truncation timer.
    Agent(agent::Agent),
    /// Grafana Alloy: the agent's timer, skipping ticks whose timestamp has not moved.
    Alloy(alloy::Alloy),
}

impl Retention {
    /// The retention of a fresh process started at time zero, given its first sample's
    /// timestamp (Unix ms).
    pub(crate) fn new(cfg: &crate::config::SimConfig, first_sample_ms: Option<u64>) -> Self {
        let mut r = match &cfg.sender.mode {
            SenderMode::Server => {
                let range_ms = cfg.tsdb.min_block_duration.nanos() / crate::time::NANOS_PER_MILLI;
                let mut s = server::Server::new(range_ms);
                s.head.min_ms = first_sample_ms;
                Retention::Server(s)
            }
            SenderMode::Agent(a) => Retention::Agent(agent::Agent::new(a)),
            SenderMode::Alloy(a) => Retention::Alloy(alloy::Alloy::new(a)),
            // vmagent has no WAL; `engine::simulate` hands it to its own model.
            SenderMode::Vmagent(_) => Retention::Server(server::Server::new(u64::MAX)),
        };
        r.on_process_start(SimTime::ZERO);
        r
    }

    /// The process (re)started at `now`, after its WAL replay. Agent mode and Alloy start
    /// their truncation timer again (ticks at `now` + k × period) and Alloy forgets its last
    /// truncation timestamp; a server's head survives in the WAL, so nothing changes for it.
    pub(crate) fn on_process_start(&mut self, now: SimTime) {
        match self {
            Retention::Server(_) => {}
            Retention::Agent(a) => a.on_process_start(now),
            Retention::Alloy(a) => a.on_process_start(now),
        }
    }

    /// When the sender next looks at its WAL (`None`: not before something changes).
    pub(crate) fn next_check(&self, input: &CheckInput) -> Option<SimTime> {
        match self {
            Retention::Server(s) => s.next_check(input),
            Retention::Agent(a) => a.next_check(),
            Retention::Alloy(a) => a.next_check(),
        }
    }

    /// The sender looks at its WAL.
    pub(crate) fn check(&mut self, input: &CheckInput) -> Check {
        match self {
            Retention::Server(s) => s.check(input),
            Retention::Agent(a) => a.check(input),
            Retention::Alloy(a) => a.check(input),
        }
    }
}
