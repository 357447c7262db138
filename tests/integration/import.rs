//! `rwsim import` and `rwsim calibrate --from`: configurations and saved answers of a real
//! Prometheus in, runnable scenarios out.

use crate::{run_json, rwsim, temp_dir};
use predicates::prelude::*;
use std::path::PathBuf;

const YML: &str = "global:\n  scrape_interval: 30s\n\
scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['a:9100', 'b:9100', 'c:9100']\n\
remote_write:\n  - url: https://mimir.example/api/v1/push\n    name: mimir\n    write_relabel_configs:\n      - action: drop\n        regex: go_.*\n        source_labels: [__name__]\n    queue_config:\n      max_shards: 20\n      batch_send_deadline: 1m30s\n";

fn saved(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("live/src/calibrate/testdata").join(name)
}

#[test]
fn import_writes_a_runnable_scenario_and_says_what_it_assumed() {
    let dir = temp_dir("import-cli");
    let yml = dir.join("prometheus.yml");
    std::fs::write(&yml, YML).unwrap();
    rwsim()
        .args(["import"])
        .arg(&yml)
        .args(["--prometheus-version", "2.42.0", "--flags", "--storage.tsdb.wal-segment-size=32MB", "--out"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 remote_write entry"))
        .stdout(predicate::str::contains("scrape_configs: 1 job, 3 static targets\n"))
        .stdout(predicate::str::contains("ASSUMED workload.series = 3000: required and not in any configuration"))
        .stdout(predicate::str::contains("WARNING: remote_write[0].write_relabel_configs"))
        .stdout(predicate::str::contains("rwsim calibrate --prometheus URL"));
    let file = dir.join("mimir.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("max_shards = 20"), "{text}");
    assert!(text.contains("wal_segment_size = \"32MiB\""), "{text}");
    let v = run_json(&file, &[]);
    assert_eq!(v["scenario"], "mimir-assumed-series", "every result says the series are a guess");
    // Written once; again only with --force.
    rwsim()
        .args(["import"])
        .arg(&yml)
        .arg("--out")
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("mimir.toml exists; pass --force to overwrite it"));
    rwsim()
        .args(["import"])
        .arg(&yml)
        .args(["--remote", "cortex", "--out"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--remote: no remote_write entry matches \"cortex\""));
    // Known series: no assumption, the plain name.
    rwsim().args(["import"]).arg(&yml).args(["--series", "40000", "--force", "--out"]).arg(&dir).assert().success();
    assert_eq!(run_json(&file, &[])["scenario"], "mimir");
}

#[test]
fn import_errors_point_at_the_yaml() {
    let dir = temp_dir("import-cli-errors");
    let yml = dir.join("prometheus.yml");
    std::fs::write(&yml, YML.replace("1m30s", "1.5m")).unwrap();
    let out = rwsim().args(["import"]).arg(&yml).arg("--out").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "rwsim: error: {}:16:28: remote_write[0].queue_config.batch_send_deadline: invalid duration \"1.5m\"",
            yml.display()
        )),
        "{stderr}"
    );
}

#[test]
fn calibrate_from_saved_answers_writes_a_ready_scenario_and_checks_it() {
    let dir = temp_dir("calibrate-cli");
    let out = rwsim()
        .args(["calibrate", "--from"])
        .arg(saved("promql-2.42.json"))
        .args(["--check", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Prometheus 2.42.0+ds, modelled as 2.42"), "{stdout}");
    assert!(stdout.contains("PromQL over its own metrics {instance=\"127.0.0.1:19313\",job=\"prometheus\"}, over 49s"));
    assert!(stdout.contains("WARNING: Prometheus's own history covers only 49s of the 6h asked"));
    assert!(
        stdout.contains("  workload.series                  2433\n      from: samples appended/s × 1s"),
        "{stdout}"
    );
    assert!(stdout.contains("no WAL segment roll-over by size in the window"));
    assert!(stdout.contains("--check: the calibrated scenario without a fault"));
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    let file = dir.join("rwsim.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    for want in [
        "prometheus = \"2.42\"",
        "series = 2433",
        "targets = 2",
        "scrape_interval = \"1s\"",
        "capacity = 5000",
        "max_shards = 7",
        "max_samples_per_send = 1000",
        "batch_send_deadline = \"1m30s\"",
        "remote_timeout = \"20s\"",
        "wal_bytes_per_sample = 6.15",
        "wire_bytes_per_sample = 12.98",
        "latency = { distribution = \"lognormal\"",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
    assert!(!text.contains("ASSUMED"), "{text}");
    let v = run_json(&file, &[]);
    assert_eq!(v["scenario"], "rwsim");
    assert_eq!(v["samples"]["failed"], 0);
    // The same answers give the same file.
    let again = temp_dir("calibrate-cli-again");
    rwsim().args(["calibrate", "--from"]).arg(saved("promql-2.42.json")).arg("--out").arg(&again).assert().success();
    assert_eq!(std::fs::read_to_string(again.join("rwsim.toml")).unwrap(), text);
}

#[test]
fn calibrate_by_sampling_and_bad_options() {
    let dir = temp_dir("calibrate-cli-sampled");
    rwsim()
        .args(["calibrate", "--from"])
        .arg(saved("sampled-2.42.json"))
        .arg("--out")
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("31 samples of /metrics, every 1s, over 30s"))
        .stdout(predicate::str::contains("WARNING: Prometheus does not scrape itself"))
        .stdout(predicate::str::contains("only 60 requests in the window"));
    assert!(std::fs::read_to_string(dir.join("rwsim.toml")).unwrap().contains("series = 1999"));
    // Other queries than were saved.
    rwsim()
        .args(["calibrate", "--from"])
        .arg(saved("promql-2.42.json"))
        .args(["--window", "1h", "--out"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no saved answer to GET /api/v1/query"));
    rwsim().args(["calibrate", "--window", "1h"]).assert().code(2).stderr(predicate::str::contains("--prometheus"));
    rwsim()
        .args(["calibrate", "--prometheus", "localhost:9090"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a URL starting with http:// or https://"));
    // Nothing listens on port 19399 of this machine's loopback (the calibrate helper's range).
    rwsim()
        .args(["calibrate", "--prometheus", "http://127.0.0.1:19399", "--out"])
        .arg(&dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains("GET http://127.0.0.1:19399/api/v1/status/buildinfo"));
}
