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
    assert_eq!(w, 1600, "doc width");
    assert!((2200..=2600).contains(&h), "six panels at doc size, the header as tall as it needs: {h}");
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
    assert!(svg.starts_with("<svg width=\"1600\" height=\""));
    for title in [
        "rwsim run: outage-short",
        "Samples in vs delivered vs retried (samples/s)",
        "Pending samples (samples)",
        "Lag: newest sample in − newest sample sent",
        "Shards: running vs desired vs max",
        "Responses by status (requests/s)",
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
        "No data lost. Worst case: nothing lost either (",
        "## Best, median and worst case",
        "| worst | nothing | 0.00% | the outage starts",
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

/// 2 h of `outage-short` at 10 s: 721 rows.
const OM_ROWS: usize = 721;
/// 29 series: 26 plain, and the histogram's bucket, sum and count.
const OM_SERIES: usize = 29;

/// Runs `outage-short --json --start 2026-03-01T00:00:00Z --openmetrics DIR/rwsim.om`;
/// returns the forecast and the export's path.
fn openmetrics_export(dir: &Path) -> (serde_json::Value, std::path::PathBuf) {
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
    (serde_json::from_slice(&out.stdout).unwrap(), file)
}

#[test]
fn openmetrics_export_has_every_series_at_every_step() {
    let dir = temp_dir("openmetrics");
    let (_, file) = openmetrics_export(&dir);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with("# EOF\n"));
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), OM_ROWS * OM_SERIES);
}

/// Ignored by default, so that a machine without promtool shows it as ignored rather than
/// passing it silently; `.ci/run` installs promtool and runs it with
/// `cargo test -p rwsim --test integration -- --ignored promtool`, where a missing promtool
/// is a failure.
#[test]
#[ignore = "needs promtool (Debian package `prometheus`); run: cargo test -p rwsim --test integration -- --ignored promtool"]
fn promtool_backfills_the_openmetrics_export_with_every_series_and_sample() {
    let ok = Command::new("promtool").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "promtool is not on PATH: install Debian's `prometheus` package (as .ci/run does)");
    let promtool = "promtool";
    let dir = temp_dir("openmetrics-promtool");
    let (summary, file) = openmetrics_export(&dir);
    let (rows, series) = (OM_ROWS, OM_SERIES);
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

/// The export is streamed through temporary files next to it (memory flat with run length):
/// a user gets exactly the samples of timeseries.csv, gaps where the sender was down, and
/// no stray files beside the export.
#[test]
fn the_openmetrics_export_holds_the_timeseries_rows_and_leaves_no_other_files() {
    let dir = temp_dir("openmetrics-stream");
    let (out_dir, export_dir) = (dir.join("out"), dir.join("export"));
    std::fs::create_dir_all(&export_dir).unwrap();
    let file = export_dir.join("run.om");
    let name = "restart-during-outage";
    let out = rwsim()
        .arg("run")
        .arg(scenario(name))
        .args(["--literal", "--start", "2026-03-01T00:00:00Z", "--out"])
        .arg(&out_dir)
        .arg("--openmetrics")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = reports::csv::read(std::fs::File::open(out_dir.join("timeseries.csv")).unwrap()).unwrap();
    assert!(rows.iter().any(|r| r.sender_up == 0), "the scenario has a sender restart, so the export has a gap");
    let url = format!("rwsim://{name}");
    let target = reports::openmetrics::Target {
        job: "rwsim",
        instance: name,
        remote_name: name,
        url: &url,
        start_unix_millis: 1_772_323_200_000,
        dropped_reason_label: true,
        vmagent: false,
    };
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text == reports::openmetrics::render(&rows, &target), "the export differs from the rows' in-memory export");
    let left: Vec<_> = std::fs::read_dir(&export_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["run.om"], "only the export is left in its directory");
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

// Sweep charts and sweep reports (issue #5).

