//! VictoriaMetrics vmagent as the sender: a model of its own, sharing the clock, the event
//! queue, the workload, the receiver, the ledger's buckets and the gap log with the
//! Prometheus engine, but none of the Prometheus queue (no WAL, no watcher, no shards, no
//! resharding).
//!
//! The pipeline (`app/vmagent/remotewrite/{remotewrite,pendingseries,client}.go`,
//! `lib/persistentqueue/{fastqueue,persistentqueue}.go`), in v1.79.5 and current releases:
//! 1. Scraped samples go round-robin into `min(queues, CPUs)` `pendingSeries` buffers; each
//!    cuts a block at `-remoteWrite.maxRowsPerBlock` samples (fewer if the unpacked
//!    request would pass `-remoteWrite.maxBlockSize`) and at every `-remoteWrite.flushInterval`
//!    (`pendingSeries.periodicFlusher`). Modelled: at every flush tick the samples committed
//!    since the last one are cut as those buffers would cut them.
//! 2. Blocks are Snappy-compressed and written to the URL's [`queue::FastQueue`]: memory
//!    first, spilling to the persistent queue on disk after 5 s without a read or when the
//!    channel is full; with `-remoteWrite.maxDiskUsagePerURL` the disk drops its oldest blocks.
//! 3. `-remoteWrite.queues` workers (fixed; no autoscaling) each take the oldest block, pass
//!    the rate limiter, and send it until it is delivered or dropped ([`client`]).
//!
//! A SIGTERM restart flushes the buffers, gives in-flight sends 5 s, writes unfinished blocks
//! back and moves the in-memory queue to disk (`FastQueue.MustClose`): nothing is lost but
//! what the cap drops. A kill loses the buffers, the in-memory blocks, the blocks in flight
//! and the file data written since the last per-second metainfo sync. vmagent has no WAL to
//! replay: scraping starts again at once.
//!
//! Accounting: every committed sample is delivered, failed (400/409, 415 in current
//! releases), dropped by the disk cap (`dropped.disk_full`), lost at a kill
//! (`dropped.sender_crash`) or still held at the end; samples never scraped while the
//! process was down are `not_scraped`.

pub mod client;
pub mod flags;
pub mod queue;

pub use flags::{VmVersion, VmagentConfig};

use crate::config::{SenderEventKind, SimConfig};
use crate::edges::Edge;
use crate::engine::SimError;
use crate::event::EventQueue;
use crate::fault::Request;
use crate::gaps::{GapLog, LossReason};
use crate::histogram::Histogram;
use crate::metrics::MetricsRow;
use crate::observer::{Notable, NotableKind, Observer};
use crate::receiver::{Answer, IncidentWindow, Receiver};
use crate::result::ResponseClass as Class;
use crate::result::{
    Dropped, LagStats, LatencyStats, PendingStats, ReceiverStats, Responses, RunResult, SampleTotals, SenderStats,
    ShardStats, VmagentStats, WalStats,
};
use crate::rng::{Rng, Stream};
use crate::time::{SimDuration, SimTime};
use crate::workload::Workload;
use client::{Backoff, Disposition, RateLimiter};
use queue::{Block, FastQueue, Loss, Run};

/// Notable moments kept in the timeline.
const TIMELINE_CAP: usize = 10_000;
/// `runWorker` waits this long for a send in flight when vmagent stops (C.5.3).
const STOP_WAIT: SimDuration = SimDuration::from_secs(5);

/// Runs `cfg` with vmagent `vm` as the sender. `cfg` must be valid.
pub(crate) fn simulate<O: Observer>(cfg: &SimConfig, vm: &VmagentConfig, obs: &mut O) -> Result<RunResult, SimError> {
    let mut sim = VmSim::new(cfg, vm, obs);
    sim.run()?;
    Ok(sim.finish())
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Flush {
        pgen: u32,
    },
    Attempt {
        w: u32,
        ver: u32,
    },
    SendDone {
        w: u32,
        ver: u32,
    },
    StopDone {
        pgen: u32,
    },
    ProcessStart {
        pgen: u32,
    },
    Output,
    ReceiverTick,
    /// A fault window, incident, sender event or workload change of the scenario.
    Edge(Edge),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting in `MustReadBlock` for a block.
    Idle,
    /// Holding a block: behind the rate limiter or sleeping before a retry.
    Waiting,
    /// An HTTP attempt is in flight.
    Sending,
}

