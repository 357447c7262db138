//! Prometheus agent mode and Grafana Alloy (docs/model.md §19): the truncation loop end to
//! end, the spec's test vectors (D.2) and the loss-vs-outage-length table (B.5).

use sim_core::config::{AgentWal, AlloyWal, FaultWindow, Latency, Response, SenderMode, SimConfig};
use sim_core::metrics::MetricsRow;
use sim_core::observer::{Notable, NotableKind, RowRecorder};
use sim_core::profile::Profile;
use sim_core::result::RunResult;
use sim_core::time::{SimDuration, SimTime};

fn mins(m: u64) -> SimDuration {
    SimDuration::from_mins(m)
}
fn hours(h: u64) -> SimDuration {
    SimDuration::from_hours(h)
}

/// The truncation period T_f of both senders' defaults.
const PERIOD_MINS: u64 = 120;

/// A sender writing `n` WAL segments of 128 MiB per 2 h truncation period: one from each
/// truncation's new segment and n − 1 from filling up. For n = 1 a segment would take more
/// than two days to fill, so even during Alloy's skipped ticks none fills up.
///
/// A segment fills in S = 31.5 min (n = 4) or 12.5 min (n = 10), a little more than 2 h / n,
/// so that exactly n segments start per period and no outage phase used below falls within
/// a minute of a roll-over. The queue is small next to the input (seconds of it), so the
/// WAL watcher stops within seconds of the outage start, as the spec's idealised watcher
/// frozen at t0.
fn sender(mode: SenderMode, n: u32) -> SimConfig {
    let mut c = SimConfig::baseline(Profile::V3);
    c.sender.mode = mode;
    c.remote_write.queue = sim_core::config::QueueConfig::defaults_for(Profile::V3, &c.sender.mode);
    c.receiver.latency = Latency::Fixed(SimDuration::from_millis(50));
    c.workload.report_series = false;
    c.workload.targets = 10;
    c.workload.scrape_interval = SimDuration::from_secs(15);
    c.tsdb.wal_bytes_per_sample = 100.0;
    let capacity = (128u64 << 20) / 100;
    let fill_tenths_of_min = match n {
        1 => 10 * 60 * 60, // 60 h
        4 => 315,
        10 => 125,
        _ => unreachable!("n is 1, 4 or 10"),
    };
    // Samples per minute = 4 × series (one sample per series every 15 s).
    c.workload.series = capacity * 10 / fill_tenths_of_min / 4;
    let q = &mut c.remote_write.queue;
    (q.capacity, q.max_samples_per_send) = if n == 1 { (50, 50) } else { (2000, 500) };
    c.output_step = mins(1);
    c
}

fn agent() -> SenderMode {
    SenderMode::Agent(AgentWal::default())
}
fn alloy() -> SenderMode {
    SenderMode::Alloy(AlloyWal::default())
}

fn outage(c: &mut SimConfig, start: SimDuration) {
    c.receiver.faults.push(FaultWindow {
        start,
        end: c.duration,
        response: Response::Status(503),
        probability: 1.0,
        retry_after: None,
        latency: None,
    });
}

fn run(c: &SimConfig) -> (RunResult, Vec<MetricsRow>) {
    let mut rec = RowRecorder::default();
    let r = sim_core::simulate(c, &mut rec).expect("scenario runs");
    assert!(r.conservation_ok, "conservation");
    (r, rec.rows)
}

/// The executed truncations: (time, first and last deleted segment if any), from the timeline.
fn truncations(r: &RunResult) -> Vec<(SimTime, Option<(u64, u64)>)> {
    let kinds = [NotableKind::WalTruncation, NotableKind::WalTruncationLoss];
    r.timeline
        .iter()
        .filter(|n| kinds.contains(&n.kind))
        .map(|n: &Notable| {
            let deleted = n.message.split("deleted segments ").nth(1).map(|rest| {
                let range = rest.split([' ', ';']).next().unwrap();
                let (a, b) = range.split_once('–').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            });
            (n.at, deleted)
        })
        .collect()
}

/// Outage start relative to the tick at 8 h (the 4th, which deletes segments: see
/// `fresh_agent_deletes_nothing_until_the_fourth_truncation`), in minutes after it.
const PHASES: [u64; 5] = [1, 30, 60, 90, 119];
const OUTAGE_AFTER_TICK: u64 = 4;

