//! The sender process's own life (§18): SIGTERM restarts, kills, configuration reloads and
//! OOM kills, and what each does to the remote-write queue.
//!
//! It follows Prometheus's shutdown and start-up order (`cmd/prometheus/main.go: main`):
//! on SIGTERM the scrape manager stops first, so nothing is appended from then on; then the
//! storage closes and `QueueManager.Stop` closes the watcher's quit channel (it enqueues
//! nothing more), waits for a reshard in flight, and stops the shards with the usual
//! flush bounded by `--storage.remote.flush-deadline`. A kill skips all of that. On start
//! `wlog.NewSize` opens a new segment, the head replays the WAL, then the configuration is
//! loaded and the queue starts: its watcher's start time is *now*, so every sample written
//! before it and not yet sent is skipped (prometheus#8809), and scraping resumes a few
//! seconds later at each target's phase. A reload recreates the queue when the
//! `remote_write` entry (secrets aside) or the external labels changed
//! (`storage/remote/write.go: WriteStorage.ApplyConfig`); from v2.49 a commit waits for the
//! reload, so scraping stalls while the old queue stops.
//!
//! Counted here: samples appended but skipped by the new watcher (`restart_skip`) and
//! samples never scraped while the process was down (`not_scraped`). Prometheus counts
//! neither.

use super::{Ev, Phase, Sim};
use crate::config::{ReloadChange, SenderEventKind, SenderOom};
use crate::gaps::LossReason;
use crate::incident::WindowLog;
use crate::observer::{NotableKind, Observer};
use crate::profile::Profile;
use crate::receiver::IncidentWindow;
use crate::resharder::{Ewma, SHARD_UPDATE_DURATION};
use crate::time::{SimDuration, SimTime};
use crate::wal::Wal;
use crate::watcher::WatcherState;

/// The sender process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Process {
    /// Scraping and sending.
    Running,
    /// SIGTERM received: scraping stopped, the queue is flushing; the process exits next.
    Stopping,
    /// No process.
    Down,
    /// Started: replaying the WAL; nothing is scraped or sent yet.
    Replaying,
}

/// What follows once the queue has stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum AfterStop {
    /// The process exits and starts again `down_for` later.
    Exit { down_for: SimDuration, replay_time: Option<SimDuration> },
    /// A reload: the new queue starts at once.
    Recreate,
}

/// The OOM limit and kubelet's CrashLoopBackOff state.
#[derive(Clone, Debug)]
pub(super) struct OomWatch {
    cfg: SenderOom,
    from: SimTime,
    until: SimTime,
    next_delay: SimDuration,
}

/// Lifecycle state of the run.
#[derive(Clone, Debug)]
pub(super) struct Life {
    pub(super) process: Process,
    /// A queue is running (or stopping).
    pub(super) queue_up: bool,
    /// The queue is stopping, and what comes next.
    pub(super) stopping: Option<AfterStop>,
    /// Process generation: stale process-wide timers (the dataIn tick) are ignored.
    pub(super) pgen: u32,
    /// Queue generation: stale per-queue timers (reshard tick, watcher restart) are ignored.
    pub(super) qgen: u32,
    /// WAL positions committed when the current process started (`samples_in_total` and
    /// `highest_timestamp_in_seconds` start again with every process).
    pub(super) committed_at_start: u64,
    /// When the current process (container) started (for the CrashLoopBackOff reset).
    pub(super) started_at: SimTime,
    /// Start of the scrape pause not yet booked as `not_scraped`.
    pub(super) paused_since: Option<SimTime>,
    /// When that pause is due to end, once known.
    pub(super) resume_at: Option<SimTime>,
    /// Generation of the pending `ScrapeResume`.
    pub(super) resume_gen: u32,
    pub(super) oom: Option<OomWatch>,
    pub(super) restarts: u32,
    pub(super) crashes: u32,
    pub(super) oom_kills: u32,
    pub(super) reloads: u32,
    pub(super) queue_starts: u32,
    pub(super) down: SimDuration,
    pub(super) down_since: Option<SimTime>,
    /// The first WAL position the current queue can send (its watcher's start).
    pub(super) queue_first_pos: u64,
    /// Stopping, down and replay windows, for shading charts (capped: a sender OOM loop
    /// opens two per kill).
    pub(super) windows: WindowLog,
    /// The window in progress: its kind, label and start.
    open_window: Option<(&'static str, &'static str, SimTime)>,
}