#[derive(Clone, Debug)]
struct Worker {
    phase: Phase,
    block: Option<Block>,
    ver: u32,
    backoff: Backoff,
    batch: u64,
    attempts: u32,
    first_start: SimTime,
    attempt_start: SimTime,
    disposition: Disposition,
    class: Class,
    retry_after: Option<SimDuration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Process {
    Running,
    /// SIGTERM: scraping stopped, in-flight sends get 5 s.
    Stopping,
    Down,
}

/// vmagent's own counters (`vmagent_remotewrite_*`), with vmagent's semantics.
#[derive(Clone, Debug, Default)]
struct Counters {
    blocks_sent: u64,
    bytes_sent: u64,
    retries: u64,
    errors: u64,
    packets_dropped: u64,
    samples_attempted: u64,
    samples_retried: u64,
    attempts: u64,
    attempt_ns: u128,
    responses: Responses,
}

#[derive(Clone, Debug, Default)]
struct Ledger {
    delivered: u64,
    failed: u64,
    disk_full: u64,
    crash: u64,
    not_scraped: u64,
}

#[derive(Clone, Debug, Default)]
struct Stats {
    lag_max: f64,
    lag_final: f64,
    held_max: u64,
    backlog_max: u64,
    memory_peak: u64,
    disk_pending_peak: u64,
    disk_file_peak: u64,
    latency_max_ns: u64,
    conservation_ok: bool,
    violation: Option<String>,
    /// The open lag episode of the timeline (the same thresholds as for Prometheus).
    behind: crate::lag::LagEpisode,
    restarts: u32,
    crashes: u32,
    reloads: u32,
    starts: u32,
    down: SimDuration,
}

struct VmSim<'c, O: Observer> {
    cfg: &'c SimConfig,
    vm: &'c VmagentConfig,
    obs: &'c mut O,
    q: EventQueue<Ev>,
    now: SimTime,
    end: SimTime,
    events: u64,
    wl: Workload,
    rx: Receiver,
    rx_wake: SimTime,
    fq: FastQueue,
    workers: Vec<Worker>,
    limiter: Option<RateLimiter>,
    rng: Rng,
    /// Samples up to this position have been cut into blocks.
    flushed: u64,
    rows_per_block: u64,
    wire_millibytes: u64,
    next_batch: u64,
    process: Process,
    pgen: u32,
    /// The last exit was a kill: samples committed after it (scrapes in flight) are lost.
    killed: bool,
    down_since: Option<SimTime>,
    paused_since: Option<SimTime>,
    highest_sent_ms: u64,
    c: Counters,
    /// The counters when the current process started: vmagent's own start at 0 with it.
    c_base: Counters,
    pq_base: queue::DiskCounters,
    rate_base: u64,
    ledger: Ledger,
    gaps: GapLog,
    latency: Histogram,
    stats: Stats,
    timeline: Vec<Notable>,
    timeline_omitted: u64,
    windows: Vec<IncidentWindow>,
    open_window: Option<(&'static str, &'static str, SimTime)>,
    last_row_at: Option<SimTime>,
    losses: Vec<Loss>,
    /// How long the process stays down after the SIGTERM in progress.
    pending_down_for: SimDuration,
}

impl<'c, O: Observer> VmSim<'c, O> {
    fn new(cfg: &'c SimConfig, vm: &'c VmagentConfig, obs: &'c mut O) -> Self {
        let queues = vm.queues();
        let sec0 = cfg.clock.unix_secs(SimTime::ZERO);
        let workers = (0..queues)
            .map(|_| Worker {
                phase: Phase::Idle,
                block: None,
                ver: 0,
                backoff: Backoff::new(vm.version, vm.retry_min_interval, vm.retry_max_interval),
                batch: 0,
                attempts: 0,
                first_start: SimTime::ZERO,
                attempt_start: SimTime::ZERO,
                disposition: Disposition::Delivered,
                class: Class::Ok,
                retry_after: None,
            })
            .collect();
        let mut sim = VmSim {
            cfg,
            vm,
            obs,
            q: EventQueue::new(),
            now: SimTime::ZERO,
            end: SimTime(cfg.duration.nanos()),
            events: 0,
            wl: Workload::new(&cfg.workload, cfg.seed),
            rx: Receiver::new(&cfg.receiver, cfg.seed, cfg.duration),
            rx_wake: SimTime::NEVER,
            fq: FastQueue::new(vm.version, vm.max_inmemory_blocks(), vm.effective_disk_cap(), sec0),
            workers,
            limiter: (vm.rate_limit > 0).then(|| RateLimiter::new(vm.rate_limit)),
            rng: Rng::new(cfg.seed, Stream::VmagentRetry),
            flushed: 0,
            rows_per_block: vm.rows_per_block(),
            wire_millibytes: (cfg.workload.wire_bytes_per_sample * 1000.0).round() as u64,
            next_batch: 0,
            process: Process::Running,
            pgen: 0,
            killed: false,
            down_since: None,
            paused_since: None,
            highest_sent_ms: 0,
            c: Counters::default(),
            c_base: Counters::default(),
            pq_base: queue::DiskCounters::default(),
            rate_base: 0,
            ledger: Ledger::default(),
            gaps: GapLog::new(cfg.workload.scrape_interval.nanos()),
            latency: Histogram::default(),
            stats: Stats { conservation_ok: true, starts: 1, ..Stats::default() },
            timeline: Vec::new(),
            timeline_omitted: 0,
            windows: Vec::new(),
            open_window: None,
            last_row_at: None,
            losses: Vec::new(),
            pending_down_for: SimDuration::ZERO,
        };
        sim.schedule(SimTime::ZERO + vm.flush_interval, Ev::Flush { pgen: 0 });
        sim.schedule(SimTime::ZERO, Ev::Output);
        for (at, edge) in Edge::all(cfg) {
            sim.schedule(at, Ev::Edge(edge));
        }
        sim.note(
            SimTime::ZERO,
            NotableKind::QueueStarted,
            format!(
                "{}: {queues} queues (workers, fixed), {} pendingSeries buffers, in-memory queue of {} blocks, disk \
                 cap {}",
                vm.version.describe(),
                vm.pending_buffers(),
                vm.max_inmemory_blocks(),
                match vm.effective_disk_cap() {
                    0 => "unlimited".to_string(),
                    b => format!("{b} bytes"),
                }
            ),
        );
        sim.after_receiver();
        sim
    }