/// The lag at which an outage starting `phase` minutes after the 4th tick first loses data:
/// the first truncation that deletes a segment the watcher still needs, in hours after the
/// outage start.
fn first_loss_lag_hours(mode: SenderMode, n: u32, phase: u64) -> f64 {
    let mut c = sender(mode, n);
    let t0 = mins(OUTAGE_AFTER_TICK * PERIOD_MINS + phase);
    c.duration = t0 + hours(16);
    outage(&mut c, t0);
    let (r, _) = run(&c);
    let loss = r.timeline.iter().find(|n| n.kind == NotableKind::WalTruncationLoss).expect("a loss within 16 h");
    (loss.at.as_secs_f64() - t0.as_secs_f64()) / 3600.0
}

/// Spec B.5, the lag at the first loss in hours, per phase 1, 30, 60, 90, 119 minutes after
/// a truncation tick (derived there with a scratch re-implementation).
const B5: [(&str, u32, [f64; 5]); 6] = [
    ("agent", 1, [7.98, 7.5, 7.0, 6.5, 6.02]),
    ("alloy", 1, [11.98, 13.5, 13.0, 12.5, 12.02]),
    ("agent", 4, [3.98, 3.5, 3.0, 2.5, 2.02]),
    ("alloy", 4, [7.98, 9.5, 9.0, 8.5, 8.02]),
    ("agent", 10, [1.98, 1.5, 3.0, 2.5, 2.02]),
    ("alloy", 10, [1.98, 1.5, 9.0, 8.5, 8.02]),
];

