//! Head compaction and the WAL truncation under it (§11): the segments and checkpoint it
//! deletes, and the unsent samples that go with them.

use super::{Ev, Sim};
use crate::observer::{NotableKind, Observer};
use crate::time::SimTime;
use crate::watcher::WatcherState;

impl<O: Observer> Sim<'_, O> {
    pub(super) fn schedule_compaction(&mut self) {
        let Some(thr_ms) = self.head.compactable_after_ms() else {
            return;
        };
        let thr = self.cfg.clock.from_unix_millis(thr_ms);
        let p = self.wl.stamped_by(thr);
        let at = self.wl.commit_time_of(p);
        if at != SimTime::NEVER {
            self.schedule(at.max(self.now), Ev::Compaction);
        }
    }

    pub(super) fn on_compaction(&mut self) {
        let committed = self.wl.committed_by(self.now);
        if committed > 0 {
            let max_ms = self.abs_ms(self.wl.timestamp_of(committed - 1));
            if let Some(c) = self.head.compact(max_ms) {
                // The oldest sample left in the head: the first stamped at or after the cut.
                let cut = self.cfg.clock.from_unix_millis(c.truncate_at_ms);
                let first = cut.nanos().checked_sub(1).map_or(0, |t| self.wl.stamped_by(SimTime(t)));
                let oldest = (first < committed).then(|| self.abs_ms(self.wl.timestamp_of(first)));
                self.head.settle(c.truncate_at_ms, oldest, max_ms);
                if c.truncates_wal {
                    self.truncate_wal(committed, c.truncate_at_ms);
                }
            }
        }
        self.schedule_compaction();
    }

    fn truncate_wal(&mut self, head_pos: u64, mint_ms: u64) {
        self.advance();
        self.wal.roll_to(head_pos);
        let reading = (!matches!(self.watcher.state, WatcherState::Failed { .. }))
            .then(|| self.wal.segment_of(self.watcher.pos))
            .flatten();
        let reading_end = reading.and_then(|c| self.wal.end_of(c));
        let tr = self.wal.truncate(head_pos);
        self.stats.truncations += 1;
        let Some((first, k)) = tr.deleted else {
            self.note(
                self.now,
                NotableKind::WalTruncation,
                format!("head compaction up to {mint_ms}ms: WAL truncation deleted no segment"),
            );
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
                format!("head compaction: WAL truncation deleted segments {first}–{k} (all already read)"),
            ),
        }
    }
}
