//! Properties over random scenarios: every appended sample ends in exactly one bucket at every
//! step, the gaps add up to the lost samples, time never goes backwards, and Prometheus's
//! counters never decrease.
//!
//! The engine also `debug_assert!`s event-time monotonicity and per-step conservation, so
//! these cases exercise those checks on every event in debug builds.

use proptest::prelude::*;
use sim_core::config::{
    AgentWal, AlloyWal, FaultWindow, Incident, IncidentKind, Latency, Network, ObjectStorage, Oom, Proxy, QueueConfig,
    RateLimit, Reject, ReloadChange, Response, Rollout, SenderEvent, SenderEventKind, SenderMode, SenderOom, SimConfig,
    WorkloadChange,
};
use sim_core::gaps::LossReason;
use sim_core::observer::RowRecorder;
use sim_core::profile::Profile;
use sim_core::time::SimDuration;

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}

fn latency() -> impl Strategy<Value = Latency> {
    prop_oneof![
        (0u64..3000).prop_map(|v| Latency::Fixed(ms(v))),
        (1u64..500, 1u64..20).prop_map(|(m, k)| Latency::LogNormal { median: ms(m), p99: ms(m * k) }),
        (1u64..2000).prop_map(|m| Latency::Exponential { mean: ms(m) }),
        (0u64..500, 0u64..3000).prop_map(|(a, b)| Latency::Uniform { min: ms(a), max: ms(a + b) }),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        Just(Response::Status(200)),
        Just(Response::Status(400)),
        Just(Response::Status(413)),
        Just(Response::Status(429)),
        Just(Response::Status(500)),
        Just(Response::Status(503)),
        Just(Response::Timeout),
        Just(Response::Refused),
    ]
}

prop_compose! {
    fn fault(duration_ms: u64)(
        a in 0..duration_ms, b in 0..duration_ms, response in response(),
        probability in prop_oneof![Just(1.0), 0.0f64..1.0],
        retry_after in proptest::option::of(0u64..60_000), latency in proptest::option::of(latency()),
    ) -> FaultWindow {
        let (start, end) = (a.min(b), a.max(b) + 1);
        FaultWindow {
            start: ms(start), end: ms(end.min(duration_ms)), response, probability,
            retry_after: retry_after.map(ms), latency,
        }
    }
}

fn incident_kind() -> impl Strategy<Value = IncidentKind> {
    prop_oneof![
        (
            proptest::option::of(1u64..5_000_000),
            proptest::option::of(0u64..3_600_000),
            0u64..60_000,
            0u64..120_000,
            1u64..20_000
        )
            .prop_map(|(limit, at, restart, replay, backoff)| IncidentKind::Oom(Oom {
                memory_limit: Some(limit.unwrap_or(2_000_000) + 1_000_000),
                crash_at: at.map(ms),
                restart_time: ms(restart),
                replay_time: ms(replay),
                backoff_initial: ms(backoff),
                backoff_max: ms(backoff * 8),
                backoff_reset: ms(600_000),
                while_down: Response::Refused,
                replay_status: 503,
            })),
        (3u32..20, 1u64..300_000, 1u64..600_000).prop_map(|(n, iv, un)| IncidentKind::Rollout(Rollout {
            ingesters: n,
            replication_factor: 3,
            interval: ms(iv),
            unready_for: ms(un),
            status: 500,
        })),
        (proptest::option::of(1u64..60_000), proptest::option::of(100u64..200_000), any::<bool>()).prop_map(
            |(rt, body, as500)| IncidentKind::Proxy(Proxy {
                read_timeout: rt.map(ms).or(if body.is_none() { Some(ms(5000)) } else { None }),
                timeout_status: if as500 { 500 } else { 504 },
                max_body_bytes: body,
                body_too_large_status: if as500 { 500 } else { 413 },
            })
        ),
        (100.0f64..50_000.0, proptest::option::of(1u64..200)).prop_map(|(r, lat)| IncidentKind::Throttle(RateLimit {
            samples_per_second: r,
            burst: r as u64 + 1,
            retry_after: None,
            latency: lat.map(|l| Latency::Fixed(ms(l))),
        })),
        (0.0001f64..1.0, any::<bool>()).prop_map(|(f, per_sample)| IncidentKind::Reject(Reject {
            fraction: f,
            per_sample,
            status: 400,
            reason: "test".into(),
            latency: None
        })),
        (0u64..50_000_000, 0.5f64..5.0, 0u64..600_000).prop_map(|(h, b, c)| IncidentKind::ObjectStorage(
            ObjectStorage { disk_headroom: h, disk_bytes_per_sample: b, catch_up: ms(c), status: 500 }
        )),
        any::<bool>().prop_map(|r| IncidentKind::Network(if r { Network::Refused } else { Network::Blackhole })),
    ]
}

