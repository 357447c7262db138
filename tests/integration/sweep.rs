//! `rwsim sweep` and `rwsim merge` (issue #4): determinism across thread counts and
//! partitions, the recommendation, and clear errors for bad grids.

use crate::{rwsim, temp_dir};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A short scenario with a stochastic receiver and a window of 429s: with
/// `retry_on_http_429 = false` half the samples sent in the window fail, with `true` none.
const SCENARIO: &str = r#"
duration = "1h"
seed = 7
[workload]
series = 20_000
targets = 20
scrape_interval = "15s"
[receiver]
latency = { distribution = "lognormal", median = "20ms", p99 = "200ms" }
[[receiver.fault]]
start = "10m"
end = "20m"
status = 429
probability = 0.5
"#;

const GRID: [&str; 6] = [
    "--set",
    "remote_write.queue_config.retry_on_http_429=false,true",
    "--set",
    "remote_write.queue_config.max_shards=1,2,4",
    "--set",
    "remote_write.queue_config.capacity=2000..6000:2000",
];

fn scenario_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `rwsim sweep FILE ARGS --out DIR`; returns stdout and the CSV written.
fn sweep(file: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, Vec<u8>) {
    let mut cmd = rwsim();
    cmd.arg("sweep").arg(file).args(args).arg("--out").arg(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "rwsim sweep failed: {}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read(out.join("sweep.csv")).unwrap_or_default();
    (String::from_utf8(o.stdout).unwrap(), csv)
}

/// The CSV as rows of named fields (no field of a sweep.csv is quoted).
fn rows(csv: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = std::str::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines.map(|l| header.iter().zip(l.split(',')).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter().find(|(h, _)| h == name).unwrap_or_else(|| panic!("no column {name}")).1
}

fn num(row: &[(String, String)], name: &str) -> f64 {
    field(row, name).parse().unwrap()
}

#[test]
fn one_and_two_threads_write_the_same_bytes() {
    let dir = temp_dir("sweep-threads");
    let file = scenario_file(&dir, SCENARIO);
    let mut args = GRID.to_vec();
    args.extend(["--replications", "2"]);
    let (out1, csv1) = sweep(&file, &dir.join("t1"), &args, &[("RAYON_NUM_THREADS", "1")]);
    let (out2, csv2) = sweep(&file, &dir.join("t2"), &args, &[("RAYON_NUM_THREADS", "2")]);
    let mut explicit = args.clone();
    explicit.extend(["--threads", "2"]);
    let (out3, csv3) = sweep(&file, &dir.join("t3"), &explicit, &[]);
    assert_eq!(csv1, csv2);
    assert_eq!(csv1, csv3);
    assert_eq!(out1, out2);
    assert_eq!(out1, out3);
    let rows = rows(&csv1);
    assert_eq!(rows.len(), 18);
    let seeds: Vec<&str> = rows.iter().map(|r| field(r, "seed")).collect();
    let mut distinct = seeds.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 18, "every point has its own seeds");
    for r in &rows {
        assert_eq!(field(r, "replications"), "2");
        // Two replications: an interval around the mean.
        let (lo, mean, hi) = (
            num(r, "delivery_latency_p99_seconds_ci_low"),
            num(r, "delivery_latency_p99_seconds"),
            num(r, "delivery_latency_p99_seconds_ci_high"),
        );
        assert!(lo <= mean && mean <= hi, "{lo} {mean} {hi}");
    }
}

#[test]
fn partitions_merged_equal_a_single_run() {
    let dir = temp_dir("sweep-partition");
    let file = scenario_file(&dir, SCENARIO);
    let (single_out, single_csv) = sweep(&file, &dir.join("single"), &GRID, &[]);
    let parts = dir.join("parts");
    for i in 0..3 {
        let mut args = GRID.to_vec();
        let p = format!("{i}/3");
        args.extend(["--partition", &p]);
        let (out, _) = sweep(&file, &parts, &args, &[]);
        assert!(out.contains(&format!("partition {i}/3: wrote 6 of the 18 points")));
    }
    let merged = dir.join("merged");
    let part = |i: usize| parts.join(format!("sweep-part-{i}-of-3.csv"));
    let o = rwsim().arg("merge").args([part(2), part(0), part(1)]).arg("--out").arg(&merged).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(merged.join("sweep.csv")).unwrap(), single_csv);
    assert_eq!(String::from_utf8(o.stdout).unwrap(), single_out);

    rwsim().arg("merge").args([part(0), part(2)]).arg("--out").arg(dir.join("incomplete")).assert().code(2).stderr(
        predicate::str::contains(
            "6 of the 18 points are missing (points 1, 4, 7, 10, 13, 16): did every partition finish?",
        ),
    );
}