    fn schedule(&mut self, at: SimTime, ev: Ev) {
        if at <= self.end {
            self.q.push(at, ev);
        }
    }

    fn sec(&self) -> u64 {
        self.cfg.clock.unix_secs(self.now)
    }

    fn abs_ms(&self, t: SimTime) -> u64 {
        self.cfg.clock.unix_millis(t)
    }

    fn note(&mut self, at: SimTime, kind: NotableKind, message: String) {
        let n = Notable { at, kind, message, major: true };
        self.obs.on_event(&n);
        if self.timeline.len() < TIMELINE_CAP {
            self.timeline.push(n);
        } else {
            self.timeline_omitted += 1;
        }
    }

    fn window(&mut self, next: Option<(&'static str, &'static str)>) {
        if let Some((kind, label, from)) = self.open_window.take()
            && self.now > from
        {
            self.windows.push(IncidentWindow {
                kind: kind.into(),
                label: label.into(),
                start_seconds: from.as_secs_f64(),
                end_seconds: self.now.as_secs_f64(),
            });
        }
        self.open_window = next.map(|(k, l)| (k, l, self.now));
    }

    fn run(&mut self) -> Result<(), SimError> {
        while let Some(t) = self.q.peek_time() {
            if t > self.end {
                break;
            }
            self.now = t;
            self.events += 1;
            if self.events > self.cfg.limits.max_events {
                return Err(SimError::EventBudget { limit: self.cfg.limits.max_events, at: t });
            }
            let (_, ev) = self.q.pop().expect("peeked");
            self.dispatch(ev);
        }
        Ok(())
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Flush { pgen } => {
                if pgen == self.pgen && self.process == Process::Running {
                    self.flush();
                    let next = self.now + self.vm.flush_interval;
                    self.schedule(next, Ev::Flush { pgen });
                }
            }
            Ev::Attempt { w, ver } => {
                if self.workers[w as usize].ver == ver {
                    self.attempt(w as usize);
                }
            }
            Ev::SendDone { w, ver } => {
                if self.workers[w as usize].ver == ver {
                    self.send_done(w as usize);
                }
            }
            Ev::StopDone { pgen } => {
                if pgen == self.pgen && self.process == Process::Stopping {
                    self.exit();
                }
            }
            Ev::ProcessStart { pgen } => {
                if pgen == self.pgen && self.process == Process::Down {
                    self.start();
                }
            }
            Ev::Edge(Edge::Sender { index }) => self.on_sender_event(index as usize),
            Ev::Output => {
                let next = self.now + self.cfg.output_step;
                self.schedule(next, Ev::Output);
                self.emit_row();
            }
            Ev::ReceiverTick => {
                if self.now == self.rx_wake {
                    self.rx_wake = SimTime::NEVER;
                    self.rx.on_time(self.now);
                    self.after_receiver();
                }
            }
            Ev::Edge(edge) => {
                if let Some((kind, msg)) = edge.note(self.cfg) {
                    self.note(self.now, kind, msg);
                }
            }
        }
    }

    // ---- blocks in -------------------------------------------------------------------

    fn block_bytes(&self, rows: u64) -> u64 {
        (rows * self.wire_millibytes / 1000).max(1)
    }

    /// `pendingSeries` flush: the samples committed since the last tick, cut as the
    /// `min(queues, CPUs)` buffers cut them: full blocks of `rows_per_block`, then each
    /// buffer's remainder. A scrape is pushed in sub-blocks of at most `maxRowsPerBlock`
    /// samples and each sub-block goes to the next buffer (round-robin), so only as many
    /// buffers hold data as sub-blocks arrived during the interval.
    fn flush(&mut self) {
        let committed = self.wl.committed_by(self.now);
        self.enqueue(self.flushed, committed);
        self.flushed = committed;
        self.feed_workers();
    }

    fn enqueue(&mut self, lo: u64, hi: u64) {
        if hi <= lo {
            return;
        }
        let n = hi - lo;
        let buffers = self.buffers_used();
        let (base, extra) = (n / buffers, n % buffers);
        let r = self.rows_per_block;
        let mut pos = lo;
        let sec = self.sec();
        for (count, m) in [(extra, base + 1), (buffers - extra, base)] {
            if count == 0 || m == 0 {
                continue;
            }
            let (full, rem) = (m / r, m % r);
            for (rows, blocks) in [(r, full * count), (rem, count)] {
                if rows == 0 || blocks == 0 {
                    continue;
                }
                let run = Run::new(pos, rows, self.block_bytes(rows), blocks);
                pos += rows * blocks;
                let mut out = std::mem::take(&mut self.losses);
                self.fq.write(run, sec, &mut out);
                self.book_losses(&mut out, LossReason::DiskFull);
                self.losses = out;
            }
        }
        debug_assert_eq!(pos, hi);
    }

    /// Buffers that receive data in one flush interval: the sub-blocks pushed in it (scrapes
    /// × sub-blocks per scrape), at most `min(queues, CPUs)`.
    fn buffers_used(&self) -> u64 {
        let w = &self.cfg.workload;
        let targets = u64::from(w.targets.max(1));
        // Scraped plus report series, per target.
        let per_scrape = self.wl.series_at(self.now).div_ceil(targets);
        let sub_blocks = per_scrape.div_ceil(self.vm.max_rows_per_block.max(1)).max(1);
        let scrapes = targets as f64 * self.vm.flush_interval.as_secs_f64() / w.scrape_interval.as_secs_f64();
        let pushes = (scrapes * sub_blocks as f64).ceil().max(1.0) as u64;
        pushes.min(u64::from(self.vm.pending_buffers()))
    }

    fn book_losses(&mut self, out: &mut Vec<Loss>, reason: LossReason) {
        for l in out.drain(..) {
            match reason {
                LossReason::DiskFull => self.ledger.disk_full += l.samples,
                _ => self.ledger.crash += l.samples,
            }
            self.gaps.add_positions(&self.wl, reason, l.lo, l.hi, l.samples);
        }
    }

    // ---- workers ---------------------------------------------------------------------

    /// Idle workers take the oldest blocks, lowest worker first.
    fn feed_workers(&mut self) {
        if self.process != Process::Running {
            return;
        }
        for w in 0..self.workers.len() {
            if self.workers[w].phase != Phase::Idle {
                continue;
            }
            let sec = self.sec();
            let Some(b) = self.fq.read(sec) else { return };
            self.start_block(w, b);
        }
    }

    fn start_block(&mut self, w: usize, b: Block) {
        let now = self.now;
        let wk = &mut self.workers[w];
        wk.block = Some(b);
        wk.backoff = Backoff::new(self.vm.version, self.vm.retry_min_interval, self.vm.retry_max_interval);
        wk.batch = self.next_batch;
        wk.attempts = 0;
        wk.first_start = now;
        self.next_batch += 1;
        if self.vm.version == VmVersion::V1_79 {
            // 1.79 counts a block as sent when it is taken, before the first attempt.
            self.c.blocks_sent += 1;
            self.c.bytes_sent += b.bytes;
        }
        let at = match self.limiter.as_mut() {
            Some(l) => l.register(now, b.bytes),
            None => now,
        };
        if at > now {
            self.workers[w].phase = Phase::Waiting;
            let ver = self.workers[w].ver;
            self.schedule(at, Ev::Attempt { w: w as u32, ver });
        } else {
            self.attempt(w);
        }
    }

    fn attempt(&mut self, w: usize) {
        let now = self.now;
        let b = self.workers[w].block.expect("attempt without a block");
        let (batch, attempt) = (self.workers[w].batch, self.workers[w].attempts);
        if attempt > 0 {
            self.c.retries += 1;
            self.c.samples_retried += b.rows;
        }
        self.c.samples_attempted += b.rows;
        let timeout = self.vm.send_timeout;
        let req = Request { batch, attempt, samples: b.rows, bytes: b.bytes, client_timeout: timeout };
        let reply = self.rx.handle(&req, now);
        let after = SimDuration(reply.after.nanos().saturating_add(self.cfg.sender.request_overhead.nanos()));
        let retry_after = if self.vm.version == VmVersion::Current { reply.retry_after } else { None };
        let (after, disposition, class) = match reply.answer {
            Answer::Hang => (timeout, Disposition::Retry, Class::Timeout),
            Answer::Refused => (after.min(timeout), Disposition::Retry, Class::Refused),
            Answer::Reset => (after.min(timeout), Disposition::Retry, Class::Reset),
            Answer::Status(_) if after > timeout => (timeout, Disposition::Retry, Class::Timeout),
            Answer::Status(s) => {
                let class = match s {
                    200..=299 => Class::Ok,
                    429 => Class::Throttled,
                    500..=599 => Class::ServerError,
                    _ => Class::ClientError,
                };
                (after, client::classify(self.vm.version, s), class)
            }
        };
        let wk = &mut self.workers[w];
        wk.phase = Phase::Sending;
        wk.attempt_start = now;
        wk.disposition = disposition;
        wk.class = class;
        wk.retry_after = retry_after;
        let ver = wk.ver;
        self.schedule(now + after, Ev::SendDone { w: w as u32, ver });
        self.after_receiver();
    }

    fn send_done(&mut self, w: usize) {
        let now = self.now;
        let wk = self.workers[w].clone();
        let b = wk.block.expect("send done without a block");
        self.c.attempts += 1;
        self.c.attempt_ns += u128::from(now.saturating_since(wk.attempt_start).nanos());
        self.c.responses.count(wk.class);
        if matches!(wk.class, Class::Timeout | Class::Refused | Class::Reset) {
            self.c.errors += 1;
        }
        match wk.disposition {
            Disposition::Delivered => {
                self.ledger.delivered += b.rows;
                if self.vm.version == VmVersion::Current {
                    self.c.blocks_sent += 1;
                    self.c.bytes_sent += b.bytes;
                }
                if self.cfg.limits.delivery_latency {
                    self.record_latency(b);
                }
                self.block_done(w, b);
            }
            Disposition::Dropped => {
                self.ledger.failed += b.rows;
                self.c.packets_dropped += 1;
                self.gaps.add_positions(&self.wl, LossReason::Failed, b.lo, b.lo + b.rows, b.rows);
                self.block_done(w, b);
            }
            Disposition::Retry if self.process == Process::Stopping => {
                self.rx.batch_done(wk.batch);
                self.give_back(w);
            }
            Disposition::Retry => {
                let sleep = self.workers[w].backoff.next_sleep(wk.retry_after, &mut self.rng);
                let wk = &mut self.workers[w];
                wk.attempts += 1;
                wk.phase = Phase::Waiting;
                let ver = wk.ver;
                self.schedule(now + sleep, Ev::Attempt { w: w as u32, ver });
            }
        }
    }

    fn block_done(&mut self, w: usize, b: Block) {
        let newest = self.wl.timestamp_of(b.lo + b.rows - 1);
        self.highest_sent_ms = self.highest_sent_ms.max(self.abs_ms(newest));
        let batch = self.workers[w].batch;
        self.rx.batch_done(batch);
        let wk = &mut self.workers[w];
        wk.block = None;
        wk.phase = Phase::Idle;
        self.feed_workers();
    }

    /// A stopping worker writes its block back to the queue (`runWorker` on stop).
    fn give_back(&mut self, w: usize) {
        let wk = &mut self.workers[w];
        wk.ver = wk.ver.wrapping_add(1);
        wk.phase = Phase::Idle;
        let Some(b) = wk.block.take() else { return };
        let sec = self.sec();
        let mut out = std::mem::take(&mut self.losses);
        self.fq.write_back(b, sec, &mut out);
        self.book_losses(&mut out, LossReason::DiskFull);
        self.losses = out;
    }

    fn record_latency(&mut self, b: Block) {
        let now = self.now.nanos();
        let oldest = self.wl.timestamp_of(b.lo).nanos();
        let newest = self.wl.timestamp_of(b.lo + b.rows - 1).nanos();
        let (lo, hi) = (now.saturating_sub(newest), now.saturating_sub(oldest));
        self.stats.latency_max_ns = self.stats.latency_max_ns.max(hi);
        self.latency.add(lo + (hi - lo) / 2, b.rows);
    }

    /// Requests a receiver crash reset are answered at once; timeline notes; the next tick.
    fn after_receiver(&mut self) {
        if !self.rx.has_news() {
            return;
        }
        let (resets, notes) = self.rx.take_news();
        for r in resets {
            let Some(w) = self.workers.iter().position(|wk| {
                wk.phase == Phase::Sending && wk.block.is_some() && wk.batch == r.batch && wk.attempts == r.attempt
            }) else {
                continue;
            };
            let wk = &mut self.workers[w];
            wk.ver = wk.ver.wrapping_add(1);
            wk.disposition = Disposition::Retry;
            wk.class = Class::Reset;
            let ver = wk.ver;
            self.schedule(self.now, Ev::SendDone { w: w as u32, ver });
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

    // ---- the process -----------------------------------------------------------------

    fn on_sender_event(&mut self, index: usize) {
        let e = &self.cfg.sender.events[index];
        match e.kind.clone() {
            SenderEventKind::Restart { down_for, .. } => {
                if self.process != Process::Running {
                    let msg = format!("sender event #{index} (restart) ignored: vmagent is not running");
                    return self.note(self.now, NotableKind::SenderStopping, msg);
                }
                self.stats.restarts += 1;
                self.stop(down_for);
            }
            SenderEventKind::Crash { down_for, .. } => {
                if self.process == Process::Down {
                    let msg = format!("sender event #{index} (crash) ignored: vmagent is down");
                    return self.note(self.now, NotableKind::SenderDown, msg);
                }
                self.stats.crashes += 1;
                self.kill(down_for);
            }
            SenderEventKind::Reload { change } => {
                self.stats.reloads += 1;
                self.note(
                    self.now,
                    NotableKind::SenderReload,
                    format!(
                        "reload ({}): vmagent reloads relabelling and stream aggregation only; -remoteWrite.* flags need \
                         a restart, so remote write goes on untouched",
                        change.name()
                    ),
                );
            }
            SenderEventKind::Oom(_) => unreachable!("validation refuses oom events for vmagent"),
        }
    }

    fn pause_scraping(&mut self) {
        self.wl.pause(self.now);
        if self.paused_since.is_none() {
            self.paused_since = Some(self.now);
        }
    }

    /// SIGTERM (`main.go`: HTTP server, then `promscrape.Stop`, then `remotewrite.Stop`):
    /// scraping stops, the buffers flush into the queue, workers get 5 s to finish a send.
    fn stop(&mut self, down_for: SimDuration) {
        self.pause_scraping();
        self.flush_for_stop();
        self.process = Process::Stopping;
        self.window(Some(("sender_stopping", "vmagent stopping")));
        let mut sending = false;
        for w in 0..self.workers.len() {
            match self.workers[w].phase {
                Phase::Waiting => self.give_back(w),
                Phase::Sending => sending = true,
                Phase::Idle => {}
            }
        }
        let exit_at = if sending { self.now + STOP_WAIT } else { self.now };
        self.pending_down_for = down_for;
        self.note(
            self.now,
            NotableKind::SenderStopping,
            format!(
                "SIGTERM: scraping stops, the pendingSeries buffers flush to the queue, sends in flight get up to 5s, \
                 then every in-memory block is written to disk; down for {down_for}"
            ),
        );
        let pgen = self.pgen;
        self.schedule(exit_at, Ev::StopDone { pgen });
    }

    fn flush_for_stop(&mut self) {
        let committed = self.wl.committed_by(self.now);
        self.enqueue(self.flushed, committed);
        self.flushed = committed;
    }

    /// The end of a SIGTERM: unfinished sends are written back, `FastQueue.MustClose`
    /// moves memory to disk, the process exits.
    fn exit(&mut self) {
        for w in 0..self.workers.len() {
            if self.workers[w].phase == Phase::Sending {
                let batch = self.workers[w].batch;
                self.rx.batch_done(batch);
                self.give_back(w);
            }
        }
        let sec = self.sec();
        let mut out = std::mem::take(&mut self.losses);
        self.fq.close(sec, &mut out);
        let dropped: u64 = out.iter().map(|l| l.blocks).sum();
        self.book_losses(&mut out, LossReason::DiskFull);
        self.losses = out;
        let msg = format!(
            "vmagent exited: {} blocks ({} samples) persisted on disk{}",
            self.fq.disk_blocks(),
            self.fq.held_samples(),
            if dropped > 0 {
                format!("; the disk cap dropped {dropped} blocks while persisting")
            } else {
                String::new()
            }
        );
        self.note(self.now, NotableKind::SenderDown, msg);
        self.killed = false;
        self.go_down(self.pending_down_for);
    }

    /// `kill -9`: buffers, in-memory blocks, sends in flight and unsynced file data are lost.
    fn kill(&mut self, down_for: SimDuration) {
        self.pause_scraping();
        let committed = self.wl.committed_by(self.now);
        let buffered = committed - self.flushed;
        if buffered > 0 {
            self.ledger.crash += buffered;
            self.gaps.add_positions(&self.wl, LossReason::SenderCrash, self.flushed, committed, buffered);
        }
        self.flushed = committed;
        let mut inflight = Vec::new();
        for wk in &mut self.workers {
            if let Some(b) = wk.block.take() {
                if wk.phase == Phase::Sending {
                    self.rx.batch_done(wk.batch);
                }
                inflight.push(b);
            }
            wk.phase = Phase::Idle;
            wk.ver = wk.ver.wrapping_add(1);
        }
        let sec = self.sec();
        let mut lost = self.fq.crash(&inflight, sec);
        let lost_samples: u64 = lost.iter().map(|l| l.samples).sum::<u64>() + buffered;
        self.book_losses(&mut lost, LossReason::SenderCrash);
        self.note(
            self.now,
            NotableKind::SenderDown,
            format!(
                "vmagent killed: {lost_samples} samples lost (buffers, in-memory queue, sends in flight, file data \
                 since the last per-second sync; vmagent counts none); {} blocks stay on disk; down for {down_for}",
                self.fq.disk_blocks()
            ),
        );
        self.killed = true;
        self.go_down(down_for);
    }

    fn go_down(&mut self, down_for: SimDuration) {
        self.process = Process::Down;
        self.pgen += 1;
        self.down_since = Some(self.now);
        self.window(Some(("sender_down", "sender down")));
        let pgen = self.pgen;
        self.schedule(self.now + down_for, Ev::ProcessStart { pgen });
    }

    /// Start: the queue reopens from disk, scraping starts at once (no WAL to replay).
    fn start(&mut self) {
        let committed = self.wl.committed_by(self.now);
        if self.killed {
            // Scrapes that were in flight at the kill.
            let n = committed - self.flushed;
            if n > 0 {
                self.ledger.crash += n;
                self.gaps.add_positions(&self.wl, LossReason::SenderCrash, self.flushed, committed, n);
            }
            self.flushed = committed;
        } else {
            self.enqueue(self.flushed, committed);
            self.flushed = committed;
        }
        if let Some(since) = self.down_since.take() {
            self.stats.down = self.stats.down + self.now.saturating_since(since);
        }
        self.resume_scraping();
        self.fq.reopen(self.sec());
        // A new process: vmagent's counters start again at 0.
        self.c_base = self.c.clone();
        self.pq_base = self.fq.c.clone();
        self.rate_base = self.limiter.as_ref().map_or(0, |l| l.reached);
        self.process = Process::Running;
        self.stats.starts += 1;
        self.window(None);
        self.stats.behind.forget();
        let pgen = self.pgen;
        self.schedule(self.now + self.vm.flush_interval, Ev::Flush { pgen });
        self.note(
            self.now,
            NotableKind::SenderStarting,
            format!(
                "vmagent started: {} blocks ({} samples) waiting on disk are sent first, oldest first; scraping \
                 resumes now",
                self.fq.disk_blocks(),
                self.fq.held_samples()
            ),
        );
        self.feed_workers();
    }

    fn resume_scraping(&mut self) {
        let Some(since) = self.paused_since.take() else { return };
        self.wl.resume(self.now);
        self.book_not_scraped(since, self.now);
    }

    fn book_not_scraped(&mut self, since: SimTime, until: SimTime) {
        let until = until.min(SimTime(self.end.nanos().saturating_add(1)));
        let missed = self.wl.nominal_between(since, until);
        self.ledger.not_scraped += missed;
        self.gaps.add_range(LossReason::NotScraped, since, until, missed);
    }

    // ---- output ----------------------------------------------------------------------

    fn inflight(&self) -> (u64, u64) {
        self.workers.iter().filter_map(|w| w.block).fold((0, 0), |(s, b), x| (s + x.rows, b + x.bytes))
    }

    /// appended = delivered + failed + disk_full + crash + buffered + queued + in flight.
    fn check_conservation(&mut self, committed: u64) -> u64 {
        let buffered = committed - self.flushed.min(committed);
        let held = buffered + self.fq.held_samples() + self.inflight().0;
        let l = &self.ledger;
        let accounted = l.delivered + l.failed + l.disk_full + l.crash + held;
        if accounted != committed && self.stats.conservation_ok {
            self.stats.conservation_ok = false;
            self.stats.violation = Some(format!(
                "at {}: appended {committed} != accounted {accounted} (delivered {}, failed {}, disk full {}, crash {}, \
                 held {held})",
                self.now, l.delivered, l.failed, l.disk_full, l.crash
            ));
        }
        debug_assert!(self.stats.conservation_ok, "{:?}", self.stats.violation);
        held
    }

    fn lag_seconds(&self, committed: u64) -> f64 {
        if committed == 0 {
            return 0.0;
        }
        let newest = self.abs_ms(self.wl.timestamp_of(committed - 1));
        let sent = if self.highest_sent_ms > 0 { self.highest_sent_ms } else { self.abs_ms(self.wl.timestamp_of(0)) };
        newest.saturating_sub(sent) as f64 / 1000.0
    }

    fn memory_bytes(&self, committed: u64) -> u64 {
        let buffered = committed - self.flushed.min(committed);
        let unpacked = (buffered as f64 * self.vm.unpacked_bytes_per_sample) as u64;
        self.fq.mem_bytes() + self.inflight().1 + unpacked
    }

    fn emit_row(&mut self) {
        let rs = self.rx.snapshot(self.now);
        self.after_receiver();
        let committed = self.wl.committed_by(self.now);
        let held = self.check_conservation(committed);
        let lag = self.lag_seconds(committed);
        let memory = self.memory_bytes(committed);
        let running = self.process == Process::Running;
        if let Some((kind, msg)) = self.stats.behind.observe(self.now, lag, running) {
            self.note(self.now, kind, msg);
        }
        let st = &mut self.stats;
        st.lag_max = st.lag_max.max(lag);
        st.lag_final = lag;
        st.held_max = st.held_max.max(self.fq.held_samples());
        st.backlog_max = st.backlog_max.max(held);
        st.memory_peak = st.memory_peak.max(memory);
        st.disk_pending_peak = st.disk_pending_peak.max(self.fq.disk_pending_bytes());
        st.disk_file_peak = st.disk_file_peak.max(self.fq.disk_file_bytes());
        let (c, r, fc) = (&self.c, &self.c.responses, &self.fq.c);
        let (b, pb) = (&self.c_base, &self.pq_base);
        let queues = self.vm.queues();
        let up = match self.process {
            Process::Running => 2,
            Process::Stopping => 1,
            Process::Down => 0,
        };
        let row = MetricsRow {
            t_seconds: self.now.as_secs_f64(),
            samples_in_total: committed,
            samples_total: c.samples_attempted,
            samples_failed_total: self.ledger.failed,
            samples_retried_total: c.samples_retried,
            samples_pending: self.fq.held_samples() + self.inflight().0,
            shards: queues,
            shards_desired: f64::from(queues),
            shards_max: queues,
            shards_min: queues,
            max_samples_per_send: self.rows_per_block as u32,
            bytes_total: c.bytes_sent,
            sent_batch_duration_seconds_sum: c.attempt_ns as f64 / 1e9,
            sent_batch_duration_seconds_count: c.attempts,
            highest_timestamp_in_seconds: if committed > 0 {
                self.abs_ms(self.wl.timestamp_of(committed - 1)) / 1000
            } else {
                0
            },
            queue_highest_sent_timestamp_seconds: self.highest_sent_ms / 1000,
            lag_seconds: lag,
            delivered_total: self.ledger.delivered,
            backlog_samples: held,
            queue_memory_bytes: memory,
            sender_up: up,
            not_scraped_total: self.ledger.not_scraped,
            sender_memory_bytes: memory,
            appended_total: committed,
            failed_once_total: self.ledger.failed,
            vmagent_remotewrite_blocks_sent_total: c.blocks_sent - b.blocks_sent,
            vmagent_remotewrite_bytes_sent_total: c.bytes_sent - b.bytes_sent,
            vmagent_remotewrite_retries_count_total: c.retries - b.retries,
            vmagent_remotewrite_errors_total: c.errors - b.errors,
            vmagent_remotewrite_packets_dropped_total: c.packets_dropped - b.packets_dropped,
            vmagent_remotewrite_pending_data_bytes: self.fq.pending_data_bytes(),
            vmagent_remotewrite_pending_inmemory_blocks: self.fq.mem_blocks(),
            vmagent_remotewrite_queues: queues,
            vmagent_remotewrite_rate_limit_reached_total: self.limiter.as_ref().map_or(0, |l| l.reached)
                - self.rate_base,
            vm_persistentqueue_bytes_pending: self.fq.disk_pending_bytes(),
            vm_persistentqueue_blocks_written_total: fc.blocks_written - pb.blocks_written,
            vm_persistentqueue_blocks_read_total: fc.blocks_read - pb.blocks_read,
            vm_persistentqueue_blocks_dropped_total: fc.blocks_dropped - pb.blocks_dropped,
            vm_persistentqueue_bytes_dropped_total: fc.bytes_dropped - pb.bytes_dropped,
            lost_disk_full_total: self.ledger.disk_full,
            lost_sender_crash_total: self.ledger.crash,
            disk_bytes: self.fq.disk_file_bytes(),
            ..MetricsRow::receiver_columns(r, &rs, self.rx.totals())
        };
        self.obs.on_step(&row);
        self.last_row_at = Some(self.now);
    }

    fn finish(mut self) -> RunResult {
        self.now = self.end;
        if self.last_row_at != Some(self.end) {
            self.emit_row();
        }
        if let Some(since) = self.paused_since.take() {
            self.book_not_scraped(since, SimTime::NEVER);
        }
        if let Some(since) = self.down_since.take() {
            self.stats.down = self.stats.down + self.end.saturating_since(since);
        }
        self.rx.snapshot(self.end);
        self.after_receiver();
        let committed = self.wl.committed_by(self.end);
        let held = self.check_conservation(committed);
        // After a kill, scrapes that were in flight are certain to be lost.
        let unsendable = if self.killed && self.process == Process::Down { committed - self.flushed } else { 0 };
        if unsendable > 0 {
            self.gaps.add_positions(&self.wl, LossReason::UnsendableAtEnd, self.flushed, committed, unsendable);
        }
        let nominal = self.wl.nominal_stamped_by(self.end);
        let stamped = self.wl.stamped_by(self.end);
        if nominal != stamped + self.ledger.not_scraped && self.stats.conservation_ok {
            self.stats.conservation_ok = false;
            self.stats.violation = Some(format!(
                "at the end: the workload would have stamped {nominal} samples; {stamped} were stamped and {} never \
                 scraped",
                self.ledger.not_scraped
            ));
        }
        let gaps = self.gaps.finish(&self.wl, committed);
        let mut incident_windows = self.rx.windows().to_vec();
        self.window(None);
        incident_windows.extend(std::mem::take(&mut self.windows));
        let mut timeline = std::mem::take(&mut self.timeline);
        timeline.sort_by_key(|n| n.at);
        if let Some(v) = &self.stats.violation {
            timeline.push(Notable {
                at: self.end,
                kind: NotableKind::FellBehind,
                message: format!("BUG: conservation violated {v}"),
                major: true,
            });
        }
        let secs = |ns: u64| ns as f64 / 1e9;
        let rx = self.rx.totals().clone();
        let st = &self.stats;
        let queues = self.vm.queues();
        let fc = &self.fq.c;
        RunResult {
            scenario: self.cfg.name.clone(),
            prometheus: self.cfg.profile.as_str().to_string(),
            seed: self.cfg.seed,
            simulated_seconds: self.end.as_secs_f64(),
            samples: SampleTotals {
                appended: committed,
                delivered: self.ledger.delivered,
                failed: self.ledger.failed,
                retried: self.c.samples_retried,
                dropped: Dropped {
                    disk_full: self.ledger.disk_full,
                    sender_crash: self.ledger.crash,
                    ..Dropped::default()
                },
                pending_at_end: held,
                unread_wal_at_end: 0,
                unsendable_at_end: unsendable,
                not_scraped: self.ledger.not_scraped,
            },
            lag_seconds: LagStats { max: st.lag_max, final_: st.lag_final },
            pending: PendingStats { max: st.held_max, backlog_max: st.backlog_max },
            delivery_latency_seconds: LatencyStats {
                p50: secs(self.latency.quantile(0.5)),
                p99: secs(self.latency.quantile(0.99)),
                max: secs(st.latency_max_ns),
            },
            shards: ShardStats { min: queues, max: queues, final_: queues, ..ShardStats::default() },
            queue_memory_bytes_peak: st.memory_peak,
            receiver: ReceiverStats {
                requests: self.c.attempts,
                responses: self.c.responses.clone(),
                samples_ingested: rx.samples_ingested,
                duplicate_samples: rx.duplicate_samples,
                crashes: rx.crashes,
                memory_peak_bytes: rx.memory_peak_bytes,
            },
            wal: WalStats::default(),
            conservation_ok: st.conservation_ok,
            events_processed: self.events,
            incident_windows,
            incident_windows_omitted: self.rx.windows_omitted(),
            timeline,
            timeline_omitted: self.timeline_omitted,
            gaps,
            sender: SenderStats {
                restarts: st.restarts,
                crashes: st.crashes,
                oom_kills: 0,
                reloads: st.reloads,
                queue_starts: st.starts,
                down_seconds: st.down.as_secs_f64(),
                memory_peak_bytes: st.memory_peak,
                mode: "vmagent".to_string(),
            },
            vmagent: Some(VmagentStats {
                version: self.vm.version.as_str().to_string(),
                queues,
                max_inmemory_blocks: self.vm.max_inmemory_blocks(),
                disk_cap_bytes: self.vm.effective_disk_cap(),
                blocks_sent: self.c.blocks_sent,
                retries: self.c.retries,
                packets_dropped: self.c.packets_dropped,
                disk_blocks_dropped: fc.blocks_dropped,
                disk_bytes_dropped: fc.bytes_dropped,
                disk_blocks_dropped_uncounted: fc.blocks_dropped_uncounted,
                disk_pending_peak_bytes: st.disk_pending_peak,
                disk_file_peak_bytes: st.disk_file_peak,
                rate_limit_reached: self.limiter.as_ref().map_or(0, |l| l.reached),
            }),
        }
    }
}
