//! The receiving endpoint: rules and incidents, then a pool of workers behind an accept queue.
//!
//! A request first meets the explicit fault windows and the network, then the process (down
//! or replaying after an OOM kill), a proxy's body limit, the tenant limits and the ring, the
//! disks. What passes is processed by a worker: its service time is
//! `request_overhead + samples / worker_throughput + latency`, and with `workers` set it may
//! wait in the accept queue first — so more shards sending at once means longer answers.
//! Accepted requests hold memory until they complete; past an `oom` limit the process dies,
//! resetting every request in flight.
//!
//! The receiver also keeps the books of what it stored: a batch stored twice (a timed-out
//! request the upstream finished anyway, a rollout's partial write) counts as duplicates.

use crate::config::{IncidentKind, Proxy, ReceiverConfig};
use crate::fault::{FaultWindows, RateLimitRule, Request, Rule, Sampler, Verdict, Window};
use crate::incident::{NetworkRule, ObjectStorageRule, OomMachine, ProcessState, RejectRule, RolloutRule, WindowLog};
use crate::observer::NotableKind;
use crate::rng::{Rng, Stream};
use crate::time::{SimDuration, SimTime, mul_div};
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

/// How long a refused connection takes to fail (a SYN answered by RST on a LAN).
pub const REFUSED_AFTER: SimDuration = SimDuration::from_millis(1);
/// How long a proxy takes to refuse an oversized body.
pub const PROXY_REJECT_AFTER: SimDuration = SimDuration::from_millis(1);

/// What the client gets back, before `remote_timeout` is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// An HTTP status.
    Status(u16),
    /// No answer ever comes.
    Hang,
    /// The connection is refused.
    Refused,
    /// The connection is reset mid-request (the receiver died).
    Reset,
}

/// The receiver's reply to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reply {
    /// The answer.
    pub answer: Answer,
    /// When the client receives it, from the moment it was sent.
    pub after: SimDuration,
    /// Retry-After header, if any.
    pub retry_after: Option<SimDuration>,
    /// Samples of this request the receiver stores when its worker finishes (unless a crash
    /// resets it first): all of them on success, a part on a partial write (rollout,
    /// per-sample rejects), possibly all of a request whose client gave up. The engine keeps
    /// these books itself; a live server (`rwsim serve`) uses this to store what the model
    /// stores.
    pub stored: u64,
}

/// A request dropped by a crash while its client was still waiting: the client sees the
/// connection reset at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reset {
    /// Its batch.
    pub batch: u64,
    /// Its attempt.
    pub attempt: u32,
}

/// Something the receiver did, for the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiverNote {
    /// When.
    pub at: SimTime,
    /// What kind of moment.
    pub kind: NotableKind,
    /// One line for a human.
    pub message: String,
}

/// A labelled period, for shading charts: fault windows, incidents, crashes, full disks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentWindow {
    /// Short machine name: `fault`, `oom`, `down`, `replay`, `rollout`, `disk_full`, ...
    pub kind: String,
    /// A short human label.
    pub label: String,
    /// Start, seconds since the start of the run.
    pub start_seconds: f64,
    /// End, seconds since the start of the run.
    pub end_seconds: f64,
}

/// The receiver's books.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiverTotals {
    /// Samples stored, duplicates included.
    pub samples_ingested: u64,
    /// Samples stored more than once.
    pub duplicate_samples: u64,
    /// Process crashes (`oom`).
    pub crashes: u32,
    /// Highest memory reached, bytes (`memory_base` + in-flight samples).
    pub memory_peak_bytes: u64,
}

/// The receiver's state at an instant, for the metrics rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReceiverSnapshot {
    /// Accepted requests not yet completed (queued or in service).
    pub inflight_requests: u64,
    /// Memory, bytes.
    pub memory_bytes: u64,
    /// 2 serving, 1 replaying its WAL, 0 down.
    pub up: u8,
}

/// An accepted request, until its worker finishes.
#[derive(Clone, Copy, Debug)]
struct Entry {
    done: u64,
    seq: u64,
    batch: u64,
    attempt: u32,
    samples: u64,
    /// Samples it stores on completion.
    ingest: u64,
    /// Its batch is in [`Receiver::batches`].
    tracked_batch: bool,
    /// Until when its client waits for the answer.
    client_until: u64,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.done, self.seq) == (o.done, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Reversed: the heap pops the earliest completion first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.done, o.seq).cmp(&(self.done, self.seq))
    }
}

