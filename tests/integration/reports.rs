//! Charts, reports and the OpenMetrics export, as a user gets them from `rwsim run --out`,
//! `rwsim report` and `rwsim run --openmetrics`.

use crate::{rwsim, scenario, temp_dir};
use std::path::Path;
use std::process::Command;

/// Runs `rwsim run FILE --out DIR [extra]` and returns DIR's files' bytes by name.
fn run_out(name: &str, dir: &Path, extra: &[&str]) {
    let out = rwsim().arg("run").arg(scenario(name)).arg("--out").arg(dir).args(extra).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Width, height and RGB pixels of a PNG file.
fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn run_out_writes_a_dashboard_png_that_is_not_blank() {
    let dir = temp_dir("dash-png");
    run_out("outage-short", &dir, &[]);
    let (w, h, px) = decode_png(&dir.join("dashboard.png"));
    assert_eq!((w, h), (1600, 2330), "six panels at doc size");
    let pixels: Vec<&[u8]> = px.chunks(3).collect();
    let inked = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(inked * 100 > pixels.len() * 8, "only {inked} of {} pixels are not white", pixels.len());
    // Lines in the palette's colours are there: 2xx/delivered green, input blue, the
    // vermillion of errors and lag, and the shaded fault window.
    for (rgb, what) in [
        ([0u8, 158, 115], "delivered / 2xx (green)"),
        ([0, 114, 178], "samples in (blue)"),
        ([213, 94, 0], "lag and 5xx (vermillion)"),
    ] {
        assert!(pixels.contains(&&rgb[..]), "no {what} pixels");
    }
    let shaded = pixels.iter().filter(|p| p[0] > 240 && p[1] > 220 && p[1] < 240 && p[2] > 200 && p[2] < 225).count();
    assert!(shaded > 50_000, "fault window shading: {shaded} pixels");
}

#[test]
fn dashboard_svg_has_titles_and_the_shaded_fault_window_as_elements() {
    let dir = temp_dir("dash-svg");
    run_out("outage-short", &dir, &[]);
    let svg = std::fs::read_to_string(dir.join("dashboard.svg")).unwrap();
    assert!(svg.starts_with("<svg width=\"1600\" height=\"2330\""));
    for title in [
        "rwsim run: outage-short",
        "Samples in vs delivered (samples/s)",
        "Pending samples (samples)",
        "Lag: newest sample in − newest sample sent",
        "Shards: running vs desired vs max",
        "Responses by status (requests/s) and retries",
        "Samples lost or failed, cumulative (samples)",
        "time since the start of the run (hh:mm) · 00:00 = 2024-01-01 00:00:00 UTC",
    ] {
        assert!(svg.contains(title), "missing title {title:?}");
    }
    // The fault (15 min of 500 from 00:30 in a 2 h run) is one translucent rect per panel,
    // labelled on each.
    let windows =
        svg.lines().filter(|l| l.starts_with("<rect") && l.contains("opacity=\"0.13\" fill=\"#D55E00\"")).count();
    assert_eq!(windows, 6, "one shaded fault window per panel");
    assert_eq!(svg.matches("fault #0: 500\n</text>").count(), 6);
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));
}

#[test]
fn same_run_gives_byte_identical_charts() {
    let (a, b) = (temp_dir("dash-det-a"), temp_dir("dash-det-b"));
    // A stochastic receiver and a fault with a probability.
    run_out("rejects-400", &a, &[]);
    run_out("rejects-400", &b, &[]);
    for f in ["dashboard.svg", "dashboard.png"] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two identical runs"
        );
    }
}

#[test]
fn report_of_a_scenario_file_is_self_contained() {
    let dir = temp_dir("report-file");
    rwsim()
        .arg("report")
        .arg(scenario("outage-short"))
        .arg("--out")
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicates::str::contains("report.html"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for part in [
        "# rwsim report: outage-short",
        "No data lost or rejected.",
        "## The scenario",
        "Fault #0: from 00:30:00 to 00:45:00 (15m) the receiver answers 500 to all requests.",
        "## queue_config",
        "| max_shards | 50 | default |",
        "## Forecast",
        "| delivered (2xx) |",
        "## Timeline",
        "receiver fault #0: 500 on 100% of requests, for 15m",
        "![Run dashboard of outage-short",
        "](dashboard.png)",
    ] {
        assert!(md.contains(part), "report.md lacks {part:?}");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<img alt=\"Run dashboard of outage-short"));
    assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
    for external in ["src=\"http", "href=\"http", "url(", "<link", "<script"] {
        assert!(!html.contains(external), "report.html loads {external}");
    }
}

