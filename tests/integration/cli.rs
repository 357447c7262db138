//! The command line: outputs, exit codes, and errors for bad input.

use crate::{assert_located_errors, run_json, rwsim, scenario, temp_dir};
use predicates::prelude::*;

#[test]
fn run_prints_a_forecast_table_and_timeline() {
    rwsim()
        .args(["run"])
        .arg(scenario("outage-short"))
        .assert()
        .success()
        .stdout(predicate::str::contains("rwsim forecast: outage-short (Prometheus 3.x"))
        .stdout(predicate::str::contains("delivered (2xx)"))
        .stdout(predicate::str::contains("lost: WAL truncation"))
        .stdout(predicate::str::contains("receiver fault #0: 500 on 100% of requests, for 15m"))
        .stdout(predicate::str::contains("caught up after"))
        .stdout(predicate::str::contains("Conservation: ok"));
}

/// Skipped reshards are explained (the gate's rule and why), not "refused by gate 87".
#[test]
fn skipped_reshards_say_what_the_gate_is_and_why() {
    let out = rwsim().arg("run").arg(scenario("outage-short")).arg("--literal").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("by gate"), "{text}");
    let line = text.lines().find(|l| l.starts_with("  reshards skipped ")).expect("a line for skipped reshards");
    assert!(line.contains(": the desired shard count differed, but Prometheus kept its shards: it reshards"), "{line}");
    assert!(text.contains("a batch completed in the last 10s (so not while the receiver is down)"), "{text}");
    // A healthy run skips none and says nothing about it.
    rwsim()
        .arg("run")
        .arg(scenario("default"))
        .assert()
        .success()
        .stdout(predicate::str::contains("reshards skipped").not());
}

#[test]
fn json_has_every_documented_field() {
    let v = run_json(&scenario("default"), &[]);
    for path in [
        "/scenario",
        "/seed",
        "/simulated_seconds",
        "/samples/appended",
        "/samples/delivered",
        "/samples/failed",
        "/samples/retried",
        "/samples/dropped/wal_truncation",
        "/samples/dropped/too_old",
        "/samples/dropped/reshard_shutdown",
        "/samples/pending_at_end",
        "/lag_seconds/max",
        "/lag_seconds/final",
        "/pending/max",
        "/delivery_latency_seconds/p50",
        "/delivery_latency_seconds/p99",
        "/delivery_latency_seconds/max",
        "/shards/min",
        "/shards/max",
        "/shards/final",
        "/shards/reshards",
        "/queue_memory_bytes_peak",
        "/conservation_ok",
    ] {
        assert!(v.pointer(path).is_some(), "missing {path}");
    }
    assert_eq!(v["conservation_ok"], true);
    assert_eq!(v["scenario"], "default");
}

#[test]
fn out_dir_gets_a_time_series_with_prometheus_metric_names() {
    let dir = temp_dir("out-dir");
    rwsim().arg("run").arg(scenario("outage-short")).arg("--out").arg(&dir).assert().success();
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in [
        "t_seconds",
        "samples_total",
        "samples_retried_total",
        "samples_pending",
        "shards",
        "shards_desired",
        "lag_seconds",
    ] {
        assert!(header.contains(&col), "column {col}");
    }
    // One row per 10 s step of the 2 h run, both ends included.
    assert_eq!(lines.count(), 721);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"], "outage-short");
}

#[test]
fn seed_flag_overrides_the_scenario_seed() {
    let v = run_json(&scenario("default"), &["--seed", "42"]);
    assert_eq!(v["seed"], 42);
}

#[test]
fn builtin_scenarios_are_listed_and_runnable_by_name() {
    rwsim()
        .arg("scenarios")
        .assert()
        .success()
        .stdout(predicate::str::contains("builtin:default"))
        .stdout(predicate::str::contains("builtin:bench-1m-24h"));
    rwsim().args(["validate", "builtin:outage-wal-loss"]).assert().success();
}

/// `run --out`, `run --openmetrics` and `report` say on stderr what they wrote, and every
/// file they name exists; stdout keeps only the forecast (here the JSON).
#[test]
fn run_and_report_say_which_files_they_wrote() {
    let dir = temp_dir("said-wrote");
    let (run_dir, om) = (dir.join("run"), dir.join("rw.om"));
    let out = rwsim()
        .arg("run")
        .arg(scenario("outage-short"))
        .args(["--literal", "--json", "--out"])
        .arg(&run_dir)
        .arg("--openmetrics")
        .arg(&om)
        .output()
        .unwrap();
    assert!(out.status.success());
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON alone");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    let listed = lines[0].strip_prefix(&format!("rwsim: wrote {}/: ", run_dir.display())).expect(&stderr);
    let files: Vec<&str> = listed.split(", ").collect();
    assert_eq!(files, ["timeseries.csv", "summary.json", "scenario.toml", "dashboard.png", "dashboard.svg"]);
    for f in files {
        assert!(run_dir.join(f).is_file(), "{f} was announced but not written");
    }
    assert_eq!(
        lines[1],
        format!(
            "rwsim: wrote {0} (OpenMetrics; backfill it with `promtool tsdb create-blocks-from openmetrics {0} DIR`)",
            om.display()
        )
    );
    assert!(om.is_file());
    assert_eq!(lines.len(), 2, "{stderr}");

    // `report` has no other output: what it wrote is its stdout.
    let out = rwsim().arg("report").arg(&run_dir).output().unwrap();
    assert!(out.status.success());
    let (md, html) = (run_dir.join("report.md"), run_dir.join("report.html"));
    let said = format!("rwsim: wrote {} and {}\n", md.display(), html.display());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), said);
    assert!(md.is_file() && html.is_file());
    // A report of a scenario file runs it first, and says where the run went too.
    let rep = dir.join("rep");
    let out = rwsim().arg("report").arg(scenario("outage-short")).arg("--out").arg(&rep).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with(&format!("rwsim: wrote {}/: timeseries.csv", rep.display())), "{stderr}");
    assert!(String::from_utf8(out.stdout).unwrap().ends_with("report.html\n"));
}