/// Storage of a batch that may be stored more than once.
#[derive(Clone, Copy, Debug, Default)]
struct BatchState {
    ingested: u64,
    outstanding: u32,
    sender_done: bool,
}

/// Workers and the accept queue.
struct Pool {
    workers: usize,
    queue: Option<usize>,
    /// When each busy worker becomes free.
    busy: BinaryHeap<Reverse<u64>>,
    /// Start times of requests waiting for a worker.
    waiting: BinaryHeap<Reverse<u64>>,
}

impl Pool {
    /// FIFO admission: `(start, done)`, or `None` when the accept queue is full.
    fn admit(&mut self, now: u64, service: u64) -> Option<(u64, u64)> {
        while self.busy.peek().is_some_and(|&Reverse(f)| f <= now) {
            self.busy.pop();
        }
        while self.waiting.peek().is_some_and(|&Reverse(s)| s <= now) {
            self.waiting.pop();
        }
        let start = if self.busy.len() < self.workers {
            now
        } else {
            if self.queue.is_some_and(|q| self.waiting.len() >= q) {
                return None;
            }
            let Reverse(free) = self.busy.pop().expect("all workers busy");
            self.waiting.push(Reverse(free));
            free
        };
        let done = start + service;
        self.busy.push(Reverse(done));
        Some((start, done))
    }

    fn clear(&mut self) {
        self.busy.clear();
        self.waiting.clear();
    }
}

/// The receiver model.
pub struct Receiver {
    /// Fault windows and the network, before anything else.
    front: Vec<Box<dyn Rule + Send>>,
    oom: Option<OomMachine>,
    proxies: Vec<(Window, Proxy)>,
    /// Tenant limits, the ring, rejects.
    back: Vec<Box<dyn Rule + Send>>,
    disks: Vec<ObjectStorageRule>,
    pool: Option<Pool>,
    /// Accepted requests are tracked until completion (needed for queues and memory).
    tracked: bool,
    inflight: BinaryHeap<Entry>,
    inflight_samples: u64,
    seq: u64,
    batches: BTreeMap<u64, BatchState>,
    latency: Sampler,
    rng: Rng,
    overhead: SimDuration,
    throughput: Option<f64>,
    memory_base: u64,
    memory_per_sample: f64,
    ingest_after_client_timeout: bool,
    queue_full_status: u16,
    resets: Vec<Reset>,
    notes: Vec<ReceiverNote>,
    /// Resets, notes or the schedule changed since the caller last looked.
    news: bool,
    windows: WindowLog,
    totals: ReceiverTotals,
}