impl Life {
    pub(super) fn new() -> Self {
        Life {
            process: Process::Running,
            queue_up: true,
            stopping: None,
            pgen: 0,
            qgen: 0,
            committed_at_start: 0,
            started_at: SimTime::ZERO,
            paused_since: None,
            resume_at: None,
            resume_gen: 0,
            oom: None,
            restarts: 0,
            crashes: 0,
            oom_kills: 0,
            reloads: 0,
            queue_starts: 1,
            down: SimDuration::ZERO,
            down_since: None,
            queue_first_pos: 0,
            windows: WindowLog::default(),
            open_window: None,
        }
    }

    /// Closes the window in progress at `at` and opens `next` (kind, label), if any.
    fn window(&mut self, at: SimTime, next: Option<(&'static str, &'static str)>) {
        if let Some((kind, label, from)) = self.open_window.take()
            && at > from
        {
            self.windows.push(IncidentWindow {
                kind: kind.into(),
                label: label.into(),
                start_seconds: from.as_secs_f64(),
                end_seconds: at.as_secs_f64(),
            });
        }
        self.open_window = next.map(|(k, l)| (k, l, at));
    }

    /// The windows, the one in progress closed at `end`.
    pub(super) fn finish_windows(&mut self, end: SimTime) -> WindowLog {
        self.window(end, None);
        std::mem::take(&mut self.windows)
    }

    /// `sender_up` in the rows: 2 running, 1 starting or stopping, 0 down.
    pub(super) fn up_gauge(&self) -> u8 {
        match self.process {
            Process::Running => 2,
            Process::Stopping | Process::Replaying => 1,
            Process::Down => 0,
        }
    }
}

