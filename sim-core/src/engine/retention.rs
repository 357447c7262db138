//! The sender's WAL retention (head compaction for a server, §11; a timer in agent mode and
//! Alloy, §19) and the truncation under it: the segments it deletes, and the unsent samples
//! that go with them.

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
        self.wal_check_gen = self.wal_check_gen.wrapping_add(1);
        if let Some(at) = self.retention.next_check(&self.check_input()) {
            let gen_ = self.wal_check_gen;
            self.schedule(at.max(self.now), Ev::WalCheck { gen_ });
        }
    }

    pub(super) fn on_wal_check(&mut self) {
        if self.life.process != super::lifecycle::Process::Running {
            // No TSDB running (it closes first at SIGTERM); the new process looks again once up.
            return;
        }
        let committed = self.wl.committed_by(self.now);
        let lowest_sent_ms = self.lowest_sent_ms();
        let input = CheckInput { now: self.now, wl: &self.wl, clock: &self.cfg.clock, committed, lowest_sent_ms };
        match self.retention.check(&input) {
            Check::Idle => {}
            Check::Truncate { what } => self.truncate_wal(committed, &what),
            Check::Skip { what } => {
                self.stats.truncations_skipped += 1;
                self.note_with(self.now, NotableKind::WalTruncationSkipped, what, false);
            }
        }
        self.schedule_wal_check();
    }

    /// `truncateWAL` under the watcher. The watcher reads one segment file at a time and
    /// opens the next by name when it reaches the end (`Watcher.Run` → `watch(n+1)`), so
    /// deleting the segment it is in costs nothing, but deleting the *next* one makes it
    /// fail at the end of its own and restart at the newest data.
    fn truncate_wal(&mut self, head_pos: u64, what: &str) {
        self.advance();
        self.wal.roll_to(head_pos);
        let (reading, reading_end) = if matches!(self.watcher.state, WatcherState::Failed { .. }) {
            (None, None)
        } else {
            match (self.wal.segment_of(self.watcher.pos), self.watcher.deleted_segment, self.watcher.doom_end) {
                (Some(c), _, _) => (Some(c), self.wal.end_of(c)),
                // Already doomed by an earlier truncation: still in that segment.
                (None, Some(c), Some(end)) => (Some(c), Some(end)),
                // Its segment went in an earlier truncation that kept the next one (so it was
                // not doomed, see below): it still reads the open file, which ends where the
                // oldest segment on disk starts, and `watch` opens that one next by name.
                (None, _, _) => {
                    let oldest = self.wal.oldest();
                    (oldest.index.checked_sub(1), Some(oldest.start))
                }
            }
        };
        let tr = self.wal.truncate(head_pos);
        self.stats.truncations += 1;
        let Some((first, k)) = tr.deleted else {
            self.note(self.now, NotableKind::WalTruncation, format!("{what}: WAL truncation deleted no segment"));
            return;
        };
        self.stats.segments_deleted += k - first + 1;
        if self.watcher.deleted_segment.is_none()
            && let Some(c) = reading.filter(|&c| c <= k)
        {
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
                            "{what}: WAL truncation deleted segments {first}–{k}; the watcher is still in deleted segment {c} \
                             ({behind} behind)"
                        ),
                    );
                } else {
                    self.watcher.doom_end = Some(end);
                    self.note(
                        self.now,
                        NotableKind::WalTruncationLoss,
                        format!(
                            "{what}: WAL truncation deleted segments {first}–{k} while the watcher was still in segment {c} \
                             ({behind} behind): everything after segment {c} up to the watcher's restart will be lost"
                        ),
                    );
                    self.reschedule_watcher();
                }
            }
            (Some(c), _) if c == k => self.note(
                self.now,
                NotableKind::WalTruncation,
                format!(
                    "{what}: WAL truncation deleted segments {first}–{k}, the last the watcher is still reading (it \
                     reads on from its open file, and opens segment {} next: nothing lost)",
                    k + 1
                ),
            ),
            _ if matches!(self.watcher.state, WatcherState::Failed { .. }) => self.note(
                self.now,
                NotableKind::WalTruncation,
                format!("{what}: WAL truncation deleted segments {first}–{k} while the watcher waits to restart"),
            ),
            _ => self.note(
                self.now,
                NotableKind::WalTruncation,
                format!("{what}: WAL truncation deleted segments {first}–{k} (all already read)"),
            ),
        }
    }
}