impl Receiver {
    /// Builds the receiver of a run of length `run`; every random part draws from its own
    /// stream of `seed`.
    pub fn new(cfg: &ReceiverConfig, seed: u64, run: SimDuration) -> Self {
        let secs = |d: SimDuration| d.as_secs_f64();
        let mut windows = WindowLog::default();
        let mut front: Vec<Box<dyn Rule + Send>> = Vec::new();
        let mut back: Vec<Box<dyn Rule + Send>> = Vec::new();
        for (i, w) in cfg.faults.iter().enumerate() {
            windows.push(IncidentWindow {
                kind: "fault".into(),
                label: format!("fault #{i}: {}", w.response),
                start_seconds: secs(w.start),
                end_seconds: secs(w.end),
            });
        }
        if !cfg.faults.is_empty() {
            front.push(Box::new(FaultWindows::new(&cfg.faults, seed)));
        }
        let mut oom = None;
        let mut proxies = Vec::new();
        let mut disks = Vec::new();
        for (i, inc) in cfg.incidents.iter().enumerate() {
            let span = Window::new(inc.start, inc.end_or(run));
            let rng = Rng::new(seed, Stream::Incident(i as u32));
            let label = match &inc.kind {
                IncidentKind::Oom(_) => "oom-prone receiver".to_string(),
                IncidentKind::Rollout(r) => format!("rollout of {} ingesters", r.ingesters),
                IncidentKind::Proxy(_) => "proxy".to_string(),
                IncidentKind::Throttle(t) => format!("throttled to {:.0} samples/s", t.samples_per_second),
                IncidentKind::Reject(r) => format!("{}: {:.1}% rejected", r.reason, r.fraction * 100.0),
                IncidentKind::ObjectStorage(_) => "object storage down".to_string(),
                IncidentKind::Network(n) => {
                    format!("network {}", if *n == crate::config::Network::Refused { "refusing" } else { "black hole" })
                }
            };
            let mut end = span.end;
            match &inc.kind {
                IncidentKind::Oom(o) => oom = Some(OomMachine::new(o.clone(), span)),
                IncidentKind::Rollout(r) => {
                    // Saturating: an interval of years times thousands of ingesters is valid
                    // input (the rollout then outlasts the run) and must not overflow.
                    let last_start = SimDuration(r.interval.nanos().saturating_mul(u64::from(r.ingesters - 1)));
                    end = span.end.min(span.start.saturating_add(last_start).saturating_add(r.unready_for));
                    back.push(Box::new(RolloutRule::new(r.clone(), span.start, end, rng)));
                }
                IncidentKind::Proxy(p) => proxies.push((span, p.clone())),
                IncidentKind::Throttle(t) => back.push(Box::new(RateLimitRule::new(t.clone(), Some(span), rng))),
                IncidentKind::Reject(r) => back.push(Box::new(RejectRule::new(r.clone(), span, rng))),
                IncidentKind::ObjectStorage(o) => disks.push(ObjectStorageRule::new(o.clone(), span)),
                IncidentKind::Network(n) => front.push(Box::new(NetworkRule { span, mode: *n })),
            }
            windows.push(IncidentWindow {
                kind: inc.kind.name().into(),
                label,
                start_seconds: span.start.as_secs_f64(),
                end_seconds: end.as_secs_f64(),
            });
        }
        if let Some(rl) = &cfg.rate_limit {
            back.push(Box::new(RateLimitRule::new(rl.clone(), None, Rng::new(seed, Stream::RateLimit))));
        }
        let pool = cfg.workers.map(|w| Pool {
            workers: w as usize,
            queue: cfg.queue_size.map(|q| q as usize),
            busy: BinaryHeap::new(),
            waiting: BinaryHeap::new(),
        });
        Receiver {
            front,
            tracked: pool.is_some() || oom.is_some(),
            oom,
            proxies,
            back,
            disks,
            pool,
            inflight: BinaryHeap::new(),
            inflight_samples: 0,
            seq: 0,
            batches: BTreeMap::new(),
            latency: Sampler::new(&cfg.latency),
            rng: Rng::new(seed, Stream::ReceiverLatency),
            overhead: cfg.request_overhead,
            throughput: cfg.worker_throughput,
            memory_base: cfg.memory_base,
            memory_per_sample: cfg.memory_per_inflight_sample,
            ingest_after_client_timeout: cfg.ingest_after_client_timeout,
            queue_full_status: cfg.queue_full_status,
            resets: Vec::new(),
            notes: Vec::new(),
            news: true,
            windows,
            totals: ReceiverTotals { memory_peak_bytes: cfg.memory_base, ..ReceiverTotals::default() },
        }
    }

    fn memory(&self, extra_samples: u64) -> u64 {
        self.memory_base + ((self.inflight_samples + extra_samples) as f64 * self.memory_per_sample) as u64
    }

    /// Completes every accepted request whose worker finished by `now`.
    fn advance(&mut self, now: SimTime) {
        while self.inflight.peek().is_some_and(|e| e.done <= now.nanos()) {
            let e = self.inflight.pop().expect("peeked");
            self.inflight_samples -= e.samples;
            if e.ingest > 0 {
                self.store(e.batch, e.ingest, e.samples, SimTime(e.done), false);
            }
            if e.tracked_batch {
                self.release_batch(e.batch);
            }
        }
    }

    fn release_batch(&mut self, batch: u64) {
        if let Some(b) = self.batches.get_mut(&batch) {
            b.outstanding = b.outstanding.saturating_sub(1);
            if b.sender_done && b.outstanding == 0 {
                self.batches.remove(&batch);
            }
        }
    }