#[test]
fn recommendation_matches_a_brute_force_check() {
    let dir = temp_dir("sweep-recommend");
    let file = scenario_file(&dir, SCENARIO);
    let (single, csv) = sweep(&file, &dir.join("all"), &GRID, &[]);
    let rows = rows(&csv);
    // Pick a p99 target that excludes some loss-free points, so the check is not trivial.
    let mut p99s: Vec<f64> = rows
        .iter()
        .filter(|r| num(r, "loss_fraction") == 0.0)
        .map(|r| num(r, "delivery_latency_p99_seconds"))
        .collect();
    assert!(p99s.len() >= 2, "some points are loss-free");
    p99s.sort_by(f64::total_cmp);
    let p99_target = p99s[p99s.len() / 2];
    let ms = (p99_target * 1000.0).ceil() as u64;
    let target = format!("{ms}ms");
    let mut args = GRID.to_vec();
    args.extend(["--max-p99-latency", &target]);
    let (out, _) = sweep(&file, &dir.join("targeted"), &args, &[]);

    let limit = ms as f64 / 1000.0;
    let best = rows
        .iter()
        .filter(|r| num(r, "loss_fraction") == 0.0 && num(r, "delivery_latency_p99_seconds") <= limit)
        .min_by(|a, b| {
            let key = |r: &[(String, String)]| {
                (num(r, "queue_memory_bytes_peak"), num(r, "delivery_latency_p99_seconds"), num(r, "point"))
            };
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(ka.2.total_cmp(&kb.2))
        })
        .expect("a point meets the targets");
    let want = format!("Recommendation: point {}:", field(best, "point"));
    assert!(out.contains(&want), "want {want} in\n{out}");
    assert!(out.contains(&format!("      max_shards: {}\n", field(best, "max_shards"))));
    assert!(out.contains(&format!("      capacity: {}\n", field(best, "capacity"))));
    assert!(out.contains("      retry_on_http_429: true\n"));
    assert!(out.contains("WAL truncation, which no Prometheus metric reports"));
    assert_ne!(out, single, "the target changes the report");
}

#[test]
fn a_grid_where_every_point_loses_data_says_so_and_recommends_nothing() {
    let dir = temp_dir("sweep-lossy");
    let text = SCENARIO.replace("status = 429", "status = 400");
    let file = scenario_file(&dir, &text);
    let (out, csv) = sweep(&file, &dir.join("o"), &["--set", "remote_write.queue_config.max_shards=1,2"], &[]);
    assert!(rows(&csv).iter().all(|r| num(r, "failed") > 0.0));
    assert!(out.contains("No recommendation: no point meets every target."), "{out}");
    assert!(out.contains("loss ≤ 0%: met by 0 of 2 points"));
    assert!(out.contains("Every point of this grid loses data"));
    assert!(!out.contains("Paste into"), "nothing to paste: {out}");
    // The levers besides queue_config, each run: none helps against rejected requests.
    assert!(out.contains("What else would meet the targets"), "{out}");
    assert!(out.contains("--storage.tsdb.min-block-duration="), "{out}");
    assert!(out.contains("None of these alone meets loss ≤ 0%."), "{out}");
    assert!(dir.join("o").join("levers.json").is_file());
}

#[test]
fn a_point_is_reproduced_by_run_with_set_and_seed() {
    let dir = temp_dir("sweep-reproduce");
    let file = scenario_file(&dir, SCENARIO);
    let (_, csv) = sweep(&file, &dir.join("o"), &["--set", "remote_write.queue_config.max_shards=1,3"], &[]);
    let row = &rows(&csv)[1];
    let v = crate::run_json(&file, &["--set", "remote_write.queue_config.max_shards=3", "--seed", field(row, "seed")]);
    assert_eq!(v["samples"]["failed"].as_f64(), Some(num(row, "failed")));
    assert_eq!(v["delivery_latency_seconds"]["p99"].as_f64(), Some(num(row, "delivery_latency_p99_seconds")));
    assert_eq!(v["shards"]["max"].as_f64(), Some(num(row, "shards_max")));
}

