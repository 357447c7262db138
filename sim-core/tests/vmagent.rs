//! vmagent as the sender: conservation under random faults and process events, the disk
//! cap dropping the oldest data, what a restart keeps and a kill loses, the retry schedule.

use proptest::prelude::*;
use sim_core::config::{FaultWindow, Latency, Response, SenderEvent, SenderEventKind, SenderMode, SimConfig};
use sim_core::gaps::LossReason;
use sim_core::metrics::MetricsRow;
use sim_core::observer::RowRecorder;
use sim_core::profile::Profile;
use sim_core::result::RunResult;
use sim_core::sender::vmagent::{VmVersion, VmagentConfig};
use sim_core::time::SimDuration;

fn secs(v: u64) -> SimDuration {
    SimDuration::from_secs(v)
}

/// 1000 series every 10 s from 10 targets (100 samples/s), 20 ms answers.
fn base(vm: VmagentConfig, minutes: u64) -> SimConfig {
    let mut c = SimConfig::baseline(Profile::V3);
    c.duration = SimDuration::from_mins(minutes);
    c.workload.series = 1000;
    c.workload.targets = 10;
    c.workload.report_series = false;
    c.workload.scrape_interval = secs(10);
    c.output_step = secs(1);
    c.sender.mode = SenderMode::Vmagent(vm);
    c
}

fn outage(c: &mut SimConfig, from: u64, to: u64, response: Response) {
    c.receiver.faults.push(FaultWindow {
        start: secs(from),
        end: secs(to),
        response,
        probability: 1.0,
        retry_after: None,
        latency: None,
    });
}

fn run(c: &SimConfig) -> (RunResult, Vec<MetricsRow>) {
    let mut rec = RowRecorder::default();
    let r = sim_core::simulate(c, &mut rec).expect("valid");
    assert!(r.conservation_ok, "{:?}", r.timeline.last());
    (r, rec.rows)
}

fn row_at(rows: &[MetricsRow], t: f64) -> &MetricsRow {
    rows.iter().find(|r| r.t_seconds >= t).expect("a row at or after t")
}

fn gap_samples(r: &RunResult, reason: LossReason) -> u64 {
    r.gaps.list.iter().filter(|g| g.reason == reason).map(|g| g.samples).sum()
}

/// D.3 vector 1 in the model: one worker, 503 from 60 s to 160 s. 1.79 retries after 2, 4,
/// 8, 16, 32 and 60 s: attempts at 62, 66, 74, 90, 122 fail, the one at 182 s succeeds.
#[test]
fn v179_retries_follow_two_seconds_doubling_without_jitter() {
    let vm = VmagentConfig { version: VmVersion::V1_79, queues: Some(1), ..VmagentConfig::default() };
    let mut c = base(vm, 5);
    outage(&mut c, 60, 160, Response::Status(503));
    let (r, rows) = run(&c);
    let ok_before = row_at(&rows, 60.5).responses_2xx_total;
    assert_eq!(row_at(&rows, 181.0).responses_2xx_total, ok_before, "no success before the 60s sleep ends");
    assert!(row_at(&rows, 183.0).responses_2xx_total > ok_before, "the attempt at 182s succeeds");
    assert_eq!(row_at(&rows, 181.0).vmagent_remotewrite_retries_count_total, 5);
    assert_eq!(r.vmagent.as_ref().unwrap().retries, 6);
    assert_eq!(row_at(&rows, 181.0).responses_5xx_total, 6, "the first attempt and five retries");
    assert_eq!(r.samples.failed + r.samples.dropped.total(), 0, "5xx is retried forever");
}

/// 400 drops the block (`packets_dropped_total`), 415 only in current releases.
#[test]
fn a_400_drops_blocks_and_415_depends_on_the_version() {
    for (version, status, drops) in
        [(VmVersion::V1_79, 400, true), (VmVersion::Current, 415, true), (VmVersion::V1_79, 415, false)]
    {
        let mut c = base(VmagentConfig { version, ..VmagentConfig::default() }, 10);
        outage(&mut c, 60, 120, Response::Status(status));
        let (r, _) = run(&c);
        let v = r.vmagent.as_ref().unwrap();
        assert_eq!(v.packets_dropped > 0, drops, "{version:?} {status}");
        assert_eq!(r.samples.failed > 0, drops);
        assert_eq!(gap_samples(&r, LossReason::Failed), r.samples.failed);
    }
}