    /// Stores `n` of a batch's `size` samples; if the batch was stored before, the expected
    /// overlap counts as duplicates.
    fn store(&mut self, batch: u64, n: u64, size: u64, at: SimTime, ensure: bool) {
        self.totals.samples_ingested += n;
        if !ensure && self.disks.is_empty() && self.batches.is_empty() {
            return;
        }
        for d in &mut self.disks {
            let was_full = d.full_since().is_some();
            d.on_ingest(n, at);
            if let (false, Some(t)) = (was_full, d.full_since()) {
                let until = d.recovered_at();
                self.news = true;
                self.notes.push(ReceiverNote {
                    at: t,
                    kind: NotableKind::ReceiverDegraded,
                    message: format!(
                        "receiver's local disks are full (object storage down): writes fail until storage recovers and catches up at {until}"
                    ),
                });
                self.windows.push(IncidentWindow {
                    kind: "disk_full".into(),
                    label: "disks full".into(),
                    start_seconds: t.as_secs_f64(),
                    end_seconds: until.as_secs_f64(),
                });
            }
        }
        let state = if ensure { Some(self.batches.entry(batch).or_default()) } else { self.batches.get_mut(&batch) };
        if let Some(b) = state {
            let overlap = mul_div(b.ingested, n, size.max(1)).min(n);
            self.totals.duplicate_samples += overlap;
            b.ingested = (b.ingested + n - overlap).min(size);
        }
    }

    /// The sender is done with `batch` (delivered, failed or discarded): forget it once no
    /// request of it is in flight here.
    pub fn batch_done(&mut self, batch: u64) {
        if let Some(b) = self.batches.get_mut(&batch) {
            b.sender_done = true;
            if b.outstanding == 0 || !self.tracked {
                self.batches.remove(&batch);
            }
        }
    }

    /// Kills the process at `now`: every accepted request is lost; clients still waiting
    /// see their connection reset.
    fn crash(&mut self, now: SimTime, memory: Option<u64>) {
        let Some(oom) = self.oom.as_mut() else { return };
        let c = oom.crash(now, memory);
        let limit = oom.memory_limit();
        self.news = true;
        let lost = self.inflight.len();
        for e in std::mem::take(&mut self.inflight) {
            if now.nanos() < e.client_until {
                self.resets.push(Reset { batch: e.batch, attempt: e.attempt });
            }
            if e.tracked_batch {
                self.release_batch(e.batch);
            }
        }
        self.inflight_samples = 0;
        if let Some(p) = &mut self.pool {
            p.clear();
        }
        self.totals.crashes = c.count;
        let why = match (memory, limit) {
            (Some(m), Some(limit)) => format!("OOM-killed at {} MiB (limit {} MiB)", mib(m), mib(limit)),
            _ => "killed".to_string(),
        };
        self.notes.push(ReceiverNote {
            at: now,
            kind: NotableKind::ReceiverDown,
            message: format!(
                "receiver {why} (crash #{}): {lost} requests in flight lost; CrashLoopBackOff {}, listening at {}, \
                 WAL replay until {}",
                c.count, c.backoff, c.listening_at, c.ready_at
            ),
        });
        self.notes.push(ReceiverNote {
            at: c.ready_at,
            kind: NotableKind::ReceiverUp,
            message: format!("receiver ready again after crash #{}", c.count),
        });
        self.windows.push(IncidentWindow {
            kind: "down".into(),
            label: format!("crash #{}", c.count),
            start_seconds: now.as_secs_f64(),
            end_seconds: c.listening_at.as_secs_f64(),
        });
        self.windows.push(IncidentWindow {
            kind: "replay".into(),
            label: "WAL replay".into(),
            start_seconds: c.listening_at.as_secs_f64(),
            end_seconds: c.ready_at.as_secs_f64(),
        });
    }

    /// When the receiver next needs the clock (a scheduled crash), if ever.
    pub fn next_event_at(&self) -> Option<SimTime> {
        self.oom.as_ref().and_then(|o| o.forced_crash_at())
    }

    /// The clock reached a moment [`Receiver::next_event_at`] asked for.
    pub fn on_time(&mut self, now: SimTime) {
        self.advance(now);
        let Some(oom) = self.oom.as_mut() else { return };
        if oom.forced_crash_at().is_some_and(|t| t <= now) {
            if oom.state(now) == ProcessState::Up {
                self.crash(now, None);
            } else {
                // Already down: the scheduled kill has nothing to kill.
                oom.crash_skipped(now);
                self.news = true;
            }
        }
    }

