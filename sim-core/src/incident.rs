//! The receiver incident catalog: what real receivers (Mimir, Cortex, Thanos Receive,
//! VictoriaMetrics, behind a proxy) do when they break.
//!
//! Time-windowed incidents are [`Rule`]s. The OOM crash loop is a state machine,
//! [`OomMachine`], because it reacts to load: the receiver's in-flight memory decides when it
//! dies, and its restarts follow Kubernetes' CrashLoopBackOff.

use crate::config::{Network, ObjectStorage, Oom, Reject, Response, Rollout};
use crate::fault::{Request, Rule, Sampler, Verdict, Window};
use crate::receiver::IncidentWindow;
use crate::rng::Rng;
use crate::time::{SimDuration, SimTime};

/// `network`: refused connections or a black hole inside a window.
pub struct NetworkRule {
    /// When the path is broken.
    pub span: Window,
    /// How it is broken.
    pub mode: Network,
}

impl Rule for NetworkRule {
    fn on_request(&mut self, _req: &Request, now: SimTime) -> Verdict {
        if !self.span.contains(now) {
            return Verdict::Pass;
        }
        match self.mode {
            Network::Refused => Verdict::Refuse,
            Network::Blackhole => Verdict::Hang,
        }
    }
}

/// `rollout`: ingester `i` is unready during `[start + i·interval, start + i·interval +
/// unready_for)`. A series is written to `RF` distinct ingesters and needs `RF/2 + 1` of them;
/// a request fails if any of its series misses the quorum — the series that made it are
/// stored anyway, so the sender's retry duplicates them.
pub struct RolloutRule {
    start: SimTime,
    end: SimTime,
    cfg: Rollout,
    rng: Rng,
}

impl RolloutRule {
    /// A rollout starting at `start`, ending at `end` at the latest.
    pub fn new(cfg: Rollout, start: SimTime, end: SimTime, rng: Rng) -> Self {
        RolloutRule { start, end, cfg, rng }
    }

    /// Ingesters unready at `now`.
    pub fn unready_at(&self, now: SimTime) -> u64 {
        if now < self.start || now >= self.end {
            return 0;
        }
        let since = now.nanos() - self.start.nanos();
        let iv = self.cfg.interval.nanos();
        let n = u64::from(self.cfg.ingesters);
        // i is unready iff i·iv ≤ since < i·iv + unready_for.
        let last = (since / iv).min(n - 1);
        let first = match since.checked_sub(self.cfg.unready_for.nanos()) {
            None => 0,
            Some(x) => x / iv + 1,
        };
        if first > last { 0 } else { last - first + 1 }
    }

    /// Probability that a series has fewer than a quorum of ready replicas with `k` of `n`
    /// ingesters unready: hypergeometric tail `P(X ≥ RF − quorum + 1)`.
    pub fn series_failure_probability(n: u64, k: u64, rf: u64) -> f64 {
        let quorum = rf / 2 + 1;
        let need_down = rf - quorum + 1;
        let ln_choose = |a: u64, b: u64| -> f64 {
            if b > a {
                return f64::NEG_INFINITY;
            }
            statrs::function::factorial::ln_binomial(a, b)
        };
        let total = ln_choose(n, rf);
        (need_down..=rf.min(k)).map(|x| (ln_choose(k, x) + ln_choose(n - k, rf - x) - total).exp()).sum()
    }
}

impl Rule for RolloutRule {
    fn on_request(&mut self, req: &Request, now: SimTime) -> Verdict {
        let k = self.unready_at(now);
        if k == 0 {
            return Verdict::Pass;
        }
        let p =
            Self::series_failure_probability(u64::from(self.cfg.ingesters), k, u64::from(self.cfg.replication_factor));
        if p <= 0.0 {
            return Verdict::Pass;
        }
        // Every sample of a batch is a different series.
        let p_request = 1.0 - (1.0 - p).powf(req.samples as f64);
        if !self.rng.chance(p_request) {
            return Verdict::Pass;
        }
        Verdict::Respond { status: self.cfg.status, latency: None, retry_after: None, ingest: 1.0 - p }
    }
}

