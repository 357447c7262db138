//! The event loop: one remote-write queue (`QueueManager`) fed by the WAL watcher, sending to
//! the receiver, resharding every 10 s, with head compaction truncating the WAL underneath.
//!
//! Cost per event is `O(log shards + log targets)`. No event exists per sample or per scrape:
//! the watcher's position follows the closed-form arrival function of [`Workload`], shards take
//! their share of each read as one [`Span`], and the only watcher events are the moments that
//! change something — a shard's batch completing, the first sample that finds its shard full,
//! or the end of a segment that truncation deleted. Three [`MinTree`]s answer "which shard is
//! next" for those questions.
//!
//! Where Go's `select` would choose at random between ready cases, the model takes a fixed
//! order: a ready batch before the flush timer; the `dataIn` tick before the reshard tick.

use crate::backoff::{EnqueueBackoff, SendBackoff};
use crate::config::{ConfigError, SimConfig};
use crate::event::EventQueue;
use crate::fault::Request;
use crate::histogram::Histogram;
use crate::metrics::MetricsRow;
use crate::mintree::MinTree;
use crate::observer::{Notable, NotableKind, Observer};
use crate::receiver::{Answer, Receiver};
use crate::resharder::{Ewma, Gate, SHARD_UPDATE_DURATION, ShardInputs, desired_shards, send_gate_threshold};
use crate::result::{
    Dropped, LagStats, LatencyStats, PendingStats, ReceiverStats, Responses, RunResult, SampleTotals, ShardStats,
    WalStats,
};
use crate::shard::{ShardQueue, Span};
use crate::time::{NANOS_PER_MILLI, NANOS_PER_SEC, SimDuration, SimTime, mul_div};
use crate::wal::{Head, Wal};
use crate::watcher::{BlockCause, RESTART_DELAY, Watcher, WatcherState};
use crate::workload::Workload;
use std::fmt;

/// Checking interval of `FlushAndShutdown` for a partial batch that has no free slot.
const FLUSH_RETRY: SimDuration = SimDuration::from_secs(1);
/// Size of Prometheus's queued `timeSeries` item on amd64 (labels, value, timestamp,
/// exemplar labels, histogram pointers, type).
const QUEUED_ITEM_BYTES: u64 = 88;
/// Per-sample size of a shard's reusable send buffers (`prompb.TimeSeries` plus its sample).
const SEND_BUFFER_BYTES_PER_SAMPLE: u64 = 112;
/// Notable moments kept in [`RunResult::timeline`].
const TIMELINE_CAP: usize = 10_000;
/// A stall episode whose blocked time is shorter than this is not worth a timeline entry.
const STALL_EPISODE_MIN: SimDuration = SimDuration::from_secs(10);
/// Blocks separated by less than this belong to one stall episode.
const STALL_MERGE_GAP: SimDuration = SimDuration::from_secs(1);
/// A stall at least this long is a major timeline moment.
const MAJOR_STALL: SimDuration = SimDuration::from_secs(60);

/// A reshard worth listing in a summary: by 5+ shards, or doubling/halving by 2+. Smaller
/// ones (1↔2, 3↔4) are usually the count flapping around a desired value near an integer.
fn major_reshard(from: u32, to: u32) -> bool {
    let diff = from.abs_diff(to);
    diff >= 5 || (diff >= 2 && (to >= from.saturating_mul(2) || from >= to.saturating_mul(2)))
}

/// Lag above which the queue is reported as behind, and below which as caught up again.
const BEHIND_LAG_SECS: f64 = 60.0;
const CAUGHT_UP_LAG_SECS: f64 = 30.0;

/// Why a run could not complete.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The run exceeded `simulation.max_events`.
    EventBudget {
        /// The budget.
        limit: u64,
        /// Simulated time reached.
        at: SimTime,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Config(e) => e.fmt(f),
            SimError::EventBudget { limit, at } => write!(
                f,
                "simulation.max_events: the run needed more than {limit} events (stopped at {at}); \
                 raise simulation.max_events or max_samples_per_send"
            ),
        }
    }
}

impl std::error::Error for SimError {}

impl From<ConfigError> for SimError {
    fn from(e: ConfigError) -> Self {
        SimError::Config(e)
    }
}

