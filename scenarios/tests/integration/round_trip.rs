//! A file that sets every key yields exactly those values.

use scenarios::load_str;
use sim_core::config::{FaultWindow, Latency, RateLimit, Response, WorkloadChange};
use sim_core::profile::Profile;
use sim_core::time::{NANOS_PER_MILLI, NANOS_PER_SEC, SimDuration};

const FULL: &str = r#"
name = "everything"
description = "every key set"
prometheus = "2.42"
seed = 42
duration = "6h"
start = "2024-03-01T12:00:00Z"

[workload]
series = 250_000
scrape_interval = "30s"
targets = 250
scrape_duration = "2s"
report_series = false
wire_bytes_per_sample = 30

[[workload.change]]
at = "2h"
series = 300_000

[[workload.change]]
at = "4h"
series = 200_000

[remote_write]
url = "https://mimir.example/api/v1/push"
name = "mimir"
remote_timeout = "1m"

[remote_write.queue_config]
capacity = 5000
max_shards = 100
min_shards = 2
max_samples_per_send = 1000
batch_send_deadline = "10s"
min_backoff = "100ms"
max_backoff = "10s"
retry_on_http_429 = true
sample_age_limit = "0s"

[sender]
flush_deadline = "30s"
reshard_tick_offset = "5s"

[tsdb]
min_block_duration = "10m"
wal_segment_size = "10MB"
wal_bytes_per_sample = 2.5

[receiver]
latency = { distribution = "exponential", mean = "50ms" }
max_concurrency = 16
rate_limit = 20000
rate_limit_burst = 40000
rate_limit_retry_after = "2s"
rate_limit_latency = "3ms"
ingest_after_client_timeout = false

[[receiver.fault]]
start = "1h"
end = "1h30m"
status = 503
probability = 0.5
retry_after = "30s"
latency = { distribution = "uniform", min = "10ms", max = "90ms" }

[[receiver.fault]]
start = "3h"
end = "3h10m"
status = "timeout"
latency = "250ms"

[[receiver.fault]]
start = "5h"
end = "5h1m"
status = "refused"
latency = { distribution = "fixed", value = "1ms" }

[output]
step = "1m"

[simulation]
max_events = 2_000_000_000
"#;