/// `reject`: a fraction of requests, or of samples, is invalid.
pub struct RejectRule {
    span: Window,
    cfg: Reject,
    rng: Rng,
    latency: Option<Sampler>,
}

impl RejectRule {
    /// Rejecting within `span`.
    pub fn new(cfg: Reject, span: Window, rng: Rng) -> Self {
        let latency = cfg.latency.as_ref().map(Sampler::new);
        RejectRule { span, cfg, rng, latency }
    }

    /// The rejection's answer time, if it has its own (drawn after the decision, so a
    /// scenario without one keeps its draws).
    fn latency(&mut self) -> Option<SimDuration> {
        self.latency.as_ref().map(|s| s.sample(&mut self.rng))
    }
}

impl Rule for RejectRule {
    fn on_request(&mut self, req: &Request, now: SimTime) -> Verdict {
        if !self.span.contains(now) {
            return Verdict::Pass;
        }
        let f = self.cfg.fraction;
        if self.cfg.per_sample {
            // Mimir and Cortex store the valid samples and answer 400 for the request if any
            // sample was invalid; Prometheus then counts the whole batch as failed.
            let p_request = 1.0 - (1.0 - f).powf(req.samples as f64);
            if self.rng.chance(p_request) {
                let latency = self.latency();
                return Verdict::Respond { status: self.cfg.status, latency, retry_after: None, ingest: 1.0 - f };
            }
            Verdict::Pass
        } else if self.rng.chance(f) {
            let latency = self.latency();
            Verdict::Respond { status: self.cfg.status, latency, retry_after: None, ingest: 0.0 }
        } else {
            Verdict::Pass
        }
    }
}

/// `object_storage`: from `start`, blocks cannot be uploaded and local disks fill with every
/// stored sample; once `disk_headroom` is used, writes fail until storage is back (`end`) and
/// the backlog is uploaded (`catch_up`).
pub struct ObjectStorageRule {
    outage: Window,
    cfg: ObjectStorage,
    used: f64,
    full_since: Option<SimTime>,
}

impl ObjectStorageRule {
    /// Storage unavailable during `outage`.
    pub fn new(cfg: ObjectStorage, outage: Window) -> Self {
        ObjectStorageRule { outage, cfg, used: 0.0, full_since: None }
    }

    /// When writes are accepted again (`end` + catch-up).
    pub fn recovered_at(&self) -> SimTime {
        self.outage.end.saturating_add(self.cfg.catch_up)
    }

    /// The moment the disks filled up, if they did.
    pub fn full_since(&self) -> Option<SimTime> {
        self.full_since
    }
}

impl Rule for ObjectStorageRule {
    fn on_request(&mut self, _req: &Request, now: SimTime) -> Verdict {
        match self.full_since {
            Some(_) if now < self.recovered_at() => Verdict::status(self.cfg.status),
            _ => Verdict::Pass,
        }
    }

    fn on_ingest(&mut self, samples: u64, now: SimTime) {
        if !self.outage.contains(now) || self.full_since.is_some() {
            return;
        }
        self.used += samples as f64 * self.cfg.disk_bytes_per_sample;
        if self.used >= self.cfg.disk_headroom as f64 {
            self.full_since = Some(now);
        }
    }
}

/// The receiver process under an `oom` incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    /// Serving.
    Up,
    /// Killed; Kubernetes waits, then the process starts. Clients get `while_down`.
    Down {
        /// When it listens again.
        until: SimTime,
    },
    /// Listening but replaying its WAL; answers `replay_status`.
    Replaying {
        /// When it is ready.
        until: SimTime,
    },
}