#[test]
fn sweep_table_in_the_file_defines_the_grid_and_run_ignores_it() {
    let dir = temp_dir("sweep-table");
    let text = format!(
        "{SCENARIO}\n[sweep]\n\"remote_write.queue_config.max_shards\" = [1, 2]\n\"receiver.fault[0].length\" = \"5m..15m:5m\"\n"
    );
    let file = scenario_file(&dir, &text);
    crate::run_json(&file, &[]);
    rwsim().arg("validate").arg(&file).assert().success().stdout(predicate::str::contains("[sweep] of 6 valid points"));
    let (out, csv) = sweep(&file, &dir.join("o"), &[], &[]);
    assert!(out.contains("6 points × 1 replication"), "{out}");
    let header = String::from_utf8(csv).unwrap();
    assert!(header.starts_with("point,remote_write.queue_config.max_shards,receiver.fault[0].length,"));
    // --set replaces the file's axis for the same key.
    let (out, _) = sweep(&file, &dir.join("p"), &["--set", "receiver.fault[0].length=10m"], &[]);
    assert!(out.contains("2 points × 1 replication"), "{out}");
}

/// Bad grids: the message a user sees, and exit code 2, before anything runs.
#[test]
fn bad_grid_specs_get_clear_errors() {
    let dir = temp_dir("sweep-errors");
    let file = scenario_file(&dir, SCENARIO);
    let cases: &[(&str, &str)] = &[
        (
            "remote_write.queue_config.capacity=10000..2500:2500",
            "rwsim: error: --set remote_write.queue_config.capacity=10000..2500:2500: the range \"10000..2500:2500\" is empty: its end (2500) is below its start (10000)",
        ),
        (
            "remote_write.queue_config.max_shards=10..200:0",
            "the range \"10..200:0\" has a step of 0: the step must be greater than 0",
        ),
        (
            "remote_write.queue_config.max_shard=10,20",
            "unknown scenario key; did you mean `remote_write.queue_config.max_shards`?",
        ),
        ("prometheus=2.42", "cannot be swept: it is a version, not a number"),
        ("receiver.fault[0].length=30", "invalid duration \"30\": the unit is missing"),
        ("remote_write.queue_config.max_shards=10..200", "has no step: write A..B:STEP, e.g. 10..200:10"),
        (
            "receiver.fault[1].end=30m",
            "receiver.fault[1].end: receiver.fault[1] does not exist: the file has 1 [[receiver.fault]] (numbered from 0) (at sweep point 0: receiver.fault[1].end = 30m)",
        ),
        (
            "receiver.fault[0].length=30m,1h",
            "receiver.fault[0].end: 1h10m is after the end of the run (1h); the sweep sets it to start + length = 10m + 1h = 1h10m (receiver.fault[0].length = 1h) (at sweep point 1: receiver.fault[0].length = 1h)",
        ),
    ];
    for (set, want) in cases {
        let o = rwsim().arg("sweep").arg(&file).args(["--set", set, "--out"]).arg(dir.join("never")).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{set}: {stderr}");
        assert!(stderr.contains(want), "{set}:\ngot:  {stderr}\nwant: {want}");
        assert!(o.stdout.is_empty());
    }
    let o = rwsim()
        .arg("sweep")
        .arg(&file)
        .args([
            "--set",
            "remote_write.queue_config.capacity=1..1000:1",
            "--set",
            "remote_write.queue_config.max_shards=1..1000:1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the grid has 1000 × 1000 = 1000000 points, more than the limit of 100000")
    );
    // A bad [sweep] table is located in the file, like any other key.
    let bad = scenario_file(&dir, &format!("{SCENARIO}[sweep]\n\"remote_write.queue_config.capacity\" = \"5..1:1\"\n"));
    rwsim().arg("sweep").arg(&bad).assert().code(2).stderr(predicate::str::contains(
        ":16:40: sweep.\"remote_write.queue_config.capacity\": the range \"5..1:1\" is empty",
    ));
}