/// `run --set` errors speak of `--set`, not of a sweep, and say what to do instead.
#[test]
fn run_set_errors_talk_about_set_not_a_sweep() {
    let origin = "<builtin:outage-short>";
    for (set, want) in [
        ("seed=1", "--set seed=1: cannot be set with --set: use --seed N".to_string()),
        ("workload=1", "--set workload=1: is a table, not a value; set one of its keys: workload.series, ".into()),
        (
            "foo.bar=1",
            "--set foo.bar=1: unknown scenario key; the keys --set takes (those a sweep takes) are listed".into(),
        ),
        (
            "remote_write.queue_config.capacity=1,2",
            "--set remote_write.queue_config.capacity=1,2: \"1,2\" has 2 values; --set takes one value here".into(),
        ),
        (
            "capacity",
            "--set capacity: \"capacity\": expected KEY=VALUE, e.g. remote_write.queue_config.capacity=5000".into(),
        ),
        (
            "remote_write.queue_config.min_shards=100",
            format!(
                "{origin}:1:1: remote_write.queue_config.min_shards: min_shards (100) exceeds max_shards (50); \
                 --set sets it to 100"
            ),
        ),
        (
            "receiver.fault[0].length=5h",
            format!(
                "{origin}:30:7: receiver.fault[0].end: 5h30m is after the end of the run (2h); --set sets it to start \
                 + length = 30m + 5h = 5h30m (receiver.fault[0].length = 5h)"
            ),
        ),
        // Counts: the documented range, and the number "300k" stands for.
        ("workload.series=300k", "--set workload.series=300k: \"300k\" is not an integer: write 300000".into()),
        (
            "workload.series=-5",
            "--set workload.series=-5: \"-5\": must not be negative: an integer from 0 to 1,000,000,000".into(),
        ),
    ] {
        let out = rwsim().arg("run").arg("builtin:outage-short").args(["--set", set]).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(&format!("rwsim: error: {want}")), "--set {set}:\n got:  {stderr} want: {want}");
        assert!(!stderr.contains("swept") && !stderr.contains("the sweep"), "{stderr}");
    }
}

/// A prometheus.yml given to `run` is recognised, and `rwsim import` offered for it.
#[test]
fn a_prometheus_yml_given_to_run_points_to_import() {
    let yml = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus.yml");
    rwsim().arg("run").arg(&yml).assert().code(2).stdout("").stderr(format!(
        "rwsim: error: {0}:2:8: TOML syntax error: key with no value, expected `=`: this file is YAML, and looks like \
         a prometheus.yml; scenario files are TOML: `rwsim import {0}` writes one from it (docs/import.md)\n",
        yml.display()
    ));
}

/// A count in a scenario file: the documented range, not the u64 one, and "300k" spelt out.
#[test]
fn series_errors_name_the_documented_limit() {
    let dir = temp_dir("series-errors");
    let base = "duration = \"1h\"\n[workload]\n";
    assert_located_errors(
        &dir,
        "validate",
        base,
        &[
            ("series = -5\n", "3:10: workload.series: expected an integer from 0 to 1,000,000,000, found -5"),
            (
                "series = \"300k\"\n",
                "3:10: workload.series: expected an integer from 0 to 1,000,000,000, found string \"300k\"; write \
                 300000 (or 300_000), without a suffix or quotes",
            ),
            (
                "series: 300000\n",
                "3:9: TOML syntax error: key with no value, expected `=`: `series: 300000` looks like YAML; in TOML \
                 write `series = 300000`",
            ),
        ],
    );
}

