//! The sender's own failures (§18): restarts, kills, reloads and OOM kills, checked against
//! the lifecycle test vectors derived from Prometheus's start-up and shutdown order.

use sim_core::config::{
    FaultWindow, Latency, ReloadChange, Response, SenderEvent, SenderEventKind, SenderOom, SimConfig,
};
use sim_core::gaps::LossReason;
use sim_core::metrics::MetricsRow;
use sim_core::observer::{Notable, NotableKind, RowRecorder};
use sim_core::profile::Profile;
use sim_core::result::RunResult;
use sim_core::time::{SimDuration, SimTime};

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}
fn mins(m: u64) -> SimDuration {
    SimDuration::from_mins(m)
}

/// One target of 2000 series scraped every second (2005 samples/s with the report series),
/// a 20 ms receiver: the fidelity harness's workload.
fn cfg(profile: Profile) -> SimConfig {
    let mut c = SimConfig::baseline(profile);
    c.duration = mins(30);
    c.output_step = secs(1);
    c.workload.series = 2000;
    c.workload.targets = 1;
    c.workload.scrape_interval = secs(1);
    c.receiver.latency = Latency::Fixed(SimDuration::from_millis(20));
    c
}

fn outage(c: &mut SimConfig, from: SimDuration, to: SimDuration) {
    c.receiver.faults.push(FaultWindow {
        start: from,
        end: to,
        response: Response::Status(503),
        probability: 1.0,
        retry_after: None,
        latency: None,
    });
}

fn run(c: &SimConfig) -> (RunResult, Vec<MetricsRow>) {
    let mut rec = RowRecorder::default();
    let r = sim_core::simulate(c, &mut rec).expect("scenario runs");
    assert!(r.conservation_ok, "conservation: {:?}", r.timeline.last());
    (r, rec.rows)
}

fn event(at: SimDuration, kind: SenderEventKind) -> SenderEvent {
    SenderEvent { at, kind }
}

fn first(r: &RunResult, kind: NotableKind) -> &Notable {
    r.timeline.iter().find(|n| n.kind == kind).unwrap_or_else(|| panic!("no {kind:?} in the timeline"))
}

fn gap_samples(r: &RunResult, reason: LossReason) -> u64 {
    r.gaps.list.iter().filter(|g| g.reason == reason).map(|g| g.samples).sum()
}

const RATE: f64 = 2005.0;

/// D.1 vector 5, healthy receiver: SIGTERM flushes the queue in well under a second and
/// nothing is failed or skipped; what is lost is the time the process is not scraping.
#[test]
fn sigterm_with_a_healthy_receiver_loses_only_the_time_not_scraped() {
    for profile in [Profile::V2_42, Profile::V3] {
        let mut c = cfg(profile);
        c.sender
            .events
            .push(event(mins(10), SenderEventKind::Restart { down_for: secs(20), replay_time: Some(secs(3)) }));
        let (r, rows) = run(&c);
        let s = &r.samples;
        assert_eq!((s.failed, s.dropped.reshard_shutdown, s.dropped.restart_skip), (0, 0, 0), "{profile}");
        let stopped = first(&r, NotableKind::SenderDown);
        assert!(
            stopped.at.saturating_since(SimTime(mins(10).nanos())) < secs(1),
            "{profile}: flush took until {}",
            stopped.at
        );
        // Down 20 s, replay 3 s, 5 s until the scrape manager starts, then the target's phase.
        let missed = s.not_scraped as f64 / RATE;
        assert!((28.0..=29.0).contains(&missed), "{profile}: {missed} s never scraped");
        assert_eq!(gap_samples(&r, LossReason::NotScraped), s.not_scraped);
        // Prometheus's counters start again with the new process.
        let after = rows.iter().find(|row| row.t_seconds > 650.0).unwrap();
        assert!(after.samples_in_total < (50.0 * RATE) as u64, "{profile}: samples_in_total restarted");
        assert_eq!(r.sender.queue_starts, 2);
    }
}

/// D.1 vector 5, receiver down: the stop waits flush_deadline, discards the queues (counted
/// by Prometheus as failed), and the new watcher skips the whole unsent backlog.
#[test]
fn sigterm_during_an_outage_skips_the_backlog() {
    let mut c = cfg(Profile::V2_42);
    outage(&mut c, mins(5), mins(20));
    c.sender.events.push(event(mins(10), SenderEventKind::Restart { down_for: secs(30), replay_time: Some(secs(2)) }));
    let (r, _) = run(&c);
    let down = first(&r, NotableKind::SenderDown);
    assert_eq!(down.at, SimTime(mins(11).nanos()), "the stop waits the full flush_deadline");
    assert!(r.shards.hard_shutdowns >= 1);
    assert_eq!(r.samples.dropped.reshard_shutdown, 3499, "one v2.42 shard's full queue");
    // Everything scraped from the outage's start to the SIGTERM that was not queued.
    let skipped = r.samples.dropped.restart_skip as f64 / RATE;
    assert!((290.0..300.0).contains(&skipped), "{skipped} s skipped");
    assert_eq!(gap_samples(&r, LossReason::RestartSkip), r.samples.dropped.restart_skip);
    // The new queue then rides out the rest of the outage from its own start.
    assert_eq!(r.samples.dropped.wal_truncation, 0);
    assert!(r.samples.pending_at_end < 10_000);
}