/// A crash: when, what killed it, and the schedule of its restart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crash {
    /// When it died.
    pub at: SimTime,
    /// Memory at the time, if a memory kill.
    pub memory: Option<u64>,
    /// CrashLoopBackOff delay before the restart.
    pub backoff: SimDuration,
    /// Listening again (replay starts).
    pub listening_at: SimTime,
    /// Ready again.
    pub ready_at: SimTime,
    /// Crashes so far, this one included.
    pub count: u32,
}

/// OOM kills and CrashLoopBackOff (kubelet: 10 s doubling to 5 min, reset after 10 min of
/// running).
pub struct OomMachine {
    cfg: Oom,
    span: Window,
    state: ProcessState,
    /// When the current container started (for the backoff reset).
    started: SimTime,
    next_delay: SimDuration,
    crashes: u32,
    forced_pending: Option<SimTime>,
}

impl OomMachine {
    /// Susceptible within `span`.
    pub fn new(cfg: Oom, span: Window) -> Self {
        let forced_pending = cfg.crash_at.map(|d| SimTime(d.nanos()));
        OomMachine {
            next_delay: cfg.backoff_initial,
            cfg,
            span,
            state: ProcessState::Up,
            started: SimTime::ZERO,
            crashes: 0,
            forced_pending,
        }
    }

    /// The process state at `now` (advancing through restart and replay).
    pub fn state(&mut self, now: SimTime) -> ProcessState {
        loop {
            match self.state {
                ProcessState::Down { until } if now >= until => {
                    self.state = ProcessState::Replaying { until: until + self.cfg.replay_time }
                }
                ProcessState::Replaying { until } if now >= until => self.state = ProcessState::Up,
                s => return s,
            }
        }
    }

    /// The answer while not serving.
    pub fn unavailable_answer(&self, state: ProcessState) -> Option<Verdict> {
        match state {
            ProcessState::Up => None,
            ProcessState::Down { .. } => Some(match self.cfg.while_down {
                Response::Status(s) => Verdict::status(s),
                Response::Timeout => Verdict::Hang,
                Response::Refused => Verdict::Refuse,
            }),
            ProcessState::Replaying { .. } => Some(Verdict::status(self.cfg.replay_status)),
        }
    }

    /// Whether memory `bytes` kills the process now.
    pub fn kills(&self, bytes: u64, now: SimTime) -> bool {
        self.span.contains(now) && self.cfg.memory_limit.is_some_and(|limit| bytes > limit)
    }

    /// The limit, for messages.
    pub fn memory_limit(&self) -> Option<u64> {
        self.cfg.memory_limit
    }

    /// A forced crash still to come.
    pub fn forced_crash_at(&self) -> Option<SimTime> {
        self.forced_pending
    }

    /// Kills the process at `now`.
    pub fn crash(&mut self, now: SimTime, memory: Option<u64>) -> Crash {
        if self.forced_pending.is_some_and(|t| t <= now) {
            self.forced_pending = None;
        }
        // kubelet resets the back-off once a container has run long enough.
        let delay = if self.crashes > 0 && now.saturating_since(self.started) >= self.cfg.backoff_reset {
            self.cfg.backoff_initial
        } else {
            self.next_delay
        };
        self.next_delay = delay.doubled_capped(self.cfg.backoff_max);
        self.crashes += 1;
        self.started = now + delay;
        let listening_at = now + delay + self.cfg.restart_time;
        self.state = ProcessState::Down { until: listening_at };
        Crash {
            at: now,
            memory,
            backoff: delay,
            listening_at,
            ready_at: listening_at + self.cfg.replay_time,
            count: self.crashes,
        }
    }

    /// A scheduled kill found the process already down: nothing happens.
    pub fn crash_skipped(&mut self, now: SimTime) {
        if self.forced_pending.is_some_and(|t| t <= now) {
            self.forced_pending = None;
        }
    }

    /// Crashes so far.
    pub fn crashes(&self) -> u32 {
        self.crashes
    }
}