/// A short Grafana Alloy scenario: a 10-minute outage that the default WAL keeps.
const ALLOY: &str = r#"
duration = "2h"
seed = 7
prometheus = "3.x"
[workload]
series = 20_000
targets = 20
scrape_interval = "15s"
[sender]
mode = "alloy"
[receiver]
latency = { distribution = "lognormal", median = "20ms", p99 = "200ms" }
[[receiver.fault]]
start = "10m"
end = "20m"
status = 503
"#;

/// An Alloy sweep's recommendation is Alloy's `prometheus.remote_write` component with the
/// recommended values in Alloy's syntax, not prometheus.yml; partitions merged without the
/// scenario print the same (the sender travels in sweep.csv).
#[test]
fn an_alloy_sweep_recommends_an_alloy_component() {
    let dir = temp_dir("sweep-alloy");
    let file = scenario_file(&dir, ALLOY);
    let grid =
        ["--set", "remote_write.queue_config.capacity=2500,5000", "--set", "sender.alloy.truncate_frequency=1h,2h"];
    let (out, csv) = sweep(&file, &dir.join("single"), &grid, &[]);
    assert!(out.starts_with("rwsim sweep: scenario (Grafana Alloy on Prometheus 3.x code)"), "{out}");
    assert!(!out.contains("queue_config:") && !out.contains("prometheus.yml"), "no Prometheus YAML: {out}");
    let rec = out.lines().find(|l| l.starts_with("Recommendation: point ")).expect(&out);
    let value = |key: &str| rec.split(&format!("{key} = ")).nth(1).unwrap().split([',', ' ']).next().unwrap();
    let (capacity, period) = (value("capacity"), value("truncate_frequency"));
    let block = &out[out.find("    prometheus.remote_write \"default\" {\n").expect(&out)..];
    let block = &block[..block.find("\n    }\n").expect("the component closes") + 6];
    for line in [
        "      endpoint {\n".to_string(),
        "        queue_config {\n".into(),
        format!("          capacity             = {capacity}\n"),
        "          batch_send_deadline  = \"5s\"\n".into(),
        "          retry_on_http_429    = true\n".into(),
        format!("      wal {{\n        truncate_frequency = \"{period}\"\n      }}\n"),
    ] {
        assert!(block.contains(&line), "{line:?} in\n{block}");
    }
    assert_eq!(block.matches('{').count(), block.matches('}').count(), "{block}");
    let json = std::fs::read_to_string(dir.join("single/sweep.json")).unwrap();
    assert!(json.contains("\"sender\": \"alloy\""), "{json}");
    assert!(rows(&csv).iter().all(|r| field(r, "sender") == "alloy"));

    let parts = dir.join("parts");
    for i in 0..2 {
        let p = format!("{i}/2");
        sweep(&file, &parts, &[&grid[..], &["--partition", &p]].concat(), &[]);
    }
    let part = |i: usize| parts.join(format!("sweep-part-{i}-of-2.csv"));
    let o = rwsim().arg("merge").args([part(1), part(0)]).arg("--out").arg(dir.join("merged")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), out, "merged without the scenario, still Alloy's spelling");
}

/// When no Alloy setting meets the targets, the levers are Alloy's own (its `wal` block),
/// and the segment size and block range it lacks are said to be absent, not run (running
/// them made the sweep fail on Alloy's fixed 128MiB segments).
#[test]
fn an_alloy_sweep_that_loses_data_tries_alloys_own_levers() {
    let dir = temp_dir("sweep-alloy-levers");
    let text =
        ALLOY.replace("duration = \"2h\"", "duration = \"3h\"").replace("end = \"20m\"", "end = \"2h\"").replace(
            "[receiver]",
            "[sender.alloy]\ntruncate_frequency = \"20m\"\nmax_keepalive_time = \"30m\"\n[receiver]",
        );
    let file = scenario_file(&dir, &text);
    let (out, _) = sweep(&file, &dir.join("out"), &["--set", "remote_write.queue_config.capacity=2500,5000"], &[]);
    assert!(out.contains("No recommendation"), "{out}");
    assert!(out.contains("Alloy has no setting for the WAL segment size"), "{out}");
    assert!(
        out.contains("  - wal { truncate_frequency = \"40m\" } in prometheus.remote_write: meets the targets"),
        "{out}"
    );
    assert!(out.contains("queue_config { sample_age_limit = "), "{out}");
    assert!(!out.contains("--storage.") && !out.contains("queue_config:"), "no Prometheus flag or YAML: {out}");
    let levers = std::fs::read_to_string(dir.join("out/levers.json")).unwrap();
    assert!(levers.contains("\"sender\": \"alloy\""), "{levers}");
}

