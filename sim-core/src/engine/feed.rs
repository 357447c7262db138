//! The watcher reading the WAL into the shards: which WAL positions each shard owns, the
//! watcher's next moment of interest, blocking on a full shard and the enqueue backoff, the
//! watcher's restart when truncation deleted its segment, and stall episodes for the timeline.

use super::{Ev, Phase, Shard, Sim, WatcherWake};
use crate::backoff::EnqueueBackoff;
use crate::gaps::LossReason;
use crate::mintree::MinTree;
use crate::observer::{NotableKind, Observer};
use crate::shard::{ShardQueue, Span};
use crate::time::{SimDuration, SimTime};
use crate::watcher::{BlockCause, RESTART_DELAY, WatcherState};

/// A stall episode whose blocked time is shorter than this is not worth a timeline entry.
const STALL_EPISODE_MIN: SimDuration = SimDuration::from_secs(10);
/// Blocks separated by less than this belong to one stall episode.
pub(super) const STALL_MERGE_GAP: SimDuration = SimDuration::from_secs(1);
/// A stall at least this long is a major timeline moment.
const MAJOR_STALL: SimDuration = SimDuration::from_secs(60);

impl<O: Observer> Sim<'_, O> {
    /// Samples at WAL positions `[a, b)` that belong to shard `i` (`ref mod n`, modelled as
    /// round-robin over positions since the shard set started).
    pub(super) fn owned(&self, i: u64, a: u64, b: u64) -> u64 {
        self.owned_before(i, b) - self.owned_before(i, a)
    }

    /// Positions of shard `i` below `x` since the shard set started.
    fn owned_before(&self, i: u64, x: u64) -> u64 {
        let base = self.era_base + i;
        if x <= base { 0 } else { self.n_div.div_ceil(x - base) }
    }

    /// The first WAL position at or after shard `i`'s enqueue point that belongs to it: the
    /// position after its last owned one, from the count kept with the enqueue point.
    fn first_owned(&self, i: usize) -> u64 {
        debug_assert_eq!(self.shards[i].mat_owned, self.owned_before(i as u64, self.shards[i].mat));
        self.era_base + i as u64 + self.shards[i].mat_owned * self.n
    }

    pub(super) fn materialize(&mut self, i: usize) {
        let w = self.watcher.pos;
        let mat = self.shards[i].mat;
        if mat < w {
            let to = self.owned_before(i as u64, w);
            let s = &mut self.shards[i];
            let count = to - s.mat_owned;
            s.q.push(Span { lo: mat, hi: w, count });
            s.mat = w;
            s.mat_owned = to;
        }
    }

    pub(super) fn materialize_all(&mut self) {
        for i in 0..self.shards.len() {
            self.materialize(i);
        }
    }

    /// Moves every shard's enqueue point to `pos` without giving them `[old, pos)`: used when
    /// the watcher skips WAL it will never send.
    fn skip_watcher_to(&mut self, pos: u64) {
        self.materialize_all();
        self.watcher.pos = pos;
        for i in 0..self.shards.len() {
            let mat = self.shards[i].mat.max(pos);
            let owned = self.owned_before(i as u64, mat);
            let s = &mut self.shards[i];
            s.mat = mat;
            s.mat_owned = owned;
        }
        for i in 0..self.shards.len() {
            self.refresh(i);
        }
    }

    /// Recomputes shard `i`'s entries in the three trees after its queue or phase changed.
    pub(super) fn refresh(&mut self, i: usize) {
        let s = &self.shards[i];
        let n = self.n;
        let first = self.first_owned(i);
        let block = first.saturating_add(s.q.room().saturating_mul(n));
        let fill = if s.phase == Phase::Idle && s.q.ready_batches() == 0 && self.reshard.is_none() {
            first.saturating_add((self.msps - s.q.partial() - 1).saturating_mul(n))
        } else {
            u64::MAX
        };
        let timer = if s.phase == Phase::Idle { s.timer_at.nanos() } else { u64::MAX };
        self.block_tree.set(i, block);
        self.fill_tree.set(i, fill);
        self.timer_tree.set(i, timer);
        if let WatcherState::Blocked { backoff, cause: BlockCause::Shard(j), resume_at: None } = self.watcher.state
            && j as usize == i
            && block > self.watcher.pos
        {
            self.schedule_resume(backoff);
        }
        self.reschedule_watcher();
        self.reschedule_timer();
    }

    pub(super) fn start_shards(&mut self, n: u32) {
        self.gen_ += 1;
        self.era_base = self.watcher.pos;
        self.n = u64::from(n);
        self.n_div = crate::divisor::Divisor::new(self.n);
        let timer_at = self.now + self.cfg.remote_write.queue.batch_send_deadline;
        self.sending = 0;
        self.shards = (0..n)
            .map(|_| Shard {
                q: ShardQueue::new(self.msps, self.slots),
                mat: self.watcher.pos,
                mat_owned: 0,
                phase: Phase::Idle,
                flight: None,
                ver: 0,
                timer_at,
                flush_pending: false,
            })
            .collect();
        self.block_tree = MinTree::new(n as usize);
        self.fill_tree = MinTree::new(n as usize);
        self.timer_tree = MinTree::new(n as usize);
        self.c.samples_pending = 0;
        self.stats.shards_min = self.stats.shards_min.min(n);
        self.stats.shards_max = self.stats.shards_max.max(n);
        if self.watcher_wake.is_some_and(|(_, w)| w == WatcherWake::Step) {
            self.watcher_wake = None;
        }
        self.watcher_pending_idx = None;
        self.timer_pending = SimTime::NEVER;
        for i in 0..n as usize {
            self.refresh(i);
        }
    }

    /// Everything the watcher may not pass: the first sample whose shard is full (or, during
    /// a reshard, the next sample at all), and the end of a deleted segment.
    fn read_limit(&self) -> u64 {
        let block = if self.reshard.is_some() { self.watcher.pos } else { self.block_tree.min().0 };
        block.min(self.watcher.doom_end.unwrap_or(u64::MAX))
    }

    /// What the watcher could have read by now if nothing blocked it.
    fn visible_now(&mut self) -> u64 {
        if self.vis_cache.0 != self.now {
            self.vis_cache = (self.now, self.watcher.visible(&self.wl, self.now));
        }
        self.vis_cache.1
    }

    /// Brings the watcher's position up to `now`. Positions it passes are enqueued (lazily:
    /// each shard takes its share when it is next looked at).
    pub(super) fn advance(&mut self) {
        if self.watcher.state != WatcherState::Reading {
            return;
        }
        let target = self.visible_now().min(self.read_limit());
        if target > self.watcher.pos {
            self.c.samples_pending += target - self.watcher.pos;
            self.watcher.pos = target;
        }
    }

    /// The next WAL position whose reading changes something.
    fn next_watcher_index(&self) -> u64 {
        let doom = self.watcher.doom_end.map_or(u64::MAX, |e| e.saturating_sub(1));
        let block = if self.reshard.is_some() { self.watcher.pos } else { self.block_tree.min().0 };
        block.min(self.fill_tree.min().0).min(doom)
    }

    pub(super) fn reschedule_watcher(&mut self) {
        if self.in_watcher_step || self.watcher.state != WatcherState::Reading {
            return;
        }
        let idx = self.next_watcher_index();
        if idx == u64::MAX || self.watcher_pending_idx.is_some_and(|p| p <= idx) {
            return;
        }
        let at = self.watcher.readable_at(&self.wl, idx).max(self.now);
        self.watcher_pending_idx = Some(idx);
        self.watcher_wake = Some((at, WatcherWake::Step));
    }

    pub(super) fn watcher_step(&mut self) {
        self.in_watcher_step = true;
        loop {
            self.advance();
            let pos = self.watcher.pos;
            if self.watcher.doom_end.is_some_and(|e| pos >= e) {
                self.in_watcher_step = false;
                self.fail_watcher();
                return;
            }
            let (fill, i) = self.fill_tree.min();
            if fill >= pos {
                break;
            }
            self.materialize(i);
            match self.shards[i].q.take_ready() {
                Some(b) => self.start_send(i, b),
                None => self.refresh(i),
            }
        }
        self.in_watcher_step = false;
        let pos = self.watcher.pos;
        if pos == self.read_limit() && self.visible_now() > pos {
            self.block_watcher();
        }
        self.reschedule_watcher();
    }

    fn block_watcher(&mut self) {
        let cause = if self.reshard.is_some() {
            BlockCause::Shutdown
        } else {
            BlockCause::Shard(((self.watcher.pos - self.era_base) % self.n) as u32)
        };
        let backoff = EnqueueBackoff { since: self.now, max: self.cfg.remote_write.queue.max_backoff };
        self.watcher.state = WatcherState::Blocked { backoff, cause, resume_at: None };
        self.watcher_pending_idx = None;
        self.watcher_wake = None;
        self.stall_began();
        if let BlockCause::Shard(j) = cause {
            // The shard may already have room again (same instant).
            self.refresh(j as usize);
        }
    }

    pub(super) fn schedule_resume(&mut self, backoff: EnqueueBackoff) {
        let (at, _) = backoff.first_retry_at_or_after(self.now);
        if let WatcherState::Blocked { resume_at, .. } = &mut self.watcher.state {
            *resume_at = Some(at);
        }
        self.watcher_wake = Some((at, WatcherWake::Resume));
    }

    pub(super) fn resume_watcher(&mut self) {
        let WatcherState::Blocked { backoff, .. } = self.watcher.state else {
            return;
        };
        let (_, failed) = backoff.first_retry_at_or_after(self.now);
        self.c.enqueue_retries_total += failed;
        self.watcher.state = WatcherState::Reading;
        self.stall_ended();
        self.drop_too_old_backlog();
        self.watcher_step();
    }

    /// v3.x `sample_age_limit` at enqueue: the backlog the watcher reads on resuming that is
    /// older than `now − limit` is dropped (one `Append` call's clock for the whole read).
    fn drop_too_old_backlog(&mut self) {
        let limit = self.cfg.remote_write.queue.sample_age_limit;
        if limit.nanos() == 0 || self.now.nanos() <= limit.nanos() {
            return;
        }
        let cutoff = SimTime(self.now.nanos() - limit.nanos() - 1);
        let old = self.wl.stamped_by(cutoff).min(self.visible_now());
        if old > self.watcher.pos {
            let n = old - self.watcher.pos;
            self.ledger.too_old += n;
            self.gaps.add_positions(&self.wl, LossReason::TooOld, self.watcher.pos, old, n);
            self.c.samples_dropped_total += n;
            self.skip_watcher_to(old);
        }
    }

    fn fail_watcher(&mut self) {
        let until = self.now + RESTART_DELAY;
        self.watcher.state = WatcherState::Failed { until };
        self.watcher_pending_idx = None;
        self.watcher_wake = None;
        let qgen = self.life.qgen;
        self.schedule(until, Ev::WatcherRestart { qgen });
    }

    /// `Run` again after "error tailing WAL": start time = now, forward only samples newer than
    /// it. Everything the watcher had not read is gone.
    pub(super) fn restart_watcher(&mut self) {
        let start_ms = self.abs_ms(self.now);
        let start = self.cfg.clock.from_unix_millis(start_ms);
        let resume_pos = self.wl.stamped_by(start).max(self.watcher.pos);
        let lost = resume_pos - self.watcher.pos;
        let behind = self.now.saturating_since(self.wl.timestamp_of(self.watcher.pos).min(self.now));
        self.ledger.lost_truncation += lost;
        self.ledger.last_skip = super::SkipKind::Truncation;
        self.gaps.add_positions(&self.wl, LossReason::WalTruncation, self.watcher.pos, resume_pos, lost);
        self.stats.watcher_restarts += 1;
        self.skip_watcher_to(resume_pos);
        self.watcher.restart(self.now, resume_pos);
        self.vis_cache = (SimTime::NEVER, 0);
        self.note(
            self.now,
            NotableKind::WatcherRestart,
            format!(
                "WAL watcher restarted after its segment was deleted: skipped {lost} unsent samples \
                 (the oldest {behind} old), never to be sent"
            ),
        );
        self.watcher_step();
    }

    fn stall_began(&mut self) {
        let now = self.now;
        if let Some(last) = self.stats.stall_last_unblock
            && now.saturating_since(last) > STALL_MERGE_GAP
        {
            self.close_stall(last);
        }
        if self.stats.stall_start.is_none() {
            self.stats.stall_start = Some(now);
            self.stats.stall_blocked = SimDuration::ZERO;
        }
        self.stats.stall_blocked_since = Some(now);
        self.stats.stall_last_unblock = None;
    }

    pub(super) fn stall_ended(&mut self) {
        if let Some(since) = self.stats.stall_blocked_since.take() {
            self.stats.stall_blocked = self.stats.stall_blocked + self.now.saturating_since(since);
        }
        self.stats.stall_last_unblock = Some(self.now);
    }

    /// Reports the stall episode that ended at `until` if the watcher was blocked long enough.
    pub(super) fn close_stall(&mut self, until: SimTime) {
        let Some(start) = self.stats.stall_start.take() else {
            return;
        };
        let blocked = self.stats.stall_blocked;
        if blocked >= STALL_EPISODE_MIN {
            let span = until.saturating_since(start);
            let share = if span == blocked { String::new() } else { format!(" (of the {span} until {until})") };
            self.note_with(
                start,
                NotableKind::WalReadingBlocked,
                format!(
                    "WAL reading blocked for {blocked}{share}: a full shard stalls the watcher, so no shard gets new data"
                ),
                blocked >= MAJOR_STALL,
            );
        }
        self.stats.stall_last_unblock = None;
        self.stats.stall_blocked = SimDuration::ZERO;
    }
}
