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

mod feed;
mod lifecycle;
mod output;
mod reshard;
mod retention;
mod send;

use crate::backoff::SendBackoff;
use crate::config::{ConfigError, SimConfig};
use crate::divisor::Divisor;
use crate::edges::Edge;
use crate::event::EventQueue;
use crate::gaps::GapLog;
use crate::histogram::Histogram;
use crate::mintree::MinTree;
use crate::observer::{Notable, NotableKind, Observer};
use crate::receiver::Receiver;
use crate::resharder::{Ewma, SHARD_UPDATE_DURATION};
use crate::result::ResponseClass as Class;
use crate::result::{Responses, RunResult};
use crate::sender::Retention;
use crate::shard::{ShardQueue, Span};
use crate::time::{SimDuration, SimTime};
use crate::wal::Wal;
use crate::watcher::Watcher;
use crate::workload::Workload;
use std::fmt;

/// Notable moments kept in [`RunResult::timeline`].
const TIMELINE_CAP: usize = 10_000;

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
    if let crate::config::SenderMode::Vmagent(vm) = &cfg.sender.mode {
        return crate::sender::vmagent::simulate(cfg, vm, obs);
    }
    let mut sim = Sim::new(cfg, obs);
    sim.run()?;
    Ok(sim.finish())
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    WatcherRestart {
        qgen: u32,
    },
    ReceiverTick,
    SendDone {
        gen_: u32,
        shard: u32,
        ver: u32,
    },
    Retry {
        gen_: u32,
        shard: u32,
        ver: u32,
    },
    DataInTick {
        pgen: u32,
    },
    ReshardTick {
        qgen: u32,
    },
    FlushCheck {
        gen_: u32,
    },
    FlushDeadline {
        gen_: u32,
    },
    WalCheck {
        gen_: u32,
    },
    ProcessStart {
        pgen: u32,
    },
    ReplayDone {
        pgen: u32,
    },
    ScrapeResume {
        gen_: u32,
    },
    Output,
    /// A fault window, incident, sender event or workload change of the scenario.
    Edge(Edge),
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
    /// Positions of this shard below `mat` since the shard set started (`owned_before(mat)`):
    /// kept so that enqueueing and `first_owned` divide once, not three times.
    mat_owned: u64,
    phase: Phase,
    flight: Option<Flight>,
    ver: u32,
    timer_at: SimTime,
    flush_pending: bool,
}

#[derive(Clone, Copy, Debug)]
struct Reshard {
    from: u32,
    /// The new shard count; `None` when the queue is stopping (`QueueManager.Stop`).
    to: Option<u32>,
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
    /// Skipped by a watcher started at "now" (restart, crash, reload).
    restart_skip: u64,
    /// Never appended: the sender was not scraping.
    not_scraped: u64,
    /// Which skip moved the watcher last: positions it skipped that are not yet committed
    /// belong to it (see `check_conservation`).
    last_skip: SkipKind,
}

