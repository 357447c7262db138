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
        let pgen = self.life.pgen;
        self.schedule(self.now + SHARD_UPDATE_DURATION, Ev::DataInTick { pgen });
        let committed = self.wl.committed_by(self.now);
        self.data_in.incr(committed - self.data_in_seen);
        self.data_in_seen = committed;
        self.data_in.tick();
    }

    /// `highest_timestamp_in_seconds`: process-wide, so 0 again after a restart until the new
    /// process commits its first sample.
    pub(super) fn highest_recv_secs(&self) -> u64 {
        let committed = self.wl.committed_by(self.now);
        if committed <= self.life.committed_at_start {
            0
        } else {
            self.abs_ms(self.wl.timestamp_of(committed - 1)) / 1000
        }
    }

    pub(super) fn on_reshard_tick(&mut self) {
        let qgen = self.life.qgen;
        self.schedule(self.now + SHARD_UPDATE_DURATION, Ev::ReshardTick { qgen });
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
        self.begin_reshard(from, Some(dec.shards));
    }

    /// `shards.stop()` (§10): soft shutdown, flush partial batches, drain; then `to` shards
    /// start, or none when the queue itself is stopping.
    pub(super) fn begin_reshard(&mut self, from: u32, to: Option<u32>) {
        self.advance();
        self.materialize_all();
        self.reshard = Some(Reshard { from, to, started: self.now });
        if to.is_some() {
            self.stats.reshards += 1;
        }
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

    /// The drain exceeded `flush_deadline`: `shards.hardShutdown` cancels the shards' context
    /// and every shard still running leaves through its `select` (`runShard`, §10 step 4).
    ///
    /// Each running shard first fails the batch it had in flight (one more `retried`, then
    /// `failed`; the shared enqueued count E drops by it). Then Go picks uniformly among the
    /// ready cases, repeatedly: `ctx.Done()` adds the E left at that moment to
    /// `samples_failed_total` and exits; a queued batch fails without an attempt (E drops
    /// again); a closed, empty channel exits without adding. A channel still open (the
    /// queue was full when the flush began) with nothing in it leaves only `ctx.Done()`.
    /// The shards are taken one after another in a seeded order, which matches 2.42's
    /// failed-counter jumps in every recorded many-shard hard shutdown (docs/fidelity.md).
    ///
    /// For the data, what matters is simpler: everything queued is lost; a request in
    /// flight that the receiver stores (it was going to answer 2xx and finishes requests
    /// whose client went away) is delivered all the same.
    pub(super) fn hard_shutdown(&mut self) {
        let mut order: Vec<usize> = (0..self.shards.len()).filter(|&i| self.shards[i].phase != Phase::Exited).collect();
        for k in (1..order.len()).rev() {
            let j = self.select_rng.below(k as u64 + 1) as usize;
            order.swap(k, j);
        }
        // The queue-wide enqueued count: in flight plus queued, in every shard.
        let mut e: u64 = (0..self.shards.len())
            .map(|i| {
                let (q, f) = self.shard_holdings(i);
                q + f
            })
            .sum();
        let mut lost = 0u64;
        let mut stored = 0u64;
        let mut added = 0u64;
        for &i in &order {
            if let Some(f) = self.shards[i].flight.clone() {
                // The cancelled attempt: recoverable, its sleep cut short, one more retried,
                // then failed.
                let n = f.span.count;
                self.c.samples_retried_total += n;
                self.c.samples_failed_total += n;
                e -= n;
                if matches!(f.outcome, super::Outcome::Success) && self.cfg.receiver.ingest_after_client_timeout {
                    self.ledger.delivered += n;
                    stored += n;
                } else {
                    self.ledger.reshard_shutdown += n;
                    self.gaps.add_positions(&self.wl, LossReason::ReshardShutdown, f.span.lo, f.span.hi, n);
                    lost += n;
                }
                self.complete_cancelled(i);
            }
            self.materialize(i);
            // FlushAndShutdown closed the channel unless the partial batch is still waiting
            // for a free slot.
            let closed = !self.shards[i].flush_pending;
            loop {
                let batches = self.shards[i].q.ready_batches();
                if batches == 0 && !closed {
                    added += e;
                    break;
                }
                if self.select_rng.chance(0.5) {
                    added += e;
                    break;
                }
                let Some(b) = self.shards[i].q.take_ready() else { break };
                // Sent with a cancelled context: failed before any attempt.
                self.c.samples_failed_total += b.count;
                e -= b.count;
                self.data_out.incr(b.count);
                self.ledger.reshard_shutdown += b.count;
                self.gaps.add_positions(&self.wl, LossReason::ReshardShutdown, b.lo, b.hi, b.count);
                lost += b.count;
            }
            self.shards[i].ver = self.shards[i].ver.wrapping_add(1);
            self.set_phase(i, Phase::Exited);
        }
        self.c.samples_failed_total += added;
        self.last_send_unix = self.cfg.clock.unix_secs(self.now);
        for s in &self.shards {
            for sp in s.q.spans() {
                self.gaps.add_positions(&self.wl, LossReason::ReshardShutdown, sp.lo, sp.hi, sp.count);
            }
        }
        let queued: u64 = self.shards.iter_mut().map(|s| s.q.clear()).sum();
        lost += queued;
        self.ledger.reshard_shutdown += queued;
        self.stats.hard_shutdowns += 1;
        let what = if self.reshard.is_some_and(|r| r.to.is_none()) { "queue stop" } else { "reshard drain" };
        let counted = lost + stored + added;
        let stored = if stored > 0 { format!(" ({stored} in flight stored by the receiver)") } else { String::new() };
        self.note(
            self.now,
            NotableKind::HardShutdown,
            format!(
                "{what} exceeded flush_deadline {}: {lost} queued samples discarded{stored}; Prometheus counts {} \
                 failed",
                self.cfg.sender.flush_deadline, counted
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
    }

    fn finish_reshard(&mut self) {
        let Some(r) = self.reshard.take() else { return };
        let took = self.now.saturating_since(r.started);
        let Some(to) = r.to else {
            self.note(self.now, NotableKind::ReshardDone, format!("remote-write queue stopped after a {took} flush"));
            self.queue_stopped();
            return;
        };
        self.start_shards(to);
        let plural = if to == 1 { "" } else { "s" };
        self.note_with(
            self.now,
            NotableKind::ReshardDone,
            format!("{to} shard{plural} running (was {}) after a {took} drain", r.from),
            major_reshard(r.from, to),
        );
        if self.life.stopping.is_some() {
            // `QueueManager.Stop` waited for this reshard; now it stops the new (empty) shards.
            self.begin_reshard(to, None);
            return;
        }
        if let WatcherState::Blocked { backoff, .. } = self.watcher.state {
            self.schedule_resume(backoff);
        }
        self.reschedule_watcher();
        self.check_memory();
    }
}