/// Incident windows kept for the result, like the timeline's cap: a receiver (or a sender)
/// crash-looping for a year opens millions of `down`/`replay` windows (12.6 M took 4 GB of
/// memory and 1.7 GB of JSON), which no chart can show. The receiver and the sender each
/// keep their first [`WindowLog::CAP`] and count the rest (`incident_windows_omitted`).
#[derive(Clone, Debug, Default)]
pub struct WindowLog {
    kept: Vec<IncidentWindow>,
    omitted: u64,
}

impl WindowLog {
    /// Windows kept, the same cap as the timeline's notable moments.
    pub const CAP: usize = 10_000;

    /// Records `w`, or counts it once the cap is reached.
    pub fn push(&mut self, w: IncidentWindow) {
        if self.kept.len() < Self::CAP {
            self.kept.push(w);
        } else {
            self.omitted += 1;
        }
    }

    /// The windows kept, in the order they were recorded.
    pub fn kept(&self) -> &[IncidentWindow] {
        &self.kept
    }

    /// Windows beyond the cap.
    pub fn omitted(&self) -> u64 {
        self.omitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn rollout(ingesters: u32, interval_s: u64, unready_s: u64) -> RolloutRule {
        let cfg = Rollout {
            ingesters,
            replication_factor: 3,
            interval: SimDuration::from_secs(interval_s),
            unready_for: SimDuration::from_secs(unready_s),
            status: 500,
        };
        RolloutRule::new(cfg, SimTime(0), SimTime::NEVER, Rng::new(1, Stream::Incident(0)))
    }

    #[test]
    fn rollout_counts_overlapping_unready_ingesters() {
        let r = rollout(10, 60, 90);
        let at = |s: u64| r.unready_at(SimTime(s * 1_000_000_000));
        assert_eq!(at(0), 1);
        assert_eq!(at(59), 1);
        assert_eq!(at(60), 2, "ingester 0 is still unready when 1 restarts");
        assert_eq!(at(90), 1);
        assert_eq!(at(9 * 60 + 89), 1, "the last ingester");
        assert_eq!(at(9 * 60 + 90), 0);
        let quick = rollout(10, 60, 30);
        assert!((0..700).all(|s| quick.unready_at(SimTime(s * 1_000_000_000)) <= 1));
    }

    #[test]
    fn quorum_needs_two_of_three_replicas() {
        // One ingester down never breaks a quorum of 2 out of 3.
        assert_eq!(RolloutRule::series_failure_probability(10, 1, 3), 0.0);
        // Two down out of 10: the series whose 3 replicas include both: 8 of C(10,3)=120.
        let p = RolloutRule::series_failure_probability(10, 2, 3);
        assert!((p - 8.0 / 120.0).abs() < 1e-12, "{p}");
        assert!((RolloutRule::series_failure_probability(3, 3, 3) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn crash_loop_backoff_doubles_and_resets() {
        let secs = SimDuration::from_secs;
        let cfg = Oom {
            memory_limit: Some(100),
            crash_at: None,
            restart_time: secs(30),
            replay_time: secs(60),
            backoff_initial: secs(10),
            backoff_max: SimDuration::from_mins(5),
            backoff_reset: SimDuration::from_mins(10),
            while_down: Response::Refused,
            replay_status: 503,
        };
        let mut m = OomMachine::new(cfg, Window { start: SimTime(0), end: SimTime::NEVER });
        let mut t = SimTime(0);
        let mut delays = Vec::new();
        for _ in 0..7 {
            let c = m.crash(t, Some(200));
            delays.push(c.backoff.nanos() / 1_000_000_000);
            assert_eq!(m.state(c.listening_at), ProcessState::Replaying { until: c.ready_at });
            assert_eq!(m.state(c.ready_at), ProcessState::Up);
            t = c.ready_at;
        }
        assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300]);
        // Ten minutes of running resets the delay.
        let c = m.crash(t + SimDuration::from_mins(11), None);
        assert_eq!(c.backoff, secs(10));
        assert!(m.kills(101, t) && !m.kills(100, t));
    }
}