/// B.5 reproduced by the model. Truncations take no time in the model and the outage starts
/// exactly at its phase, so the loss comes exactly at a tick: lag = k × 2 h − phase. The
/// table prints hours to two decimals (7 h 59 min is 7.98), hence the tolerance of 0.005 h.
#[test]
fn loss_versus_outage_length_matches_the_spec_table() {
    let mut mismatches = Vec::new();
    for (who, n, want) in B5 {
        let mode = if who == "agent" { agent() } else { alloy() };
        for (&phase, &w) in PHASES.iter().zip(&want) {
            let got = first_loss_lag_hours(mode.clone(), n, phase);
            if (got - w).abs() > 0.005 {
                mismatches.push(format!("{who} n={n} phase {phase} min: model {got:.3} h, spec {w} h"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// D.2 item 3: a fresh agent writing less than one segment per period. The first three
/// truncations delete nothing (segments 0..1, 0..2, 0..3); the 4th deletes 0–1; then every
/// second one deletes two segments, as a low-volume server (§14.6). Ticks count from the
/// process start, not from Unix time: a run starting at 00:17 ticks at 02:17, 04:17, ...
#[test]
fn fresh_agent_deletes_nothing_until_the_fourth_truncation() {
    for profile in [Profile::V2_42, Profile::V3] {
        let mut c = sender(agent(), 1);
        c.profile = profile;
        c.remote_write.queue = sim_core::config::QueueConfig::defaults(profile);
        (c.remote_write.queue.capacity, c.remote_write.queue.max_samples_per_send) = (50, 50);
        c.clock.start_unix_nanos += mins(17).nanos();
        c.duration = hours(17);
        let (r, rows) = run(&c);
        let got = truncations(&r);
        let at = |h: u64| SimTime::ZERO + hours(h);
        let want = [
            (at(2), None),
            (at(4), None),
            (at(6), None),
            (at(8), Some((0, 1))),
            (at(10), None),
            (at(12), Some((2, 3))),
            (at(14), None),
            (at(16), Some((4, 5))),
        ];
        assert_eq!(got, want, "{profile}");
        assert_eq!(r.samples.dropped.wal_truncation, 0);
        // One new segment per tick, none filled up.
        assert_eq!(rows.last().unwrap().tsdb_wal_segment_current, 8);
        assert_eq!(r.wal.truncations_skipped, 0, "only Alloy skips");
    }
}

/// D.2 item 4: the retention flags decide only what the checkpoint keeps, which remote write
/// never reads. Whatever they are, the same segments are deleted at the same moments and
/// the same data is lost; every row of the time series is identical.
#[test]
fn agent_retention_flags_change_no_deletion_and_no_loss() {
    let base = |wal: AgentWal| {
        let mut c = sender(SenderMode::Agent(wal), 10);
        c.duration = hours(12);
        // 3 hours of 503 from 04:30: lost at the 06:00 truncation (lag 90 min > 0.7 × 2 h).
        c.receiver.faults.push(FaultWindow {
            start: mins(270),
            end: mins(450),
            response: Response::Status(503),
            probability: 1.0,
            retry_after: None,
            latency: None,
        });
        run(&c)
    };
    let d = AgentWal::default();
    let (reference, ref_rows) = base(d);
    assert!(reference.samples.dropped.wal_truncation > 0, "the reference run loses data");
    for wal in [
        AgentWal { retention_max_time: hours(100), ..d },
        AgentWal { retention_min_time: hours(1), ..d },
        AgentWal { retention_min_time: hours(1), retention_max_time: hours(100), ..d },
    ] {
        let (r, rows) = base(wal);
        assert_eq!(truncations(&r), truncations(&reference), "{wal:?}");
        let (a, b) = (&r.samples, &reference.samples);
        assert_eq!(
            (a.delivered, a.dropped.wal_truncation, a.pending_at_end),
            (b.delivered, b.dropped.wal_truncation, b.pending_at_end),
            "{wal:?}"
        );
        assert_eq!(r.wal.segments_deleted, reference.wal.segments_deleted);
        assert!(rows == ref_rows, "{wal:?}: the time series differ");
    }
}

/// D.2 item 6 end to end: while the queue is stalled, Alloy's ticks are skipped with no new
/// segment (`tsdb_wal_segment_current` does not move), until `now − max_keepalive_time`
/// passes the frozen `lowest sent − min_keepalive_time`; the agent rolls a segment at every
/// tick.
#[test]
fn alloy_skips_ticks_while_the_sent_timestamp_is_frozen() {
    let t0 = mins(OUTAGE_AFTER_TICK * PERIOD_MINS + 30);
    let mut c = sender(alloy(), 1);
    c.duration = hours(20);
    outage(&mut c, t0);
    let (r, rows) = run(&c);
    let skipped: Vec<SimTime> =
        r.timeline.iter().filter(|n| n.kind == NotableKind::WalTruncationSkipped).map(|n| n.at).collect();
    // Ticks at 12, 14, 16 h are within 7h55m of the outage start (08:30); 18 h is not.
    let at = |h: u64| SimTime::ZERO + hours(h);
    assert_eq!(skipped, [at(12), at(14), at(16)]);
    assert_eq!(r.wal.truncations_skipped, 3);
    assert!(r.timeline.iter().all(|n| n.kind != NotableKind::WalTruncationSkipped || !n.major), "minor notes");
    let segment =
        |t: SimTime| rows.iter().find(|row| row.t_seconds >= t.as_secs_f64() + 1.0).unwrap().tsdb_wal_segment_current;
    assert_eq!(segment(at(10)), segment(at(16)), "no segment started by a skipped tick");
    assert_eq!(segment(at(18)), segment(at(16)) + 1, "the cap re-enabled truncation at 18 h");
    // The agent in the same situation starts a segment at every tick.
    let mut a = sender(agent(), 1);
    a.duration = hours(20);
    outage(&mut a, t0);
    let (ra, rows_a) = run(&a);
    assert_eq!(ra.wal.truncations_skipped, 0);
    let seg_a =
        |t: SimTime| rows_a.iter().find(|row| row.t_seconds >= t.as_secs_f64() + 1.0).unwrap().tsdb_wal_segment_current;
    assert_eq!(seg_a(at(16)), seg_a(at(10)) + 3);
}

/// The truncation timer starts again with every process (§19.6): after a crash at 03:10, down
/// 10 minutes with a 1-minute WAL replay, the agent's ticks fall 2 h after its new start, not
/// at 04:00 and 06:00 as before; Alloy's the same (its `lastTs` also starts empty, see
/// `sender::alloy` unit tests).
#[test]
fn a_restart_restarts_the_truncation_timer() {
    use sim_core::config::{SenderEvent, SenderEventKind};
    for mode in [agent(), alloy()] {
        let mut c = sender(mode.clone(), 4);
        c.duration = hours(10);
        c.sender.events.push(SenderEvent {
            at: mins(190),
            kind: SenderEventKind::Crash { down_for: mins(10), replay_time: Some(mins(1)) },
        });
        let (r, _) = run(&c);
        let started = r.timeline.iter().find(|n| n.kind == NotableKind::QueueStarted).expect("restarted").at;
        assert_eq!(started, SimTime::ZERO + mins(201), "{mode:?}");
        let ticks: Vec<SimTime> = truncations(&r).into_iter().map(|(at, _)| at).collect();
        let want = [hours(2), mins(201) + hours(2), mins(201) + hours(4), mins(201) + hours(6)];
        assert_eq!(ticks, want.map(|d| SimTime::ZERO + d), "{mode:?}");
    }
}