/// A short scenario with a window of 429s: with `retry_on_http_429 = false` about half the
/// samples sent in it fail, with `true` none do, so the grid has loss-free points.
const SWEEP_SCENARIO: &str = r#"
duration = "30m"
seed = 11
[workload]
series = 10_000
targets = 10
scrape_interval = "15s"
[receiver]
latency = { distribution = "lognormal", median = "20ms", p99 = "200ms" }
[[receiver.fault]]
start = "5m"
end = "10m"
status = 429
probability = 0.5
"#;

/// max_shards (3 values) across, retry_on_http_429 (2 values) up the heatmaps.
const SWEEP_GRID: [&str; 4] = [
    "--set",
    "remote_write.queue_config.max_shards=1,2,4",
    "--set",
    "remote_write.queue_config.retry_on_http_429=false,true",
];

/// The files of a sweep over two keys besides sweep.csv.
const SWEEP_FILES: [&str; 10] = [
    "sweep.json",
    "sweep-scenario.toml",
    "heatmap-loss.png",
    "heatmap-loss.svg",
    "heatmap-p99.png",
    "heatmap-p99.svg",
    "heatmap-memory.png",
    "heatmap-memory.svg",
    "curves-loss.png",
    "curves-loss.svg",
];

/// Runs `rwsim sweep FILE ARGS --out DIR`; returns stdout.
fn sweep_out(file: &Path, dir: &Path, args: &[&str]) -> String {
    let o = rwsim().arg("sweep").arg(file).args(args).arg("--out").arg(dir).output().unwrap();
    assert!(o.status.success(), "rwsim sweep failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The share of pixels that are not white, and the number of distinct colours.
fn ink(px: &[u8]) -> (f64, usize) {
    let pixels: Vec<&[u8]> = px.chunks(3).collect();
    let inked = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    let mut colours: Vec<&[u8]> = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    (inked as f64 / pixels.len() as f64, colours.len())
}

#[test]
fn sweep_out_draws_heatmaps_and_curves_identically_on_one_and_two_threads() {
    let dir = temp_dir("sweep-charts");
    let file = dir.join("scenario.toml");
    std::fs::write(&file, SWEEP_SCENARIO).unwrap();
    let (one, two) = (dir.join("t1"), dir.join("t2"));
    let mut args = SWEEP_GRID.to_vec();
    args.extend(["--threads", "1"]);
    let out = sweep_out(&file, &one, &args);
    args[5] = "2";
    assert_eq!(sweep_out(&file, &two, &args), out);
    for f in SWEEP_FILES.iter().chain(&["sweep.csv"]) {
        let (a, b) = (std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap());
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
    assert_eq!(std::fs::read_to_string(one.join("sweep-scenario.toml")).unwrap(), SWEEP_SCENARIO);

    // The recommendation: the loss-free point (retry_on_http_429 = true) with the least memory.
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(one.join("sweep.json")).unwrap()).unwrap();
    let point = summary["recommendation"]["chosen"]["point"].as_u64().expect("a recommendation");
    assert!(out.contains(&format!("Recommendation: point {point}:")), "{out}");
    assert_eq!(summary["targets"]["max_loss"], 0.0);
    assert_eq!(summary["charts"], serde_json::json!(["heatmap-loss", "heatmap-p99", "heatmap-memory", "curves-loss"]));
    let shards = ["1", "2", "4"][point as usize / 2];
    assert_eq!(point % 2, 1, "retry_on_http_429 = true");

    // Heatmaps are mostly cells; curves mostly white, with two lines in the palette's first
    // colours (blue, vermillion).
    for (name, size, title, min_ink) in [
        ("heatmap-loss", (1400, 1000), "Loss: share of samples that never reached the receiver", 0.3),
        ("heatmap-p99", (1400, 1000), "p99 delivery latency: sample timestamp to accepted write", 0.3),
        ("heatmap-memory", (1400, 1000), "Peak queue memory: shard queues and send buffers (estimate)", 0.3),
        ("curves-loss", (1400, 900), "Loss vs queue_config.max_shards", 0.02),
    ] {
        let (w, h, px) = decode_png(&one.join(format!("{name}.png")));
        assert_eq!((w, h), size, "{name}.png");
        let (inked, colours) = ink(&px);
        assert!(inked > min_ink, "{name}.png is nearly blank: {:.1}% inked", inked * 100.0);
        if name.starts_with("curves") {
            for rgb in [[0u8, 114, 178], [213, 94, 0]] {
                assert!(px.chunks(3).filter(|p| *p == rgb).count() > 500, "{name}.png lacks a {rgb:?} line");
            }
        }
        assert!(colours > 50, "{name}.png has only {colours} colours");
        let svg = std::fs::read_to_string(one.join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with(&format!("<svg width=\"{}\" height=\"{}\"", size.0, size.1)), "{name}.svg");
        assert!(svg.contains(title), "{name}.svg lacks its title {title:?}");
        let marker = if name.starts_with("heatmap") {
            format!(
                "outlined: recommended point, queue_config.max_shards = {shards}, queue_config.retry_on_http_429 = true"
            )
        } else {
            format!(
                "ringed: the recommended point, queue_config.max_shards = {shards}, queue_config.retry_on_http_429 = true"
            )
        };
        assert!(svg.contains(&marker), "{name}.svg lacks the marker {marker:?}");
    }
    // The rows are labelled with the swept values, and the recommended cell is outlined
    // (black frames inside it).
    let svg = std::fs::read_to_string(one.join("heatmap-loss.svg")).unwrap();
    assert!(svg.contains("\nfalse\n</text>") && svg.contains("\ntrue\n</text>"));
    assert!(svg.matches("fill=\"none\" stroke=\"#000000\"/>").count() >= 2, "the outline of the recommended cell");
}

#[test]
fn merge_writes_what_a_single_sweep_writes() {
    let dir = temp_dir("sweep-merge-charts");
    let file = dir.join("scenario.toml");
    std::fs::write(&file, SWEEP_SCENARIO).unwrap();
    let single = dir.join("single");
    sweep_out(&file, &single, &SWEEP_GRID);
    let parts = dir.join("parts");
    for p in ["0/2", "1/2"] {
        let mut args = SWEEP_GRID.to_vec();
        args.extend(["--partition", p]);
        sweep_out(&file, &parts, &args);
    }
    let written: Vec<String> =
        std::fs::read_dir(&parts).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(written.len(), 2, "a partition writes only its CSV: {written:?}");
    let part = |i: usize| parts.join(format!("sweep-part-{i}-of-2.csv"));
    let merged = dir.join("merged");
    rwsim()
        .arg("merge")
        .args([part(1), part(0)])
        .arg("--out")
        .arg(&merged)
        .arg("--scenario")
        .arg(&file)
        .assert()
        .success();
    for f in SWEEP_FILES.iter().chain(&["sweep.csv"]) {
        let (a, b) = (std::fs::read(single.join(f)).unwrap(), std::fs::read(merged.join(f)).unwrap());
        assert!(a == b, "merged {f} differs from the single run's");
    }
    // A scenario that is not the one swept is refused.
    let other = dir.join("other.toml");
    std::fs::write(&other, SWEEP_SCENARIO.replace("seed = 11", "seed = 12")).unwrap();
    rwsim()
        .arg("merge")
        .args([part(0), part(1)])
        .arg("--out")
        .arg(dir.join("wrong"))
        .arg("--scenario")
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not the scenario of this sweep"));
    // Without --scenario the report still has everything but the scenario in words.
    let bare = dir.join("bare");
    rwsim().arg("merge").args([part(0), part(1)]).arg("--out").arg(&bare).assert().success();
    assert!(!bare.join("sweep-scenario.toml").exists());
    rwsim().arg("report").arg(&bare).assert().success();
    let md = std::fs::read_to_string(bare.join("report.md")).unwrap();
    assert!(md.contains("so it is not described here") && md.contains("```yaml\nqueue_config:\n"), "{md}");
    // Partitions alone: a clear error.
    rwsim().arg("report").arg(&parts).assert().code(2).stderr(predicates::str::contains("join them with `rwsim merge"));
}

#[test]
fn report_of_a_sweep_directory_has_the_recommendation_and_the_charts_embedded() {
    let dir = temp_dir("sweep-report-dir");
    let file = dir.join("scenario.toml");
    std::fs::write(&file, SWEEP_SCENARIO).unwrap();
    let out = dir.join("out");
    let printed = sweep_out(&file, &out, &SWEEP_GRID);
    let png = std::fs::read(out.join("curves-loss.png")).unwrap();
    std::fs::remove_file(out.join("curves-loss.png")).unwrap();
    rwsim().arg("report").arg(&out).assert().success().stdout(predicates::str::contains("report.html"));
    assert_eq!(std::fs::read(out.join("curves-loss.png")).unwrap(), png, "redrawn from sweep.csv: the same picture");

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let yaml = printed.split("Paste into the remote_write entry").nth(1).unwrap();
    let yaml: Vec<&str> = yaml.lines().skip(2).take_while(|l| !l.is_empty()).map(|l| &l[4..]).collect();
    assert_eq!(yaml[0], "queue_config:");
    for part in [
        "# rwsim sweep report: scenario\n",
        "Recommended: point ",
        "## The scenario\n\nA Prometheus 3.x sender scrapes 10,000 series",
        "Fault #0: from 00:05:00 to 00:10:00 (5m) the receiver answers 429 to 50% of requests.",
        "| remote_write.queue_config.max_shards | 1, 2, 4 | 3 |",
        "| max_shards | swept | see the grid |",
        "Targets: loss ≤ 0%.",
        &format!("```yaml\n{}\n```", yaml.join("\n")),
        "## Pareto front",
        "](heatmap-loss.png)",
        "](heatmap-p99.png)",
        "](heatmap-memory.png)",
        "](curves-loss.png)",
    ] {
        assert!(md.contains(part), "report.md lacks {part:?}\n{md}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("src=\"data:image/png;base64,iVBORw0KGgo").count(), 4, "four charts embedded");
    assert!(html.contains("<pre><code>queue_config:\n"));
    assert!(html.contains("<p class=\"verdict good\">Recommended: point "));
    for external in ["src=\"http", "href=\"http", "url(", "<link", "<script"] {
        assert!(!html.contains(external), "report.html loads {external}");
    }
    // Reporting again gives the same bytes.
    rwsim().arg("report").arg(&out).assert().success();
    assert_eq!(std::fs::read_to_string(out.join("report.html")).unwrap(), html);
}

#[test]
fn report_of_a_scenario_with_a_sweep_table_runs_the_sweep() {
    let dir = temp_dir("sweep-report-file");
    let file = dir.join("one-key.toml");
    std::fs::write(&file, format!("{SWEEP_SCENARIO}[sweep]\n\"remote_write.queue_config.max_shards\" = [1, 2]\n"))
        .unwrap();
    let out = dir.join("out");
    // No point meets a 1ms p99: nothing is recommended or marked.
    rwsim().arg("report").arg(&file).arg("--out").arg(&out).args(["--max-p99-latency", "1ms"]).assert().success();
    for f in ["curves-loss", "curves-p99", "curves-memory"] {
        let (w, h, _) = decode_png(&out.join(format!("{f}.png")));
        assert_eq!((w, h), (1400, 900));
        let svg = std::fs::read_to_string(out.join(format!("{f}.svg"))).unwrap();
        assert!(svg.contains("no point meets every target, so none is ringed"), "{f}.svg");
    }
    assert!(!out.join("heatmap-loss.png").exists(), "one key: curves, no heatmaps");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("No point of the 2 meets every target (loss ≤ 0%, p99 delivery latency ≤ 1ms)."), "{md}");
    assert!(md.contains("| p99 delivery latency ≤ 1ms | 0 of 2 points |"));
    assert!(!md.contains("```yaml"));
    // --seed makes no sense for a sweep.
    rwsim()
        .arg("report")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("seeded"))
        .args(["--seed", "3"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--seed applies to a single run"));
}