/// Runs one simulation, streaming rows and notable moments to `obs`.
///
/// ```
/// use sim_core::{config::SimConfig, profile::Profile, simulate};
/// let mut cfg = SimConfig::baseline(Profile::V3);
/// cfg.duration = sim_core::time::SimDuration::from_mins(10);
/// let r = simulate(&cfg, &mut ()).unwrap();
/// assert!(r.conservation_ok);
/// assert_eq!(r.samples.failed, 0);
/// ```
pub fn simulate<O: Observer>(cfg: &SimConfig, obs: &mut O) -> Result<RunResult, SimError> {
    cfg.validate()?;
    let mut sim = Sim::new(cfg, obs);
    sim.run()?;
    Ok(sim.finish())
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    WatcherRestart,
    ReceiverTick,
    Incident { index: u32, start: bool },
    SendDone { gen_: u32, shard: u32, ver: u32 },
    Retry { gen_: u32, shard: u32, ver: u32 },
    DataInTick,
    ReshardTick,
    FlushCheck { gen_: u32 },
    FlushDeadline { gen_: u32 },
    Compaction,
    Output,
    Fault { index: u32, start: bool },
    WorkloadChange { index: u32 },
}

/// Why the watcher wakes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WatcherWake {
    /// It reaches a WAL position where something happens (a batch completes, a shard is full,
    /// a deleted segment ends).
    Step,
    /// Its enqueue retry that will succeed.
    Resume,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a full batch or the flush timer.
    Idle,
    /// An HTTP attempt is in flight.
    Sending,
    /// Sleeping before a retry.
    Sleeping,
    /// Drained during a reshard; the goroutine has returned.
    Exited,
}

/// How the sender classifies an attempt's result (§8.2).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Success,
    NonRecoverable,
    Recoverable(Option<SimDuration>),
}

#[derive(Clone, Copy, Debug)]
enum Class {
    Ok,
    Throttled,
    ClientError,
    ServerError,
    Timeout,
    Refused,
    Reset,
}

#[derive(Clone, Debug)]
struct Flight {
    span: Span,
    first_start: SimTime,
    attempt_start: SimTime,
    backoff: SendBackoff,
    outcome: Outcome,
    class: Class,
    /// Identity of the batch for the receiver (retries send the same batch).
    batch: u64,
    /// Attempts made so far, minus one: the current attempt's number.
    attempts: u32,
}

#[derive(Clone, Debug)]
struct Shard {
    q: ShardQueue,
    /// WAL position up to which this shard's share has been enqueued.
    mat: u64,
    phase: Phase,
    flight: Option<Flight>,
    ver: u32,
    timer_at: SimTime,
    flush_pending: bool,
}

#[derive(Clone, Copy, Debug)]
struct Reshard {
    from: u32,
    to: u32,
    started: SimTime,
}

/// Counters that mirror Prometheus metrics, with Prometheus's semantics.
#[derive(Clone, Debug, Default)]
struct Counters {
    samples_total: u64,
    samples_failed_total: u64,
    samples_retried_total: u64,
    samples_dropped_total: u64,
    samples_pending: u64,
    enqueue_retries_total: u64,
    bytes_total: u64,
    sent_batch_duration_ns: u128,
    sent_batch_count: u64,
    responses: Responses,
}

/// rwsim's own accounting: where every sample went, counted exactly once.
#[derive(Clone, Debug, Default)]
struct Ledger {
    delivered: u64,
    failed: u64,
    lost_truncation: u64,
    too_old: u64,
    reshard_shutdown: u64,
}

#[derive(Clone, Debug, Default)]
struct Stats {
    lag_max: f64,
    lag_final: f64,
    pending_max: u64,
    backlog_max: u64,
    memory_peak: u64,
    shards_min: u32,
    shards_max: u32,
    reshards: u32,
    reshards_skipped: u32,
    hard_shutdowns: u32,
    truncations: u64,
    segments_deleted: u64,
    watcher_restarts: u64,
    latency_max_ns: u64,
    conservation_ok: bool,
    conservation_first_violation: Option<String>,
    stall_start: Option<SimTime>,
    stall_last_unblock: Option<SimTime>,
    stall_blocked_since: Option<SimTime>,
    stall_blocked: SimDuration,
    behind_since: Option<SimTime>,
    behind_lag_max: f64,
}