/// A vmagent sweep recommends vmagent's flags, with its names and units, and counts the
/// blocks a full disk queue drops as lost.
#[test]
fn a_vmagent_sweep_recommends_vmagent_flags() {
    let dir = temp_dir("sweep-vmagent");
    let file = scenario_file(
        &dir,
        &SCENARIO.replace(
            "[receiver]",
            "[sender]\nmode = \"vmagent\"\n[vmagent]\nversion = \"1.79\"\ncpus = 1\n\
             remoteWrite.maxDiskUsagePerURL = \"1MB\"\n[receiver]",
        ),
    );
    let grid = ["--set", "vmagent.remoteWrite.queues=1,4", "--set", "vmagent.remoteWrite.maxDiskUsagePerURL=1MB,2GB"];
    let (out, csv) = sweep(&file, &dir.join("out"), &grid, &[]);
    assert!(out.contains("(VictoriaMetrics vmagent)"), "{out}");
    assert!(out.contains("  vmagent.remoteWrite.maxDiskUsagePerURL: 1MB, 2GB\n"), "{out}");
    assert!(out.contains("\n  Start vmagent with:\n\n    -remoteWrite.queues="), "{out}");
    assert!(out.contains("    -remoteWrite.maxDiskUsagePerURL=2GB\n"), "the cap that keeps the backlog: {out}");
    for prometheus in ["queue_config", "prometheus.yml", "--storage.", "Start Prometheus"] {
        assert!(!out.contains(prometheus), "{prometheus} in {out}");
    }
    let rows = rows(&csv);
    let small: Vec<_> = rows.iter().filter(|r| field(r, "vmagent.remoteWrite.maxDiskUsagePerURL") == "1MB").collect();
    // The 10-minute window of 429s (half the requests) fills a 1MB disk queue: blocks are
    // dropped, and that is loss even though no Prometheus column counts it.
    assert!(small.len() == 2 && small.iter().all(|r| num(r, "loss_fraction") > 0.01), "{rows:?}");
    assert!(small.iter().all(|r| num(r, "failed") == 0.0 && num(r, "dropped_wal_truncation") == 0.0));
}

#[test]
fn a_sweeps_loss_is_the_runs_loss_restart_skips_included() {
    // A restart during the outage: its new queue skips the WAL it had not sent (restart_skip)
    // and nothing is scraped while the process is down (not_scraped). The sweep's loss must
    // be the run's (all of its gaps), or a sweep would rank settings on part of the loss.
    let dir = temp_dir("sweep-restart-loss");
    let out = dir.join("out");
    rwsim()
        .args([
            "sweep",
            "builtin:restart-during-outage",
            "--set",
            "remote_write.queue_config.capacity=2500,20000",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let mut rows = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut checked = 0;
    for row in rows.records() {
        let row = row.unwrap();
        let (capacity, seed) = (&row[col("capacity")], &row[col("seed")]);
        let sweep_loss: f64 = row[col("loss_fraction")].parse().unwrap();
        let run = rwsim()
            .args(["run", "builtin:restart-during-outage", "--literal", "--json", "--seed", seed, "--set"])
            .arg(format!("remote_write.queue_config.capacity={capacity}"))
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let skipped =
            v["samples"]["dropped"]["restart_skip"].as_u64().unwrap() + v["samples"]["not_scraped"].as_u64().unwrap();
        assert!(skipped > 0, "the restart loses data of its own: {}", v["samples"]);
        // What `rwsim run` prints: every gap over the samples produced (appended or not scraped).
        let produced = v["samples"]["appended"].as_f64().unwrap() + v["samples"]["not_scraped"].as_f64().unwrap();
        let run_loss = v["gaps"]["samples"].as_f64().unwrap() / produced;
        assert!((sweep_loss - run_loss).abs() < 1e-12, "capacity {capacity}: sweep {sweep_loss} vs run {run_loss}");
        checked += 1;
    }
    assert_eq!(checked, 2);
}