#[test]
fn report_of_a_run_directory_reads_it_and_redraws_a_missing_dashboard() {
    let dir = temp_dir("report-dir");
    run_out("outage-short", &dir, &["--seed", "3"]);
    let png = std::fs::read(dir.join("dashboard.png")).unwrap();
    std::fs::remove_file(dir.join("dashboard.png")).unwrap();
    rwsim().arg("report").arg(&dir).assert().success();
    assert_eq!(
        std::fs::read(dir.join("dashboard.png")).unwrap(),
        png,
        "redrawn from timeseries.csv, summary.json and scenario.toml: the same picture"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("seed 3"), "the seed that ran");
    // A directory that is not a run directory: a clear error, exit 2.
    let empty = temp_dir("report-empty");
    rwsim().arg("report").arg(&empty).assert().code(2).stderr(predicates::str::contains(
        "no summary.json here; report on a directory written by `rwsim run SCENARIO --out DIR`",
    ));
}

/// Debian's promtool (package `prometheus`), if installed.
fn promtool() -> Option<&'static str> {
    let ok = Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
    ok.then_some("promtool")
}

#[test]
fn promtool_backfills_the_openmetrics_export_with_every_series_and_sample() {
    let dir = temp_dir("openmetrics");
    let file = dir.join("rwsim.om");
    let out = rwsim()
        .arg("run")
        .arg(scenario("outage-short"))
        .arg("--json")
        .args(["--start", "2026-03-01T00:00:00Z", "--openmetrics"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with("# EOF\n"));
    // 2 h at 10 s: 721 rows; 27 series (24 plain, the histogram's bucket, sum and count).
    let (rows, series) = (721, 27);
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), rows * series);

    let Some(promtool) = promtool() else {
        assert!(
            std::env::var_os("RWSIM_REQUIRE_PROMTOOL").is_none(),
            "RWSIM_REQUIRE_PROMTOOL is set (as .ci/run does) but promtool is not on PATH"
        );
        eprintln!("SKIPPED: promtool not found; install Debian's `prometheus` package to check the export (CI does)");
        return;
    };
    let db = dir.join("tsdb");
    let created = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&db)
        .output()
        .unwrap();
    assert!(created.status.success(), "promtool refused the export: {}", String::from_utf8_lossy(&created.stderr));
    // `tsdb dump` wants a WAL directory, which backfilled blocks do not have.
    std::fs::create_dir_all(db.join("wal")).unwrap();
    let dump = Command::new(promtool).args(["tsdb", "dump"]).arg(&db).output().unwrap();
    assert!(dump.status.success());
    let dump = String::from_utf8(dump.stdout).unwrap();
    let samples: Vec<&str> = dump.lines().collect();
    assert_eq!(samples.len(), rows * series, "every sample is in the blocks");
    let mut names: Vec<&str> = samples.iter().map(|l| l.split("} ").next().unwrap()).collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), series, "every series is in the blocks");
    // The last samples_in_total is what the forecast says was appended, at 02:00 on the
    // chosen start date (2026-03-01T02:00:00Z = 1772330400000 ms).
    let appended = summary["samples"]["appended"].as_u64().unwrap();
    let last_in =
        samples.iter().rfind(|l| l.contains("__name__=\"prometheus_remote_storage_samples_in_total\"")).unwrap();
    let fields: Vec<&str> = last_in.rsplit(' ').take(2).collect();
    assert_eq!(fields[0], "1772330400000");
    assert_eq!(fields[1].parse::<f64>().unwrap(), appended as f64);
    assert!(dump.contains(
        "{__name__=\"prometheus_remote_storage_samples_retried_total\", instance=\"outage-short\", job=\"rwsim\", remote_name=\"outage-short\", url=\"rwsim://outage-short\"}"
    ));
}

#[test]
fn a_bad_start_time_is_refused_before_running() {
    rwsim()
        .arg("run")
        .arg(scenario("default"))
        .args(["--start", "yesterday", "--openmetrics", "/nonexistent/x.om"])
        .assert()
        .code(2)
        .stderr(predicates::str::starts_with(
            "rwsim: error: --start: invalid timestamp \"yesterday\": expected an RFC 3339 UTC time such as \"2024-01-01T00:00:00Z\"",
        ));
}