/// D.1 vector 6: kill -9 at t_k, restart after D, replay R_p: the new watcher starts at
/// t_k + D + R_p; nothing stamped between the last sent sample and that start reaches the
/// receiver; scraping resumes at least 5 s later.
#[test]
fn kill_skips_everything_unsent_and_scraping_resumes_after_replay() {
    let mut c = cfg(Profile::V3);
    outage(&mut c, mins(5), mins(15));
    let (k, d, rp) = (mins(10), secs(40), secs(25));
    c.sender.events.push(event(k, SenderEventKind::Crash { down_for: d, replay_time: Some(rp) }));
    let (r, _) = run(&c);
    let started = first(&r, NotableKind::QueueStarted);
    assert_eq!(started.at, SimTime((k + d + rp).nanos()));
    assert_eq!(r.samples.dropped.reshard_shutdown, 0, "a kill flushes nothing and counts nothing");
    assert_eq!(r.samples.failed, 0);
    let skip = r.gaps.list.iter().find(|g| g.reason == LossReason::RestartSkip).expect("a restart-skip gap");
    assert!(skip.from_seconds <= 301.0 && skip.to_seconds >= 599.0, "{skip:?}");
    let never = r.gaps.list.iter().find(|g| g.reason == LossReason::NotScraped).expect("a not-scraped gap");
    assert_eq!(never.from_seconds, k.as_secs_f64());
    assert!(never.to_seconds >= (k + d + rp + secs(5)).as_secs_f64(), "{never:?}");
    assert_eq!(r.sender.crashes, 1);
}

/// D.1 vector 4: a reload that recreates the queue while the receiver is down stops the old
/// queue for flush_deadline; the new watcher starts then, so nothing from the old position to
/// that start is ever sent. v3.x's commits wait for the reload: about a minute is not
/// scraped; v2.42 keeps scraping.
#[test]
fn reload_recreating_the_queue_during_an_outage() {
    for profile in [Profile::V2_42, Profile::V3] {
        let mut c = cfg(profile);
        outage(&mut c, mins(5), mins(20));
        c.sender.events.push(event(mins(10), SenderEventKind::Reload { change: ReloadChange::RemoteWrite }));
        let (r, _) = run(&c);
        let started = first(&r, NotableKind::QueueStarted);
        assert_eq!(started.at, SimTime(mins(11).nanos()), "{profile}: ApplyConfig returns after the 60 s flush");
        assert!(r.samples.dropped.restart_skip as f64 / RATE > 290.0, "{profile}");
        let missed = r.samples.not_scraped as f64 / RATE;
        match profile {
            Profile::V3 => assert!((59.0..=61.0).contains(&missed), "{profile}: {missed} s not scraped"),
            Profile::V2_42 => assert_eq!(r.samples.not_scraped, 0, "{profile}"),
        }
        assert_eq!((r.sender.reloads, r.sender.queue_starts), (1, 2));
    }
}

/// D.1 vector 2: a changed password leaves the entry's hash unchanged; a scrape-config change
/// does not touch remote write. Neither loses anything, even during an outage.
#[test]
fn reloads_that_keep_the_queue_lose_nothing() {
    let mut base = cfg(Profile::V3);
    outage(&mut base, mins(5), mins(8));
    let (quiet, _) = run(&base);
    for change in [ReloadChange::Secret, ReloadChange::ScrapeConfig] {
        let mut c = base.clone();
        c.sender.events.push(event(mins(6), SenderEventKind::Reload { change }));
        let (r, _) = run(&c);
        assert_eq!(r.samples.delivered, quiet.samples.delivered, "{change:?}");
        assert_eq!((r.samples.dropped.restart_skip, r.samples.not_scraped, r.sender.queue_starts), (0, 0, 1));
    }
}

