//! Each bundled scenario shows the signature its header comment promises.

use crate::{run_json, scenario};
use serde_json::Value;

fn n(v: &Value, path: &str) -> f64 {
    v.pointer(path).and_then(Value::as_f64).unwrap_or_else(|| panic!("{path} missing"))
}

fn lost(v: &Value) -> f64 {
    n(v, "/samples/dropped/wal_truncation")
        + n(v, "/samples/dropped/too_old")
        + n(v, "/samples/dropped/reshard_shutdown")
}

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
