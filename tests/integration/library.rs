//! Each bundled scenario shows the signature its header comment promises.

use crate::{lost, n, run_json, scenario, temp_dir};

#[test]
fn default_is_healthy() {
    let v = run_json(&scenario("default"), &[]);
    assert_eq!(n(&v, "/samples/failed") + lost(&v) + n(&v, "/samples/retried"), 0.0);
    assert!(n(&v, "/lag_seconds/max") < 5.0);
}

#[test]
fn short_outage_retries_without_loss_and_recovers() {
    let v = run_json(&scenario("outage-short"), &[]);
    assert_eq!(n(&v, "/samples/failed"), 0.0);
    assert_eq!(lost(&v), 0.0);
    assert!(n(&v, "/samples/retried") > 0.0);
    assert!(n(&v, "/lag_seconds/max") > 800.0);
    assert!(n(&v, "/lag_seconds/final") < 5.0);
}

#[test]
fn long_outage_loses_data_silently_to_wal_truncation() {
    let v = run_json(&scenario("outage-wal-loss"), &[]);
    let appended = n(&v, "/samples/appended");
    let loss = n(&v, "/samples/dropped/wal_truncation");
    assert!(loss / appended > 0.2, "loss {loss} of {appended}");
    assert_eq!(n(&v, "/samples/failed"), 0.0, "Prometheus's failed counter never moves for 5xx");
    assert_eq!(n(&v, "/wal/watcher_restarts"), 1.0);
}

#[test]
fn slow_receiver_falls_further_behind_without_errors() {
    let v = run_json(&scenario("slow-receiver"), &[]);
    assert!(n(&v, "/lag_seconds/final") > 3600.0);
    assert_eq!(n(&v, "/samples/failed") + n(&v, "/samples/retried"), 0.0);
    assert_eq!(n(&v, "/shards/final"), 5.0, "pinned at max_shards");
}

#[test]
fn throttled_tenant_fails_the_excess_over_its_limit() {
    let v = run_json(&scenario("throttled-429"), &[]);
    let share = n(&v, "/samples/failed") / n(&v, "/samples/appended");
    // 33.5k samples/s against a 25k/s limit: about a quarter is over it.
    assert!((share - 0.25).abs() < 0.03, "failed share {share}");
    assert!(n(&v, "/receiver/responses/429") > 0.0);
}

#[test]
fn rejecting_receiver_fails_a_fifth() {
    let v = run_json(&scenario("rejects-400"), &[]);
    let share = n(&v, "/samples/failed") / n(&v, "/samples/appended");
    assert!((share - 0.2).abs() < 0.01, "failed share {share}");
    assert_eq!(n(&v, "/samples/retried"), 0.0);
}

#[test]
fn agent_loses_data_within_its_retention_max_time_and_the_flags_change_nothing() {
    let file = scenario("agent-outage");
    let v = run_json(&file, &[]);
    let loss = n(&v, "/samples/dropped/wal_truncation");
    assert!(loss / n(&v, "/samples/appended") > 0.2, "loss {loss}");
    assert_eq!(n(&v, "/samples/failed"), 0.0, "silent, as in Prometheus");
    assert_eq!(v["sender"]["mode"], "agent");
    let lost_at: Vec<f64> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "wal_truncation_loss")
        .map(|e| e["t_seconds"].as_f64().unwrap())
        .collect();
    assert_eq!(lost_at, [4.0 * 3600.0], "the 04:00 tick, 1h40m into a 3h40m outage");
    for flag in ["sender.agent.retention_max_time=100h", "sender.agent.retention_min_time=1h"] {
        let w = run_json(&file, &["--set", flag]);
        assert_eq!(n(&w, "/samples/dropped/wal_truncation"), loss, "{flag}: the flags only filter the checkpoint");
    }
}