/// The disk cap drops the oldest blocks: the lost samples are the first of the outage, the
/// newest are kept and delivered after it, and vmagent's counters count the blocks.
#[test]
fn the_disk_cap_drops_the_oldest_timestamps() {
    let vm = VmagentConfig {
        version: VmVersion::V1_79,
        max_disk_usage_per_url: 200_000,
        max_rows_per_block: 100,
        ..VmagentConfig::default()
    };
    let mut c = base(vm, 60);
    outage(&mut c, 600, 2400, Response::Status(503));
    let (r, rows) = run(&c);
    let v = r.vmagent.as_ref().unwrap();
    assert!(r.samples.dropped.disk_full > 0);
    assert!(v.disk_blocks_dropped > 0 && v.disk_bytes_dropped > 0);
    assert_eq!(v.disk_blocks_dropped_uncounted, 0);
    let gaps: Vec<_> = r.gaps.list.iter().filter(|g| g.reason == LossReason::DiskFull).collect();
    assert_eq!(gaps.len(), 1, "one contiguous gap: {gaps:?}");
    let g = gaps[0];
    assert!((600.0..620.0).contains(&g.from_seconds), "starts with the outage: {g:?}");
    assert!(g.to_seconds < 2400.0 - 60.0, "the newest data before the outage's end is kept: {g:?}");
    assert_eq!(g.samples, r.samples.dropped.disk_full);
    assert!(row_at(&rows, 2300.0).vm_persistentqueue_bytes_pending <= 200_000, "the cap holds");
    assert_eq!(r.samples.pending_at_end + r.samples.delivered + r.samples.dropped.disk_full, r.samples.appended);
}

/// D.3 vector 9 and the restart rule: a SIGTERM restart mid-outage keeps every queued
/// block (memory goes to disk at exit); only the downtime is never scraped. A kill instead
/// loses what was not yet on disk: with the remote down for longer than 5 s, that is at most
/// about a second of data plus the buffers and blocks in flight.
#[test]
fn a_restart_keeps_the_disk_queue_and_a_kill_loses_only_the_memory_part() {
    let vm = VmagentConfig { version: VmVersion::V1_79, queues: Some(2), ..VmagentConfig::default() };
    let mut c = base(vm, 60);
    c.workload.targets = 100; // 100 samples in every second, not bursts of 100 every few seconds
    outage(&mut c, 600, 1800, Response::Status(503));
    c.sender
        .events
        .push(SenderEvent { at: secs(1200), kind: SenderEventKind::Restart { down_for: secs(30), replay_time: None } });
    let (r, rows) = run(&c);
    assert_eq!(r.samples.dropped.total() + r.samples.failed, 0, "nothing queued is lost");
    assert!(r.samples.not_scraped > 0 && r.samples.not_scraped <= 31 * 100, "{}", r.samples.not_scraped);
    assert!(
        row_at(&rows, 1240.0).vm_persistentqueue_bytes_pending
            >= row_at(&rows, 1199.0).vm_persistentqueue_bytes_pending
    );
    assert_eq!(r.samples.delivered + r.samples.pending_at_end, r.samples.appended);

    let mut k = c.clone();
    k.sender.events[0].kind = SenderEventKind::Crash { down_for: secs(30), replay_time: None };
    let (rk, _) = run(&k);
    let lost = rk.samples.dropped.sender_crash;
    assert!(lost > 0, "a kill loses the buffers and the unsynced tail");
    // ≤ 2 s of scrapes (the buffer and the file data since the last sync: the kill comes
    // before the flush tick of its second), 2 in-flight blocks of half a second each.
    assert!(lost <= 3 * 100 + 20, "only the in-memory part: {lost}");
    assert_eq!(gap_samples(&rk, LossReason::SenderCrash), lost);

    // Killed within 5 s of the last in-memory read: the in-memory blocks go with it.
    let mut early = k.clone();
    early.sender.events[0].at = secs(603);
    let (re, _) = run(&early);
    assert!(re.samples.dropped.sender_crash >= 2 * 100, "{}", re.samples.dropped.sender_crash);
}

/// The rate limiter delays blocks but loses nothing; it counts its waits.
#[test]
fn the_rate_limit_slows_the_catch_up() {
    let mk = |limit| {
        let vm = VmagentConfig { rate_limit: limit, ..VmagentConfig::default() };
        let mut c = base(vm, 60);
        c.workload.wire_bytes_per_sample = 10.0;
        outage(&mut c, 300, 900, Response::Status(503));
        c
    };
    let (_, free_rows) = run(&mk(0));
    let (slow, slow_rows) = run(&mk(2_000));
    assert!(slow.vmagent.as_ref().unwrap().rate_limit_reached > 0);
    // 1000 bytes/s of new data and 2000 allowed: the 600 s backlog takes about 600 s more.
    let (a, b) = (row_at(&free_rows, 1200.0).lag_seconds, row_at(&slow_rows, 1200.0).lag_seconds);
    assert!(a < 10.0 && b > 100.0, "lag 300 s after the outage: {a} without a limit, {b} with");
    assert_eq!(slow.samples.dropped.total() + slow.samples.failed, 0);
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        Just(Response::Status(400)),
        Just(Response::Status(409)),
        Just(Response::Status(415)),
        Just(Response::Status(429)),
        Just(Response::Status(503)),
        Just(Response::Timeout),
        Just(Response::Refused),
    ]
}