    /// Whether resets, notes or the next scheduled moment changed since the last
    /// [`Receiver::take_news`]. Cheap: the engine asks after every request.
    pub fn has_news(&self) -> bool {
        self.news
    }

    /// Requests a crash dropped whose clients must be told, and timeline notes; drained by
    /// the caller.
    pub fn take_news(&mut self) -> (Vec<Reset>, Vec<ReceiverNote>) {
        self.news = false;
        (std::mem::take(&mut self.resets), std::mem::take(&mut self.notes))
    }

    /// Labelled periods for charts.
    pub fn windows(&self) -> &[IncidentWindow] {
        self.windows.kept()
    }

    /// Labelled periods beyond the cap of [`WindowLog`], not kept.
    pub fn windows_omitted(&self) -> u64 {
        self.windows.omitted()
    }

    /// The books.
    pub fn totals(&self) -> &ReceiverTotals {
        &self.totals
    }

    /// The state at `now`.
    pub fn snapshot(&mut self, now: SimTime) -> ReceiverSnapshot {
        self.advance(now);
        let up = match self.oom.as_mut().map(|o| o.state(now)) {
            None | Some(ProcessState::Up) => 2,
            Some(ProcessState::Replaying { .. }) => 1,
            Some(ProcessState::Down { .. }) => 0,
        };
        ReceiverSnapshot { inflight_requests: self.inflight.len() as u64, memory_bytes: self.memory(0), up }
    }

    /// Handles a request sent at `now`.
    pub fn handle(&mut self, req: &Request, now: SimTime) -> Reply {
        if self.tracked {
            self.advance(now);
        }
        let mut verdict = self.front.iter_mut().map(|r| r.on_request(req, now)).find(|v| *v != Verdict::Pass);
        if verdict.is_none()
            && let Some(oom) = self.oom.as_mut()
        {
            let state = oom.state(now);
            verdict = oom.unavailable_answer(state);
        }
        let proxy = if self.proxies.is_empty() { None } else { self.proxies.iter().position(|(w, _)| w.contains(now)) };
        if verdict.is_none() {
            if let Some(p) = proxy.map(|i| &self.proxies[i].1)
                && p.max_body_bytes.is_some_and(|limit| req.bytes > limit)
            {
                return Reply {
                    answer: Answer::Status(p.body_too_large_status),
                    after: PROXY_REJECT_AFTER,
                    retry_after: None,
                    stored: 0,
                };
            }
            verdict = self.back.iter_mut().map(|r| r.on_request(req, now)).find(|v| *v != Verdict::Pass);
        }
        if verdict.is_none() {
            verdict = self.disks.iter_mut().map(|r| r.on_request(req, now)).find(|v| *v != Verdict::Pass);
        }
        let (status, latency, retry_after, ingest) = match verdict.unwrap_or(Verdict::Pass) {
            Verdict::Pass => (200, None, None, 1.0),
            Verdict::Respond { status, latency, retry_after, ingest } if ingest <= 0.0 => {
                let after = latency.unwrap_or_else(|| self.latency.sample(&mut self.rng));
                return Reply { answer: Answer::Status(status), after, retry_after, stored: 0 };
            }
            Verdict::Respond { status, latency, retry_after, ingest } => (status, latency, retry_after, ingest),
            Verdict::Hang => {
                return Reply { answer: Answer::Hang, after: SimDuration::ZERO, retry_after: None, stored: 0 };
            }
            Verdict::Refuse => {
                return Reply { answer: Answer::Refused, after: REFUSED_AFTER, retry_after: None, stored: 0 };
            }
        };
        let cut = proxy.and_then(|i| self.proxies[i].1.read_timeout.map(|t| (t, self.proxies[i].1.timeout_status)));
        self.process(req, now, status, latency, retry_after, ingest, cut)
    }

