//! `rwsim compare`: the same answer on any number of threads, every sender in the table, the
//! files it writes, and a clear error for an unknown sender.

fn compare(args: &[&str]) -> std::process::Output {
    super::rwsim().arg("compare").args(args).output().unwrap()
}

#[test]
fn the_comparison_is_identical_on_one_and_two_threads() {
    let one = compare(&["builtin:compare-senders", "--threads", "1", "--json"]);
    let two = compare(&["builtin:compare-senders", "--threads", "2", "--json"]);
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    assert_eq!(one.stdout, two.stdout);
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    let labels: Vec<&str> = v["senders"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["prometheus-3.x", "agent", "alloy", "vmagent"]);
    for s in v["senders"].as_array().unwrap() {
        assert_eq!(s["conservation_ok"], true);
    }
    // vmagent keeps its queue across the restart: it loses less time than Prometheus, and
    // the loss it has is the disk cap's, starting at the outage.
    let lost = |i: usize| v["senders"][i]["lost_seconds"].as_f64().unwrap();
    assert!(lost(3) < lost(0), "vmagent {} vs prometheus {}", lost(3), lost(0));
    let from = v["senders"][3]["largest_gap"][0].as_f64().unwrap();
    assert!((3600.0..3615.0).contains(&from), "the disk cap drops the oldest: the gap starts at the outage, {from}");
}

#[test]
fn out_writes_the_table_the_json_and_the_chart() {
    let dir = std::env::temp_dir().join(format!("rwsim-compare-{}", std::process::id()));
    let out =
        compare(&["builtin:compare-senders", "--senders", "prometheus,vmagent-1.79", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(dir.join("compare.md")).unwrap();
    assert!(md.contains("| vmagent-1.79 |") && md.contains("![lag and loss of each sender](compare.png)"), "{md}");
    assert!(std::fs::read(dir.join("compare.png")).unwrap().starts_with(b"\x89PNG"));
    assert!(std::fs::read_to_string(dir.join("compare.svg")).unwrap().contains("<svg"));
    // `rwsim report DIR` turns it into report.md and report.html with the chart.
    let rep = super::rwsim().arg("report").arg(&dir).output().unwrap();
    assert!(rep.status.success(), "{}", String::from_utf8_lossy(&rep.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("Which sender survives this outage?") && md.contains("vmagent-1.79"), "{md}");
    assert!(std::fs::read_to_string(dir.join("report.html")).unwrap().contains("data:image/png;base64,"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_sender_is_a_usage_error() {
    let out = compare(&["builtin:compare-senders", "--senders", "prometheus,telegraf"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown sender \"telegraf\"") && err.contains("vmagent-1.79"), "{err}");
}

#[test]
fn a_rows_shares_add_up_to_at_most_everything_produced() {
    // The Prometheus senders are down for a while and scrape less than they produce: their
    // delivered share was once of the scraped samples and the loss of the produced ones, so
    // a row summed to more than 100 %.
    let out = compare(&["builtin:compare-senders"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("  ") && l.contains('%')).collect();
    assert_eq!(rows.len(), 4, "{text}");
    for row in rows {
        let shares: Vec<f64> =
            row.split('(').skip(1).filter_map(|s| s.split_once("%)").and_then(|(v, _)| v.parse().ok())).collect();
        assert_eq!(shares.len(), 2, "{row}");
        let sum = shares[0] + shares[1];
        assert!((99.0..=100.0).contains(&sum), "delivered + other loss = {sum} % in: {row}");
    }
}