prop_compose! {
    fn scenario()(
        minutes in 5u64..90,
        version in prop_oneof![Just(VmVersion::V1_79), Just(VmVersion::Current)],
        queues in 1u32..6,
        cap in prop_oneof![Just(0u64), 1_000u64..400_000],
        rows in 10u64..2000,
        rate in prop_oneof![Just(0u64), 500u64..20_000],
        allowed in prop_oneof![Just(0u64), 1u64..3_000_000],
        series in 10u64..3000,
        interval in 1u64..30,
        faults in proptest::collection::vec((0u64..5400, 1u64..3000, response(), prop_oneof![Just(1.0), 0.1f64..1.0]), 0..4),
        events in proptest::collection::vec((0u64..5400, 0u8..3, 0u64..120), 0..4),
        median in 1u64..2000,
    ) -> SimConfig {
        let vm = VmagentConfig {
            version,
            queues: Some(queues),
            max_disk_usage_per_url: cap,
            max_rows_per_block: rows,
            rate_limit: rate,
            memory_allowed_bytes: allowed,
            send_timeout: secs(5),
            ..VmagentConfig::default()
        };
        let mut c = base(vm, minutes);
        let d = minutes * 60;
        c.workload.series = series;
        c.workload.scrape_interval = secs(interval);
        c.workload.scrape_duration = Latency::LogNormal { median: SimDuration::from_millis(50), p99: SimDuration::from_millis(900) };
        c.receiver.latency = Latency::LogNormal { median: SimDuration::from_millis(median), p99: SimDuration::from_millis(median * 5) };
        for (start, len, response, probability) in faults {
            let start = start % d;
            c.receiver.faults.push(FaultWindow {
                start: secs(start), end: secs((start + len).min(d)), response, probability, retry_after: Some(secs(5)), latency: None,
            });
        }
        let mut evs: Vec<SenderEvent> = events.into_iter().map(|(at, kind, down)| SenderEvent {
            at: secs(at % d),
            kind: match kind {
                0 => SenderEventKind::Restart { down_for: secs(down), replay_time: None },
                1 => SenderEventKind::Crash { down_for: secs(down), replay_time: None },
                _ => SenderEventKind::Reload { change: sim_core::config::ReloadChange::RemoteWrite },
            },
        }).collect();
        evs.sort_by_key(|e| e.at);
        c.sender.events = evs;
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// As for Prometheus: without the latency histogram only the latency figures differ.
    #[test]
    fn the_latency_histogram_changes_nothing_else(c in scenario()) {
        prop_assume!(c.validate().is_ok());
        let a = sim_core::simulate(&c, &mut ()).expect("valid scenarios run");
        let mut quiet = c.clone();
        quiet.limits.delivery_latency = false;
        let mut b = sim_core::simulate(&quiet, &mut ()).expect("valid scenarios run");
        prop_assert_eq!(b.delivery_latency_seconds.max, 0.0);
        b.delivery_latency_seconds = a.delivery_latency_seconds.clone();
        prop_assert_eq!(format!("{b:?}"), format!("{a:?}"));
    }

    /// Every committed sample is in exactly one bucket at every step (checked by the model
    /// at each row), the totals add up at the end, and the gaps are the same losses.
    #[test]
    fn every_sample_is_accounted_for_with_random_faults(c in scenario()) {
        prop_assume!(c.validate().is_ok());
        let mut rec = RowRecorder::default();
        let r = sim_core::simulate(&c, &mut rec).expect("valid scenarios run");
        prop_assert!(r.conservation_ok, "{:?}", r.timeline.last());
        let s = &r.samples;
        let d = &s.dropped;
        prop_assert_eq!(s.appended, s.delivered + s.failed + d.total() + s.pending_at_end);
        prop_assert_eq!(d.wal_truncation + d.too_old + d.reshard_shutdown + d.restart_skip, 0);
        let g = &r.gaps;
        prop_assert_eq!(g.samples, s.failed + d.disk_full + d.sender_crash + s.unsendable_at_end + s.not_scraped);
        for (reason, n) in [
            (LossReason::Failed, s.failed),
            (LossReason::DiskFull, d.disk_full),
            (LossReason::SenderCrash, d.sender_crash),
            (LossReason::NotScraped, s.not_scraped),
            (LossReason::UnsendableAtEnd, s.unsendable_at_end),
        ] {
            prop_assert_eq!(g.list.iter().filter(|x| x.reason == reason).map(|x| x.samples).sum::<u64>(), n, "{:?}", reason);
        }
        for w in rec.rows.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            prop_assert!(a.t_seconds < b.t_seconds);
            prop_assert!(a.delivered_total <= b.delivered_total);
            prop_assert!(a.lost_disk_full_total <= b.lost_disk_full_total);
            if r.sender.restarts + r.sender.crashes == 0 {
                // vmagent's own counters start again with each process.
                prop_assert!(a.vm_persistentqueue_blocks_dropped_total <= b.vm_persistentqueue_blocks_dropped_total);
            }
        }
        let cap = r.vmagent.as_ref().unwrap().disk_cap_bytes;
        if cap > 0 {
            prop_assert!(rec.rows.iter().all(|x| x.vm_persistentqueue_bytes_pending <= cap), "the cap holds");
        }
        // Deterministic: the same scenario gives the same result.
        let again = sim_core::simulate(&c, &mut ()).unwrap();
        prop_assert_eq!(again.samples.delivered, s.delivered);
        prop_assert_eq!(again.events_processed, r.events_processed);
    }
}