#[test]
fn alloy_skips_truncations_while_frozen_then_loses_at_the_cap() {
    let file = scenario("alloy-outage");
    let v = run_json(&file, &[]);
    assert_eq!(v["sender"]["mode"], "alloy");
    assert_eq!(n(&v, "/wal/truncations_skipped"), 3.0, "06:00, 08:00, 10:00");
    assert!(n(&v, "/samples/dropped/wal_truncation") > 0.0);
    let loss_at = v["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "wal_truncation_loss").unwrap();
    assert_eq!(loss_at["t_seconds"], 12.0 * 3600.0);
    // A 7 h outage ends before the cap re-enables truncation: nothing lost.
    let short = run_json(&file, &["--set", "receiver.fault[0].length=7h"]);
    assert_eq!(lost(&short), 0.0);
    assert_eq!(n(&short, "/wal/truncations_skipped"), 2.0);
}

#[test]
fn restart_during_an_outage_skips_the_backlog() {
    let v = run_json(&scenario("restart-during-outage"), &[]);
    let skipped = n(&v, "/samples/dropped/restart_skip");
    // 100k series every 30 s, from the outage's start at 01:00 to the SIGTERM at 02:30.
    let ninety_minutes = (100_000.0 + 5.0 * 100.0) / 30.0 * 5400.0;
    assert!((skipped / ninety_minutes - 1.0).abs() < 0.02, "skipped {skipped}");
    assert!(n(&v, "/samples/not_scraped") > 0.0);
    assert_eq!(n(&v, "/samples/dropped/wal_truncation"), 0.0);
    assert_eq!(n(&v, "/sender/restarts"), 1.0);
    // Without the restart (moved to the last minute) the same outage loses nothing.
    let v = run_json(&scenario("restart-during-outage"), &["--set", "sender.event[0].at=5h59m"]);
    assert_eq!(n(&v, "/samples/dropped/restart_skip") + lost(&v), 0.0);
}

#[test]
fn reload_of_the_remote_write_entry_skips_the_backlog_and_a_secret_does_not() {
    let v = run_json(&scenario("reload-during-backlog"), &[]);
    let skipped = n(&v, "/samples/dropped/restart_skip");
    let thirty_minutes = (300_000.0 + 5.0 * 300.0) / 15.0 * 1800.0;
    assert!(skipped > 0.95 * thirty_minutes, "skipped {skipped}");
    // 3.x: commits wait for the reload's minute-long stop.
    let stalled = n(&v, "/samples/not_scraped") / ((300_000.0 + 1500.0) / 15.0);
    assert!((59.0..=61.0).contains(&stalled), "{stalled} s not scraped");
    let secret = std::fs::read_to_string(scenario("reload-during-backlog"))
        .unwrap()
        .replace(r#"change = "remote_write""#, r#"change = "secret""#);
    let path = temp_dir("reload-secret").join("secret.toml");
    std::fs::write(&path, secret).unwrap();
    let v = run_json(&path, &[]);
    assert_eq!(n(&v, "/samples/dropped/restart_skip") + n(&v, "/samples/not_scraped") + lost(&v), 0.0);
}

#[test]
fn oversized_queues_are_oom_killed_in_the_catch_up() {
    let v = run_json(&scenario("sender-oom-catchup"), &[]);
    assert_eq!(n(&v, "/sender/oom_kills"), 1.0);
    assert!(n(&v, "/sender/memory_peak_bytes") > 1.5 * (1u64 << 30) as f64);
    // Most of the 90-minute backlog (30 % of the 5-hour run) dies with the process or is
    // skipped on start.
    let skipped = n(&v, "/samples/dropped/restart_skip");
    assert!(skipped / n(&v, "/samples/appended") > 0.2, "skipped {skipped}");
    // The default capacity catches up within the limit.
    let v = run_json(&scenario("sender-oom-catchup"), &["--set", "remote_write.queue_config.capacity=10000"]);
    assert_eq!(n(&v, "/sender/oom_kills"), 0.0);
    assert_eq!(n(&v, "/samples/dropped/restart_skip") + lost(&v), 0.0);
}