struct Sim<'c, O: Observer> {
    cfg: &'c SimConfig,
    obs: &'c mut O,
    q: EventQueue<Ev>,
    now: SimTime,
    end: SimTime,
    events: u64,
    wl: Workload,
    wal: Wal,
    head: Head,
    rx: Receiver,
    watcher: Watcher,
    /// The watcher's next wake-up, if any.
    watcher_wake: Option<(SimTime, WatcherWake)>,
    /// WAL position the pending `Step` wake-up is for.
    watcher_pending_idx: Option<u64>,
    /// The earliest idle shard's flush timer (`NEVER` if none).
    timer_pending: SimTime,
    /// The receiver's next scheduled moment (a crash), `NEVER` if none.
    rx_wake: SimTime,
    /// Identity of the next batch a shard starts sending.
    next_batch: u64,
    shards: Vec<Shard>,
    gen_: u32,
    era_base: u64,
    n: u64,
    num_shards: u32,
    block_tree: MinTree,
    fill_tree: MinTree,
    timer_tree: MinTree,
    reshard: Option<Reshard>,
    msps: u64,
    slots: u64,
    /// Remote-write bytes per 1000 samples.
    wire_millibytes: u64,
    data_in: Ewma,
    data_in_seen: u64,
    data_out: Ewma,
    data_dropped: Ewma,
    data_out_duration: Ewma,
    highest_sent_ms: u64,
    last_send_unix: u64,
    reshard_disabled_until_unix: u64,
    shards_desired: f64,
    c: Counters,
    ledger: Ledger,
    latency: Histogram,
    stats: Stats,
    timeline: Vec<Notable>,
    timeline_omitted: u64,
    last_row_at: Option<SimTime>,
    /// `(now, watcher.visible(now))` of the last query: many handlers ask at the same instant.
    vis_cache: (SimTime, u64),
    /// Inside `watcher_step` / `on_timer`: those reschedule once at their end.
    in_watcher_step: bool,
    in_timer: bool,
}

impl<'c, O: Observer> Sim<'c, O> {
    fn new(cfg: &'c SimConfig, obs: &'c mut O) -> Self {
        let q = &cfg.remote_write.queue;
        let wl = Workload::new(&cfg.workload, cfg.seed);
        let mut sim = Sim {
            cfg,
            obs,
            q: EventQueue::new(),
            now: SimTime::ZERO,
            end: SimTime(cfg.duration.nanos()),
            events: 0,
            wal: Wal::new(cfg.tsdb.wal_segment_size, cfg.tsdb.wal_bytes_per_sample),
            head: Head::new(cfg.tsdb.min_block_duration.nanos() / NANOS_PER_MILLI),
            rx: Receiver::new(&cfg.receiver, cfg.seed, cfg.duration),
            watcher: Watcher::new(cfg.profile.read_trigger(), SimTime::ZERO, 0),
            watcher_wake: None,
            watcher_pending_idx: None,
            timer_pending: SimTime::NEVER,
            rx_wake: SimTime::NEVER,
            next_batch: 0,
            shards: Vec::new(),
            gen_: 0,
            era_base: 0,
            n: 1,
            num_shards: q.min_shards,
            block_tree: MinTree::new(1),
            fill_tree: MinTree::new(1),
            timer_tree: MinTree::new(1),
            reshard: None,
            msps: u64::from(q.max_samples_per_send),
            slots: q.slots(),
            wire_millibytes: (cfg.workload.wire_bytes_per_sample * 1000.0).round() as u64,
            data_in: Ewma::default(),
            data_in_seen: 0,
            data_out: Ewma::default(),
            data_dropped: Ewma::default(),
            data_out_duration: Ewma::default(),
            highest_sent_ms: 0,
            last_send_unix: 0,
            reshard_disabled_until_unix: 0,
            shards_desired: f64::from(q.min_shards),
            c: Counters::default(),
            ledger: Ledger::default(),
            latency: Histogram::default(),
            stats: Stats {
                shards_min: q.min_shards,
                shards_max: q.min_shards,
                conservation_ok: true,
                ..Stats::default()
            },
            timeline: Vec::new(),
            timeline_omitted: 0,
            last_row_at: None,
            vis_cache: (SimTime::NEVER, 0),
            in_watcher_step: false,
            in_timer: false,
            wl,
        };
        sim.start_shards(q.min_shards);
        let tick = SHARD_UPDATE_DURATION;
        sim.schedule(SimTime::ZERO + tick, Ev::DataInTick);
        sim.schedule(SimTime::ZERO + tick + cfg.sender.reshard_tick_offset, Ev::ReshardTick);
        sim.schedule(SimTime::ZERO, Ev::Output);
        let first = sim.wl.timestamp_of(0);
        if first != SimTime::NEVER {
            sim.head.min_ms = Some(cfg.clock.unix_millis(first));
            sim.schedule_compaction();
        }
        for (i, f) in cfg.receiver.faults.iter().enumerate() {
            sim.schedule(SimTime(f.start.nanos()), Ev::Fault { index: i as u32, start: true });
            sim.schedule(SimTime(f.end.nanos()), Ev::Fault { index: i as u32, start: false });
        }
        for (i, ch) in cfg.workload.changes.iter().enumerate() {
            sim.schedule(SimTime(ch.at.nanos()), Ev::WorkloadChange { index: i as u32 });
        }
        for (i, inc) in cfg.receiver.incidents.iter().enumerate() {
            sim.schedule(SimTime(inc.start.nanos()), Ev::Incident { index: i as u32, start: true });
            if let Some(end) = inc.end {
                sim.schedule(SimTime(end.nanos()), Ev::Incident { index: i as u32, start: false });
            }
        }
        sim.after_receiver();
        sim
    }