/// D.1 vector 7: every start opens a new WAL segment, and the new watcher reads from the
/// newest. With an emptyDir data directory the WAL starts again from segment 0.
#[test]
fn each_start_opens_a_new_segment_unless_the_wal_is_gone() {
    let mut c = cfg(Profile::V2_42);
    c.sender.events.push(event(mins(10), SenderEventKind::Restart { down_for: secs(10), replay_time: None }));
    let (r, rows) = run(&c);
    let before = rows.iter().find(|row| row.t_seconds >= 590.0).unwrap();
    let after = rows.iter().find(|row| row.t_seconds >= 700.0).unwrap();
    assert_eq!(after.tsdb_wal_segment_current, before.tsdb_wal_segment_current + 1);
    assert_eq!(after.wal_watcher_current_segment, after.tsdb_wal_segment_current);
    assert_eq!(r.wal.segments_created, 2);

    c.sender.wal_persisted = false;
    let (_, rows) = run(&c);
    let after = rows.iter().find(|row| row.t_seconds >= 700.0).unwrap();
    assert_eq!(after.tsdb_wal_segment_current, 0, "a new WAL");
}

/// The replay time follows the WAL's size: twice the data, twice the replay.
#[test]
fn replay_time_grows_with_the_wal() {
    let replay = |minutes: u64| {
        let mut c = cfg(Profile::V3);
        c.duration = SimDuration::from_mins(minutes + 5);
        c.sender.wal_replay_bytes_per_second = 1_000_000.0;
        c.sender.events.push(event(mins(minutes), SenderEventKind::Restart { down_for: secs(1), replay_time: None }));
        let (r, _) = run(&c);
        let down = first(&r, NotableKind::SenderStarting).at;
        first(&r, NotableKind::QueueStarted).at.saturating_since(down).as_secs_f64()
    };
    let (a, b) = (replay(20), replay(40));
    assert!(a > 5.0 && (b / a - 2.0).abs() < 0.05, "{a} s vs {b} s");
}

/// The loop of issue #13: after an outage the queue upshards to catch up, the shards fill,
/// memory passes the limit and the process is killed; the restarted process skips the
/// backlog (so it does not need the shards any more) and stays up.
#[test]
fn catch_up_upshard_is_oom_killed_and_the_backlog_skipped() {
    let mut c = cfg(Profile::V2_42);
    c.workload.series = 20_000;
    c.workload.targets = 20;
    c.remote_write.queue.capacity = 100_000;
    c.remote_write.queue.max_samples_per_send = 2000;
    c.receiver.latency = Latency::Fixed(SimDuration::from_millis(200));
    outage(&mut c, mins(5), mins(15));
    // 20k series at 4 KiB is 80 MiB; the catch-up shards' queues add far more.
    c.sender.events.push(event(SimDuration::ZERO, SenderEventKind::Oom(SenderOom::with_limit(400 << 20))));
    let (r, _) = run(&c);
    assert_eq!(
        r.sender.oom_kills,
        1,
        "{:?}",
        r.timeline.iter().filter(|n| n.major).map(|n| &n.message).collect::<Vec<_>>()
    );
    let kill = first(&r, NotableKind::SenderDown);
    assert!(kill.at > SimTime(mins(15).nanos()), "killed during the catch-up, not the outage: {}", kill.at);
    assert!(r.shards.max > 20);
    assert!(r.samples.dropped.restart_skip > 0);
    assert!(r.sender.memory_peak_bytes > 400 << 20);
}

/// Start-up itself can exceed the limit: the WAL replay needs the series memory twice, so a
/// limit between one and two times it crash-loops with CrashLoopBackOff and never starts a
/// queue.
#[test]
fn replay_beyond_the_limit_crash_loops() {
    let mut c = cfg(Profile::V3);
    c.workload.series = 100_000;
    c.workload.targets = 10;
    c.duration = mins(60);
    // Series memory ~400 MiB steady, ~800 MiB while replaying.
    c.sender.events.push(event(mins(5), SenderEventKind::Crash { down_for: secs(10), replay_time: Some(secs(30)) }));
    c.sender.events.push(event(mins(5) + secs(1), SenderEventKind::Oom(SenderOom::with_limit(600 << 20))));
    let (r, _) = run(&c);
    assert_eq!(r.sender.queue_starts, 1, "never gets past the replay");
    // Killed as each start begins its replay; kubelet waits 10, 20, 40, 80, 160, then 300 s
    // between starts: starts at 5:10, 5:20, 5:40, 6:20, 7:40, 10:20, then every 5 minutes to
    // 55:20 — 15 kills in the hour.
    assert_eq!(r.sender.oom_kills, 15);
    let downs: Vec<_> = r.timeline.iter().filter(|n| n.kind == NotableKind::SenderDown).map(|n| n.at).collect();
    let gaps: Vec<u64> = downs.windows(2).map(|w| w[1].saturating_since(w[0]).nanos() / 1_000_000_000).collect();
    assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "backoff grows: {gaps:?}");
    assert!(r.samples.not_scraped as f64 > 50.0 * 60.0 * 100_010.0 / 15.0 * 0.9);
}
