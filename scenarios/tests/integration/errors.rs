//! What a user sees for a broken scenario file: the exact `origin:line:col: key: message`.

use scenarios::{ErrorKind, load_str};

/// A valid file; every case below edits it. Line numbers, for checking positions by hand:
///
/// ```text
///  1 name = "bad"
///  2 prometheus = "3.x"
///  3 duration = "2h"
///  4
///  5 [workload]
///  6 series = 100000
///  7 targets = 100
///  8 scrape_interval = "15s"
///  9
/// 10 [remote_write.queue_config]
/// 11 max_shards = 50
/// 12 capacity = 10000
/// 13
/// 14 [[receiver.fault]]
/// 15 start = "30m"
/// 16 end = "45m"
/// 17 status = 503
/// ```
const BASE: &str = r#"name = "bad"
prometheus = "3.x"
duration = "2h"

[workload]
series = 100000
targets = 100
scrape_interval = "15s"

[remote_write.queue_config]
max_shards = 50
capacity = 10000

[[receiver.fault]]
start = "30m"
end = "45m"
status = 503
"#;

const ORIGIN: &str = "scenarios/bad.toml";

/// `BASE` with `from` replaced by `to` (which must occur exactly once).
fn edit(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from:?} must occur once in BASE");
    BASE.replace(from, to)
}

