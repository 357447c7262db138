//! Omitted keys take the documented defaults, which depend on `prometheus`.

use scenarios::load_str;
use sim_core::config::{DEFAULT_START_UNIX_SECS, DEFAULT_WAL_BYTES_PER_SAMPLE, DEFAULT_WIRE_BYTES_PER_SAMPLE, Latency};
use sim_core::profile::Profile;
use sim_core::time::{NANOS_PER_SEC, SimDuration};

fn minimal(prometheus: Option<&str>) -> sim_core::config::SimConfig {
    let version = prometheus.map(|p| format!("prometheus = \"{p}\"\n")).unwrap_or_default();
    let text = format!("{version}duration = \"1h\"\n[workload]\nseries = 1000\n");
    load_str(&text, "scenarios/minimal.toml").unwrap().config
}

#[test]
fn queue_config_defaults_follow_the_prometheus_version() {
    // (prometheus, capacity, max_shards, max_samples_per_send): config/config.go DefaultQueueConfig.
    for (version, profile, capacity, max_shards, msps) in [
        (Some("2.42"), Profile::V2_42, 2500, 200, 500),
        (Some("3.x"), Profile::V3, 10_000, 50, 2000),
        (None, Profile::V3, 10_000, 50, 2000),
    ] {
        let c = minimal(version);
        assert_eq!(c.profile, profile);
        let q = &c.remote_write.queue;
        assert_eq!((q.capacity, q.max_shards, q.max_samples_per_send), (capacity, max_shards, msps), "{version:?}");
        assert_eq!(q.min_shards, 1);
        assert_eq!(q.batch_send_deadline, SimDuration::from_secs(5));
        assert_eq!(q.min_backoff, SimDuration::from_millis(30));
        assert_eq!(q.max_backoff, SimDuration::from_secs(5));
        assert!(!q.retry_on_http_429);
        assert_eq!(q.sample_age_limit, SimDuration::ZERO);
    }
}

#[test]
fn every_other_key_has_its_documented_default() {
    let s = load_str("duration = \"1h\"\n[workload]\nseries = 1000\n", "scenarios/minimal.toml").unwrap();
    assert_eq!(s.name, "minimal", "the file stem");
    assert_eq!(s.description, None);
    assert_eq!(s.origin, "scenarios/minimal.toml");
    let c = &s.config;
    assert_eq!(c.name, "minimal");
    assert_eq!(c.seed, 1);
    assert_eq!(c.duration, SimDuration::from_hours(1));
    assert_eq!(c.clock.start_unix_nanos, DEFAULT_START_UNIX_SECS * NANOS_PER_SEC);
    let w = &c.workload;
    assert_eq!(w.series, 1000);
    assert_eq!(w.scrape_interval, SimDuration::from_mins(1), "Prometheus's global scrape_interval default");
    assert_eq!(w.targets, 1);
    assert_eq!(w.scrape_duration, Latency::Fixed(SimDuration::ZERO));
    assert!(w.report_series);
    assert_eq!(w.wire_bytes_per_sample, DEFAULT_WIRE_BYTES_PER_SAMPLE);
    assert!(w.changes.is_empty());
    assert_eq!(c.remote_write.remote_timeout, SimDuration::from_secs(30));
    assert_eq!(c.sender.flush_deadline, SimDuration::from_mins(1));
    assert_eq!(c.sender.reshard_tick_offset, SimDuration::ZERO);
    assert_eq!(c.tsdb.min_block_duration, SimDuration::from_hours(2));
    assert_eq!(c.tsdb.wal_segment_size, 128 << 20);
    assert_eq!(c.tsdb.wal_bytes_per_sample, DEFAULT_WAL_BYTES_PER_SAMPLE);
    let r = &c.receiver;
    assert_eq!(r.latency, Latency::Fixed(SimDuration::from_millis(20)));
    assert_eq!(r.workers, None);
    assert_eq!(r.rate_limit, None);
    assert!(r.ingest_after_client_timeout);
    assert!(r.faults.is_empty());
    assert_eq!(c.output_step, SimDuration::from_secs(10));
    assert_eq!(c.limits.max_events, 1_000_000_000);
}

#[test]
fn fault_and_rate_limit_defaults() {
    let text = r#"
duration = "1h"
[workload]
series = 1000
[receiver]
rate_limit = 2500.5
[[receiver.fault]]
start = "10m"
end = "20m"
status = "refused"
"#;
    let c = load_str(text, "x.toml").unwrap().config;
    let rl = c.receiver.rate_limit.unwrap();
    assert_eq!(rl.samples_per_second, 2500.5);
    assert_eq!(rl.burst, 2501, "one second of the rate, rounded up");
    assert_eq!(rl.retry_after, None);
    let f = &c.receiver.faults[0];
    assert_eq!(f.probability, 1.0);
    assert_eq!(f.retry_after, None);
    assert_eq!(f.latency, None);
}

#[test]
fn names_default_to_the_origin() {
    let text = "duration = \"1h\"\n[workload]\nseries = 1\n";
    assert_eq!(load_str(text, "<builtin:quick>").unwrap().name, "quick");
    assert_eq!(load_str(text, "a/b/c.toml").unwrap().name, "c");
    assert_eq!(load_str(&format!("name = \"mine\"\n{text}"), "a/b/c.toml").unwrap().name, "mine");
}

#[test]
fn agent_and_alloy_take_their_upstream_defaults() {
    use sim_core::config::{AgentWal, AlloyWal, SenderMode};
    let load = |sender: &str| {
        let text = format!("duration = \"1h\"\n[workload]\nseries = 1000\n[sender]\n{sender}\n");
        load_str(&text, "scenarios/minimal.toml").unwrap().config
    };
    let (h, m) = (SimDuration::from_hours, SimDuration::from_mins);
    assert_eq!(minimal(None).sender.mode, SenderMode::Server);
    let agent = load("mode = \"agent\"");
    // tsdb/agent/db.go: DefaultOptions.
    let want = AgentWal { wal_truncate_frequency: h(2), retention_min_time: m(5), retention_max_time: h(4) };
    assert_eq!(agent.sender.mode, SenderMode::Agent(want));
    assert!(!agent.remote_write.queue.retry_on_http_429, "Prometheus's queue defaults");
    let alloy = load("mode = \"alloy\"");
    // Alloy's DefaultWALOptions and DefaultQueueOptions: 3.x values, but 429 is retried.
    let want = AlloyWal { truncate_frequency: h(2), min_keepalive_time: m(5), max_keepalive_time: h(8) };
    assert_eq!(alloy.sender.mode, SenderMode::Alloy(want));
    assert_eq!(alloy.profile, Profile::V3);
    let q = &alloy.remote_write.queue;
    assert_eq!((q.capacity, q.max_shards, q.max_samples_per_send), (10_000, 50, 2000));
    assert!(q.retry_on_http_429);
    assert_eq!(alloy.tsdb.wal_segment_size, 128 << 20);
    assert_eq!(alloy.sender.flush_deadline, m(1));
    // A value set in the file wins over the sender's default.
    let text = "duration = \"1h\"\n[workload]\nseries = 1\n[sender]\nmode = \"alloy\"\n\
                [remote_write.queue_config]\nretry_on_http_429 = false\n";
    assert!(!load_str(text, "x.toml").unwrap().config.remote_write.queue.retry_on_http_429);
}