/// The two ways the watcher skips unread WAL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SkipKind {
    /// After truncation deleted its segment.
    #[default]
    Truncation,
    /// A new queue's watcher starting at "now".
    Restart,
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
    truncations_skipped: u64,
    segments_deleted: u64,
    watcher_restarts: u64,
    latency_max_ns: u64,
    conservation_ok: bool,
    conservation_first_violation: Option<String>,
    sender_memory_peak: u64,
    stall_start: Option<SimTime>,
    stall_last_unblock: Option<SimTime>,
    stall_blocked_since: Option<SimTime>,
    stall_blocked: SimDuration,
    /// The open lag episode of the timeline.
    behind: crate::lag::LagEpisode,
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
    retention: Retention,
    /// The sender process and its queue's lifecycle (§18).
    life: lifecycle::Life,
    /// Replay time given by the event that took the process down, if any.
    pending_replay: Option<SimDuration>,
    /// Generation of the one pending WAL check.
    wal_check_gen: u32,
    /// Go's random `select` at hard shutdowns (`reshard.rs: hard_shutdown`).
    select_rng: crate::rng::Rng,
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
    /// Shards with an HTTP attempt in flight (phase `Sending`): the concurrency of the
    /// sender's CPU model (`send.rs: client_time`).
    sending: u32,
    gen_: u32,
    era_base: u64,
    n: u64,
    /// `n` as a [`Divisor`]: positions are divided by it on every enqueue.
    n_div: Divisor,
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
    /// Run totals of the Prometheus counters (rows print them less `c_base`).
    c: Counters,
    /// `c` when the current queue started: Prometheus's queue counters start at 0 with it.
    c_base: Counters,
    ledger: Ledger,
    /// The ledger's losses as sample-timestamp ranges.
    gaps: GapLog,
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
            retention: Retention::new(cfg, None),
            life: lifecycle::Life::new(),
            pending_replay: None,
            wal_check_gen: 0,
            select_rng: crate::rng::Rng::new(cfg.seed, crate::rng::Stream::ShutdownSelect),
            rx: Receiver::new(&cfg.receiver, cfg.seed, cfg.duration),
            watcher: Watcher::new(cfg.profile.read_trigger(), SimTime::ZERO, 0),
            watcher_wake: None,
            watcher_pending_idx: None,
            timer_pending: SimTime::NEVER,
            rx_wake: SimTime::NEVER,
            next_batch: 0,
            shards: Vec::new(),
            sending: 0,
            gen_: 0,
            era_base: 0,
            n: 1,
            n_div: Divisor::new(1),
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
            c_base: Counters::default(),
            ledger: Ledger::default(),
            gaps: GapLog::new(cfg.workload.scrape_interval.nanos()),
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
        sim.schedule(SimTime::ZERO + tick, Ev::DataInTick { pgen: 0 });
        sim.schedule(SimTime::ZERO + tick + cfg.sender.reshard_tick_offset, Ev::ReshardTick { qgen: 0 });
        sim.schedule(SimTime::ZERO, Ev::Output);
        let first = sim.wl.timestamp_of(0);
        let first_ms = (first != SimTime::NEVER).then(|| cfg.clock.unix_millis(first));
        sim.retention = Retention::new(cfg, first_ms);
        sim.schedule_wal_check();
        for (at, edge) in Edge::all(cfg) {
            sim.schedule(at, Ev::Edge(edge));
        }
        sim.after_receiver();
        sim
    }

    fn schedule(&mut self, at: SimTime, ev: Ev) {
        if at <= self.end {
            self.q.push(at, ev);
        }
    }

    /// Schedules `ev` after every ordinary event due at the same instant: a timer that
    /// Prometheus arms just after another with the same period (see [`EventQueue::push_late`]).
    fn schedule_late(&mut self, at: SimTime, ev: Ev) {
        if at <= self.end {
            self.q.push_late(at, ev);
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
            Ev::WatcherRestart { qgen } => {
                if qgen == self.life.qgen && matches!(self.watcher.state, crate::watcher::WatcherState::Failed { .. }) {
                    self.restart_watcher();
                }
            }
            Ev::ReceiverTick => {
                if self.now == self.rx_wake {
                    self.rx_wake = SimTime::NEVER;
                    self.rx.on_time(self.now);
                    self.after_receiver();
                }
            }
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
            Ev::DataInTick { pgen } => {
                if pgen == self.life.pgen {
                    self.on_data_in_tick();
                }
            }
            Ev::ReshardTick { qgen } => {
                if qgen == self.life.qgen && self.life.stopping.is_none() {
                    self.on_reshard_tick();
                }
            }
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
            Ev::WalCheck { gen_ } => {
                if gen_ == self.wal_check_gen {
                    self.on_wal_check();
                }
            }
            Ev::ProcessStart { pgen } => {
                if pgen == self.life.pgen {
                    self.process_start();
                }
            }
            Ev::ScrapeResume { gen_ } => self.scrape_resumed(gen_),
            Ev::ReplayDone { pgen } => {
                if pgen == self.life.pgen && self.life.process == lifecycle::Process::Replaying {
                    self.replay_done();
                }
            }
            Ev::Output => self.on_output(),
            Ev::Edge(Edge::Sender { index }) => self.on_sender_event(index as usize),
            Ev::Edge(edge) => {
                if let Some((kind, msg)) = edge.note(self.cfg) {
                    self.note(self.now, kind, msg);
                }
            }
        }
    }

    /// Sets shard `i`'s phase, keeping the count of shards in flight.
    fn set_phase(&mut self, i: usize, phase: Phase) {
        let was = std::mem::replace(&mut self.shards[i].phase, phase);
        match (was == Phase::Sending, phase == Phase::Sending) {
            (false, true) => self.sending += 1,
            (true, false) => self.sending -= 1,
            _ => {}
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
}