    fn schedule(&mut self, at: SimTime, ev: Ev) {
        if at <= self.end {
            self.q.push(at, ev);
        }
    }

    /// The event loop. Besides the heap, two single-slot wake-ups — the watcher's next
    /// moment of interest and the earliest shard flush timer — are compared with the heap's
    /// top; they change on almost every send, so keeping them out of the heap saves a push
    /// and a stale pop each time. At equal times the heap goes first, then the watcher, then
    /// the timer: a fixed order, as everywhere Go would pick at random.
    fn run(&mut self) -> Result<(), SimError> {
        loop {
            let heap_at = self.q.peek_time().unwrap_or(SimTime::NEVER);
            let watcher_at = self.watcher_wake.map_or(SimTime::NEVER, |(t, _)| t);
            let timer_at = self.timer_pending;
            let t = heap_at.min(watcher_at).min(timer_at);
            if t > self.end {
                return Ok(());
            }
            debug_assert!(t >= self.now, "time went backwards: {t:?} < {:?}", self.now);
            self.now = t;
            self.events += 1;
            if self.events > self.cfg.limits.max_events {
                return Err(SimError::EventBudget { limit: self.cfg.limits.max_events, at: t });
            }
            if heap_at == t {
                let (_, ev) = self.q.pop().expect("peeked");
                self.dispatch(ev);
            } else if watcher_at == t {
                match self.watcher_wake.take().expect("watcher wake-up").1 {
                    WatcherWake::Step => {
                        self.watcher_pending_idx = None;
                        self.watcher_step();
                    }
                    WatcherWake::Resume => self.resume_watcher(),
                }
            } else {
                self.timer_pending = SimTime::NEVER;
                self.on_timer();
            }
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::WatcherRestart => self.restart_watcher(),
            Ev::ReceiverTick => {
                if self.now == self.rx_wake {
                    self.rx_wake = SimTime::NEVER;
                    self.rx.on_time(self.now);
                    self.after_receiver();
                }
            }
            Ev::Incident { index, start } => self.on_incident_edge(index as usize, start),
            Ev::SendDone { gen_, shard, ver } => {
                if self.live(gen_, shard, ver) {
                    self.on_send_done(shard as usize);
                }
            }
            Ev::Retry { gen_, shard, ver } => {
                if self.live(gen_, shard, ver) {
                    self.on_retry(shard as usize);
                }
            }
            Ev::DataInTick => self.on_data_in_tick(),
            Ev::ReshardTick => self.on_reshard_tick(),
            Ev::FlushCheck { gen_ } => {
                if gen_ == self.gen_ {
                    self.on_flush_check();
                }
            }
            Ev::FlushDeadline { gen_ } => {
                if gen_ == self.gen_ && self.reshard.is_some() {
                    self.hard_shutdown();
                }
            }
            Ev::Compaction => self.on_compaction(),
            Ev::Output => self.on_output(),
            Ev::Fault { index, start } => self.on_fault_edge(index as usize, start),
            Ev::WorkloadChange { index } => self.on_workload_change(index as usize),
        }
    }

    fn live(&self, gen_: u32, shard: u32, ver: u32) -> bool {
        gen_ == self.gen_ && self.shards.get(shard as usize).is_some_and(|s| s.ver == ver)
    }

    fn note(&mut self, at: SimTime, kind: NotableKind, message: String) {
        self.note_with(at, kind, message, true);
    }