/// `sweep` (whose `--out` defaults to the current directory) says on stderr which files it
/// wrote, and each exists.
#[test]
fn sweep_says_which_files_it_wrote() {
    let dir = temp_dir("sweep-said");
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        "duration = \"30m\"\n[workload]\nseries = 1000\n[[receiver.fault]]\nstart = \"5m\"\nend = \"10m\"\nstatus = 503\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = rwsim()
        .arg("sweep")
        .arg(&file)
        .args([
            "--set",
            "remote_write.queue_config.capacity=2500,5000",
            "--set",
            "remote_write.queue_config.max_shards=2,4",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    let stderr = String::from_utf8(o.stderr).unwrap();
    let listed = stderr
        .strip_prefix(&format!("rwsim: wrote {}/: ", out.display()))
        .and_then(|l| l.strip_suffix(" (.png and .svg)\n"))
        .expect(&stderr);
    let (files, charts) = listed.split_once(", and the charts ").expect(&stderr);
    assert_eq!(files, "sweep.csv, sweep.json, sweep-scenario.toml");
    for f in files.split(", ") {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(charts.contains("heatmap-loss"), "{charts}");
    for c in charts.split(", ") {
        assert!(out.join(format!("{c}.png")).is_file() && out.join(format!("{c}.svg")).is_file(), "{c}");
    }
}

/// `scenarios --show NAME` prints the bundled file as it is, comments included: saved and
/// run, it gives the same forecast as `builtin:NAME`.
#[test]
fn scenarios_show_prints_a_bundled_file_to_start_from() {
    let out = rwsim().args(["scenarios", "--show", "outage-short"]).output().unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8(out.stdout).unwrap();
    assert_eq!(shown, std::fs::read_to_string(scenario("outage-short")).unwrap());
    let dir = temp_dir("scenarios-show");
    let mine = dir.join("mine.toml");
    std::fs::write(&mine, &shown).unwrap();
    let a = run_json(&mine, &[]);
    let b = run_json(&scenario("outage-short"), &[]);
    assert_eq!(a["samples"], b["samples"]);
    // `builtin:NAME`, as `run` takes it, works too.
    rwsim().args(["scenarios", "--show", "builtin:outage-short"]).assert().success().stdout(shown);
    rwsim()
        .args(["scenarios", "--show", "outage-shrot"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "rwsim: error: --show outage-shrot: no bundled scenario has this name; the library has: agent-outage, ",
        ))
        .stderr(predicate::str::contains("outage-short"));
    // The list says how to start from one.
    rwsim()
        .arg("scenarios")
        .assert()
        .success()
        .stdout(predicate::str::contains("rwsim scenarios --show NAME > mine.toml"));
}

/// Broken scenario files: the exact message a user sees, and exit code 2.
#[test]
fn bad_scenarios_get_a_located_error_and_exit_2() {
    let dir = temp_dir("bad-input");
    let base = "duration = \"2h\"\n[workload]\nseries = 1000\n";
    let cases: &[(&str, &str)] = &[
        ("[remote_write.queue_config]\ncapacity = 0\n", "5:12: remote_write.queue_config.capacity: must be at least 1"),
        (
            "[remote_write.queue_config]\nmax_retries = 3\n",
            "5:1: remote_write.queue_config.max_retries: unknown field `max_retries`: removed in Prometheus v2.11",
        ),
        (
            "[remote_write.queue_config]\nmin_backoff = \"1s\"\nmax_backoff = \"10ms\"\n",
            "6:15: remote_write.queue_config.max_backoff: max_backoff (10ms) is below min_backoff (1s)",
        ),
        ("[tsdb]\nwal_segment_size = \"1MiB\"\n", "5:20: tsdb.wal_segment_size: must be between 10MiB and 256MiB"),
        (
            "[[receiver.fault]]\nstart = \"1h\"\nend = \"3h\"\nstatus = 500\n",
            "6:7: receiver.fault[0].end: 3h is after the end of the run (2h)",
        ),
        ("[output]\nstep = \"5x\"\n", "5:8: output.step: invalid duration \"5x\""),
    ];
    assert_located_errors(&dir, "run", base, cases);
    let out = rwsim().args(["run", "no-such-file.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.toml: cannot read the scenario file"));
}

#[test]
fn unwritable_out_dir_fails_before_simulating() {
    let dir = temp_dir("blocked");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = rwsim().arg("run").arg(scenario("default")).arg("--out").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a-file"));
}

/// The scenario.toml of a run with `--set` is that run: running it again, without the flags,
/// gives the same forecast as the summary.json next to it.
#[test]
fn scenario_toml_of_a_run_with_set_reruns_to_the_same_forecast() {
    let dir = temp_dir("set-scenario-toml");
    let flags = [
        "remote_write.queue_config.capacity=5000",
        "receiver.fault[0].length=40m",
        "sender.request_overhead=5ms",
        "receiver.latency.median=60ms",
    ];
    let mut first = rwsim();
    first.args(["run", "builtin:outage-short", "--literal"]);
    for f in flags {
        first.args(["--set", f]);
    }
    let out = first.arg("--out").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note:"), "the values were written in");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let again = run_json(&dir.join("scenario.toml"), &[]);
    assert_eq!(again, summary);
    let plain = rwsim().args(["run", "builtin:outage-short", "--literal", "--json"]).output().unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_ne!(plain, summary, "the flags change the run, so the check above can fail");
    let text = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
    assert!(text.contains("# What to look at:"), "the comments of the scenario are kept:\n{text}");
    assert!(text.contains("capacity = 5000  # --set on the command line"), "{text}");
    // The report of the directory describes the configuration that ran.
    rwsim().arg("report").arg(&dir).assert().success();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| capacity | 5,000 |"), "{md}");
}