impl<O: Observer> Sim<'_, O> {
    pub(super) fn on_sender_event(&mut self, index: usize) {
        let e = &self.cfg.sender.events[index];
        match e.kind.clone() {
            SenderEventKind::Restart { down_for, replay_time } => {
                if self.life.process != Process::Running {
                    return self.note_ignored(index, "the process is not running");
                }
                self.life.restarts += 1;
                self.note(
                    self.now,
                    NotableKind::SenderStopping,
                    format!(
                        "SIGTERM: scraping stops; the remote-write queue flushes for at most {} (flush_deadline), then \
                         the process exits for {down_for}",
                        self.cfg.sender.flush_deadline
                    ),
                );
                self.life.process = Process::Stopping;
                self.life.window(self.now, Some(("sender_stopping", "sender SIGTERM flush")));
                self.pause_scraping();
                self.stop_queue(AfterStop::Exit { down_for, replay_time });
            }
            SenderEventKind::Crash { down_for, replay_time } => {
                if self.life.process == Process::Down {
                    return self.note_ignored(index, "the process is already down");
                }
                self.life.crashes += 1;
                self.kill("killed (kill -9): no flush", down_for, replay_time);
            }
            SenderEventKind::Reload { change } => {
                if self.life.process != Process::Running || self.life.stopping.is_some() {
                    return self.note_ignored(index, "the process is not running");
                }
                self.life.reloads += 1;
                self.reload(change);
            }
            SenderEventKind::Oom(o) => {
                let from = SimTime(e.at.nanos());
                let until = o.end.map_or(SimTime::NEVER, |d| SimTime(d.nanos()));
                let next_delay = o.backoff_initial;
                self.life.oom = Some(OomWatch { cfg: o, from, until, next_delay });
                self.check_memory();
            }
        }
    }

    fn note_ignored(&mut self, index: usize, why: &str) {
        let kind = self.cfg.sender.events[index].kind.name();
        self.note(self.now, NotableKind::SenderStopping, format!("sender event #{index} ({kind}) ignored: {why}"));
    }

    /// `WriteStorage.ApplyConfig`: a queue whose entry's hash changed, or every queue when the
    /// external labels changed, is stopped and a new one started.
    fn reload(&mut self, change: ReloadChange) {
        if !change.recreates_queue() {
            let what = match change {
                ReloadChange::Secret => "only a secret changed: the entry's hash is the same, the queue keeps running",
                _ => "only the scrape configuration changed: remote write is untouched",
            };
            self.note(self.now, NotableKind::SenderReload, format!("configuration reloaded; {what}"));
            return;
        }
        let what = match change {
            ReloadChange::ExternalLabels => "the external labels changed",
            _ => "the remote_write entry changed",
        };
        let stall = if self.blocks_commits_on_reload() {
            self.pause_scraping();
            "; commits wait for it, so scraping stalls until the old queue has stopped"
        } else {
            ""
        };
        self.note(
            self.now,
            NotableKind::SenderReload,
            format!(
                "configuration reloaded: {what}, so the queue is stopped (flushing for at most {}) and a new one \
                 started{stall}",
                self.cfg.sender.flush_deadline
            ),
        );
        self.stop_queue(AfterStop::Recreate);
    }

    /// From v2.49.0 `WriteStorage.Notify`, called after every commit, takes the lock that
    /// `ApplyConfig` holds while it stops queues.
    fn blocks_commits_on_reload(&self) -> bool {
        self.cfg.profile == Profile::V3
    }

    /// `QueueManager.Stop`: the watcher stops enqueueing; a reshard in flight finishes first;
    /// then the shards flush with the usual deadline (§10).
    fn stop_queue(&mut self, after: AfterStop) {
        self.life.stopping = Some(after);
        self.end_stall();
        self.advance();
        self.materialize_all();
        self.watcher.state = WatcherState::Stopped;
        self.watcher_wake = None;
        self.watcher_pending_idx = None;
        if self.reshard.is_none() {
            self.begin_reshard(self.num_shards, None);
        }
    }

    /// The queue's shards have all exited (drained, or hard shutdown).
    pub(super) fn queue_stopped(&mut self) {
        self.life.queue_up = false;
        self.life.qgen += 1;
        match self.life.stopping.take() {
            Some(AfterStop::Exit { down_for, replay_time }) => {
                self.note(self.now, NotableKind::SenderDown, format!("process exited; down for {down_for}"));
                self.go_down(down_for, replay_time);
            }
            Some(AfterStop::Recreate) => {
                self.resume_scraping(self.now);
                self.start_queue();
            }
            None => {}
        }
    }

    /// A kill: everything in memory is gone at once.
    fn kill(&mut self, what: &str, down_for: SimDuration, replay_time: Option<SimDuration>) {
        self.pause_scraping();
        let lost = if self.life.queue_up { self.drop_queue_contents() } else { 0 };
        let was = self.life.process;
        self.note(
            self.now,
            NotableKind::SenderDown,
            format!(
                "{what}{}; {lost} queued samples gone; down for {down_for}",
                if was == Process::Replaying { " during WAL replay" } else { "" }
            ),
        );
        self.life.stopping = None;
        self.go_down(down_for, replay_time);
    }

    /// A kill takes the shards with it: a request in flight that the receiver would store is
    /// stored (Prometheus never learns); everything else queued is lost with the process.
    fn drop_queue_contents(&mut self) -> u64 {
        self.advance();
        self.materialize_all();
        let mut lost = 0;
        for i in 0..self.shards.len() {
            if let Some(f) = self.shards[i].flight.take() {
                self.rx.batch_done(f.batch);
                let n = f.span.count;
                if self.shards[i].phase == Phase::Sending && matches!(f.outcome, super::Outcome::Success) {
                    self.ledger.delivered += n;
                } else {
                    self.ledger.restart_skip += n;
                    self.gaps.add_positions(&self.wl, LossReason::RestartSkip, f.span.lo, f.span.hi, n);
                    lost += n;
                }
            }
            let spans: Vec<_> = self.shards[i].q.spans().collect();
            for sp in spans {
                self.gaps.add_positions(&self.wl, LossReason::RestartSkip, sp.lo, sp.hi, sp.count);
            }
            let n = self.shards[i].q.clear();
            self.ledger.restart_skip += n;
            lost += n;
            self.set_phase(i, Phase::Exited);
        }
        self.reshard = None;
        self.gen_ = self.gen_.wrapping_add(1);
        self.life.queue_up = false;
        self.life.qgen += 1;
        self.end_stall();
        self.watcher.state = WatcherState::Stopped;
        self.watcher_wake = None;
        self.watcher_pending_idx = None;
        self.timer_pending = SimTime::NEVER;
        self.c.samples_pending = 0;
        lost
    }

    /// A stall of the old watcher ends with its queue (its failed enqueue attempts so far
    /// are counted).
    fn end_stall(&mut self) {
        if let WatcherState::Blocked { backoff, .. } = self.watcher.state {
            self.c.enqueue_retries_total += backoff.first_retry_at_or_after(self.now).1;
        }
        if self.watcher.is_blocked() {
            self.stall_ended();
        }
        if let Some(last) = self.stats.stall_last_unblock {
            self.close_stall(last);
        }
    }

    fn go_down(&mut self, down_for: SimDuration, replay_time: Option<SimDuration>) {
        self.life.process = Process::Down;
        self.life.window(self.now, Some(("sender_down", "sender down")));
        self.life.down_since = Some(self.now);
        self.pending_replay = replay_time;
        self.life.pgen += 1;
        let pgen = self.life.pgen;
        self.schedule(self.now + down_for, Ev::ProcessStart { pgen });
    }

    /// The process starts: a new WAL segment (`wlog.NewSize`), then the head replays the WAL.
    pub(super) fn process_start(&mut self) {
        if let Some(since) = self.life.down_since.take() {
            self.life.down = self.life.down + self.now.saturating_since(since);
        }
        let committed = self.wl.committed_by(self.now);
        self.life.committed_at_start = committed;
        self.life.started_at = self.now;
        self.data_in = Ewma::default();
        self.data_in_seen = committed;
        let pgen = self.life.pgen;
        self.schedule(self.now + SHARD_UPDATE_DURATION, Ev::DataInTick { pgen });
        let replay = if self.cfg.sender.wal_persisted {
            self.wal.roll_to(committed);
            self.wal.new_segment(committed);
            let bytes = self.wal_bytes_on_disk(committed);
            let t = self.pending_replay.take().unwrap_or_else(|| {
                SimDuration::from_secs_f64(bytes as f64 / self.cfg.sender.wal_replay_bytes_per_second)
            });
            self.note(
                self.now,
                NotableKind::SenderStarting,
                format!("process started: replaying {:.1} MiB of WAL for {t}", bytes as f64 / (1 << 20) as f64),
            );
            t
        } else {
            self.wal = Wal::starting_at(self.cfg.tsdb.wal_segment_size, self.cfg.tsdb.wal_bytes_per_sample, committed);
            self.pending_replay = None;
            self.note(
                self.now,
                NotableKind::SenderStarting,
                "process started with an empty data directory (wal_persisted = false): nothing to replay".into(),
            );
            SimDuration::ZERO
        };
        self.life.process = Process::Replaying;
        self.life.window(self.now, Some(("sender_replay", "sender WAL replay")));
        self.schedule(self.now + replay, Ev::ReplayDone { pgen });
        self.check_memory();
    }

    /// WAL bytes from the oldest segment on disk to the write head: what replay reads.
    fn wal_bytes_on_disk(&self, committed: u64) -> u64 {
        let first = self.wal.oldest().start;
        (committed.saturating_sub(first) as f64 * self.cfg.tsdb.wal_bytes_per_sample) as u64
    }

    /// Replay done: the configuration loads, the queue starts, scraping follows.
    pub(super) fn replay_done(&mut self) {
        self.life.process = Process::Running;
        self.life.window(self.now, None);
        let resume_at = self.now + self.cfg.sender.scrape_start_delay;
        self.resume_scraping(resume_at);
        if !self.cfg.sender.wal_persisted {
            // A new TSDB: the head starts at the first new sample.
            let committed = self.wl.committed_by(self.now);
            let first = self.wl.timestamp_of(committed);
            let first_ms = (first != SimTime::NEVER).then(|| self.cfg.clock.unix_millis(first));
            self.retention = crate::sender::Retention::new(self.cfg, first_ms);
        }
        self.retention.on_process_start(self.now);
        self.start_queue();
        self.schedule_wal_check();
    }

    /// Scraping stops now; a pause due to end later simply goes on.
    fn pause_scraping(&mut self) {
        self.advance();
        if self.life.resume_at.take().is_some() {
            // The pending resume is cancelled: the pause that began at `paused_since` goes on.
            self.life.resume_gen += 1;
            self.wl.pause(self.now);
        } else if self.life.paused_since.is_none() {
            self.wl.pause(self.now);
            self.life.paused_since = Some(self.now);
        }
        self.vis_cache = (SimTime::NEVER, 0);
    }

    /// Scraping resumes at `at` (each target at its first phase from then on).
    fn resume_scraping(&mut self, at: SimTime) {
        if self.life.paused_since.is_some() {
            self.wl.resume(at);
            self.vis_cache = (SimTime::NEVER, 0);
            self.life.resume_at = Some(at);
            self.life.resume_gen += 1;
            let gen_ = self.life.resume_gen;
            self.schedule(at, Ev::ScrapeResume { gen_ });
        }
    }

    /// The pause is over: what it missed is booked as never scraped.
    pub(super) fn scrape_resumed(&mut self, gen_: u32) {
        if gen_ != self.life.resume_gen {
            return;
        }
        let (Some(since), Some(at)) = (self.life.paused_since.take(), self.life.resume_at.take()) else { return };
        let missed = self.book_not_scraped(since, at);
        self.note(
            self.now,
            NotableKind::SenderStarting,
            format!("scraping resumed: {missed} samples from {since} on were never scraped"),
        );
    }

    /// Books what a pause over `[since, until)` never scraped, up to the end of the run.
    pub(super) fn book_not_scraped(&mut self, since: SimTime, until: SimTime) -> u64 {
        let until = until.min(SimTime(self.end.nanos().saturating_add(1)));
        let missed = self.wl.nominal_between(since, until);
        self.ledger.not_scraped += missed;
        self.gaps.add_range(LossReason::NotScraped, since, until, missed);
        missed
    }

    /// `QueueManager.Start`: `min_shards`, fresh rates and counters, and a watcher whose start
    /// time is now: every sample stamped before it that was not sent is skipped.
    fn start_queue(&mut self) {
        let q = &self.cfg.remote_write.queue;
        let start = self.cfg.clock.from_unix_millis(self.abs_ms(self.now));
        let resume_pos = self.wl.stamped_by(start).max(self.watcher.pos);
        let skipped = resume_pos - self.watcher.pos;
        if skipped > 0 {
            self.gaps.add_positions(&self.wl, LossReason::RestartSkip, self.watcher.pos, resume_pos, skipped);
        }
        let oldest = self.now.saturating_since(self.wl.timestamp_of(self.watcher.pos).min(self.now));
        self.ledger.restart_skip += skipped;
        self.ledger.last_skip = super::SkipKind::Restart;
        // What the old queue was behind by is skipped, not caught up.
        self.stats.behind.forget();
        self.watcher.pos = resume_pos;
        self.life.queue_first_pos = resume_pos;
        self.watcher.restart(self.now, resume_pos);
        self.vis_cache = (SimTime::NEVER, 0);
        self.life.queue_up = true;
        self.life.qgen += 1;
        self.life.queue_starts += 1;
        self.data_out = Ewma::default();
        self.data_dropped = Ewma::default();
        self.data_out_duration = Ewma::default();
        self.highest_sent_ms = 0;
        self.last_send_unix = 0;
        self.reshard_disabled_until_unix = 0;
        self.shards_desired = f64::from(q.min_shards);
        // The new queue registers its metrics afresh: its counters start at 0.
        self.c_base = self.c.clone();
        self.num_shards = q.min_shards;
        self.start_shards(q.min_shards);
        let qgen = self.life.qgen;
        self.schedule(self.now + SHARD_UPDATE_DURATION + self.cfg.sender.reshard_tick_offset, Ev::ReshardTick { qgen });
        let oldest = if skipped > 0 { format!(", the oldest {oldest} old") } else { String::new() };
        self.note(
            self.now,
            NotableKind::QueueStarted,
            format!(
                "remote-write queue started with {} shard{}; its watcher starts now and skips {skipped} unsent \
                 samples{oldest}, never to be sent",
                q.min_shards,
                if q.min_shards == 1 { "" } else { "s" }
            ),
        );
        self.watcher_step();
        self.check_memory();
    }

    /// The sender's memory now (§18, `oom`): the head's series, the queues and send buffers,
    /// and the replay transient while starting.
    pub(super) fn sender_memory_bytes(&self) -> u64 {
        let m = &self.cfg.sender.memory;
        let series = self.wl.series_at(self.now) as f64 * m.per_series;
        let queue = if self.life.queue_up { self.queue_memory_bytes() as f64 } else { 0.0 };
        let replay = if self.life.process == Process::Replaying { series * m.replay_factor } else { 0.0 };
        match self.life.process {
            Process::Down => 0,
            _ => (m.base as f64 + series + queue + replay) as u64,
        }
    }

    /// Kills the process if an `oom` limit applies and its memory passed it.
    pub(super) fn check_memory(&mut self) {
        let Some(w) = &self.life.oom else { return };
        if self.life.process == Process::Down || self.now < w.from || self.now >= w.until || self.now >= self.end {
            return;
        }
        let mem = self.sender_memory_bytes();
        let limit = w.cfg.memory_limit;
        if mem <= limit {
            return;
        }
        // kubelet: the delay doubles per crash, back to the start after running long enough.
        let w = self.life.oom.as_mut().expect("checked");
        let ran = self.now.saturating_since(self.life.started_at);
        if ran >= w.cfg.backoff_reset {
            w.next_delay = w.cfg.backoff_initial;
        }
        let delay = w.next_delay;
        w.next_delay = SimDuration(delay.nanos().saturating_mul(2)).min(w.cfg.backoff_max);
        self.life.oom_kills += 1;
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let what = format!("OOM-killed at {:.2} GiB (limit {:.2} GiB): no flush", gib(mem), gib(limit));
        self.kill(&what, delay, None);
    }
}
