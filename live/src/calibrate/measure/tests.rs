//! Calibration from answers saved from Debian's Prometheus 2.42 (`rwsim calibrate --save`):
//! `rwsim target --series 2000` scraped every second, `rwsim serve` answering with a
//! log-normal latency (median 20 ms, p99 80 ms), a queue_config of capacity 5000,
//! max_shards 7, max_samples_per_send 1000, batch_send_deadline 1m30s.
//!
//! - `promql-2.42.json`: Prometheus scrapes itself; 49 s of history.
//! - `sampled-2.42.json`: it does not; rwsim sampled /metrics every second for 30 s.

use super::*;
use crate::calibrate::{Replay, Saved};

fn replay(name: &str) -> Replay {
    let path = format!("{}/src/calibrate/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let saved: Saved = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    Replay::new(saved, name).unwrap()
}

fn plan(window_s: u64) -> Plan {
    Plan {
        window_s,
        sample_every_s: None,
        selector: None,
        remotes: vec![Remote { name: Some("rwsim".into()), url: "http://127.0.0.1:19312/api/v1/push".into() }],
        jobs: vec![Job { name: "prometheus".into(), interval_s: 1.0 }, Job { name: "rwsim".into(), interval_s: 1.0 }],
        global_interval_s: 1.0,
        segment_size: 128 << 20,
        request_overhead_s: None,
    }
}

fn calibrate(name: &str, window_s: u64) -> Calibration {
    let mut src = replay(name);
    // The API answers come first, as rwsim calibrate reads them.
    api::buildinfo(&mut src).unwrap();
    api::flags(&mut src).unwrap();
    api::config(&mut src).unwrap();
    measure(&mut src, &plan(window_s), &mut |_| {}).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn from_its_own_history() {
    let c = calibrate("promql-2.42.json", 6 * 3600);
    assert_eq!(
        c.mode,
        Mode::Promql(Matchers(vec![
            ("instance".into(), "127.0.0.1:19313".into()),
            ("job".into(), "prometheus".into())
        ]))
    );
    assert_eq!(c.window_s, 49.0, "the history is shorter than the 6h asked");
    assert!(c.warnings[0].starts_with("Prometheus's own history covers only 49s of the 6h asked"), "{:?}", c.warnings);
    assert_eq!(c.interval_s.value, 1.0);
    assert_eq!(c.targets.value, 2.0);
    // 2000 target series + Prometheus's own, one sample each per second.
    assert_eq!(c.series.value, 2433.0);
    let head = c.rows.iter().find(|r| r.name.starts_with("active series")).unwrap();
    assert_eq!(head.value, "2443", "head series = the series + 5 report series per target");
    let wal = c.wal_bytes_per_sample.as_ref().unwrap();
    assert!((wal.value - 6.15).abs() < 0.01, "{wal:?}");
    let wal_row = c.rows.iter().find(|r| r.name == "tsdb.wal_bytes_per_sample").unwrap();
    assert!(wal_row.warning.as_ref().unwrap().contains("no WAL segment roll-over by size"), "{wal_row:?}");
    assert!(wal_row.warning.as_ref().unwrap().contains("only 22 WAL pages"), "{wal_row:?}");
    let r = &c.remotes[0];
    assert!((r.wire_bytes_per_sample.as_ref().unwrap().value - 12.98).abs() < 0.01);
    let (fit, _) = r.latency.as_ref().unwrap();
    assert!(fit.median > 0.020 && fit.median < 0.030, "{fit:?}");
    assert!(fit.p99 > 0.06 && fit.p99 < 0.1, "{fit:?}");
    assert_eq!(r.live.shards, Some(1.0));
    assert!(r.live.batch_duration_s.unwrap() > 0.02);
    assert!(r.rows.iter().all(|row| row.warning.is_none() || row.name == "receiver.latency"), "{:#?}", r.rows);
}

#[test]
fn by_sampling_when_prometheus_does_not_scrape_itself() {
    let c = calibrate("sampled-2.42.json", 30);
    assert_eq!(c.mode, Mode::Sampled { every_s: 1, pages: 31, interrupted: false });
    assert!(c.warnings.iter().any(|w| w.starts_with("Prometheus does not scrape itself")), "{:?}", c.warnings);
    assert_eq!(c.targets.value, 1.0);
    assert_eq!(c.series.value, 1999.0, "2000 target series, within one scrape");
    assert!(c.samples_per_s.from.contains("31 samples of /metrics"), "{}", c.samples_per_s.from);
    let wal = c.wal_bytes_per_sample.as_ref().unwrap().value;
    assert!(wal > 5.0 && wal < 7.0, "{wal}");
    let r = &c.remotes[0];
    let thin = r.rows.iter().find(|x| x.name == "workload.wire_bytes_per_sample").unwrap();
    assert!(thin.warning.as_ref().unwrap().contains("only 60 requests"), "{thin:?}");
}

#[test]
fn a_remote_without_metrics_and_other_options_are_errors() {
    let mut p = plan(6 * 3600);
    p.remotes =
        vec![Remote { name: Some("mimir".into()), url: "https://mimir/api/v1/push".into() }, p.remotes[0].clone()];
    let mut src = replay("promql-2.42.json");
    for _ in 0..3 {
        src.get("/api/v1/status/buildinfo").ok();
    }
    let e = measure(&mut src, &p, &mut |_| {}).unwrap_err();
    assert!(e.0.starts_with("remote_write[0] (mimir) has no queue metrics"), "{e}");
    assert!(e.0.contains("remote_name=\"rwsim\""), "{e}");
    // Saved with a 6h window: a 1h window asks other queries.
    let mut src = replay("promql-2.42.json");
    let e = measure(&mut src, &plan(3600), &mut |_| {}).unwrap_err();
    assert!(e.0.contains("no saved answer to GET /api/v1/query"), "{e}");
}

#[test]
fn pages_kept_for_save_are_the_ones_read() {
    let page = "# HELP x\nprometheus_remote_storage_shards{a=\"b\"} 1\ngo_goroutines 30\nprocess_start_time_seconds 1.7e9\nprometheus_http_requests_total 5\n";
    assert_eq!(filter_page(page), "prometheus_remote_storage_shards{a=\"b\"} 1\nprocess_start_time_seconds 1.7e9\n");
    assert_eq!(secs_text(5400.0), "1h30m");
    assert_eq!(secs_text(49.0), "49s");
}