fn sender_event_kind() -> impl Strategy<Value = SenderEventKind> {
    prop_oneof![
        (0u64..120_000, proptest::option::of(0u64..60_000))
            .prop_map(|(d, r)| SenderEventKind::Restart { down_for: ms(d), replay_time: r.map(ms) }),
        (0u64..120_000, proptest::option::of(0u64..60_000))
            .prop_map(|(d, r)| SenderEventKind::Crash { down_for: ms(d), replay_time: r.map(ms) }),
        prop_oneof![
            Just(ReloadChange::RemoteWrite),
            Just(ReloadChange::Secret),
            Just(ReloadChange::ScrapeConfig),
            Just(ReloadChange::ExternalLabels)
        ]
        .prop_map(|change| SenderEventKind::Reload { change }),
        (1u64 << 20..1u64 << 31).prop_map(|l| SenderEventKind::Oom(SenderOom::with_limit(l))),
    ]
}

prop_compose! {
    fn incident(duration_ms: u64)(a in 0..duration_ms, b in 0..duration_ms, open in any::<bool>(), kind in incident_kind()) -> Incident {
        let (start, end) = (a.min(b), a.max(b) + 1);
        let mut kind = kind;
        if let IncidentKind::Oom(o) = &mut kind {
            // A scheduled crash must fall inside the incident.
            o.crash_at = o.crash_at.map(|_| ms(start));
        }
        Incident { start: ms(start), end: if open { None } else { Some(ms(end.min(duration_ms))) }, kind }
    }
}