    fn note_with(&mut self, at: SimTime, kind: NotableKind, message: String, major: bool) {
        let n = Notable { at, kind, message, major };
        self.obs.on_event(&n);
        if self.timeline.len() < TIMELINE_CAP {
            self.timeline.push(n);
        } else {
            self.timeline_omitted += 1;
        }
    }

    fn abs_ms(&self, t: SimTime) -> u64 {
        self.cfg.clock.unix_millis(t)
    }

    // ---------------------------------------------------------------- shard set geometry

    /// Samples at WAL positions `[a, b)` that belong to shard `i` (`ref mod n`, modelled as
    /// round-robin over positions since the shard set started).
    fn owned(&self, i: u64, a: u64, b: u64) -> u64 {
        let f = |x: u64| {
            let base = self.era_base + i;
            if x <= base { 0 } else { (x - base).div_ceil(self.n) }
        };
        f(b) - f(a)
    }

    /// The first WAL position at or after `a` that belongs to shard `i`.
    fn first_owned(&self, i: u64, a: u64) -> u64 {
        let base = self.era_base + i;
        if a <= base { base } else { a + (i + self.n - (a - self.era_base) % self.n) % self.n }
    }

    fn materialize(&mut self, i: usize) {
        let w = self.watcher.pos;
        let mat = self.shards[i].mat;
        if mat < w {
            let count = self.owned(i as u64, mat, w);
            let s = &mut self.shards[i];
            s.q.push(Span { lo: mat, hi: w, count });
            s.mat = w;
        }
    }

    fn materialize_all(&mut self) {
        for i in 0..self.shards.len() {
            self.materialize(i);
        }
    }

    /// Moves every shard's enqueue point to `pos` without giving them `[old, pos)`: used when
    /// the watcher skips WAL it will never send.
    fn skip_watcher_to(&mut self, pos: u64) {
        self.materialize_all();
        self.watcher.pos = pos;
        for s in &mut self.shards {
            s.mat = s.mat.max(pos);
        }
        for i in 0..self.shards.len() {
            self.refresh(i);
        }
    }