#[test]
fn every_key_reaches_the_config() {
    let s = load_str(FULL, "full.toml").unwrap();
    assert_eq!(s.name, "everything");
    assert_eq!(s.description.as_deref(), Some("every key set"));
    assert_eq!(s.origin, "full.toml");
    let c = s.config;
    assert_eq!(c.name, "everything");
    assert_eq!(c.profile, Profile::V2_42);
    assert_eq!(c.seed, 42);
    assert_eq!(c.duration, SimDuration::from_hours(6));
    assert_eq!(c.clock.start_unix_nanos, 1_709_294_400 * NANOS_PER_SEC);

    let w = &c.workload;
    assert_eq!(w.series, 250_000);
    assert_eq!(w.scrape_interval, SimDuration::from_secs(30));
    assert_eq!(w.targets, 250);
    assert_eq!(w.scrape_duration, Latency::Fixed(SimDuration::from_secs(2)));
    assert!(!w.report_series);
    assert_eq!(w.wire_bytes_per_sample, 30.0);
    assert_eq!(
        w.changes,
        [
            WorkloadChange { at: SimDuration::from_hours(2), series: 300_000 },
            WorkloadChange { at: SimDuration::from_hours(4), series: 200_000 },
        ]
    );

    assert_eq!(c.remote_write.remote_timeout, SimDuration::from_mins(1));
    let q = &c.remote_write.queue;
    assert_eq!(q.capacity, 5000);
    assert_eq!(q.max_shards, 100);
    assert_eq!(q.min_shards, 2);
    assert_eq!(q.max_samples_per_send, 1000);
    assert_eq!(q.batch_send_deadline, SimDuration::from_secs(10));
    assert_eq!(q.min_backoff, SimDuration::from_millis(100));
    assert_eq!(q.max_backoff, SimDuration::from_secs(10));
    assert!(q.retry_on_http_429);
    assert_eq!(q.sample_age_limit, SimDuration::ZERO);

    assert_eq!(c.sender.flush_deadline, SimDuration::from_secs(30));
    assert_eq!(c.sender.reshard_tick_offset, SimDuration::from_secs(5));
    assert_eq!(c.tsdb.min_block_duration, SimDuration::from_mins(10));
    assert_eq!(c.tsdb.wal_segment_size, 10 << 20, "MB is base 2, as in Prometheus");
    assert_eq!(c.tsdb.wal_bytes_per_sample, 2.5);

    let r = &c.receiver;
    assert_eq!(r.latency, Latency::Exponential { mean: SimDuration::from_millis(50) });
    assert_eq!(r.workers, Some(16), "max_concurrency is the former name of workers");
    assert_eq!(
        r.rate_limit,
        Some(RateLimit {
            samples_per_second: 20_000.0,
            burst: 40_000,
            retry_after: Some(SimDuration::from_secs(2)),
            latency: Some(Latency::Fixed(SimDuration::from_millis(3))),
        })
    );
    assert!(!r.ingest_after_client_timeout);
    assert_eq!(
        r.faults,
        [
            FaultWindow {
                start: SimDuration::from_hours(1),
                end: SimDuration::from_mins(90),
                response: Response::Status(503),
                probability: 0.5,
                retry_after: Some(SimDuration::from_secs(30)),
                latency: Some(Latency::Uniform {
                    min: SimDuration::from_millis(10),
                    max: SimDuration::from_millis(90)
                }),
            },
            FaultWindow {
                start: SimDuration::from_hours(3),
                end: SimDuration::from_mins(190),
                response: Response::Timeout,
                probability: 1.0,
                retry_after: None,
                latency: Some(Latency::Fixed(SimDuration::from_millis(250))),
            },
            FaultWindow {
                start: SimDuration::from_hours(5),
                end: SimDuration::from_mins(301),
                response: Response::Refused,
                probability: 1.0,
                retry_after: None,
                latency: Some(Latency::Fixed(SimDuration::from_nanos(NANOS_PER_MILLI))),
            },
        ]
    );
    assert_eq!(c.output_step, SimDuration::from_mins(1));
    assert_eq!(c.limits.max_events, 2_000_000_000);
}

#[test]
fn start_accepts_a_string_or_a_toml_date_time() {
    let body = "duration = \"1h\"\n[workload]\nseries = 1\n";
    let quoted = load_str(&format!("start = \"2024-01-01T06:30:00Z\"\n{body}"), "a.toml").unwrap();
    let bare = load_str(&format!("start = 2024-01-01T06:30:00Z\n{body}"), "a.toml").unwrap();
    let want = (1_704_067_200 + 6 * 3600 + 1800) * NANOS_PER_SEC;
    assert_eq!(quoted.config.clock.start_unix_nanos, want);
    assert_eq!(bare.config.clock.start_unix_nanos, want);
    let local = load_str(&format!("start = 2024-01-01T06:30:00\n{body}"), "a.toml").unwrap_err();
    assert_eq!(
        local.to_string(),
        "a.toml:1:9: start: 2024-01-01T06:30:00 is not a UTC instant: expected a date, a time and an offset such as \
         \"2024-01-01T00:00:00Z\""
    );
}

#[test]
fn load_file_reads_and_names_by_stem() {
    let dir = std::env::temp_dir().join(format!("rwsim-scenarios-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("my-outage.toml");
    std::fs::write(&path, "duration = \"1h\"\n[workload]\nseries = 1\n").unwrap();
    let s = scenarios::load_file(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(s.name, "my-outage");
    assert_eq!(s.origin, path.display().to_string());
}
