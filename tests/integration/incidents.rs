//! Each bundled incident scenario shows the signature an SRE would recognise from the
//! troubleshooting guides, and bad incident parameters get a located error.

use crate::{assert_located_errors, lost, n, run_json, scenario, temp_dir};
use serde_json::Value;
use std::path::PathBuf;

/// A bundled scenario with one line replaced (`from` must occur in it).
fn variant(name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(scenario(name)).unwrap();
    assert!(text.contains(from), "{name} has no {from:?}");
    let path = temp_dir(&format!("variant-{name}")).join(format!("{name}.toml"));
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

fn timeline_has(v: &Value, kind: &str) -> bool {
    v["timeline"].as_array().unwrap().iter().any(|e| e["kind"] == kind)
}

#[test]
fn oom_catch_up_burst_makes_a_crash_loop_and_headroom_a_single_crash() {
    let v = run_json(&scenario("ingester-oom-crashloop"), &[]);
    assert!(n(&v, "/receiver/crashes") > 5.0, "crash loop: {}", v["receiver"]);
    assert!(n(&v, "/receiver/responses/reset") > 0.0, "requests in flight were reset");
    assert!(
        n(&v, "/samples/dropped/wal_truncation") + n(&v, "/samples/unsendable_at_end") > 0.0,
        "the loop outlives the WAL"
    );
    assert!(timeline_has(&v, "receiver_down") && timeline_has(&v, "receiver_up"));
    // 220 MiB more headroom fits the 50-shard catch-up burst: one crash, then recovery.
    let roomy = variant("ingester-oom-crashloop", "memory_base = \"7900MiB\"", "memory_base = \"7680MiB\"");
    let v = run_json(&roomy, &[]);
    assert_eq!(n(&v, "/receiver/crashes"), 1.0);
    assert_eq!(lost(&v) + n(&v, "/samples/unsendable_at_end"), 0.0);
    assert!(n(&v, "/lag_seconds/final") < 10.0);
}

#[test]
fn overlapping_rollout_windows_cause_retried_500s_and_duplicates() {
    let v = run_json(&scenario("ring-unready-rollout"), &[]);
    assert!(n(&v, "/receiver/responses/5xx") > 50.0);
    assert_eq!(n(&v, "/samples/failed"), 0.0);
    assert!(n(&v, "/receiver/duplicate_samples") > 0.0, "partial writes are stored twice");
    // One ingester at a time never breaks a quorum of 2 of 3.
    let quick = variant("ring-unready-rollout", "unready_for = \"3m\"", "unready_for = \"1m30s\"");
    let v = run_json(&quick, &[]);
    assert_eq!(n(&v, "/receiver/responses/5xx") + n(&v, "/samples/retried"), 0.0);
}

#[test]
fn proxy_timeouts_are_retried_and_ingested_twice() {
    let v = run_json(&scenario("proxy-timeout-slow-upstream"), &[]);
    assert!(n(&v, "/receiver/responses/5xx") > 100.0, "504s");
    assert!(n(&v, "/samples/retried") > 0.0);
    assert_eq!(n(&v, "/samples/failed"), 0.0);
    let dup = n(&v, "/receiver/duplicate_samples");
    assert!(dup > 0.5 * n(&v, "/samples/retried"), "most retried samples were already stored: {dup}");
    assert!(n(&v, "/samples/dropped/wal_truncation") == 0.0);
}

#[test]
fn body_too_large_as_500_blocks_the_wal_and_loses_data_but_as_413_fails_visibly() {
    let v = run_json(&scenario("body-too-large-as-500"), &[]);
    assert_eq!(n(&v, "/samples/delivered"), 0.0, "every shard is stuck on an oversized batch");
    assert_eq!(n(&v, "/samples/failed"), 0.0, "a 500 is retried forever");
    assert!(n(&v, "/samples/retried") > 0.0);
    assert!(timeline_has(&v, "wal_reading_blocked"));
    assert!(n(&v, "/samples/unsendable_at_end") > 0.3 * n(&v, "/samples/appended"), "WAL truncation ate the backlog");
    let honest = variant("body-too-large-as-500", "body_too_large_status = 500", "body_too_large_status = 413");
    let v = run_json(&honest, &[]);
    assert!(n(&v, "/samples/failed") > 0.9 * n(&v, "/samples/appended"), "413 drops the batches: visible loss");
    assert_eq!(n(&v, "/samples/unsendable_at_end") + n(&v, "/samples/dropped/wal_truncation"), 0.0);
}

#[test]
fn throttled_sender_honours_retry_after() {
    let v = run_json(&scenario("tenant-throttled-429"), &[]);
    let throttled = n(&v, "/receiver/responses/429");
    assert!(throttled > 100.0);
    assert_eq!(n(&v, "/samples/failed"), 0.0, "retry_on_http_429 = true");
    // Every 429 costs the shard a 10 s sleep: the 3 h run cannot hold more than ~1080.
    assert!(throttled <= 3.0 * 3600.0 / 10.0, "{throttled} attempts means Retry-After was not honoured");
    assert!(n(&v, "/lag_seconds/final") > 3600.0);
    assert_eq!(n(&v, "/shards/max"), 1.0, "3.x does not reshard while retrying");
}

#[test]
fn partial_400s_fail_batches_in_proportion_while_the_receiver_keeps_them() {
    let v = run_json(&scenario("rejected-400"), &[]);
    let appended = n(&v, "/samples/appended");
    let share = n(&v, "/samples/failed") / appended;
    let expected = 1.0 - (1.0f64 - 0.0005).powi(2000);
    assert!((share - expected).abs() < 0.03, "failed share {share}, expected {expected}");
    assert_eq!(n(&v, "/samples/retried"), 0.0);
    assert!(n(&v, "/receiver/samples_ingested") > 0.999 * appended, "the valid samples were stored");
}

#[test]
fn object_storage_outage_fails_writes_only_once_disks_fill() {
    let v = run_json(&scenario("object-storage-outage"), &[]);
    let full = v["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "receiver_degraded").expect("disks fill");
    let at = full["t_seconds"].as_f64().unwrap();
    assert!(at > 3600.0 + 1800.0 && at < 3600.0 * 3.0, "disks full at {at}s");
    assert!(n(&v, "/receiver/responses/5xx") > 0.0);
    assert_eq!(lost(&v), 0.0);
    assert!(n(&v, "/lag_seconds/final") < 10.0, "caught up after storage recovered");
    let longer = variant("object-storage-outage", "end = \"4h\"", "end = \"5h\"");
    let v = run_json(&longer, &[]);
    assert!(n(&v, "/samples/dropped/wal_truncation") > 0.0, "an hour more outlives the WAL");
}

#[test]
fn black_hole_costs_remote_timeout_per_attempt_and_loses_nothing() {
    let v = run_json(&scenario("network-partition"), &[]);
    assert!(n(&v, "/receiver/responses/timeout") > 0.0);
    assert_eq!(n(&v, "/samples/failed") + lost(&v), 0.0);
    assert!(n(&v, "/lag_seconds/max") > 1100.0);
    assert!(n(&v, "/lag_seconds/final") < 10.0);
    let refused = variant("network-partition", "mode = \"blackhole\"", "mode = \"refused\"");
    let v = run_json(&refused, &[]);
    assert_eq!(n(&v, "/receiver/responses/timeout"), 0.0);
    assert!(n(&v, "/receiver/responses/refused") > 0.0);
}

#[test]
fn cardinality_spike_against_a_full_receiver_upshards_into_503s() {
    let v = run_json(&scenario("cardinality-spike"), &[]);
    assert_eq!(n(&v, "/shards/max"), 50.0, "upsharding to max_shards");
    assert!(n(&v, "/receiver/responses/5xx") > 1000.0, "accept queue overflowing");
    assert!(n(&v, "/lag_seconds/max") > 300.0);
    assert_eq!(lost(&v) + n(&v, "/samples/failed"), 0.0);
    assert!(n(&v, "/lag_seconds/final") < 10.0, "recovered once the series dropped back");
}

#[test]
fn bad_incident_parameters_get_located_errors() {
    let dir = temp_dir("bad-incidents");
    let base = "duration = \"2h\"\n[workload]\nseries = 1000\n[[receiver.incident]]\n";
    let cases: &[(&str, &str)] = &[
        ("kind = \"meteor\"\n", "5:8: receiver.incident[0].kind: unknown incident kind \"meteor\""),
        (
            "kind = \"oom\"\nrestart_time = \"1m\"\n",
            "4:1: receiver.incident[0]: an oom incident needs memory_limit, crash_at, or both",
        ),
        (
            "kind = \"rollout\"\ningesters = 2\ninterval = \"1m\"\nunready_for = \"2m\"\n",
            "6:13: receiver.incident[0].ingesters: 2 ingesters cannot hold 3 replicas of a series",
        ),
        (
            "kind = \"proxy\"\nread_timeout = \"10s\"\nrate = 5\n",
            "7:8: receiver.incident[0].rate: not a parameter of a proxy incident",
        ),
        (
            "kind = \"reject\"\nfraction = 1.5\n",
            "6:12: receiver.incident[0].fraction: must be greater than 0 and at most 1",
        ),
        ("kind = \"network\"\nmode = \"sideways\"\n", "6:8: receiver.incident[0].mode: unknown mode \"sideways\""),
        ("kind = \"throttle\"\n", "4:1: receiver.incident[0].rate: required key is missing"),
        (
            "kind = \"network\"\nmode = \"refused\"\nstart = \"3h\"\n",
            "7:9: receiver.incident[0].start: 3h is not before the end of the run (2h)",
        ),
    ];
    assert_located_errors(&dir, "validate", base, cases);
}

#[test]
fn a_crash_loop_past_the_window_cap_says_so_in_the_text_and_the_report() {
    // Crashes every few milliseconds all day: far more than the 10,000 incident windows a
    // run keeps. The JSON counts the rest; the forecast and the report must say it too.
    let dir = temp_dir("window-cap");
    let file = dir.join("loop.toml");
    let text = "prometheus = \"3.x\"\nduration = \"1d\"\n[workload]\nseries = 1000\ntargets = 10\n\
         [receiver]\nmemory_base = \"7999MiB\"\nmemory_per_inflight_sample = 1000000\n\
         [[receiver.incident]]\nkind = \"oom\"\nmemory_limit = \"8000MiB\"\ncrash_at = \"1m\"\n\
         restart_time = \"0s\"\nreplay_time = \"0s\"\nbackoff_initial = \"1ms\"\nbackoff_max = \"1ms\"\n";
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let run = crate::rwsim()
        .args(["run", "--literal", "--set", "simulation.max_events=100000000", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let forecast = String::from_utf8(run.stdout).unwrap();
    assert!(forecast.contains("later incident windows, counted but not kept"), "{forecast}");
    let report = crate::rwsim().arg("report").arg(&out).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("more incident windows than the first 10,000"), "{md}");
}