prop_compose! {
    fn scenario()(duration_ms in 60_000u64..3 * 3_600_000, v3 in any::<bool>())(
        duration_ms in Just(duration_ms),
        profile in Just(if v3 { Profile::V3 } else { Profile::V2_42 }),
        seed in any::<u64>(),
        series in 0u64..60_000, targets in 1u32..300, interval_ms in 1000u64..60_000,
        scrape_ms in 0u64..500, scrape_spread_ms in prop_oneof![Just(0u64), 1u64..400], report in any::<bool>(),
        changes in proptest::collection::vec((1u64..1000, 0u64..100_000), 0..3),
        capacity in 1u32..20_000, msps in 100u32..3000, min_shards in 1u32..8, extra_shards in 0u32..30,
        deadline_ms in 100u64..10_000, min_backoff in 1u64..1000, backoff_factor in 1u64..200,
        retry_429 in any::<bool>(), age_limit in prop_oneof![Just(0u64), 60_000u64..3_600_000],
        timeout_ms in 100u64..60_000, flush_ms in 0u64..120_000,
        block_ms in 60_000u64..7_200_000, seg_mib in 10u64..256, bps in 1.0f64..20.0,
        latency in latency(), concurrency in proptest::option::of(1u32..64),
        rate in proptest::option::of(100.0f64..100_000.0),
        faults in proptest::collection::vec(fault(duration_ms), 0..4),
        sender_events in proptest::collection::vec((0..duration_ms, sender_event_kind()), 0..4),
        wal_persisted in any::<bool>(),
        incidents in proptest::collection::vec(incident(duration_ms), 0..3),
        queue_size in proptest::option::of(0u32..50), overhead_ms in 0u64..50,
        throughput in proptest::option::of(1000.0f64..1_000_000.0), memory_base in 0u64..1_000_000,
        sender in (0u8..3, 60_000u64..7_200_000, 0u64..600_000, 0u64..36_000_000),
    ) -> SimConfig {
        let mut c = SimConfig::baseline(profile);
        c.seed = seed;
        c.duration = ms(duration_ms);
        c.workload.series = series;
        c.workload.targets = targets;
        c.workload.scrape_interval = ms(interval_ms);
        // A fixed scrape-to-commit time, or one drawn per scrape (a uniform spread).
        let lo = scrape_ms.min(interval_ms - 1);
        let hi = (lo + scrape_spread_ms).min(interval_ms - 1);
        c.workload.scrape_duration = if hi > lo {
            Latency::Uniform { min: ms(lo), max: ms(hi) }
        } else {
            Latency::Fixed(ms(lo))
        };
        c.workload.report_series = report;
        let mut at = 0;
        for (step, s) in changes {
            at += step * duration_ms / 1000 / 4 + 1;
            if at < duration_ms {
                c.workload.changes.push(WorkloadChange { at: ms(at), series: s });
            }
        }
        c.remote_write.remote_timeout = ms(timeout_ms);
        c.remote_write.queue = QueueConfig {
            capacity, max_samples_per_send: msps, min_shards, max_shards: min_shards + extra_shards,
            batch_send_deadline: ms(deadline_ms), min_backoff: ms(min_backoff),
            max_backoff: ms(min_backoff * backoff_factor), retry_on_http_429: retry_429,
            sample_age_limit: if profile == Profile::V3 { ms(age_limit) } else { SimDuration::ZERO },
        };
        c.sender.flush_deadline = ms(flush_ms);
        c.tsdb.min_block_duration = ms(block_ms);
        c.tsdb.wal_segment_size = seg_mib << 20;
        c.tsdb.wal_bytes_per_sample = bps;
        c.receiver.latency = latency;
        c.receiver.workers = concurrency;
        c.receiver.rate_limit = rate.map(|r| RateLimit {
            samples_per_second: r,
            burst: (r as u64).max(1),
            retry_after: None,
            latency: None,
        });
        c.receiver.faults = faults;
        c.receiver.incidents = incidents;
        let mut events: Vec<SenderEvent> = sender_events.into_iter().map(|(at, kind)| SenderEvent { at: ms(at), kind }).collect();
        events.sort_by_key(|e| e.at);
        // At most one oom event.
        let mut seen_oom = false;
        events.retain(|e| !matches!(e.kind, SenderEventKind::Oom(_)) || !std::mem::replace(&mut seen_oom, true));
        c.sender.events = events;
        c.sender.wal_persisted = wal_persisted;
        c.receiver.queue_size = queue_size;
        c.receiver.request_overhead = ms(overhead_ms);
        c.receiver.worker_throughput = throughput;
        c.receiver.memory_base = memory_base;
        c.receiver.memory_per_inflight_sample = 10.0;
        // The sender: a server, an agent or Alloy (3.x only, fixed segment size and flush
        // deadline), with a truncation period of 1 min to 2 h.
        let (mode, period, min, max) = sender;
        c.sender.mode = match mode {
            1 => SenderMode::Agent(AgentWal {
                wal_truncate_frequency: ms(period),
                retention_min_time: ms(min),
                retention_max_time: ms(max),
            }),
            2 if profile == Profile::V3 => {
                c.tsdb.wal_segment_size = 128 << 20;
                c.sender.flush_deadline = SimDuration::from_mins(1);
                SenderMode::Alloy(AlloyWal {
                    truncate_frequency: ms(period),
                    min_keepalive_time: ms(min),
                    max_keepalive_time: ms(min + max + 1),
                })
            }
            _ => SenderMode::Server,
        };
        c
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The delivery-latency histogram is reporting only: a run without it (as the robust
    /// answer's variations and the outage budget make) has the same rows and results, but
    /// for the latency figures themselves.
    #[test]
    fn the_latency_histogram_changes_nothing_else(c in scenario()) {
        prop_assume!(c.validate().is_ok());
        let mut on = RowRecorder::default();
        let a = sim_core::simulate(&c, &mut on).expect("valid scenarios run");
        let mut quiet = c.clone();
        quiet.limits.delivery_latency = false;
        let mut off = RowRecorder::default();
        let mut b = sim_core::simulate(&quiet, &mut off).expect("valid scenarios run");
        if a.samples.delivered > 0 {
            prop_assert!(a.delivery_latency_seconds.max > 0.0);
        }
        prop_assert_eq!(b.delivery_latency_seconds.max, 0.0);
        b.delivery_latency_seconds = a.delivery_latency_seconds.clone();
        prop_assert_eq!(format!("{b:?}"), format!("{a:?}"));
        prop_assert_eq!(format!("{:?}", off.rows), format!("{:?}", on.rows));
    }

    #[test]
    fn every_sample_is_accounted_for_and_time_moves_forward(c in scenario()) {
        prop_assume!(c.validate().is_ok());
        let mut rec = RowRecorder::default();
        let r = sim_core::simulate(&c, &mut rec).expect("valid scenarios run");
        prop_assert!(r.conservation_ok, "{:?}", r.timeline.last());
        let s = &r.samples;
        let d = &s.dropped;
        prop_assert_eq!(
            s.appended,
            s.delivered + s.failed + d.wal_truncation + d.too_old + d.reshard_shutdown + d.restart_skip + s.pending_at_end
        );
        // The gaps are the same losses as time ranges: their samples add up exactly, each gap
        // lies inside the run and loses at most what was appended in it.
        let g = &r.gaps;
        prop_assert_eq!(
            g.samples,
            s.failed + d.wal_truncation + d.too_old + d.reshard_shutdown + d.restart_skip + s.unsendable_at_end
                + s.not_scraped,
            "{:?}", g
        );
        prop_assert_eq!(g.list.iter().map(|x| x.samples).sum::<u64>(), g.samples);
        for (reason, n) in [
            (LossReason::Failed, s.failed),
            (LossReason::WalTruncation, d.wal_truncation),
            (LossReason::TooOld, d.too_old),
            (LossReason::ReshardShutdown, d.reshard_shutdown),
            (LossReason::UnsendableAtEnd, s.unsendable_at_end),
            (LossReason::RestartSkip, d.restart_skip),
            (LossReason::NotScraped, s.not_scraped),
        ] {
            prop_assert_eq!(g.list.iter().filter(|x| x.reason == reason).map(|x| x.samples).sum::<u64>(), n, "{:?}", reason);
        }
        for x in &g.list {
            prop_assert!(x.samples > 0 && x.from_seconds < x.to_seconds, "{:?}", x);
            prop_assert!(x.from_seconds >= 0.0 && x.from_seconds <= r.simulated_seconds, "{:?}", x);
            prop_assert!(x.coverage > 0.0 && x.coverage <= 1.0, "{:?}", x);
        }
        prop_assert_eq!(g.largest.is_some(), !g.list.is_empty());
        prop_assert!(rec.rows.windows(2).all(|w| w[0].t_seconds < w[1].t_seconds), "rows in time order");
        // Prometheus's counters start again with every process and every new queue.
        let se = &r.sender;
        let restarts = se.queue_starts > 1 || se.restarts + se.crashes + se.oom_kills > 0;
        for w in rec.rows.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            prop_assert!(a.delivered_total <= b.delivered_total);
            prop_assert!(a.lost_restart_skip_total <= b.lost_restart_skip_total);
            prop_assert!(a.not_scraped_total <= b.not_scraped_total);
            if restarts {
                continue;
            }
            prop_assert!(a.samples_in_total <= b.samples_in_total);
            prop_assert!(a.samples_total <= b.samples_total);
            prop_assert!(a.samples_retried_total <= b.samples_retried_total);
            prop_assert!(a.samples_failed_total <= b.samples_failed_total);
            prop_assert!(a.delivered_total <= b.delivered_total);
            prop_assert!(a.enqueue_retries_total <= b.enqueue_retries_total);
            prop_assert!(a.queue_highest_sent_timestamp_seconds <= b.queue_highest_sent_timestamp_seconds);
        }
        prop_assert!(r.timeline.windows(2).all(|w| w[0].at <= w[1].at));
        prop_assert!(r.lag_seconds.max >= 0.0 && r.delivery_latency_seconds.max >= 0.0);
        // The receiver stores at most what was sent to it, counting duplicates.
        prop_assert!(r.receiver.duplicate_samples <= r.receiver.samples_ingested);
        prop_assert!(r.receiver.samples_ingested >= r.samples.delivered.saturating_sub(r.receiver.duplicate_samples) || r.receiver.crashes > 0);
    }
}
