//! What the run reports: the per-step metrics row, queue memory, lag, the conservation
//! check at every step, and the final [`RunResult`].

use super::feed::STALL_MERGE_GAP;
use super::{Ev, Sim};
use crate::gaps::{Gaps, LossReason};
use crate::metrics::MetricsRow;
use crate::observer::{Notable, NotableKind, Observer};
use crate::result::{
    Dropped, LagStats, LatencyStats, PendingStats, ReceiverStats, RunResult, SampleTotals, SenderStats, ShardStats,
    WalStats,
};
use crate::time::SimTime;
use crate::watcher::WatcherState;

/// Size of Prometheus's queued `timeSeries` item on amd64 (labels, value, timestamp,
/// exemplar labels, histogram pointers, type).
const QUEUED_ITEM_BYTES: u64 = 88;
/// Per-sample size of a shard's reusable send buffers (`prompb.TimeSeries` plus its sample).
const SEND_BUFFER_BYTES_PER_SAMPLE: u64 = 112;

impl<O: Observer> Sim<'_, O> {
    /// Samples enqueued in shard `i` (including its not yet materialised share) and in flight.
    pub(super) fn shard_holdings(&self, i: usize) -> (u64, u64) {
        let s = &self.shards[i];
        let lazy = if s.mat < self.watcher.pos { self.owned(i as u64, s.mat, self.watcher.pos) } else { 0 };
        (s.q.queued() + lazy, s.flight.as_ref().map_or(0, |f| f.span.count))
    }

    pub(super) fn queue_memory_bytes(&self) -> u64 {
        let mut batches = 0;
        for i in 0..self.shards.len() {
            let (queued, flight) = self.shard_holdings(i);
            batches += queued.div_ceil(self.msps).max(1) + u64::from(flight > 0);
        }
        let per_shard_buffers =
            self.msps * (SEND_BUFFER_BYTES_PER_SAMPLE + self.cfg.workload.wire_bytes_per_sample.ceil() as u64);
        batches * self.msps * QUEUED_ITEM_BYTES + self.shards.len() as u64 * per_shard_buffers
    }

    fn lag_seconds(&self, committed: u64) -> f64 {
        if committed == 0 || (self.highest_sent_ms == 0 && committed <= self.life.queue_first_pos) {
            return 0.0;
        }
        let newest = self.abs_ms(self.wl.timestamp_of(committed - 1));
        // Before the queue's first completed batch, count from the first sample it can send.
        let sent = if self.highest_sent_ms > 0 {
            self.highest_sent_ms
        } else {
            self.abs_ms(self.wl.timestamp_of(self.life.queue_first_pos))
        };
        newest.saturating_sub(sent) as f64 / 1000.0
    }

    /// Checks appended = delivered + failed + dropped + pending; returns the pending parts.
    fn check_conservation(&mut self, committed: u64) -> (u64, u64) {
        let mut held = 0;
        for i in 0..self.shards.len() {
            let (q, f) = self.shard_holdings(i);
            held += q + f;
        }
        let unread = committed.saturating_sub(self.watcher.pos);
        // Positions skipped by a restart that were not yet committed are not lost yet.
        let ahead = self.watcher.pos.saturating_sub(committed);
        let l = &self.ledger;
        let skipped = l.lost_truncation + l.restart_skip - ahead;
        let accounted = l.delivered + l.failed + skipped + l.too_old + l.reshard_shutdown + held + unread;
        if accounted != committed && self.stats.conservation_ok {
            self.stats.conservation_ok = false;
            self.stats.conservation_first_violation = Some(format!(
                "at {}: appended {committed} != accounted {accounted} (delivered {}, failed {}, lost {}, restart skip \
                 {}, too old {}, reshard {}, held {held}, unread {unread})",
                self.now, l.delivered, l.failed, l.lost_truncation, l.restart_skip, l.too_old, l.reshard_shutdown
            ));
        }
        debug_assert!(self.stats.conservation_ok, "{:?}", self.stats.conservation_first_violation);
        (unread, held)
    }

    pub(super) fn on_output(&mut self) {
        let next = self.now + self.cfg.output_step;
        self.schedule(next, Ev::Output);
        self.emit_row();
    }

    /// The skip buckets less the positions skipped ahead of the write head, which belong to
    /// the skip that moved the watcher last: `(wal_truncation, restart_skip)`.
    fn skips(&self, committed: u64) -> (u64, u64) {
        let ahead = self.watcher.pos.saturating_sub(committed);
        let l = &self.ledger;
        match l.last_skip {
            super::SkipKind::Truncation => (l.lost_truncation - ahead, l.restart_skip),
            super::SkipKind::Restart => (l.lost_truncation, l.restart_skip - ahead),
        }
    }

    fn emit_row(&mut self) {
        self.advance();
        let rs = self.rx.snapshot(self.now);
        self.after_receiver();
        let committed = self.wl.committed_by(self.now);
        let (unread, held) = self.check_conservation(committed);
        let lag = self.lag_seconds(committed);
        let memory = self.queue_memory_bytes();
        let blocked = self.watcher.is_blocked();
        let mut enqueue_retries = self.c.enqueue_retries_total;
        if let WatcherState::Blocked { backoff, .. } = self.watcher.state {
            enqueue_retries += backoff.first_retry_at_or_after(self.now).1;
        }
        if let (Some(last), WatcherState::Reading) = (self.stats.stall_last_unblock, self.watcher.state)
            && self.now.saturating_since(last) > STALL_MERGE_GAP
        {
            self.close_stall(last);
        }
        if let Some((kind, msg)) = self.stats.behind.observe(self.now, lag, true) {
            self.note(self.now, kind, msg);
        }
        let st = &mut self.stats;
        st.lag_max = st.lag_max.max(lag);
        st.lag_final = lag;
        st.pending_max = st.pending_max.max(self.c.samples_pending);
        st.backlog_max = st.backlog_max.max(unread + held);
        st.memory_peak = st.memory_peak.max(memory);
        self.wal.roll_to(committed);
        let sender_memory = self.sender_memory_bytes();
        self.stats.sender_memory_peak = self.stats.sender_memory_peak.max(sender_memory);
        let (lost_truncation, restart_skip) = self.skips(committed);
        let q = &self.cfg.remote_write.queue;
        let r = &self.c.responses;
        let (c, b) = (&self.c, &self.c_base);
        let row = MetricsRow {
            t_seconds: self.now.as_secs_f64(),
            samples_in_total: committed - self.life.committed_at_start,
            samples_total: c.samples_total - b.samples_total,
            samples_failed_total: c.samples_failed_total - b.samples_failed_total,
            samples_retried_total: c.samples_retried_total - b.samples_retried_total,
            samples_dropped_total: c.samples_dropped_total - b.samples_dropped_total,
            samples_pending: self.c.samples_pending,
            enqueue_retries_total: enqueue_retries - b.enqueue_retries_total,
            shards: self.n as u32,
            shards_desired: self.shards_desired,
            shards_max: q.max_shards,
            shards_min: q.min_shards,
            shard_capacity: q.capacity,
            max_samples_per_send: q.max_samples_per_send,
            bytes_total: c.bytes_total - b.bytes_total,
            sent_batch_duration_seconds_sum: (c.sent_batch_duration_ns - b.sent_batch_duration_ns) as f64 / 1e9,
            sent_batch_duration_seconds_count: c.sent_batch_count - b.sent_batch_count,
            highest_timestamp_in_seconds: self.highest_recv_secs(),
            queue_highest_sent_timestamp_seconds: self.highest_sent_ms / 1000,
            lag_seconds: lag,
            delivered_total: self.ledger.delivered,
            lost_wal_truncation_total: lost_truncation,
            lost_reshard_shutdown_total: self.ledger.reshard_shutdown,
            backlog_samples: unread + held,
            unsendable_samples: self.unsendable(committed),
            queue_memory_bytes: memory,
            tsdb_wal_segment_current: self.wal.current(),
            wal_watcher_current_segment: self
                .watcher
                .current_segment(self.wal.segment_of(self.watcher.pos.min(committed)), self.wal.range().0),
            watcher_blocked: u8::from(blocked),
            sender_up: self.life.up_gauge(),
            lost_restart_skip_total: restart_skip,
            not_scraped_total: self.ledger.not_scraped,
            sender_memory_bytes: sender_memory,
            appended_total: committed,
            failed_once_total: self.ledger.failed,
            lost_too_old_total: self.ledger.too_old,
            disk_bytes: (self.wal.range().1 + 1 - self.wal.range().0) * self.cfg.tsdb.wal_segment_size,
            ..MetricsRow::receiver_columns(r, &rs, self.rx.totals())
        };
        self.obs.on_step(&row);
        self.last_row_at = Some(self.now);
        self.check_memory();
    }

    /// Unread samples the watcher will skip when it restarts: everything after the end of a
    /// deleted segment it is still in, or all it has not read if it is already failing.
    fn unsendable(&self, committed: u64) -> u64 {
        match (self.watcher.state, self.watcher.doom_end) {
            // A stopped queue's successor skips everything unread.
            (WatcherState::Failed { .. } | WatcherState::Stopped, _) => committed.saturating_sub(self.watcher.pos),
            (_, Some(end)) => committed.saturating_sub(end),
            _ => 0,
        }
    }

    pub(super) fn finish(mut self) -> RunResult {
        self.now = self.end;
        if self.last_row_at != Some(self.end) {
            self.emit_row();
        }
        if self.watcher.is_blocked() {
            self.stall_ended();
        }
        if let Some(last) = self.stats.stall_last_unblock {
            self.close_stall(last);
        }
        if let WatcherState::Blocked { backoff, .. } = self.watcher.state {
            self.c.enqueue_retries_total += backoff.first_retry_at_or_after(self.now).1;
        }
        self.rx.snapshot(self.end);
        self.after_receiver();
        let committed = self.wl.committed_by(self.end);
        self.finish_not_scraped();
        let (unread, held) = self.check_conservation(committed);
        let ahead = self.watcher.pos.saturating_sub(committed);
        let (lost_truncation, restart_skip) = self.skips(committed);
        let gaps = self.finish_gaps(committed, ahead);
        let rx = self.rx.totals().clone();
        let mut incident_windows = self.rx.windows().to_vec();
        let sender_windows = self.life.finish_windows(self.end);
        incident_windows.extend_from_slice(sender_windows.kept());
        let mut timeline = std::mem::take(&mut self.timeline);
        timeline.sort_by_key(|n| n.at);
        let secs = |ns: u64| ns as f64 / 1e9;
        let st = &self.stats;
        if let Some(v) = &st.conservation_first_violation {
            timeline.push(Notable {
                at: self.end,
                kind: NotableKind::FellBehind,
                message: format!("BUG: conservation violated {v}"),
                major: true,
            });
        }
        RunResult {
            scenario: self.cfg.name.clone(),
            prometheus: self.cfg.profile.as_str().to_string(),
            seed: self.cfg.seed,
            simulated_seconds: self.end.as_secs_f64(),
            samples: SampleTotals {
                appended: committed,
                delivered: self.ledger.delivered,
                failed: self.ledger.failed,
                retried: self.c.samples_retried_total,
                dropped: Dropped {
                    wal_truncation: lost_truncation,
                    too_old: self.ledger.too_old,
                    reshard_shutdown: self.ledger.reshard_shutdown,
                    restart_skip,
                    ..Dropped::default()
                },
                pending_at_end: unread + held,
                unread_wal_at_end: unread,
                unsendable_at_end: self.unsendable(committed),
                not_scraped: self.ledger.not_scraped,
            },
            lag_seconds: LagStats { max: st.lag_max, final_: st.lag_final },
            pending: PendingStats { max: st.pending_max, backlog_max: st.backlog_max },
            delivery_latency_seconds: LatencyStats {
                p50: secs(self.latency.quantile(0.5)),
                p99: secs(self.latency.quantile(0.99)),
                max: secs(st.latency_max_ns),
            },
            shards: ShardStats {
                min: st.shards_min,
                max: st.shards_max,
                final_: self.n as u32,
                reshards: st.reshards,
                reshards_skipped: st.reshards_skipped,
                hard_shutdowns: st.hard_shutdowns,
            },
            queue_memory_bytes_peak: st.memory_peak,
            receiver: ReceiverStats {
                requests: self.c.sent_batch_count,
                responses: self.c.responses.clone(),
                samples_ingested: rx.samples_ingested,
                duplicate_samples: rx.duplicate_samples,
                crashes: rx.crashes,
                memory_peak_bytes: rx.memory_peak_bytes,
            },
            wal: WalStats {
                segments_created: self.wal.created(),
                truncations: st.truncations,
                segments_deleted: st.segments_deleted,
                watcher_restarts: st.watcher_restarts,
                enqueue_retries: self.c.enqueue_retries_total,
                truncations_skipped: st.truncations_skipped,
            },
            conservation_ok: st.conservation_ok,
            events_processed: self.events,
            incident_windows,
            incident_windows_omitted: self.rx.windows_omitted() + sender_windows.omitted(),
            timeline,
            timeline_omitted: self.timeline_omitted,
            gaps,
            sender: SenderStats {
                restarts: self.life.restarts,
                crashes: self.life.crashes,
                oom_kills: self.life.oom_kills,
                reloads: self.life.reloads,
                queue_starts: self.life.queue_starts,
                down_seconds: self.life.down.as_secs_f64(),
                memory_peak_bytes: self.stats.sender_memory_peak,
                mode: self.cfg.sender.mode.name().to_string(),
            },
            vmagent: None,
        }
    }

    /// Books the pause still open at the end (the process is down) and checks that what was
    /// never scraped plus what was stamped adds up to what the workload would have produced.
    fn finish_not_scraped(&mut self) {
        let end = self.end;
        if let Some(since) = self.life.paused_since.take() {
            let until = self.life.resume_at.take().unwrap_or(SimTime::NEVER);
            self.book_not_scraped(since, until);
        }
        let nominal = self.wl.nominal_stamped_by(end);
        let stamped = self.wl.stamped_by(end);
        if nominal != stamped + self.ledger.not_scraped && self.stats.conservation_ok {
            self.stats.conservation_ok = false;
            self.stats.conservation_first_violation = Some(format!(
                "at the end: the workload would have stamped {nominal} samples; {stamped} were stamped and {} never \
                 scraped",
                self.ledger.not_scraped
            ));
        }
    }

    /// The gap log at the end: positions a restart skipped beyond the write head are not
    /// lost yet, and unread data in deleted segments is (as `unsendable_at_end`).
    fn finish_gaps(&mut self, committed: u64, ahead: u64) -> Gaps {
        if ahead > 0 {
            let at = self.wl.timestamp_of(committed);
            let reason = match self.ledger.last_skip {
                super::SkipKind::Truncation => LossReason::WalTruncation,
                super::SkipKind::Restart => LossReason::RestartSkip,
            };
            self.gaps.trim_newest(reason, ahead, at);
        }
        let unsendable = self.unsendable(committed);
        if unsendable > 0 {
            let from = committed - unsendable;
            self.gaps.add_positions(&self.wl, LossReason::UnsendableAtEnd, from, committed, unsendable);
        }
        self.gaps.finish(&self.wl, committed)
    }
}
