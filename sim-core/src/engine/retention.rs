//! The sender's WAL retention (head compaction for a server, §11) and the truncation under
//! it: the segments it deletes, and the unsent samples that go with them.

use super::{Ev, Sim};
use crate::observer::{NotableKind, Observer};
use crate::sender::{Check, CheckInput};
use crate::watcher::WatcherState;

impl<O: Observer> Sim<'_, O> {
    fn check_input(&self) -> CheckInput<'_> {
        CheckInput {
            now: self.now,
            wl: &self.wl,
            clock: &self.cfg.clock,
            committed: self.wl.committed_by(self.now),
            lowest_sent_ms: self.lowest_sent_ms(),
        }
    }

    /// `LowestSentTimestamp` of the (single) queue: whole seconds, as Prometheus keeps them.
    fn lowest_sent_ms(&self) -> u64 {
        self.highest_sent_ms / 1000 * 1000
    }

    /// Schedules the sender's next look at its WAL.
    pub(super) fn schedule_wal_check(&mut self) {
        if let Some(at) = self.retention.next_check(&self.check_input()) {
            self.schedule(at.max(self.now), Ev::WalCheck);
        }
    }

    pub(super) fn on_wal_check(&mut self) {
        let committed = self.wl.committed_by(self.now);
        let lowest_sent_ms = self.lowest_sent_ms();
        let input = CheckInput { now: self.now, wl: &self.wl, clock: &self.cfg.clock, committed, lowest_sent_ms };
        if let Check::Truncate { what } = self.retention.check(&input) {
            self.truncate_wal(committed, &what);
        }
        self.schedule_wal_check();
    }

    fn truncate_wal(&mut self, head_pos: u64, what: &str) {
        self.advance();
        self.wal.roll_to(head_pos);
        let reading = (!matches!(self.watcher.state, WatcherState::Failed { .. }))
            .then(|| self.wal.segment_of(self.watcher.pos))
            .flatten();
        let reading_end = reading.and_then(|c| self.wal.end_of(c));
        let tr = self.wal.truncate(head_pos);
        self.stats.truncations += 1;
        let Some((first, k)) = tr.deleted else {
            self.note(self.now, NotableKind::WalTruncation, format!("{what}: WAL truncation deleted no segment"));
            return;
        };
        self.stats.segments_deleted += k - first + 1;
        if let Some(c) = reading.filter(|&c| c <= k) {
            self.watcher.deleted_segment = Some(c);
        }
        match (reading, reading_end) {
            (Some(c), Some(end)) if c < k => {
                let behind = self.now.saturating_since(self.wl.timestamp_of(self.watcher.pos).min(self.now));
                if self.watcher.doom_end.is_some() {
                    self.note(
                        self.now,
                        NotableKind::WalTruncation,
                        format!(
                            "WAL truncation deleted segments {first}–{k}; the watcher is still in deleted segment {c} \
                             ({behind} behind)"
                        ),
                    );
                } else {
                    self.watcher.doom_end = Some(end);
                    self.note(
                        self.now,
                        NotableKind::WalTruncationLoss,
                        format!(
                            "WAL truncation deleted segments {first}–{k} while the watcher was still in segment {c} \
                             ({behind} behind): everything after segment {c} up to the watcher's restart will be lost"
                        ),
                    );
                    self.reschedule_watcher();
                }
            }
            (None, _) if self.watcher.doom_end.is_some() => {
                // An earlier truncation already deleted the segment the watcher is in.
                let behind = self.now.saturating_since(self.wl.timestamp_of(self.watcher.pos).min(self.now));
                let c = self.watcher.deleted_segment.map_or_else(String::new, |c| format!(" {c}"));
                self.note(
                    self.now,
                    NotableKind::WalTruncation,
                    format!(
                        "WAL truncation deleted segments {first}–{k}; the watcher is still in deleted segment{c} \
                         ({behind} behind)"
                    ),
                );
            }
            _ if matches!(self.watcher.state, WatcherState::Failed { .. }) => self.note(
                self.now,
                NotableKind::WalTruncation,
                format!("WAL truncation deleted segments {first}–{k} while the watcher waits to restart"),
            ),
            _ => self.note(
                self.now,
                NotableKind::WalTruncation,
                format!("{what}: WAL truncation deleted segments {first}–{k} (all already read)"),
            ),
        }
    }
}