    /// Recomputes shard `i`'s entries in the three trees after its queue or phase changed.
    fn refresh(&mut self, i: usize) {
        let s = &self.shards[i];
        let n = self.n;
        let first = self.first_owned(i as u64, s.mat);
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

    fn start_shards(&mut self, n: u32) {
        self.gen_ += 1;
        self.era_base = self.watcher.pos;
        self.n = u64::from(n);
        let timer_at = self.now + self.cfg.remote_write.queue.batch_send_deadline;
        self.shards = (0..n)
            .map(|_| Shard {
                q: ShardQueue::new(self.msps, self.slots),
                mat: self.watcher.pos,
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

    // ---------------------------------------------------------------- watcher

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
    fn advance(&mut self) {
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

    fn reschedule_watcher(&mut self) {
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

    fn watcher_step(&mut self) {
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

    fn schedule_resume(&mut self, backoff: EnqueueBackoff) {
        let (at, _) = backoff.first_retry_at_or_after(self.now);
        if let WatcherState::Blocked { resume_at, .. } = &mut self.watcher.state {
            *resume_at = Some(at);
        }
        self.watcher_wake = Some((at, WatcherWake::Resume));
    }

    fn resume_watcher(&mut self) {
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
            self.c.samples_dropped_total += n;
            self.skip_watcher_to(old);
        }
    }

    fn fail_watcher(&mut self) {
        let until = self.now + RESTART_DELAY;
        self.watcher.state = WatcherState::Failed { until };
        self.watcher_pending_idx = None;
        self.watcher_wake = None;
        self.schedule(until, Ev::WatcherRestart);
    }

    /// `Run` again after "error tailing WAL": start time = now, forward only samples newer than
    /// it. Everything the watcher had not read is gone.
    fn restart_watcher(&mut self) {
        let start_ms = self.abs_ms(self.now);
        let start = self.cfg.clock.from_unix_millis(start_ms);
        let resume_pos = self.wl.stamped_by(start).max(self.watcher.pos);
        let lost = resume_pos - self.watcher.pos;
        let behind = self.now.saturating_since(self.wl.timestamp_of(self.watcher.pos).min(self.now));
        self.ledger.lost_truncation += lost;
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

    fn stall_ended(&mut self) {
        if let Some(since) = self.stats.stall_blocked_since.take() {
            self.stats.stall_blocked = self.stats.stall_blocked + self.now.saturating_since(since);
        }
        self.stats.stall_last_unblock = Some(self.now);
    }

    /// Reports the stall episode that ended at `until` if the watcher was blocked long enough.
    fn close_stall(&mut self, until: SimTime) {
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

    // ---------------------------------------------------------------- shards and sends

    fn start_send(&mut self, i: usize, span: Span) {
        let q = &self.cfg.remote_write.queue;
        let s = &mut self.shards[i];
        s.phase = Phase::Sending;
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
    fn attempt(&mut self, i: usize) {
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
        // What the client sees: the receiver's answer time plus its own overhead.
        reply.after = SimDuration(reply.after.nanos().saturating_add(self.cfg.sender.request_overhead.nanos()));
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
        s.phase = Phase::Sending;
        let f = s.flight.as_mut().expect("batch");
        f.attempt_start = now;
        f.outcome = outcome;
        f.class = class;
        let ver = s.ver;
        self.schedule(now + after, Ev::SendDone { gen_, shard: i as u32, ver });
        self.after_receiver();
    }

    /// Applies what the receiver did besides answering: requests a crash reset (their shards
    /// learn at once), timeline notes, and its next scheduled moment.
    fn after_receiver(&mut self) {
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

    fn on_send_done(&mut self, i: usize) {
        self.advance();
        let now = self.now;
        let f = self.shards[i].flight.clone().expect("send done without a batch");
        self.c.sent_batch_duration_ns += u128::from(now.saturating_since(f.attempt_start).nanos());
        self.c.sent_batch_count += 1;
        let r = &mut self.c.responses;
        match f.class {
            Class::Ok => r.ok += 1,
            Class::Throttled => r.throttled += 1,
            Class::ClientError => r.client_error += 1,
            Class::ServerError => r.server_error += 1,
            Class::Timeout => r.timeout += 1,
            Class::Refused => r.refused += 1,
            Class::Reset => r.reset += 1,
        }
        let n = f.span.count;
        match f.outcome {
            Outcome::Success => {
                self.ledger.delivered += n;
                let newest = self.batch_newest(f.span);
                if let Some(newest) = newest {
                    self.record_latency(f.span, newest);
                }
                self.complete(i, newest);
            }
            Outcome::NonRecoverable => {
                self.ledger.failed += n;
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
                s.phase = Phase::Sleeping;
                let (gen_, ver) = (self.gen_, s.ver);
                self.schedule(now + sleep, Ev::Retry { gen_, shard: i as u32, ver });
            }
        }
    }

    fn on_retry(&mut self, i: usize) {
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
    fn complete(&mut self, i: usize, newest: Option<SimTime>) {
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
        let s = &mut self.shards[i];
        if self.reshard.is_some() && !s.flush_pending && s.q.queued() == 0 {
            s.phase = Phase::Exited;
            self.refresh(i);
            self.check_drained();
        } else {
            s.phase = Phase::Idle;
            self.refresh(i);
        }
    }

    fn on_timer(&mut self) {
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

    fn reschedule_timer(&mut self) {
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
        let parts = 4u64.min(span.count);
        let exact = hi - lo > NANOS_PER_SEC;
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

    // ---------------------------------------------------------------- resharding

    fn on_data_in_tick(&mut self) {
        self.schedule(self.now + SHARD_UPDATE_DURATION, Ev::DataInTick);
        let committed = self.wl.committed_by(self.now);
        self.data_in.incr(committed - self.data_in_seen);
        self.data_in_seen = committed;
        self.data_in.tick();
    }

    fn highest_recv_secs(&self) -> u64 {
        let committed = self.wl.committed_by(self.now);
        if committed == 0 { 0 } else { self.abs_ms(self.wl.timestamp_of(committed - 1)) / 1000 }
    }

    fn on_reshard_tick(&mut self) {
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
        let gen_ = self.gen_;
        if pending_flush {
            self.schedule(self.now + FLUSH_RETRY, Ev::FlushCheck { gen_ });
        }
        self.schedule(self.now + self.cfg.sender.flush_deadline, Ev::FlushDeadline { gen_ });
        self.check_drained();
    }

    fn on_flush_check(&mut self) {
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
            self.schedule(self.now + FLUSH_RETRY, Ev::FlushCheck { gen_: self.gen_ });
        }
        self.check_drained();
    }

    fn check_drained(&mut self) {
        if self.reshard.is_some() && self.shards.iter().all(|s| s.phase == Phase::Exited) {
            self.finish_reshard();
        }
    }

    /// The drain exceeded `flush_deadline`: cancel in-flight requests and discard the queues.
    fn hard_shutdown(&mut self) {
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
                lost += n;
                self.complete_cancelled(i);
            }
            self.shards[i].ver = self.shards[i].ver.wrapping_add(1);
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

    // ---------------------------------------------------------------- TSDB

    fn schedule_compaction(&mut self) {
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

    fn on_compaction(&mut self) {
        let committed = self.wl.committed_by(self.now);
        if committed > 0 {
            let max_ms = self.abs_ms(self.wl.timestamp_of(committed - 1));
            if let Some(c) = self.head.compact(max_ms)
                && c.truncates_wal
            {
                self.truncate_wal(committed, c.truncate_at_ms);
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

    // ---------------------------------------------------------------- timeline edges

    fn on_fault_edge(&mut self, index: usize, start: bool) {
        let f = &self.cfg.receiver.faults[index];
        let (kind, msg) = if start {
            let pct = f.probability * 100.0;
            let ra = f.retry_after.map(|r| format!(", Retry-After {r}")).unwrap_or_default();
            (
                NotableKind::FaultStarted,
                format!(
                    "receiver fault #{index}: {} on {pct:.0}% of requests{ra}, for {}",
                    f.response,
                    f.end.saturating_sub(f.start)
                ),
            )
        } else {
            (NotableKind::FaultEnded, format!("receiver fault #{index} ({}) ended", f.response))
        };
        self.note(self.now, kind, msg);
    }

    fn on_incident_edge(&mut self, index: usize, start: bool) {
        let inc = &self.cfg.receiver.incidents[index];
        let (kind, msg) = if start {
            (NotableKind::IncidentStarted, format!("incident #{index} started: {}", inc.kind))
        } else {
            (NotableKind::IncidentEnded, format!("incident #{index} ({}) ended", inc.kind.name()))
        };
        self.note(self.now, kind, msg);
    }

    fn on_workload_change(&mut self, index: usize) {
        let w = &self.cfg.workload;
        let prev = if index == 0 { w.series } else { w.changes[index - 1].series };
        let msg = format!("workload: {prev} → {} series", w.changes[index].series);
        self.note(self.now, NotableKind::WorkloadChanged, msg);
    }

    // ---------------------------------------------------------------- output

    /// Samples enqueued in shard `i` (including its not yet materialised share) and in flight.
    fn shard_holdings(&self, i: usize) -> (u64, u64) {
        let s = &self.shards[i];
        let lazy = if s.mat < self.watcher.pos { self.owned(i as u64, s.mat, self.watcher.pos) } else { 0 };
        (s.q.queued() + lazy, s.flight.as_ref().map_or(0, |f| f.span.count))
    }

    fn queue_memory_bytes(&self) -> u64 {
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
        if committed == 0 {
            return 0.0;
        }
        let newest = self.abs_ms(self.wl.timestamp_of(committed - 1));
        let sent = if self.highest_sent_ms > 0 { self.highest_sent_ms } else { self.abs_ms(self.wl.timestamp_of(0)) };
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
        let accounted =
            l.delivered + l.failed + (l.lost_truncation - ahead) + l.too_old + l.reshard_shutdown + held + unread;
        if accounted != committed && self.stats.conservation_ok {
            self.stats.conservation_ok = false;
            self.stats.conservation_first_violation = Some(format!(
                "at {}: appended {committed} != accounted {accounted} (delivered {}, failed {}, lost {}, too old {}, \
                 reshard {}, held {held}, unread {unread})",
                self.now, l.delivered, l.failed, l.lost_truncation, l.too_old, l.reshard_shutdown
            ));
        }
        debug_assert!(self.stats.conservation_ok, "{:?}", self.stats.conservation_first_violation);
        (unread, held)
    }

    fn on_output(&mut self) {
        let next = self.now + self.cfg.output_step;
        self.schedule(next, Ev::Output);
        self.emit_row();
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
        self.track_behind(lag);
        let st = &mut self.stats;
        st.lag_max = st.lag_max.max(lag);
        st.lag_final = lag;
        st.pending_max = st.pending_max.max(self.c.samples_pending);
        st.backlog_max = st.backlog_max.max(unread + held);
        st.memory_peak = st.memory_peak.max(memory);
        self.wal.roll_to(committed);
        let q = &self.cfg.remote_write.queue;
        let r = &self.c.responses;
        let row = MetricsRow {
            t_seconds: self.now.as_secs_f64(),
            samples_in_total: committed,
            samples_total: self.c.samples_total,
            samples_failed_total: self.c.samples_failed_total,
            samples_retried_total: self.c.samples_retried_total,
            samples_dropped_total: self.c.samples_dropped_total,
            samples_pending: self.c.samples_pending,
            enqueue_retries_total: enqueue_retries,
            shards: self.n as u32,
            shards_desired: self.shards_desired,
            shards_max: q.max_shards,
            shards_min: q.min_shards,
            shard_capacity: q.capacity,
            max_samples_per_send: q.max_samples_per_send,
            bytes_total: self.c.bytes_total,
            sent_batch_duration_seconds_sum: self.c.sent_batch_duration_ns as f64 / 1e9,
            sent_batch_duration_seconds_count: self.c.sent_batch_count,
            highest_timestamp_in_seconds: self.highest_recv_secs(),
            queue_highest_sent_timestamp_seconds: self.highest_sent_ms / 1000,
            lag_seconds: lag,
            delivered_total: self.ledger.delivered,
            lost_wal_truncation_total: self.ledger.lost_truncation - self.watcher.pos.saturating_sub(committed),
            lost_reshard_shutdown_total: self.ledger.reshard_shutdown,
            backlog_samples: unread + held,
            unsendable_samples: self.unsendable(committed),
            queue_memory_bytes: memory,
            tsdb_wal_segment_current: self.wal.current(),
            wal_watcher_current_segment: self
                .wal
                .segment_of(self.watcher.pos.min(committed))
                .unwrap_or(self.wal.range().0),
            watcher_blocked: u8::from(blocked),
            responses_2xx_total: r.ok,
            responses_429_total: r.throttled,
            responses_4xx_total: r.client_error,
            responses_5xx_total: r.server_error,
            responses_timeout_total: r.timeout,
            responses_refused_total: r.refused,
            duplicate_samples_total: self.rx.totals().duplicate_samples,
            responses_reset_total: r.reset,
            receiver_memory_bytes: rs.memory_bytes,
            receiver_inflight_requests: rs.inflight_requests,
            receiver_up: rs.up,
            receiver_crashes_total: u64::from(self.rx.totals().crashes),
        };
        self.obs.on_step(&row);
        self.last_row_at = Some(self.now);
    }

    fn track_behind(&mut self, lag: f64) {
        match self.stats.behind_since {
            None if lag > BEHIND_LAG_SECS => {
                self.stats.behind_since = Some(self.now);
                self.stats.behind_lag_max = lag;
                self.note(self.now, NotableKind::FellBehind, format!("remote write fell behind: lag {lag:.0}s"));
            }
            Some(since) => {
                self.stats.behind_lag_max = self.stats.behind_lag_max.max(lag);
                if lag < CAUGHT_UP_LAG_SECS {
                    let d = self.now.saturating_since(since);
                    let max = SimDuration::from_secs_f64(self.stats.behind_lag_max);
                    self.stats.behind_since = None;
                    self.note(self.now, NotableKind::CaughtUp, format!("caught up after {d} behind (max lag {max})"));
                }
            }
            None => {}
        }
    }

    /// Unread samples the watcher will skip when it restarts: everything after the end of a
    /// deleted segment it is still in, or all it has not read if it is already failing.
    fn unsendable(&self, committed: u64) -> u64 {
        match (self.watcher.state, self.watcher.doom_end) {
            (WatcherState::Failed { .. }, _) => committed.saturating_sub(self.watcher.pos),
            (_, Some(end)) => committed.saturating_sub(end),
            _ => 0,
        }
    }

    fn finish(mut self) -> RunResult {
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
        let (unread, held) = self.check_conservation(committed);
        let lost_truncation = self.ledger.lost_truncation - self.watcher.pos.saturating_sub(committed);
        let rx = self.rx.totals().clone();
        let incident_windows = self.rx.windows().to_vec();
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
                },
                pending_at_end: unread + held,
                unread_wal_at_end: unread,
                unsendable_at_end: self.unsendable(committed),
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
            },
            conservation_ok: st.conservation_ok,
            events_processed: self.events,
            incident_windows,
            timeline,
            timeline_omitted: self.timeline_omitted,
        }
    }
}
