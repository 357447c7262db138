//! Resharding (§9): the 10 s rate ticks, the desired-shards decision, and the flush and
//! hard shutdown of the old shard set before the new one starts.

use super::{Ev, Phase, Reshard, Sim};
use crate::gaps::LossReason;
use crate::observer::{NotableKind, Observer};
use crate::resharder::{Gate, SHARD_UPDATE_DURATION, ShardInputs, desired_shards, send_gate_threshold};
use crate::time::{NANOS_PER_SEC, SimDuration};
use crate::watcher::{BlockCause, WatcherState};

/// Checking interval of `FlushAndShutdown` for a partial batch that has no free slot.
const FLUSH_RETRY: SimDuration = SimDuration::from_secs(1);

/// A reshard worth listing in a summary: by 5+ shards, or doubling/halving by 2+. Smaller
/// ones (1↔2, 3↔4) are usually the count flapping around a desired value near an integer.
fn major_reshard(from: u32, to: u32) -> bool {
    let diff = from.abs_diff(to);
    diff >= 5 || (diff >= 2 && (to >= from.saturating_mul(2) || from >= to.saturating_mul(2)))
}

impl<O: Observer> Sim<'_, O> {
    pub(super) fn on_data_in_tick(&mut self) {
        self.schedule(self.now + SHARD_UPDATE_DURATION, Ev::DataInTick);
        let committed = self.wl.committed_by(self.now);
        self.data_in.incr(committed - self.data_in_seen);
        self.data_in_seen = committed;
        self.data_in.tick();
    }

    pub(super) fn highest_recv_secs(&self) -> u64 {
        let committed = self.wl.committed_by(self.now);
        if committed == 0 { 0 } else { self.abs_ms(self.wl.timestamp_of(committed - 1)) / 1000 }
    }

    pub(super) fn on_reshard_tick(&mut self) {
        self.schedule(self.now + SHARD_UPDATE_DURATION, Ev::ReshardTick);
        self.data_out.tick();
        self.data_dropped.tick();
        self.data_out_duration.tick();
        let q = &self.cfg.remote_write.queue;
        let delay = self.highest_recv_secs() as f64 - (self.highest_sent_ms / 1000) as f64;
        let dec = desired_shards(&ShardInputs {
            current: self.num_shards,
            in_rate: self.data_in.rate(),
            out_rate: self.data_out.rate(),
            dropped_rate: self.data_dropped.rate(),
            out_duration: self.data_out_duration.rate() / 1e9,
            delay_secs: delay,
            min_shards: q.min_shards,
            max_shards: q.max_shards,
        });
        if let Some(raw) = dec.raw {
            self.shards_desired = raw;
        }
        if dec.shards == self.num_shards {
            return;
        }
        let threshold = send_gate_threshold(self.cfg.profile, q.batch_send_deadline);
        let abs_now = self.cfg.clock.start_unix_nanos + self.now.nanos();
        let gate = Gate {
            last_send_unix: self.last_send_unix,
            now_unix: abs_now / NANOS_PER_SEC,
            min_send_unix: abs_now.saturating_sub(threshold.nanos()) / NANOS_PER_SEC,
            disable_until_unix: self.reshard_disabled_until_unix,
        };
        if gate.check(self.cfg.profile).is_err() || self.reshard.is_some() {
            self.stats.reshards_skipped += 1;
            return;
        }
        let from = self.num_shards;
        self.num_shards = dec.shards;
        let to = dec.shards;
        self.note_with(
            self.now,
            NotableKind::Reshard,
            format!("reshard {from} → {to} (desired {:.2}, lag {delay:.0}s)", dec.raw.unwrap_or(0.0)),
            major_reshard(from, to),
        );
        self.begin_reshard(from, dec.shards);
    }

    /// `shards.stop()` (§10): soft shutdown, flush partial batches, drain.
    fn begin_reshard(&mut self, from: u32, to: u32) {
        self.advance();
        self.materialize_all();
        self.reshard = Some(Reshard { from, to, started: self.now });
        self.stats.reshards += 1;
        if let WatcherState::Blocked { cause, resume_at, .. } = &mut self.watcher.state {
            *cause = BlockCause::Shutdown;
            *resume_at = None;
        }
        self.watcher_wake = None;
        self.watcher_pending_idx = None;
        let mut pending_flush = false;
        for i in 0..self.shards.len() {
            let s = &mut self.shards[i];
            s.flush_pending = !s.q.flush_partial();
            pending_flush |= s.flush_pending;
            if s.phase == Phase::Idle {
                if let Some(b) = s.q.take_ready() {
                    self.start_send(i, b);
                    continue;
                }
                if !s.flush_pending {
                    s.phase = Phase::Exited;
                }
            }
            self.refresh(i);
        }
        // `shards.stop` runs on the reshard goroutine, which received the new count from the
        // tick a moment earlier: its timers (the 1 s flush retries, the flush deadline) fire
        // just after any reshard tick that falls on the same instant. That tick then finds the
        // reshard still in progress ("Currently resharding, skipping") and changes nothing.
        let gen_ = self.gen_;
        if pending_flush {
            self.schedule_late(self.now + FLUSH_RETRY, Ev::FlushCheck { gen_ });
        }
        self.schedule_late(self.now + self.cfg.sender.flush_deadline, Ev::FlushDeadline { gen_ });
        self.check_drained();
    }

    pub(super) fn on_flush_check(&mut self) {
        let mut still = false;
        for i in 0..self.shards.len() {
            let s = &mut self.shards[i];
            if !s.flush_pending {
                continue;
            }
            s.flush_pending = !s.q.flush_partial();
            still |= s.flush_pending;
            if s.phase == Phase::Idle {
                if let Some(b) = s.q.take_ready() {
                    self.start_send(i, b);
                } else if !s.flush_pending {
                    s.phase = Phase::Exited;
                    self.refresh(i);
                }
            }
        }
        if still {
            self.schedule_late(self.now + FLUSH_RETRY, Ev::FlushCheck { gen_: self.gen_ });
        }
        self.check_drained();
    }

    pub(super) fn check_drained(&mut self) {
        if self.reshard.is_some() && self.shards.iter().all(|s| s.phase == Phase::Exited) {
            self.finish_reshard();
        }
    }

    /// The drain exceeded `flush_deadline`: cancel in-flight requests and discard the queues.
    pub(super) fn hard_shutdown(&mut self) {
        let mut running = 0u64;
        let mut lost = 0u64;
        for i in 0..self.shards.len() {
            if self.shards[i].phase == Phase::Exited {
                continue;
            }
            running += 1;
            if let Some(f) = self.shards[i].flight.clone() {
                // Cancelled attempt: recoverable error, cut sleep, one more retried, then failed.
                let n = f.span.count;
                self.c.samples_retried_total += n;
                self.c.samples_failed_total += n;
                self.ledger.reshard_shutdown += n;
                self.gaps.add_positions(&self.wl, LossReason::ReshardShutdown, f.span.lo, f.span.hi, n);
                lost += n;
                self.complete_cancelled(i);
            }
            self.shards[i].ver = self.shards[i].ver.wrapping_add(1);
        }
        for s in &self.shards {
            for sp in s.q.spans() {
                self.gaps.add_positions(&self.wl, LossReason::ReshardShutdown, sp.lo, sp.hi, sp.count);
            }
        }
        let queued: u64 = self.shards.iter_mut().map(|s| s.q.clear()).sum();
        lost += queued;
        self.ledger.reshard_shutdown += queued;
        // Every still-running shard goroutine adds the shared enqueued count (§10 step 4).
        self.c.samples_failed_total += queued * running;
        self.stats.hard_shutdowns += 1;
        self.note(
            self.now,
            NotableKind::HardShutdown,
            format!(
                "reshard drain exceeded flush_deadline {}: {lost} queued samples discarded",
                self.cfg.sender.flush_deadline
            ),
        );
        self.finish_reshard();
    }

    fn complete_cancelled(&mut self, i: usize) {
        let now = self.now;
        let f = self.shards[i].flight.take().expect("cancel without a batch");
        self.rx.batch_done(f.batch);
        self.data_out.incr(f.span.count);
        self.data_out_duration.incr(now.saturating_since(f.first_start).nanos());
        self.last_send_unix = self.cfg.clock.unix_secs(now);
        self.shards[i].phase = Phase::Exited;
    }

    fn finish_reshard(&mut self) {
        let Some(r) = self.reshard.take() else { return };
        let took = self.now.saturating_since(r.started);
        self.start_shards(r.to);
        let plural = if r.to == 1 { "" } else { "s" };
        self.note_with(
            self.now,
            NotableKind::ReshardDone,
            format!("{} shard{plural} running (was {}) after a {took} drain", r.to, r.from),
            major_reshard(r.from, r.to),
        );
        if let WatcherState::Blocked { backoff, .. } = self.watcher.state {
            self.schedule_resume(backoff);
        }
        self.reschedule_watcher();
    }
}