    /// A request that reaches a worker.
    #[allow(clippy::too_many_arguments)]
    fn process(
        &mut self,
        req: &Request,
        now: SimTime,
        status: u16,
        latency: Option<SimDuration>,
        retry_after: Option<SimDuration>,
        ingest: f64,
        proxy_cut: Option<(SimDuration, u16)>,
    ) -> Reply {
        if let Some(oom) = &self.oom {
            let m = self.memory(req.samples);
            if oom.kills(m, now) {
                self.crash(now, Some(m));
                return Reply { answer: Answer::Reset, after: SimDuration::ZERO, retry_after: None, stored: 0 };
            }
        }
        let service = latency.unwrap_or_else(|| {
            let work =
                self.throughput.map_or(SimDuration::ZERO, |t| SimDuration::from_secs_f64(req.samples as f64 / t));
            self.overhead + work + self.latency.sample(&mut self.rng)
        });
        let (_, done) = match &mut self.pool {
            None => (now.nanos(), now.nanos() + service.nanos()),
            Some(p) => match p.admit(now.nanos(), service.nanos()) {
                Some(x) => x,
                None => {
                    let after = self.latency.sample(&mut self.rng);
                    return Reply {
                        answer: Answer::Status(self.queue_full_status),
                        after,
                        retry_after: None,
                        stored: 0,
                    };
                }
            },
        };
        let upstream = SimDuration(done - now.nanos());
        // A proxy cuts answers slower than its read timeout.
        let (answer, after) = match proxy_cut {
            Some((t, cut_status)) if upstream > t => (Answer::Status(cut_status), t),
            _ => (Answer::Status(status), upstream),
        };
        let client_gives_up = after > req.client_timeout;
        let client_sees_success = (200..300).contains(&status) && answer == Answer::Status(status) && !client_gives_up;
        let abandoned = upstream > after || client_gives_up;
        let stored = if abandoned && !self.ingest_after_client_timeout {
            0
        } else if ingest >= 1.0 {
            req.samples
        } else {
            (req.samples as f64 * ingest + 0.5) as u64
        };
        // Stored while the client does not learn it: the sender will send it again.
        let ghost = stored > 0 && !client_sees_success;
        if self.tracked {
            let tracked_batch = ghost || self.batches.contains_key(&req.batch);
            if tracked_batch {
                self.batches.entry(req.batch).or_default().outstanding += 1;
            }
            self.seq += 1;
            self.inflight.push(Entry {
                done,
                seq: self.seq,
                batch: req.batch,
                attempt: req.attempt,
                samples: req.samples,
                ingest: stored,
                tracked_batch,
                client_until: now.nanos() + after.min(req.client_timeout).nanos(),
            });
            self.inflight_samples += req.samples;
            let m = self.memory(0);
            self.totals.memory_peak_bytes = self.totals.memory_peak_bytes.max(m);
        } else if stored > 0 {
            self.store(req.batch, stored, req.samples, now, ghost);
        }
        Reply { answer, after, retry_after, stored }
    }
}

/// Whole MiB, rounded up: a kill is always reported above its limit.
fn mib(b: u64) -> u64 {
    b.div_ceil(1 << 20)
}