fn append(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn error_of(text: &str) -> scenarios::ScenarioError {
    match load_str(text, ORIGIN) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn base_is_valid() {
    let s = load_str(BASE, ORIGIN).unwrap();
    assert_eq!(s.name, "bad");
}

#[test]
fn broken_files_report_file_line_column_key_and_fix() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "typo in a queue_config key",
            edit("capacity = 10000", "capacty = 10000"),
            "scenarios/bad.toml:12:1: remote_write.queue_config.capacty: unknown field `capacty`; did you mean `capacity`?",
        ),
        (
            "unknown key in queue_config",
            edit("capacity = 10000", "watermark = 10000"),
            "scenarios/bad.toml:12:1: remote_write.queue_config.watermark: unknown field `watermark`, expected one of \
             `capacity`, `max_shards`, `min_shards`, `max_samples_per_send`, `batch_send_deadline`, `min_backoff`, \
             `max_backoff`, `retry_on_http_429`, `sample_age_limit`",
        ),
        (
            "a scrape-to-commit distribution that outlasts the interval",
            edit(
                r#"scrape_interval = "15s""#,
                r#"scrape_interval = "15s"
scrape_duration = { distribution = "lognormal", median = "2s", p99 = "10s" }"#,
            ),
            "scenarios/bad.toml:9:19: workload.scrape_duration: its 99.9th percentile 16.990s must be shorter than \
             scrape_interval (15s)",
        ),
        (
            "a scrape-to-commit spread over too many targets",
            edit(
                "targets = 100",
                r#"targets = 1000000
scrape_duration = { distribution = "uniform", min = "10ms", max = "500ms" }"#,
            ),
            "scenarios/bad.toml:8:19: workload.scrape_duration: a spread of 490ms with 1000000 targets every 15s puts \
             about 32666 scrapes in flight at once, more than the limit of 4096; with that many targets a fixed \
             scrape_duration (the median) gives the same result",
        ),
        (
            "folklore: max_retries",
            edit("capacity = 10000", "max_retries = 10"),
            "scenarios/bad.toml:12:1: remote_write.queue_config.max_retries: unknown field `max_retries`: removed in \
             Prometheus v2.11; recoverable errors are retried forever",
        ),
        (
            "folklore: send_timeout",
            edit("capacity = 10000", "send_timeout = \"10s\""),
            "scenarios/bad.toml:12:1: remote_write.queue_config.send_timeout: unknown field `send_timeout`: no such \
             key; the per-request timeout is remote_write.remote_timeout",
        ),
        (
            "folklore: batch_send_watermark",
            edit("capacity = 10000", "batch_send_watermark = 500"),
            "scenarios/bad.toml:12:1: remote_write.queue_config.batch_send_watermark: unknown field \
             `batch_send_watermark`: no such key in any Prometheus version; a batch is sent when it holds \
             max_samples_per_send samples or when batch_send_deadline expires",
        ),
        (
            "key in the wrong table",
            edit("capacity = 10000", "remote_timeout = \"10s\""),
            "scenarios/bad.toml:12:1: remote_write.queue_config.remote_timeout: unknown field `remote_timeout` here: \
             it belongs in [remote_write]",
        ),
        (
            "capacity = 0",
            edit("capacity = 10000", "capacity = 0"),
            "scenarios/bad.toml:12:12: remote_write.queue_config.capacity: must be at least 1 (it is the per-shard \
             buffer in samples)",
        ),
        (
            "max_backoff < min_backoff",
            edit("capacity = 10000", "min_backoff = \"1s\"\nmax_backoff = \"500ms\""),
            "scenarios/bad.toml:13:15: remote_write.queue_config.max_backoff: max_backoff (500ms) is below \
             min_backoff (1s)",
        ),
        (
            "min_backoff above the default max_backoff: points at the table",
            edit("capacity = 10000", "min_backoff = \"10s\""),
            "scenarios/bad.toml:10:1: remote_write.queue_config.max_backoff: max_backoff (5s) is below min_backoff \
             (10s); `max_backoff` is not set in this file, so this is its default",
        ),
        (
            "min_shards > max_shards",
            edit("capacity = 10000", "min_shards = 60"),
            "scenarios/bad.toml:12:14: remote_write.queue_config.min_shards: min_shards (60) exceeds max_shards (50)",
        ),
        (
            "duration = \"0s\"",
            edit("duration = \"2h\"", "duration = \"0s\""),
            "scenarios/bad.toml:3:12: duration: must be greater than 0",
        ),
        (
            "duration = \"5x\"",
            edit("duration = \"2h\"", "duration = \"5x\""),
            "scenarios/bad.toml:3:12: duration: invalid duration \"5x\": expected a number with a unit (ms, s, m, h, \
             d), e.g. \"30s\"",
        ),
        (
            "duration without a unit",
            edit("duration = \"2h\"", "duration = 7200"),
            "scenarios/bad.toml:3:12: duration: 7200 is not a duration: write a string with a unit, e.g. \"7200s\" \
             or \"7200ms\"",
        ),
        (
            "series = 10^12",
            edit("series = 100000", "series = 1_000_000_000_000"),
            "scenarios/bad.toml:6:10: workload.series: 1000000000000 series is beyond what one Prometheus holds; the \
             limit is 1000000000",
        ),
        (
            "wal_segment_size = \"1MiB\"",
            append("\n[tsdb]\nwal_segment_size = \"1MiB\"\n"),
            "scenarios/bad.toml:20:20: tsdb.wal_segment_size: must be between 10MiB and 256MiB and a multiple of \
             32KiB, as Prometheus requires",
        ),
        (
            "status = 999",
            edit("status = 503", "status = 999"),
            "scenarios/bad.toml:17:10: receiver.fault[0].status: 999 is not an HTTP status between 200 and 599",
        ),
        (
            "status = \"teapot\"",
            edit("status = 503", "status = \"teapot\""),
            "scenarios/bad.toml:17:10: receiver.fault[0].status: unknown status \"teapot\": expected an HTTP status \
             such as 503, or \"timeout\" (no answer until remote_timeout) or \"refused\" (connection refused)",
        ),
        (
            "fault ends before it starts",
            edit("end = \"45m\"", "end = \"20m\""),
            "scenarios/bad.toml:16:7: receiver.fault[0].end: end (20m) must be after start (30m)",
        ),
        (
            "fault ends after the run",
            edit("end = \"45m\"", "end = \"3h\""),
            "scenarios/bad.toml:16:7: receiver.fault[0].end: 3h is after the end of the run (2h)",
        ),
        (
            "fault starts after the run",
            edit("start = \"30m\"\nend = \"45m\"", "start = \"3h\"\nend = \"4h\""),
            "scenarios/bad.toml:15:9: receiver.fault[0].start: 3h is not before the end of the run (2h)",
        ),
        (
            "probability = 1.5",
            append("probability = 1.5\n"),
            "scenarios/bad.toml:18:15: receiver.fault[0].probability: must be between 0 and 1",
        ),
        (
            "second fault: 0-based index",
            append("[[receiver.fault]]\nstart = \"1h\"\nend = \"50m\"\nstatus = \"timeout\"\n"),
            "scenarios/bad.toml:20:7: receiver.fault[1].end: end (50m) must be after start (1h)",
        ),
        (
            "fault without status: points at its header",
            edit("status = 503\n", ""),
            "scenarios/bad.toml:14:1: receiver.fault[0].status: required key is missing: the answer, an HTTP status \
             such as 503 or \"timeout\" or \"refused\"",
        ),
        (
            "missing [workload]",
            edit("[workload]\nseries = 100000\ntargets = 100\nscrape_interval = \"15s\"\n", ""),
            "scenarios/bad.toml:1:1: workload: required table is missing: add a [workload] table with at least \
             `series = 100000`",
        ),
        (
            "missing workload.series: points at [workload]",
            edit("series = 100000\n", ""),
            "scenarios/bad.toml:5:1: workload.series: required key is missing: the number of scraped series, e.g. \
             series = 100000",
        ),
        (
            "missing duration",
            edit("duration = \"2h\"\n", ""),
            "scenarios/bad.toml:1:1: duration: required key is missing: the length of the run, e.g. duration = \"2h\"",
        ),
        (
            "capacity = \"big\"",
            edit("capacity = 10000", "capacity = \"big\""),
            "scenarios/bad.toml:12:12: remote_write.queue_config.capacity: expected an integer from 1 to \
             1,000,000,000, found string \"big\"",
        ),
        (
            "capacity = -1",
            edit("capacity = 10000", "capacity = -1"),
            "scenarios/bad.toml:12:12: remote_write.queue_config.capacity: expected an integer from 1 to \
             1,000,000,000, found -1",
        ),
        (
            "series = -5",
            edit("series = 100000", "series = -5"),
            "scenarios/bad.toml:6:10: workload.series: expected an integer from 0 to 1,000,000,000, found -5",
        ),
        (
            "series = \"300k\"",
            edit("series = 100000", "series = \"300k\""),
            "scenarios/bad.toml:6:10: workload.series: expected an integer from 0 to 1,000,000,000, found string \
             \"300k\"; write 300000 (or 300_000), without a suffix or quotes",
        ),
        (
            "prometheus = \"2.9\"",
            edit("prometheus = \"3.x\"", "prometheus = \"2.9\""),
            "scenarios/bad.toml:2:14: prometheus: unsupported Prometheus version \"2.9\": expected \"2.42\" or \"3.x\"; \
             for 2.9 write \"2.42\", its nearest model (with 1 difference; `rwsim import` names it)",
        ),
        (
            "prometheus = \"2.53\"",
            edit("prometheus = \"3.x\"", "prometheus = \"2.53\""),
            "scenarios/bad.toml:2:14: prometheus: unsupported Prometheus version \"2.53\": expected \"2.42\" or \"3.x\"; \
             for 2.53 write \"3.x\", its nearest model (with 1 difference; `rwsim import` names it)",
        ),
        (
            "sample_age_limit with 2.42",
            edit("prometheus = \"3.x\"", "prometheus = \"2.42\"")
                .replace("capacity = 10000", "sample_age_limit = \"1h\""),
            "scenarios/bad.toml:12:20: remote_write.queue_config.sample_age_limit: does not exist in Prometheus 2.42 \
             (added in v2.50.0); use prometheus = \"3.x\"",
        ),
        (
            "TOML syntax error: unterminated string",
            edit("end = \"45m\"", "end = \"45m"),
            "scenarios/bad.toml:16:11: TOML syntax error: invalid basic string, expected `\"`",
        ),
        (
            "TOML syntax error: duplicate key",
            edit("targets = 100", "targets = 100\nseries = 5"),
            "scenarios/bad.toml:8:1: TOML syntax error: duplicate key `series` (each key may appear once per table)",
        ),
        (
            "a YAML line pasted into a table",
            edit("capacity = 10000", "capacity: 10000"),
            "scenarios/bad.toml:12:11: TOML syntax error: key with no value, expected `=`: `capacity: 10000` looks \
             like YAML; in TOML write `capacity = 10000` (scenario files are TOML: docs/scenario.md)",
        ),
        (
            "a prometheus.yml pasted at the end",
            append("\nremote_write:\n  - url: http://mimir:8080/api/v1/push\n"),
            "scenarios/bad.toml:19:14: TOML syntax error: key with no value, expected `=`: `remote_write:` looks like \
             YAML; TOML opens a table with its dotted path in brackets, e.g. [remote_write.queue_config], and writes \
             each key as `key = value`; this looks like part of a prometheus.yml: `rwsim import prometheus.yml` \
             writes a scenario from the whole file (docs/import.md)",
        ),
        (
            "single brackets for an array of tables",
            edit("[[receiver.fault]]", "[receiver.fault]"),
            "scenarios/bad.toml:14:1: receiver.fault: expected an array of tables, found a table: write \
             [[receiver.fault]] with double brackets",
        ),
        (
            "latency parameter that the distribution does not take",
            append("\n[receiver]\nlatency = { distribution = \"lognormal\", median = \"20ms\", mean = \"1s\" }\n"),
            "scenarios/bad.toml:20:65: receiver.latency.mean: not a parameter of the lognormal distribution, which \
             takes median and p99",
        ),
        (
            "latency p99 below median",
            append("\n[receiver]\nlatency = { distribution = \"lognormal\", median = \"20ms\", p99 = \"10ms\" }\n"),
            "scenarios/bad.toml:20:64: receiver.latency.p99: p99 (10ms) must be at least the median (20ms)",
        ),
        (
            "burst without a rate limit",
            append("\n[receiver]\nrate_limit_burst = 5000\n"),
            "scenarios/bad.toml:20:20: receiver.rate_limit_burst: has no effect without receiver.rate_limit; set both \
             or neither",
        ),
        (
            "unmodelled Prometheus setting",
            append("\n[remote_write]\nwrite_relabel_configs = []\n"),
            "scenarios/bad.toml:20:1: remote_write.write_relabel_configs: unknown field `write_relabel_configs`: a \
             Prometheus remote_write setting that rwsim does not model; remove it",
        ),
        (
            "change after the end of the run",
            append("\n[[workload.change]]\nat = \"3h\"\nseries = 5\n"),
            "scenarios/bad.toml:20:6: workload.change[0].at: 3h is not before the end of the run (2h)",
        ),
        (
            "unquoted dotted key in [sweep]",
            append("\n[sweep]\nremote_write.queue_config.max_shards = \"1..10:1\"\n"),
            "scenarios/bad.toml:20:1: sweep.remote_write: expected an array of values such as [2500, 5000], or a \
             string such as \"10..200:10\", found a table; a [sweep] key with dots must be in quotes \
             (\"remote_write.queue_config.max_shards\" = ...), or TOML reads it as nested tables",
        ),
    ];
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for (what, text, want) in &cases {
        let got = error_of(text).to_string();
        if got != *want {
            failures.push(format!("{what}:\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `[sender] mode = "agent" | "alloy"`: the settings each sender has, and what its upstream
/// refuses (Prometheus's server-only flags in agent mode, Alloy's `WALOptions.Validate`).
#[test]
fn agent_and_alloy_settings_report_file_line_column_key_and_fix() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown sender",
            append("\n[sender]\nmode = \"telegraf\"\n"),
            "scenarios/bad.toml:20:8: sender.mode: unknown sender \"telegraf\": expected \"server\", \"agent\", \"alloy\" \
             or \"vmagent\"",
        ),
        (
            "Prometheus queue settings for vmagent",
            append("\n[sender]\nmode = \"vmagent\"\n"),
            "scenarios/bad.toml:10:1: remote_write.queue_config: vmagent has no queue_config: its queue is set with \
             [vmagent] remoteWrite.* flags (remoteWrite.queues, maxBlockSize, maxRowsPerBlock, flushInterval, \
             maxDiskUsagePerURL)",
        ),
        (
            "the sender as a top-level string",
            edit("duration = \"2h\"", "duration = \"2h\"\nsender = \"alloy\""),
            "scenarios/bad.toml:4:10: sender: expected a table, found string \"alloy\": the sender is chosen in its \
             table, write [sender] and mode = \"alloy\"",
        ),
        (
            "capitalised sender",
            append("\n[sender]\nmode = \"Alloy\"\n"),
            "scenarios/bad.toml:20:8: sender.mode: unknown sender \"Alloy\": expected \"server\", \"agent\", \"alloy\" \
             or \"vmagent\" (in lower case)",
        ),
        (
            "agent flags without agent mode",
            append("\n[sender.agent]\nretention_max_time = \"8h\"\n"),
            "scenarios/bad.toml:19:1: sender.agent: [sender.agent] holds Prometheus agent mode's WAL flags; it applies \
             only with mode = \"agent\", and this sender is server",
        ),
        (
            "Alloy settings with agent mode",
            append("\n[sender]\nmode = \"agent\"\n\n[sender.alloy]\nmax_keepalive_time = \"8h\"\n"),
            "scenarios/bad.toml:22:1: sender.alloy: [sender.alloy] holds the wal block of Alloy's \
             prometheus.remote_write; it applies only with mode = \"alloy\", and this sender is agent",
        ),
        (
            "an agent flag in the Alloy table",
            append("\n[sender]\nmode = \"alloy\"\n\n[sender.alloy]\nretention_max_time = \"8h\"\n"),
            "scenarios/bad.toml:23:1: sender.alloy.retention_max_time: unknown field `retention_max_time` here: it \
             belongs in [sender.agent]",
        ),
        (
            "Alloy is built on 3.x",
            edit("prometheus = \"3.x\"", "prometheus = \"2.42\"") + "\n[sender]\nmode = \"alloy\"\n",
            "scenarios/bad.toml:2:14: prometheus: Grafana Alloy is built on Prometheus 3.x code (v1.18 on v3.12), not \
             2.42; write prometheus = \"3.x\" or leave it out",
        ),
        (
            "Alloy: truncate_frequency = 0",
            append("\n[sender]\nmode = \"alloy\"\n\n[sender.alloy]\ntruncate_frequency = \"0s\"\n"),
            "scenarios/bad.toml:23:22: sender.alloy.truncate_frequency: truncate_frequency must not be 0 (Alloy \
             refuses it)",
        ),
        (
            "Alloy: max_keepalive_time not above min_keepalive_time",
            append(
                "\n[sender]\nmode = \"alloy\"\n\n[sender.alloy]\nmin_keepalive_time = \"1h\"\nmax_keepalive_time = \"1h\"\n",
            ),
            "scenarios/bad.toml:24:22: sender.alloy.max_keepalive_time: min_keepalive_time must be smaller than \
             max_keepalive_time (1h is not above 1h); Alloy refuses it",
        ),
        (
            "Alloy: max_keepalive_time below the default min",
            append("\n[sender]\nmode = \"alloy\"\n\n[sender.alloy]\nmax_keepalive_time = \"1m\"\n"),
            "scenarios/bad.toml:23:22: sender.alloy.max_keepalive_time: min_keepalive_time must be smaller than \
             max_keepalive_time (1m is not above 5m); Alloy refuses it",
        ),
        (
            "Alloy: fixed segment size",
            append("\n[sender]\nmode = \"alloy\"\n\n[tsdb]\nwal_segment_size = \"64MiB\"\n"),
            "scenarios/bad.toml:23:20: tsdb.wal_segment_size: Alloy's WAL segments are fixed at 128MiB; it has no \
             setting for their size: remove the key",
        ),
        (
            "Alloy: fixed flush deadline",
            append("\n[sender]\nmode = \"alloy\"\nflush_deadline = \"2m\"\n"),
            "scenarios/bad.toml:21:18: sender.flush_deadline: Alloy's flush deadline is fixed at 1m; it has no \
             setting for it: remove the key",
        ),
        (
            "agent mode has no head blocks",
            append("\n[sender]\nmode = \"agent\"\n\n[tsdb]\nmin_block_duration = \"10m\"\n"),
            "scenarios/bad.toml:23:22: tsdb.min_block_duration: the block range of a server's TSDB; agent mode has no \
             head blocks (Prometheus refuses --storage.tsdb.min-block-duration in agent mode): its WAL is truncated \
             every sender.agent.wal_truncate_frequency",
        ),
        (
            "agent: too many ticks",
            edit("duration = \"2h\"", "duration = \"3h\"")
                + "\n[sender]\nmode = \"agent\"\n\n[sender.agent]\nwal_truncate_frequency = \"1ms\"\n",
            "scenarios/bad.toml:23:26: sender.agent.wal_truncate_frequency: a truncation every 1ms makes 10800000 \
             ticks in 3h, more than the limit of 10000000; use a longer period or a shorter run",
        ),
        (
            "a duration in the agent table",
            append("\n[sender]\nmode = \"agent\"\n\n[sender.agent]\nretention_min_time = 300\n"),
            "scenarios/bad.toml:23:22: sender.agent.retention_min_time: 300 is not a duration: write a string with a \
             unit, e.g. \"300s\" or \"300ms\"",
        ),
    ];
    let mut failures = Vec::new();
    for (what, text, want) in &cases {
        let got = error_of(text).to_string();
        if got != *want {
            failures.push(format!("{what}:\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_fields_are_accessible_and_classified() {
    let e = error_of(&edit("capacity = 10000", "capacity = 0"));
    assert_eq!((e.origin.as_str(), e.line, e.column), (ORIGIN, 12, 12));
    assert_eq!(e.key, "remote_write.queue_config.capacity");
    assert_eq!(e.message, "must be at least 1 (it is the per-shard buffer in samples)");
    assert_eq!(e.kind, ErrorKind::Invalid);
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("scenarios/bad.toml:12:12: "));

    assert_eq!(error_of(&edit("duration = \"2h\"", "duration = \"5x\"")).kind, ErrorKind::Schema);
    assert_eq!(error_of(&edit("end = \"45m\"", "end = \"45m")).kind, ErrorKind::Syntax);
    let syntax = error_of(&edit("end = \"45m\"", "end = \"45m"));
    assert_eq!(syntax.key, "", "syntax errors name no key");
}

#[test]
fn unreadable_file_names_the_path() {
    let path = std::path::Path::new("/nonexistent-rwsim-dir/outage.toml");
    let e = scenarios::load_file(path).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert_eq!((e.line, e.column, e.key.as_str()), (0, 0, ""));
    assert!(e.to_string().starts_with("/nonexistent-rwsim-dir/outage.toml: cannot read the scenario file: "), "{e}");
}

#[test]
fn unknown_builtin_lists_the_library() {
    let e = scenarios::load_builtin("nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "<builtin:nope>: no built-in scenario has this name; the library has: agent-outage, alloy-outage, bench-1m-24h, body-too-large-as-500, \
         cardinality-spike, compare-senders, default, ingester-oom-crashloop, network-partition, object-storage-outage, outage-short, \
         outage-wal-loss, proxy-timeout-slow-upstream, rejected-400, rejects-400, reload-during-backlog, \
         restart-during-outage, ring-unready-rollout, sender-oom-catchup, slow-receiver, sweep-outage, \
         tenant-throttled-429, throttled-429"
    );
}
