//! The answers a planner acts on, as a user gets them: loss as time (gaps), the best, median
//! and worst case over what nobody controls, the outage budget, and a sweep's budget column.

use crate::{n, rwsim, temp_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// 25 minutes of 503 against 20-minute blocks and 10 MiB segments (~6k samples/s): as written
/// (41 minutes in, a minute after a block boundary) the WAL holds it; started 5 to 16 minutes
/// after a boundary it does not. Small enough to run dozens of times in a test.
const PHASE_SENSITIVE: &str = r#"
name = "phase-sensitive"
duration = "150m"
[workload]
series = 60_000
targets = 20
scrape_interval = "10s"
[tsdb]
min_block_duration = "20m"
wal_segment_size = "10MiB"
[[receiver.fault]]
start = "41m"
end = "1h6m"
status = 503
"#;

fn file(dir: &Path, text: &str) -> PathBuf {
    let f = dir.join("phase-sensitive.toml");
    std::fs::write(&f, text).unwrap();
    f
}

fn run(file: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = rwsim();
    cmd.arg("run").arg(file).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_phase_sensitive_outage_names_its_best_and_worst_case() {
    let dir = temp_dir("answers-phase");
    let f = file(&dir, PHASE_SENSITIVE);
    let out = run(&f, &[], &[]);
    // The answer in time comes first, with the worst case.
    let mut lines = out.lines().skip(2);
    assert_eq!(lines.next(), Some("No data lost."), "{out}");
    let worst = lines.next().unwrap();
    assert!(worst.starts_with("Worst case: ") && worst.contains("after a block boundary"), "{out}");
    let line = |name: &str| out.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{out}"));
    assert!(line("as written").contains("nothing lost"));
    assert!(line("best").contains("nothing lost"));
    assert!(line("worst").contains("lost (") && line("worst").contains("after a block boundary"), "{out}");
    assert!(out.contains("This outage loses nothing only if it starts"), "{out}");
    assert!(out.contains("varied: the outage's start over one 20m block range"));
    assert!(out.contains("tsdb.wal_bytes_per_sample 6.3 and 11.4 (default 10)"), "{out}");

    // --literal runs it once and says so.
    let literal = run(&f, &["--literal"], &[]);
    assert!(literal.contains("No data lost.\n"), "{literal}");
    assert!(literal.contains("--literal: the scenario as written, run once"));
    assert!(!literal.contains("Worst case"));
}

#[test]
fn json_keeps_the_literal_fields_and_adds_gaps_and_robust_beside_them() {
    let dir = temp_dir("answers-json");
    // Started 15 minutes after a boundary, the scenario as written loses data.
    let text = PHASE_SENSITIVE.replace("start = \"41m\"", "start = \"35m\"").replace("end = \"1h6m\"", "end = \"1h\"");
    let f = file(&dir, &text);
    let (robust_text, literal_text) = (run(&f, &["--json"], &[]), run(&f, &["--json", "--literal"], &[]));
    let robust: Value = serde_json::from_str(&robust_text).unwrap();
    let literal: Value = serde_json::from_str(&literal_text).unwrap();
    // Every field of the scenario as written keeps its place and value; `robust` comes last.
    let keys = |t: &str| {
        t.lines()
            .filter_map(|l| l.strip_prefix("  \""))
            .map(|l| l.split('"').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&robust_text), keys(&literal_text));
    assert_eq!(keys(&robust_text)[..5], ["scenario", "prometheus", "seed", "simulated_seconds", "samples"]);
    assert_eq!(keys(&robust_text).last().map(String::as_str), Some("robust"));
    assert!(keys(&robust_text).iter().any(|k| k == "gaps"));
    for k in ["samples", "lag_seconds", "shards", "queue_memory_bytes_peak", "gaps", "timeline"] {
        assert_eq!(robust[k], literal[k], "{k}");
    }
    assert!(literal["robust"].is_null());
    // The gaps add up to the lost samples.
    let lost = n(&robust, "/samples/failed")
        + n(&robust, "/samples/dropped/wal_truncation")
        + n(&robust, "/samples/dropped/too_old")
        + n(&robust, "/samples/dropped/reshard_shutdown")
        + n(&robust, "/samples/unsendable_at_end");
    assert!(lost > 0.0, "this start loses data");
    let gaps = robust["gaps"]["list"].as_array().unwrap();
    let sum: f64 = gaps.iter().map(|g| g["samples"].as_f64().unwrap()).sum();
    assert_eq!(sum, lost);
    assert_eq!(n(&robust, "/gaps/samples"), lost);
    for g in gaps {
        for k in ["from_seconds", "to_seconds", "duration_seconds", "samples", "coverage", "reason"] {
            assert!(!g[k].is_null(), "gap field {k}");
        }
    }
    let r = &robust["robust"];
    assert!(n(r, "/worst/lost_samples") >= n(r, "/median/lost_samples"));
    assert!(n(r, "/median/lost_samples") >= n(r, "/best/lost_samples"));
    assert!(r["worst"]["variation"]["phase_seconds"].is_number());
}

#[test]
fn the_robust_answer_is_the_same_on_one_thread_and_two() {
    let dir = temp_dir("answers-threads");
    let f = file(&dir, PHASE_SENSITIVE);
    let one = run(&f, &["--json"], &[("RAYON_NUM_THREADS", "1")]);
    let two = run(&f, &["--json"], &[("RAYON_NUM_THREADS", "2")]);
    assert_eq!(one, two);
}

#[test]
fn a_scenario_without_an_outage_says_why_it_ran_once() {
    let out = run(&crate::scenario("default"), &[], &[]);
    assert!(out.contains("No data lost.\n"), "{out}");
    assert!(out.contains("Run once: this scenario has no fault window, incident or sender event"), "{out}");
}

#[test]
fn budget_prints_the_worst_and_best_phase_with_the_curve_as_text_json_and_chart() {
    let dir = temp_dir("answers-budget");
    let f = file(&dir, PHASE_SENSITIVE);
    let out_dir = dir.join("b");
    let o = rwsim().arg("budget").arg(&f).arg("--out").arg(&out_dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("Outage budget: 14m when it starts 15m5s after a block boundary (the worst phase)"),
        "{text}"
    );
    // The grid's best (32m at 17m35s) is improved by the refinement around it.
    assert!(text.contains("33m when it starts 16m1s after one (the best)"), "{text}");
    assert!(text.contains("around the worst and the best"), "{text}");
    assert!(text.contains("Data lost against outage length"));
    let said = format!("rwsim: wrote {}/: budget.json, budget.png, budget.svg\n", out_dir.display());
    assert_eq!(String::from_utf8(o.stderr).unwrap(), said, "what --out wrote, on stderr");
    let json: Value = serde_json::from_slice(&std::fs::read(out_dir.join("budget.json")).unwrap()).unwrap();
    assert_eq!(n(&json, "/worst/budget_seconds"), 14.0 * 60.0);
    assert_eq!(json["scenario"], "phase-sensitive");
    assert_eq!(json["curve_worst"].as_array().unwrap().len(), 17, "0 to 80 minutes every 5");
    let svg = std::fs::read(out_dir.join("budget.svg")).unwrap();
    assert!(String::from_utf8_lossy(&svg).contains("Outage budget: phase-sensitive"));
    // The same budget gives the same chart, byte for byte.
    let again = dir.join("again");
    let o = rwsim().arg("budget").arg(&f).arg("--json").arg("--out").arg(&again).output().unwrap();
    assert!(o.status.success());
    assert_eq!(std::fs::read(again.join("budget.svg")).unwrap(), svg);
    assert_eq!(std::fs::read(again.join("budget.png")).unwrap(), std::fs::read(out_dir.join("budget.png")).unwrap());
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap(), json);

    // No outage, no budget: a clear error.
    let o = rwsim().arg("budget").arg(crate::scenario("default")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no outage to lengthen"));
}

#[test]
fn a_sweep_over_outage_lengths_has_the_budget_per_setting() {
    let dir = temp_dir("answers-sweep-budget");
    let f = file(&dir, PHASE_SENSITIVE);
    let o = rwsim()
        .arg("sweep")
        .arg(&f)
        .args(["--set", "tsdb.wal_segment_size=10MiB,40MiB", "--set", "receiver.fault[0].length=10m..40m:10m"])
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("outage budget"), "{text}");
    let csv = std::fs::read_to_string(dir.join("o").join("sweep.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"outage_budget_seconds"));
    // Every point of a setting carries its budget, a multiple of the swept spacing.
    for line in csv.lines().skip(1) {
        let b: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        assert_eq!(b % 600.0, 0.0, "{line}");
    }
}

#[test]
fn a_lossy_forecast_ends_with_what_would_help_and_a_clean_one_does_not() {
    let dir = temp_dir("next-steps");
    let lossy =
        run(&file(&dir, PHASE_SENSITIVE.replace("end = \"1h6m\"", "end = \"2h\"").as_str()), &["--literal"], &[]);
    let tail = lossy.split("What would help").nth(1).unwrap_or_else(|| panic!("no next steps: {lossy}"));
    assert!(tail.contains("rwsim budget ") && tail.contains("rwsim sweep "), "{tail}");
    // As written the WAL holds the outage: nothing lost, nothing to suggest.
    let clean = run(&file(&dir, PHASE_SENSITIVE), &["--literal"], &[]);
    assert!(!clean.contains("What would help"), "{clean}");
    // Made lossy on the command line: the suggestions are about that same scenario.
    let set = run(&file(&dir, PHASE_SENSITIVE), &["--literal", "--set", "receiver.fault[0].length=1h30m"], &[]);
    let tail = set.split("What would help").nth(1).unwrap_or_else(|| panic!("no next steps: {set}"));
    assert!(tail.contains("phase-sensitive.toml --set 'receiver.fault[0].length=1h30m'"), "{tail}");
}

#[test]
fn a_run_that_ends_far_behind_does_not_say_plainly_that_nothing_is_lost() {
    // The receiver is down for the last half hour: nothing is lost yet, but half an hour of
    // samples is unsent, and the next WAL truncation may take it.
    let dir = temp_dir("behind");
    let scenario = |end: &str| {
        format!(
            "prometheus = \"3.x\"\nduration = \"1h\"\n[workload]\nseries = 20_000\ntargets = 20\n\
             [[receiver.fault]]\nstart = \"30m\"\nend = \"{end}\"\nstatus = 503\n"
        )
    };
    let behind = run(&file(&dir, &scenario("1h")), &["--literal"], &[]);
    assert!(behind.contains("No data lost by the end of the run.\nThe run ends 30m"), "{behind}");
    assert!(behind.contains("not yet sent"), "{behind}");
    assert!(behind.contains("What would help"), "{behind}");
    // The same outage over by 35m: the queue catches up, and the plain answer stands.
    let caught_up = run(&file(&dir, &scenario("35m")), &["--literal"], &[]);
    assert!(caught_up.contains("No data lost."), "{caught_up}");
    assert!(!caught_up.contains("The run ends") && !caught_up.contains("What would help"), "{caught_up}");
}

#[test]
fn a_sender_down_most_of_the_run_loses_at_most_everything_in_every_answer() {
    // Down for 1h50m of 2h: what was never scraped is lost, and every answer's share is of
    // what the workload produced, so none can pass 100% (a share of the appended samples
    // alone went far past it).
    let dir = temp_dir("down-most");
    let text = "prometheus = \"3.x\"\nduration = \"2h\"\n[workload]\nseries = 20_000\ntargets = 20\n\
                [[sender.event]]\nat = \"5m\"\nkind = \"crash\"\ndown_for = \"1h50m\"\n";
    let f = dir.join("down.toml");
    std::fs::write(&f, text).unwrap();
    let forecast = run(&f, &["--literal"], &[]);
    let share = |text: &str, after: &str| -> f64 {
        let tail = &text[text.find(after).unwrap_or_else(|| panic!("{after:?} in {text}")) + after.len()..];
        tail.split('%').next().unwrap().trim().parse().unwrap()
    };
    let headline = share(&forecast, "of data lost, ");
    assert!(headline > 80.0 && headline <= 100.0, "{forecast}");
    let out = dir.join("sweep");
    rwsim()
        .args(["sweep"])
        .arg(&f)
        .args(["--set", "remote_write.queue_config.capacity=2500,10000", "--out"])
        .arg(&out)
        .assert()
        .success();
    let mut rows = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
    let col = rows.headers().unwrap().iter().position(|h| h == "loss_fraction").unwrap();
    for row in rows.records() {
        let loss: f64 = row.unwrap()[col].parse().unwrap();
        assert!((loss * 100.0 - headline).abs() < 1.0, "sweep {loss} vs forecast {headline}%");
    }
}