/// A live server shares the model receiver between threads behind a mutex.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Receiver>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FaultWindow, Incident, Latency, Oom, Proxy, Response};

    fn cfg() -> ReceiverConfig {
        let mut c = crate::config::SimConfig::baseline(crate::profile::Profile::V3).receiver;
        c.latency = Latency::Fixed(SimDuration::from_millis(100));
        c
    }

    fn req(batch: u64, samples: u64) -> Request {
        Request { batch, attempt: 0, samples, bytes: samples * 25, client_timeout: SimDuration::from_secs(30) }
    }

    const RUN: SimDuration = SimDuration::from_hours(1);

    #[test]
    fn fifo_workers_queue_excess_requests() {
        let mut c = cfg();
        c.workers = Some(2);
        let mut r = Receiver::new(&c, 1, RUN);
        let afters: Vec<u64> = (0..5).map(|b| r.handle(&req(b, 10), SimTime(0)).after.nanos() / 1_000_000).collect();
        assert_eq!(afters, [100, 100, 200, 200, 300]);
    }

    #[test]
    fn a_full_accept_queue_answers_its_status() {
        let mut c = cfg();
        c.workers = Some(1);
        c.queue_size = Some(1);
        c.queue_full_status = 429;
        let mut r = Receiver::new(&c, 1, RUN);
        assert_eq!(r.handle(&req(1, 10), SimTime(0)).answer, Answer::Status(200));
        assert_eq!(r.handle(&req(2, 10), SimTime(0)).answer, Answer::Status(200), "waits in the queue");
        assert_eq!(r.handle(&req(3, 10), SimTime(0)).answer, Answer::Status(429));
    }

    #[test]
    fn first_matching_window_wins() {
        let mut c = cfg();
        let w = |s: u64, e: u64, resp| FaultWindow {
            start: SimDuration::from_secs(s),
            end: SimDuration::from_secs(e),
            response: resp,
            probability: 1.0,
            retry_after: None,
            latency: None,
        };
        c.faults = vec![w(10, 20, Response::Status(503)), w(0, 30, Response::Timeout)];
        let mut r = Receiver::new(&c, 1, RUN);
        assert_eq!(r.handle(&req(1, 1), SimTime(15_000_000_000)).answer, Answer::Status(503));
        assert_eq!(r.handle(&req(1, 1), SimTime(25_000_000_000)).answer, Answer::Hang);
        assert_eq!(r.handle(&req(1, 1), SimTime(35_000_000_000)).answer, Answer::Status(200));
    }

    #[test]
    fn proxy_cuts_slow_upstreams_which_still_store_the_data() {
        let mut c = cfg();
        c.latency = Latency::Fixed(SimDuration::from_secs(40));
        c.incidents.push(Incident {
            start: SimDuration::ZERO,
            end: None,
            kind: IncidentKind::Proxy(Proxy {
                read_timeout: Some(SimDuration::from_secs(10)),
                timeout_status: 504,
                max_body_bytes: Some(1000),
                body_too_large_status: 500,
            }),
        });
        let mut r = Receiver::new(&c, 1, RUN);
        let rep = r.handle(&req(7, 20), SimTime(0));
        assert_eq!((rep.answer, rep.after), (Answer::Status(504), SimDuration::from_secs(10)));
        assert_eq!(rep.stored, 20, "the reply says the upstream stores it");
        // The retry is stored again: a duplicate.
        let rep = r.handle(&Request { attempt: 1, ..req(7, 20) }, SimTime(11_000_000_000));
        assert_eq!(rep.answer, Answer::Status(504));
        assert_eq!(r.totals().samples_ingested, 40);
        assert_eq!(r.totals().duplicate_samples, 20);
        // A body over the limit never reaches the upstream.
        let rep = r.handle(&req(8, 100), SimTime(0));
        assert_eq!((rep.answer, rep.stored), (Answer::Status(500), 0));
        assert_eq!(r.totals().samples_ingested, 40);
    }

    #[test]
    fn memory_kill_resets_requests_in_flight() {
        let mut c = cfg();
        c.latency = Latency::Fixed(SimDuration::from_secs(1));
        c.memory_base = 1000;
        c.memory_per_inflight_sample = 10.0;
        c.incidents.push(Incident {
            start: SimDuration::ZERO,
            end: None,
            kind: IncidentKind::Oom(Oom {
                memory_limit: Some(1000 + 10 * 250),
                crash_at: None,
                restart_time: SimDuration::from_secs(30),
                replay_time: SimDuration::from_secs(60),
                backoff_initial: SimDuration::from_secs(10),
                backoff_max: SimDuration::from_mins(5),
                backoff_reset: SimDuration::from_mins(10),
                while_down: Response::Refused,
                replay_status: 503,
            }),
        });
        let mut r = Receiver::new(&c, 1, RUN);
        for b in 0..2 {
            assert_eq!(r.handle(&req(b, 100), SimTime(0)).answer, Answer::Status(200));
        }
        // The third pushes memory to 1000 + 10·300: killed.
        assert_eq!(r.handle(&req(2, 100), SimTime(1)).answer, Answer::Reset);
        assert_eq!(r.take_news().0, [Reset { batch: 0, attempt: 0 }, Reset { batch: 1, attempt: 0 }]);
        assert_eq!(r.totals().samples_ingested, 0, "nothing in flight was stored");
        assert_eq!(r.handle(&req(3, 1), SimTime(2)).answer, Answer::Refused, "down");
        let t = |s: u64| SimTime(s * 1_000_000_000);
        assert_eq!(r.handle(&req(3, 1), t(41)).answer, Answer::Status(503), "replaying its WAL");
        assert_eq!(r.handle(&req(3, 1), t(101)).answer, Answer::Status(200));
        assert_eq!(r.totals().crashes, 1);
    }
}
