//! Shards cutting batches and sending them: attempts against the receiver, the response
//! classes and backoff of §8, the flush timer (`batch_send_deadline`) and delivery latency.

use super::{Class, Ev, Flight, Outcome, Phase, Sim};
use crate::backoff::SendBackoff;
use crate::fault::Request;
use crate::gaps::LossReason;
use crate::observer::Observer;
use crate::receiver::Answer;
use crate::shard::Span;
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime, mul_div};

impl<O: Observer> Sim<'_, O> {
    pub(super) fn start_send(&mut self, i: usize, span: Span) {
        self.set_phase(i, Phase::Sending);
        let q = &self.cfg.remote_write.queue;
        let s = &mut self.shards[i];
        s.flight = Some(Flight {
            span,
            first_start: self.now,
            attempt_start: self.now,
            backoff: SendBackoff::new(q.min_backoff, q.max_backoff),
            outcome: Outcome::Success,
            class: Class::Ok,
            batch: self.next_batch,
            attempts: 0,
        });
        self.next_batch += 1;
        self.attempt(i);
        self.refresh(i);
    }

    fn wire_bytes(&self, samples: u64) -> u64 {
        samples * self.wire_millibytes / 1000
    }

    /// One HTTP attempt of shard `i`'s batch (§8.1 step 2).
    pub(super) fn attempt(&mut self, i: usize) {
        let now = self.now;
        let limit = self.cfg.remote_write.queue.sample_age_limit;
        if limit.nanos() > 0 && now.nanos() > limit.nanos() {
            // v3.x: rebuild the request without samples older than now − limit.
            let cutoff = SimTime(now.nanos() - limit.nanos() - 1);
            let old_end = self.wl.stamped_by(cutoff);
            let f = self.shards[i].flight.as_mut().expect("attempt without a batch");
            let sp = f.span;
            if sp.count > 0 && old_end > sp.lo {
                let old = if old_end >= sp.hi { sp.count } else { mul_div(old_end - sp.lo, sp.count, sp.hi - sp.lo) };
                f.span.count -= old;
                f.span.lo = old_end.min(sp.hi - 1);
                self.ledger.too_old += old;
                self.gaps.add_positions(&self.wl, LossReason::TooOld, sp.lo, old_end.min(sp.hi), old);
                self.c.samples_dropped_total += old;
                self.c.samples_pending = self.c.samples_pending.saturating_sub(old);
            }
        }
        let (count, batch, attempt) = {
            let f = self.shards[i].flight.as_ref().expect("batch");
            (f.span.count, f.batch, f.attempts)
        };
        self.c.samples_total += count;
        let timeout = self.cfg.remote_write.remote_timeout;
        let req = Request { batch, attempt, samples: count, bytes: self.wire_bytes(count), client_timeout: timeout };
        let mut reply = self.rx.handle(&req, now);
        // What the client sees: the receiver's answer time plus its own time.
        self.set_phase(i, Phase::Sending);
        let client = self.client_time(count, attempt == 0);
        reply.after = SimDuration(reply.after.nanos().saturating_add(client.nanos()));
        let q = &self.cfg.remote_write.queue;
        let profile = self.cfg.profile;
        let (after, outcome, class) = match reply.answer {
            Answer::Hang => (timeout, Outcome::Recoverable(None), Class::Timeout),
            Answer::Refused => (reply.after.min(timeout), Outcome::Recoverable(None), Class::Refused),
            Answer::Reset => (reply.after.min(timeout), Outcome::Recoverable(None), Class::Reset),
            Answer::Status(_) if reply.after > timeout => (timeout, Outcome::Recoverable(None), Class::Timeout),
            Answer::Status(s) => {
                let (outcome, class) = match s {
                    200..=299 => (Outcome::Success, Class::Ok),
                    429 if q.retry_on_http_429 => (Outcome::Recoverable(reply.retry_after), Class::Throttled),
                    429 => (Outcome::NonRecoverable, Class::Throttled),
                    500..=599 => {
                        let ra = if profile.retry_after_on_5xx() { reply.retry_after } else { None };
                        (Outcome::Recoverable(ra), Class::ServerError)
                    }
                    _ => (Outcome::NonRecoverable, Class::ClientError),
                };
                (reply.after, outcome, class)
            }
        };
        let gen_ = self.gen_;
        let s = &mut self.shards[i];
        let f = s.flight.as_mut().expect("batch");
        f.attempt_start = now;
        f.outcome = outcome;
        f.class = class;
        let ver = s.ver;
        self.schedule(now + after, Ev::SendDone { gen_, shard: i as u32, ver });
        self.after_receiver();
    }

    /// The sender's own share of an attempt: `request_overhead`, plus, when the batch is
    /// encoded (its first attempt; retries resend the same bytes), its CPU work shared with
    /// the other shards preparing requests at the same moment (processor sharing: `K`
    /// requests in flight on `cpu_cores` cores each get `cores / K` of a core when `K` is
    /// larger). Measured on Prometheus 2.42: about 0.9 ms more per concurrent request at
    /// 500 samples each on a 2-core host (docs/fidelity.md).
    fn client_time(&self, samples: u64, encodes: bool) -> SimDuration {
        let s = &self.cfg.sender;
        let mut ns = s.request_overhead.nanos();
        if encodes && s.cpu_per_sample.nanos() > 0 {
            let share = (f64::from(self.sending) / s.cpu_cores).max(1.0);
            ns = ns.saturating_add((samples as f64 * s.cpu_per_sample.nanos() as f64 * share) as u64);
        }
        SimDuration(ns)
    }

    /// Applies what the receiver did besides answering: requests a crash reset (their shards
    /// learn at once), timeline notes, and its next scheduled moment.
    pub(super) fn after_receiver(&mut self) {
        if !self.rx.has_news() {
            return;
        }
        let (resets, notes) = self.rx.take_news();
        for r in resets {
            let Some(i) = self.shards.iter().position(|s| {
                s.phase == Phase::Sending
                    && s.flight.as_ref().is_some_and(|f| f.batch == r.batch && f.attempts == r.attempt)
            }) else {
                continue;
            };
            let s = &mut self.shards[i];
            s.ver = s.ver.wrapping_add(1);
            let f = s.flight.as_mut().expect("sending");
            f.outcome = Outcome::Recoverable(None);
            f.class = Class::Reset;
            let (gen_, ver) = (self.gen_, s.ver);
            self.schedule(self.now, Ev::SendDone { gen_, shard: i as u32, ver });
        }
        for n in notes {
            if n.at <= self.end {
                self.note(n.at, n.kind, n.message);
            }
        }
        let next = self.rx.next_event_at().map_or(SimTime::NEVER, |t| t.max(self.now));
        if next != self.rx_wake && next <= self.end {
            self.rx_wake = next;
            self.schedule(next, Ev::ReceiverTick);
        }
    }

    pub(super) fn on_send_done(&mut self, i: usize) {
        self.advance();
        let now = self.now;
        let f = self.shards[i].flight.clone().expect("send done without a batch");
        self.c.sent_batch_duration_ns += u128::from(now.saturating_since(f.attempt_start).nanos());
        self.c.sent_batch_count += 1;
        self.c.responses.count(f.class);
        let n = f.span.count;
        match f.outcome {
            Outcome::Success => {
                self.ledger.delivered += n;
                let newest = self.batch_newest(f.span);
                if let Some(newest) = newest
                    && self.cfg.limits.delivery_latency
                {
                    self.record_latency(f.span, newest);
                }
                self.complete(i, newest);
            }
            Outcome::NonRecoverable => {
                self.ledger.failed += n;
                self.gaps.add_positions(&self.wl, LossReason::Failed, f.span.lo, f.span.hi, n);
                self.c.samples_failed_total += n;
                let newest = self.batch_newest(f.span);
                self.complete(i, newest);
            }
            Outcome::Recoverable(retry_after) => {
                let s = &mut self.shards[i];
                let fl = s.flight.as_mut().expect("batch");
                let sleep = fl.backoff.next_sleep(retry_after);
                if self.cfg.profile.reshard_disable_on_retry() {
                    let until = self.cfg.clock.unix_secs(now + sleep + sleep);
                    self.reshard_disabled_until_unix = self.reshard_disabled_until_unix.max(until);
                }
                let (gen_, ver) = (self.gen_, s.ver);
                self.set_phase(i, Phase::Sleeping);
                self.schedule(now + sleep, Ev::Retry { gen_, shard: i as u32, ver });
            }
        }
    }

    pub(super) fn on_retry(&mut self, i: usize) {
        let f = self.shards[i].flight.as_mut().expect("retry without a batch");
        f.attempts += 1;
        self.c.samples_retried_total += f.span.count;
        self.attempt(i);
    }

    /// Timestamp of the newest sample of a batch (`None` if it is empty).
    fn batch_newest(&self, span: Span) -> Option<SimTime> {
        (span.count > 0).then(|| self.wl.timestamp_of(span.hi - 1))
    }

    /// §8.1 steps 3–4 for a batch that succeeded or failed for good; `newest` is its newest
    /// sample's timestamp, which moves `queue_highest_sent_timestamp_seconds`.
    pub(super) fn complete(&mut self, i: usize, newest: Option<SimTime>) {
        let now = self.now;
        let f = self.shards[i].flight.take().expect("complete without a batch");
        self.rx.batch_done(f.batch);
        let n = f.span.count;
        self.c.bytes_total += self.wire_bytes(n);
        if let Some(t) = newest {
            self.highest_sent_ms = self.highest_sent_ms.max(self.abs_ms(t));
        }
        self.data_out.incr(n);
        self.data_out_duration.incr(now.saturating_since(f.first_start).nanos());
        self.last_send_unix = self.cfg.clock.unix_secs(now);
        self.c.samples_pending = self.c.samples_pending.saturating_sub(n);
        let deadline = self.cfg.remote_write.queue.batch_send_deadline;
        self.shards[i].timer_at = now + deadline;
        self.after_send(i);
    }

    /// The shard loop after a send: take the next ready batch, or wait.
    fn after_send(&mut self, i: usize) {
        self.materialize(i);
        if let Some(b) = self.shards[i].q.take_ready() {
            self.start_send(i, b);
            return;
        }
        let s = &self.shards[i];
        if self.reshard.is_some() && !s.flush_pending && s.q.queued() == 0 {
            self.set_phase(i, Phase::Exited);
            self.refresh(i);
            self.check_drained();
        } else {
            self.set_phase(i, Phase::Idle);
            self.refresh(i);
        }
    }

    pub(super) fn on_timer(&mut self) {
        self.in_timer = true;
        loop {
            let (t, i) = self.timer_tree.min();
            if t > self.now.nanos() {
                break;
            }
            self.advance();
            self.materialize(i);
            match self.shards[i].q.take_on_timer() {
                Some(b) => {
                    if self.shards[i].flush_pending {
                        self.shards[i].flush_pending = !self.shards[i].q.flush_partial();
                    }
                    self.start_send(i, b);
                }
                None => {
                    self.shards[i].timer_at = self.now + self.cfg.remote_write.queue.batch_send_deadline;
                    self.refresh(i);
                }
            }
        }
        self.in_timer = false;
        self.reschedule_timer();
    }

    pub(super) fn reschedule_timer(&mut self) {
        let (t, _) = self.timer_tree.min();
        if self.in_timer || t == u64::MAX || t >= self.timer_pending.nanos() {
            return;
        }
        self.timer_pending = SimTime(t).max(self.now);
    }

    fn record_latency(&mut self, span: Span, newest: SimTime) {
        let now = self.now.nanos();
        let oldest = self.wl.timestamp_of(span.lo).nanos();
        let newest = newest.nanos();
        let (lo, hi) = (now.saturating_sub(newest), now.saturating_sub(oldest));
        self.stats.latency_max_ns = self.stats.latency_max_ns.max(hi);
        if hi - lo <= lo / 32 {
            self.latency.add(lo + (hi - lo) / 2, span.count);
            return;
        }
        // Spread the batch over four sub-groups. Within a second, WAL positions map to time
        // linearly; a batch that spans longer (low volume, or a backlog across a gap) may
        // straddle scrapes far apart, so look those sub-groups' timestamps up.
        let exact = hi - lo > NANOS_PER_SEC;
        // Almost every batch has at least four samples: with the count a constant, the
        // divisions below become shifts (this runs once per delivered batch).
        if span.count >= 4 {
            self.spread_latency(span, 4, now, lo, hi, exact);
        } else {
            self.spread_latency(span, span.count, now, lo, hi, exact);
        }
    }

    /// Adds the batch to the histogram as `parts` equal sub-groups (see `record_latency`).
    #[inline(always)]
    fn spread_latency(&mut self, span: Span, parts: u64, now: u64, lo: u64, hi: u64, exact: bool) {
        let width = span.hi - span.lo;
        for k in 0..parts {
            let c = span.count / parts + u64::from(k < span.count % parts);
            let lat = if exact {
                let pos = span.lo + mul_div(width, 2 * k + 1, 2 * parts);
                now.saturating_sub(self.wl.timestamp_of(pos).nanos())
            } else {
                hi - mul_div(hi - lo, 2 * k + 1, 2 * parts)
            };
            self.latency.add(lat, c);
        }
    }
}
