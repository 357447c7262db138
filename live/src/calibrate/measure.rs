//! What calibrate reads, and how the readings become the constants of a scenario.
//!
//! Every constant keeps the query (or the samples) and the window it came from, and a
//! warning where the data is too thin to trust it.
//!
//! | constant | from |
//! |---|---|
//! | samples appended per second | `increase(prometheus_remote_storage_samples_in_total)` (else `prometheus_tsdb_head_samples_appended_total`) ÷ window |
//! | targets, per job | `count by (job) (up)` |
//! | samples per scrape, per job | `sum by (job) (avg_over_time(scrape_samples_post_metric_relabeling[W]))` |
//! | scrape interval | the configured interval of the job that appends the most samples per second |
//! | `workload.series` | samples per second × interval − 5 report series per target (so the model appends what Prometheus appends) |
//! | `workload.scrape_duration` | `avg by (job) (avg_over_time(scrape_duration_seconds[W]))`, weighted by samples |
//! | active series (a cross-check) | `prometheus_tsdb_head_series` |
//! | `tsdb.wal_bytes_per_sample` | `increase(prometheus_tsdb_wal_completed_pages_total)` × 32 KiB ÷ samples appended; segment roll-overs (`prometheus_tsdb_wal_segment_current` less truncations and restarts) × segment size as a cross-check, or as the estimate where the page counter is missing |
//! | `workload.wire_bytes_per_sample` | `increase(prometheus_remote_storage_bytes_total)` ÷ (`samples_total` − `samples_retried_total`) |
//! | `receiver.latency` | a log-normal fitted to `sent_batch_duration_seconds` (buckets, sum and count; [`super::fit`]) |
//! | live queue state | `shards`, `shards_desired`, `samples_pending` (mean and last), batch duration, bytes/s, failed, retried and dropped samples, enqueue retries |

use super::fit::{LatencyFit, fit_lognormal};
use super::metrics::{Matchers, Metrics, Promql, Reading, Sampled};
use super::{Result, Source, api, expo, fail};
use std::collections::BTreeMap;

/// Bytes of a WAL page (`tsdb/wlog/wlog.go: pageSize`): every completed page is this many
/// bytes of a segment file.
pub const WAL_PAGE_BYTES: f64 = 32.0 * 1024.0;
/// Report series Prometheus adds to every scrape (`up`, `scrape_duration_seconds`, ...).
pub const REPORT_SERIES: f64 = 5.0;
/// Fewer WAL pages than this in the window make the WAL estimate coarse (±1 page is ±2 %).
const THIN_PAGES: f64 = 50.0;
/// Fewer requests than this make the latency fit and the wire bytes thin.
const THIN_REQUESTS: f64 = 100.0;
/// Less own history than this is treated as none.
const MIN_HISTORY_S: u64 = 30;

/// A `remote_write` entry of the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    /// `name`, if set (Prometheus's `remote_name` label).
    pub name: Option<String>,
    /// `url` (the `url` label).
    pub url: String,
}

/// A scrape job of the configuration and its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// `job_name`.
    pub name: String,
    /// Its scrape interval, seconds.
    pub interval_s: f64,
}

/// What to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The window asked for, seconds.
    pub window_s: u64,
    /// Seconds between samples of `/metrics` when Prometheus does not scrape itself
    /// (default: window / 60, within 1–15 s).
    pub sample_every_s: Option<u64>,
    /// Matchers of Prometheus's own series, if given (else found).
    pub selector: Option<Matchers>,
    /// The configuration's remote_write entries.
    pub remotes: Vec<Remote>,
    /// The configuration's scrape jobs.
    pub jobs: Vec<Job>,
    /// `global.scrape_interval`, seconds.
    pub global_interval_s: f64,
    /// WAL segment size, bytes.
    pub segment_size: u64,
    /// The client's share of each request, seconds, if the user knows it.
    pub request_overhead_s: Option<f64>,
}

/// A constant and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Const {
    /// The value.
    pub value: f64,
    /// The query or samples, and how the value was computed from them.
    pub from: String,
}

/// One line of the calibration table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The scenario key or the quantity.
    pub name: String,
    /// The value, formatted.
    pub value: String,
    /// Where it came from.
    pub from: String,
    /// Why it may not be trusted, if so.
    pub warning: Option<String>,
}

/// How Prometheus's own metrics were read.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// PromQL over its own scraped series, selected by these matchers.
    Promql(Matchers),
    /// rwsim sampled `/metrics`: the interval between samples, the number of samples, and
    /// whether the user stopped it early.
    Sampled {
        /// Seconds between samples.
        every_s: u64,
        /// Samples taken.
        pages: usize,
        /// Stopped by Ctrl-C before the window was over.
        interrupted: bool,
    },
}

/// The queue's state as measured, for the table and for `--check`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveState {
    /// Mean running shards over the window.
    pub shards: Option<f64>,
    /// Mean desired shards.
    pub desired: Option<f64>,
    /// Mean pending samples.
    pub pending: Option<f64>,
    /// Mean duration of a request, seconds.
    pub batch_duration_s: Option<f64>,
    /// Compressed bytes sent per second.
    pub bytes_per_s: Option<f64>,
}

/// The calibration of one remote_write queue.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCalibration {
    /// The entry.
    pub remote: Remote,
    /// `remote_name` and `url` of its metrics.
    pub labels: Matchers,
    /// `workload.wire_bytes_per_sample`.
    pub wire_bytes_per_sample: Option<Const>,
    /// The fitted receiver latency and how.
    pub latency: Option<(LatencyFit, String)>,
    /// `sender.request_overhead`, seconds (the user's, or 0).
    pub request_overhead_s: f64,
    /// The live queue state.
    pub live: LiveState,
    /// Table rows.
    pub rows: Vec<Row>,
}

/// Everything measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// How the metrics were read.
    pub mode: Mode,
    /// End of the window, Unix ms.
    pub end_unix_ms: u64,
    /// The window asked for, seconds.
    pub window_asked_s: u64,
    /// The window measured, seconds.
    pub window_s: f64,
    /// Warnings about the whole measurement.
    pub warnings: Vec<String>,
    /// Samples appended per second.
    pub samples_per_s: Const,
    /// The scrape interval, seconds.
    pub interval_s: Const,
    /// Scrape targets.
    pub targets: Const,
    /// `workload.series`.
    pub series: Const,
    /// `workload.scrape_duration`, seconds.
    pub scrape_duration_s: Option<Const>,
    /// `tsdb.wal_bytes_per_sample`.
    pub wal_bytes_per_sample: Option<Const>,
    /// Table rows about the process.
    pub rows: Vec<Row>,
    /// Per remote_write entry, in configuration order.
    pub remotes: Vec<RemoteCalibration>,
}

fn row(name: &str, value: String, from: impl Into<String>, warning: Option<String>) -> Row {
    Row { name: name.into(), value, from: from.into(), warning }
}

/// Seconds as a Prometheus-style duration for messages (`1h30m`, `85s`).
pub fn secs_text(s: f64) -> String {
    let t = s.round() as u64;
    let (h, m, sec) = (t / 3600, (t % 3600) / 60, t % 60);
    let mut o = String::new();
    if h > 0 {
        o += &format!("{h}h");
    }
    if m > 0 {
        o += &format!("{m}m");
    }
    if sec > 0 || o.is_empty() {
        o += &format!("{sec}s");
    }
    o
}

/// Prometheus's own series in its TSDB: the self-scrape whose `process_start_time_seconds`
/// is the one `/metrics` shows now. None when it does not scrape itself.
fn find_self(src: &mut dyn Source, time: f64, page: &str) -> Result<Option<Matchers>> {
    let start = expo::parse(page).into_iter().find(|s| s.name == "process_start_time_seconds" && s.labels.is_empty());
    let Some(start) = start else {
        return fail(
            "/metrics has no process_start_time_seconds: cannot tell Prometheus's own series apart; pass --selector",
        );
    };
    let mut found: Vec<Matchers> = api::query(src, "process_start_time_seconds", time)?
        .into_iter()
        .filter(|e| (e.value - start.value).abs() < 0.01)
        .map(|e| Matchers(e.labels.into_iter().filter(|(k, _)| k == "job" || k == "instance").collect()))
        .collect();
    found.sort_by_key(Matchers::promql);
    Ok(found.into_iter().next())
}

/// Keeps the lines of a `/metrics` page that calibration reads (for `--save`).
pub fn filter_page(page: &str) -> String {
    page.lines()
        .filter(|l| {
            [
                "prometheus_remote_storage_",
                "prometheus_tsdb_head_series",
                "prometheus_tsdb_head_samples_appended_total",
                "prometheus_tsdb_wal_",
                "process_start_time_seconds",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Measures everything in `plan`. `log` gets progress lines (sampling can take the whole
/// window).
pub fn measure(src: &mut dyn Source, plan: &Plan, log: &mut dyn FnMut(&str)) -> Result<Calibration> {
    let t0 = src.now_unix_ms();
    let page0 = src.get("/metrics");
    let own = match (&plan.selector, &page0) {
        (Some(m), _) => Some(m.clone()),
        (None, Ok(page)) => find_self(src, t0 as f64 / 1000.0, page)?,
        (None, Err(e)) => {
            return fail(format!("cannot read Prometheus's /metrics ({e}); pass --selector if it scrapes itself"));
        }
    };
    let mut warnings = Vec::new();
    // The window: PromQL over own history if there is enough of it, else samples.
    let mut history: Option<(Matchers, u64)> = None;
    if let Some(own) = own {
        let step = (plan.window_s / 500).max(1);
        let q = format!(
            "min(min_over_time(timestamp(prometheus_tsdb_head_series{{{}}})[{}s:{step}s]))",
            own.promql(),
            plan.window_s
        );
        let earliest = api::query(src, &q, t0 as f64 / 1000.0)?.first().map(|e| e.value);
        let have = earliest.map_or(0, |e| ((t0 as f64 / 1000.0 - e).max(0.0)) as u64);
        if have >= MIN_HISTORY_S {
            let w = have.min(plan.window_s);
            if w < plan.window_s {
                warnings.push(format!(
                    "Prometheus's own history covers only {} of the {} asked: every rate is an average over {}. {}",
                    secs_text(w as f64),
                    secs_text(plan.window_s as f64),
                    secs_text(w as f64),
                    short_window_costs(w)
                ));
            }
            history = Some((own, w));
        } else {
            warnings.push(format!(
                "Prometheus scrapes itself ({{{}}}) but has only {} of that history: sampling /metrics instead",
                own.promql(),
                secs_text(have as f64)
            ));
        }
    }
    let (mode, window_s, end_ms, mut sampled) = match history {
        Some((own, w)) => (Mode::Promql(own), w as f64, t0, None),
        None => {
            let every = plan.sample_every_s.unwrap_or((plan.window_s / 60).clamp(1, 15)).max(1);
            let page0 = page0?;
            log(&format!(
                "rwsim calibrate: Prometheus does not scrape itself, so its own metrics have no history: sampling \
                 /metrics every {every}s for {} (Ctrl-C stops early and calibrates from what was sampled)",
                secs_text(plan.window_s as f64)
            ));
            warnings.push(format!(
                "Prometheus does not scrape itself: its own metrics were sampled from /metrics every {every}s by rwsim \
                 instead of read from its history; add a self-scrape job for history"
            ));
            let mut pages = vec![(t0, page0)];
            let mut interrupted = false;
            let mut k = 1;
            loop {
                let due = t0 + k * every * 1000;
                if due > t0 + plan.window_s * 1000 {
                    break;
                }
                if !src.wait_until(due) {
                    interrupted = true;
                    break;
                }
                let page = src.get("/metrics")?;
                let t = src.now_unix_ms();
                pages.push((t, page));
                if k % 30 == 0 {
                    log(&format!("rwsim calibrate: {} samples of /metrics so far", pages.len()));
                }
                k += 1;
            }
            let end = pages.last().map_or(t0, |p| p.0);
            let w = (end - t0) as f64 / 1000.0;
            if pages.len() < 2 {
                return fail("sampling /metrics was stopped before a second sample: nothing to measure");
            }
            if interrupted {
                warnings.push(format!(
                    "sampling stopped early: {} of the {} asked. {}",
                    secs_text(w),
                    secs_text(plan.window_s as f64),
                    short_window_costs(w as u64)
                ));
            }
            let n = pages.len();
            (Mode::Sampled { every_s: every, pages: n, interrupted }, w, end, Some(Sampled::new(pages)))
        }
    };
    let w_s = window_s.round().max(1.0) as u64;
    let time = end_ms as f64 / 1000.0;

    // Targets, samples per scrape and scrape durations per job (report series of every
    // target are in the TSDB whether or not Prometheus scrapes itself).
    let by_job = |v: Vec<api::Element>| -> BTreeMap<String, f64> {
        v.into_iter().map(|e| (e.labels.get("job").cloned().unwrap_or_default(), e.value)).collect()
    };
    let q_targets = "count by (job) (up)".to_string();
    let q_samples = format!("sum by (job) (avg_over_time(scrape_samples_post_metric_relabeling[{w_s}s]))");
    let q_duration = format!("avg by (job) (avg_over_time(scrape_duration_seconds[{w_s}s]))");
    let targets_by_job = by_job(api::query(src, &q_targets, time)?);
    let samples_by_job = by_job(api::query(src, &q_samples, time)?);
    let duration_by_job = by_job(api::query(src, &q_duration, time)?);

    let mut promql;
    let m: &mut dyn Metrics = match (&mode, sampled.as_mut()) {
        (Mode::Promql(own), _) => {
            promql = Promql::new(src, own.clone(), w_s, time);
            &mut promql
        }
        (_, Some(s)) => s,
        _ => unreachable!("sampled mode has pages"),
    };
    let none = Matchers::default();
    let mut rows = Vec::new();

    // Samples appended.
    let appended = match m.increase("prometheus_remote_storage_samples_in_total", &none)? {
        Some(r) => r,
        None => m.increase("prometheus_tsdb_head_samples_appended_total", &none)?.ok_or_else(|| {
            super::CalibrateError(
                "neither prometheus_remote_storage_samples_in_total nor prometheus_tsdb_head_samples_appended_total \
                 is in Prometheus's own metrics"
                    .into(),
            )
        })?,
    };
    let rate = appended.value / window_s;
    let samples_per_s = Const { value: rate, from: format!("{} ÷ {}", appended.how, secs_text(window_s)) };
    rows.push(row("samples appended/s", format!("{rate:.1}"), &samples_per_s.from, None));

    // The workload per job.
    let interval_of =
        |job: &str| plan.jobs.iter().find(|j| j.name == job).map_or(plan.global_interval_s, |j| j.interval_s);
    let mut jobs: Vec<(String, f64, f64, f64)> = Vec::new(); // job, targets, samples/scrape, interval
    for (job, &t) in &targets_by_job {
        let s = samples_by_job.get(job).copied().unwrap_or(0.0);
        jobs.push((job.clone(), t, s, interval_of(job)));
    }
    let total_targets: f64 = jobs.iter().map(|j| j.1).sum();
    let scraped_rate: f64 = jobs.iter().map(|j| (j.2 + REPORT_SERIES * j.1) / j.3).sum();
    let main =
        jobs.iter().max_by(|a, b| ((a.2 + REPORT_SERIES * a.1) / a.3).total_cmp(&((b.2 + REPORT_SERIES * b.1) / b.3)));
    let (interval_s, interval_from) = match main {
        Some((job, t, s, i)) => (
            *i,
            format!(
                "the interval of job {job:?} (configured), which appends the most: {t:.0} target{}, {s:.0} samples per scrape",
                if *t == 1.0 { "" } else { "s" }
            ),
        ),
        None => {
            warnings.push("no scrape targets (`up` is empty): the interval is global.scrape_interval".into());
            (plan.global_interval_s, "global.scrape_interval (no targets)".to_string())
        }
    };
    let mut interval_warning = None;
    let others: Vec<String> =
        jobs.iter().filter(|j| j.3 != interval_s).map(|j| format!("{} every {}", j.0, secs_text(j.3))).collect();
    if !others.is_empty() {
        interval_warning = Some(format!(
            "other jobs scrape at other intervals ({}); the model scrapes every target every {}, and the series are \
             chosen so that the sample rate is the measured one",
            others.join(", "),
            secs_text(interval_s)
        ));
    }
    let interval = Const { value: interval_s, from: interval_from };
    rows.push(row("workload.scrape_interval", secs_text(interval_s), &interval.from, interval_warning));
    let targets = Const {
        value: total_targets.max(1.0),
        from: format!(
            "{q_targets}: {}",
            jobs.iter().map(|j| format!("{} {:.0}", j.0, j.1)).collect::<Vec<_>>().join(", ")
        ),
    };
    rows.push(row("workload.targets", format!("{:.0}", targets.value), &targets.from, None));
    let raw_series = rate * interval_s - REPORT_SERIES * targets.value;
    let mut series_warning = None;
    if scraped_rate > 0.0 && rate > 1.1 * scraped_rate {
        series_warning = Some(format!(
            "{:.0}/s more samples are appended than the targets' scrapes explain ({:.0}/s, from {q_samples}): \
             recording rules, or targets that came and went; they are counted in the series",
            rate - scraped_rate,
            scraped_rate
        ));
    }
    if raw_series < 0.0 {
        series_warning = Some("fewer samples than the targets' report series alone: series set to 0".into());
    }
    let series = Const {
        value: raw_series.max(0.0).round(),
        from: format!(
            "samples appended/s × {} − {REPORT_SERIES:.0} report series × {:.0} targets, so the model appends {:.1} \
             samples/s as measured",
            secs_text(interval_s),
            targets.value,
            rate
        ),
    };
    rows.push(row("workload.series", format!("{:.0}", series.value), &series.from, series_warning));
    if let Some(h) = m.avg("prometheus_tsdb_head_series", &none)? {
        let active = series.value + REPORT_SERIES * targets.value;
        let warning = (h.value > 1.2 * active).then(|| {
            format!(
                "the head holds {:.0} series, the workload {:.0} per interval: series churn (gone series stay in \
                 the head until the next compaction), or series at other intervals",
                h.value, active
            )
        });
        rows.push(row("active series (cross-check)", format!("{:.0}", h.value), &h.how, warning));
    }
    let mut scrape_duration_s = None;
    let weight: f64 = jobs.iter().map(|j| j.2 / j.3).sum();
    if weight > 0.0 && !duration_by_job.is_empty() {
        let d =
            jobs.iter().map(|j| duration_by_job.get(&j.0).copied().unwrap_or(0.0) * j.2 / j.3).sum::<f64>() / weight;
        let c = Const {
            value: d,
            from: format!(
                "{q_duration}, weighted by samples per second: the scrape's HTTP time; the commit into the WAL \
                 comes after parsing and appending, so this is a lower bound"
            ),
        };
        let capped = d.min(interval_s * 0.99);
        rows.push(row("workload.scrape_duration", format!("{:.0}ms", capped * 1000.0), &c.from, None));
        scrape_duration_s = Some(Const { value: capped, ..c });
    }

    // WAL bytes per sample.
    let pages = m.increase("prometheus_tsdb_wal_completed_pages_total", &none)?;
    let segments = m.growth("prometheus_tsdb_wal_segment_current", &none)?;
    let truncations = m.increase("prometheus_tsdb_wal_truncations_total", &none)?.map_or(0.0, |r| r.value);
    let restarts = m.restarts()?;
    let rollovers = segments.as_ref().map(|s| (s.value - truncations.round() - restarts).max(0.0));
    let seg_mib = plan.segment_size as f64 / (1u64 << 20) as f64;
    let mut wal_bytes_per_sample = None;
    let by_segments = rollovers.filter(|&r| r >= 1.0).map(|r| r * plan.segment_size as f64 / appended.value);
    match &pages {
        Some(p) if appended.value > 0.0 && p.value > 0.0 => {
            let v = p.value * WAL_PAGE_BYTES / appended.value;
            let mut warn = Vec::new();
            if p.value < THIN_PAGES {
                warn.push(format!(
                    "only {:.0} WAL pages of 32 KiB were completed in the window: each page is {:.0}% of the estimate",
                    p.value,
                    100.0 / p.value
                ));
            }
            match by_segments {
                None => {
                    let fill = plan.segment_size as f64 / (v * rate).max(1e-9);
                    warn.push(format!(
                        "no WAL segment roll-over by size in the window ({seg_mib:.0} MiB segments; at this rate one \
                         fills every {}): the estimate comes from completed WAL pages instead",
                        secs_text(fill)
                    ));
                }
                Some(s) if (s - v).abs() > 0.15 * v && s < v => {
                    warn.push(format!(
                        "segment roll-overs give at least {s:.2} bytes/sample (segments started by truncations are \
                         not full); the pages give {v:.2}"
                    ));
                }
                Some(_) => {}
            }
            let from = format!("{} × 32 KiB ÷ {} samples appended ({})", p.how, appended.value.round(), appended.how);
            rows.push(row(
                "tsdb.wal_bytes_per_sample",
                format!("{v:.2}"),
                &from,
                (!warn.is_empty()).then(|| warn.join("; ")),
            ));
            wal_bytes_per_sample = Some(Const { value: v, from });
        }
        _ => match by_segments {
            Some(v) if rollovers.unwrap_or(0.0) >= 2.0 => {
                let from = format!(
                    "{:.0} segment roll-overs by size × {seg_mib:.0} MiB ÷ {} samples appended (no page counter)",
                    rollovers.unwrap_or(0.0),
                    appended.value.round()
                );
                rows.push(row(
                    "tsdb.wal_bytes_per_sample",
                    format!("{v:.2}"),
                    &from,
                    Some("a lower bound: segments cut short by WAL truncations are counted as empty".into()),
                ));
                wal_bytes_per_sample = Some(Const { value: v, from });
            }
            _ => rows.push(row(
                "tsdb.wal_bytes_per_sample",
                "not measured".into(),
                "prometheus_tsdb_wal_completed_pages_total is missing and fewer than 2 segments rolled over",
                Some("the scenario keeps rwsim's default".into()),
            )),
        },
    }

    // The queues.
    let queue_labels = m.label_sets("prometheus_remote_storage_shards", &none)?;
    let mut remotes = Vec::new();
    for (i, r) in plan.remotes.iter().enumerate() {
        let found = queue_labels.iter().find(|l| match &r.name {
            Some(n) => l.get("remote_name") == Some(n),
            None => l.get("url") == Some(&r.url),
        });
        let found = found.or_else(|| (plan.remotes.len() == 1 && queue_labels.len() == 1).then(|| &queue_labels[0]));
        let Some(labels) = found else {
            let known: Vec<String> = queue_labels
                .iter()
                .map(|l| {
                    format!(
                        "remote_name={:?} url={:?}",
                        l.get("remote_name").map_or("", |s| s),
                        l.get("url").map_or("", |s| s)
                    )
                })
                .collect();
            return fail(format!(
                "remote_write[{i}] ({}) has no queue metrics (prometheus_remote_storage_shards); the queues are: {}",
                r.name.clone().unwrap_or_else(|| r.url.clone()),
                if known.is_empty() { "none".to_string() } else { known.join("; ") }
            ));
        };
        let lm = Matchers(
            labels
                .iter()
                .filter(|(k, _)| *k == "remote_name" || *k == "url")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        remotes.push(measure_remote(m, r, lm, plan, window_s)?);
    }
    Ok(Calibration {
        mode,
        end_unix_ms: end_ms,
        window_asked_s: plan.window_s,
        window_s,
        warnings,
        samples_per_s,
        interval_s: interval,
        targets,
        series,
        scrape_duration_s,
        wal_bytes_per_sample,
        rows,
        remotes,
    })
}

/// What a window shorter than a few hours misses.
fn short_window_costs(w: u64) -> String {
    let mut c = Vec::new();
    if w < 2 * 3600 {
        c.push("no head compaction (every 2h by default) falls in it, so no WAL truncation is seen");
    }
    if w < 24 * 3600 {
        c.push("daily peaks are not in it: the rates are those of this stretch, not of your busiest hour");
    }
    c.push("fewer requests and WAL pages make the latency fit and the bytes per sample coarser");
    format!("It costs: {}.", c.join("; "))
}

fn measure_remote(m: &mut dyn Metrics, r: &Remote, lm: Matchers, plan: &Plan, w: f64) -> Result<RemoteCalibration> {
    const P: &str = "prometheus_remote_storage_";
    let n = |s: &str| format!("{P}{s}");
    let bytes = m.increase(&n("bytes_total"), &lm)?;
    let total = m.increase(&n("samples_total"), &lm)?;
    let retried = m.increase(&n("samples_retried_total"), &lm)?;
    let failed = m.increase(&n("samples_failed_total"), &lm)?;
    let dropped = m.increase(&n("samples_dropped_total"), &lm)?;
    let enqueue = m.increase(&n("enqueue_retries_total"), &lm)?;
    let dsum = m.increase(&n("sent_batch_duration_seconds_sum"), &lm)?;
    let dcount = m.increase(&n("sent_batch_duration_seconds_count"), &lm)?;
    let buckets = m.buckets(&n("sent_batch_duration_seconds_bucket"), &lm)?;
    let shards = m.avg(&n("shards"), &lm)?;
    let desired = m.avg(&n("shards_desired"), &lm)?;
    let pending = m.avg(&n("samples_pending"), &lm)?;
    let shards_now = m.last(&n("shards"), &lm)?;
    let desired_now = m.last(&n("shards_desired"), &lm)?;
    let pending_now = m.last(&n("samples_pending"), &lm)?;
    let v = |r: &Option<Reading>| r.as_ref().map_or(0.0, |r| r.value);
    let mut rows = Vec::new();
    let requests = v(&dcount);
    let thin = (requests < THIN_REQUESTS)
        .then(|| format!("only {requests:.0} requests in the window: too few to trust (at least {THIN_REQUESTS:.0})"));
    let errors = v(&failed) + v(&retried);
    let error_note = (errors > 0.0).then(|| {
        format!(
            "{:.2}% of the samples sent were failed or retried in the window: the receiver was not healthy throughout, \
             and those attempts are in the latency fit",
            100.0 * errors / v(&total).max(1.0)
        )
    });
    // Wire bytes per sample.
    let sent = v(&total) - v(&retried);
    let wire = match (&bytes, sent > 0.0) {
        (Some(b), true) if b.value > 0.0 => {
            let from = format!(
                "{} ÷ ({} − {})",
                b.how,
                total.as_ref().map_or("", |r| &r.how),
                retried.as_ref().map_or("samples_retried_total", |r| &r.how)
            );
            let val = b.value / sent;
            rows.push(row("workload.wire_bytes_per_sample", format!("{val:.2}"), &from, thin.clone()));
            Some(Const { value: val, from })
        }
        _ => {
            rows.push(row(
                "workload.wire_bytes_per_sample",
                "not measured".into(),
                "no samples sent in the window",
                Some("the scenario keeps rwsim's default".into()),
            ));
            None
        }
    };
    // Latency.
    let overhead = plan.request_overhead_s.unwrap_or(0.0);
    let latency = match (&dsum, &dcount) {
        (Some(s), Some(c)) if c.value > 0.0 => match fit_lognormal(&buckets, s.value, c.value, overhead) {
            Some(fit) => {
                let from = format!(
                    "log-normal with the exact mean ({} ÷ {}) and the σ that best fits the {} buckets of \
                     sent_batch_duration_seconds{}",
                    s.how,
                    c.how,
                    buckets.len(),
                    if overhead > 0.0 {
                        format!(", less --request-overhead {:.1}ms", overhead * 1000.0)
                    } else {
                        String::new()
                    }
                );
                let mut warn: Vec<String> = thin.iter().cloned().chain(error_note.iter().cloned()).collect();
                if fit.max_bucket_error > 0.1 {
                    warn.push(format!(
                        "the durations are not log-normal (a bucket is off by {:.0} points): the tail may be off",
                        fit.max_bucket_error * 100.0
                    ));
                }
                rows.push(row(
                    "receiver.latency",
                    format!(
                        "median {:.1}ms, p99 {:.1}ms (mean {:.1}ms; buckets interpolated: {:.1}ms, {:.1}ms)",
                        fit.median * 1000.0,
                        fit.p99 * 1000.0,
                        fit.mean * 1000.0,
                        fit.interpolated.0 * 1000.0,
                        fit.interpolated.1 * 1000.0
                    ),
                    &from,
                    (!warn.is_empty()).then(|| warn.join("; ")),
                ));
                Some((fit, from))
            }
            None => {
                rows.push(row(
                    "receiver.latency",
                    "not fitted".into(),
                    "the mean request duration is not above --request-overhead",
                    Some("the scenario keeps rwsim's default".into()),
                ));
                None
            }
        },
        _ => {
            rows.push(row(
                "receiver.latency",
                "not measured".into(),
                "no requests in the window",
                Some("the scenario keeps rwsim's default".into()),
            ));
            None
        }
    };
    rows.push(row(
        "sender.request_overhead",
        format!("{:.1}ms", overhead * 1000.0),
        if plan.request_overhead_s.is_some() {
            "--request-overhead"
        } else {
            "not separable from the receiver's time with Prometheus's metrics: the whole request time is in receiver.latency"
        },
        None,
    ));
    // The live queue.
    let fmt = |r: &Option<Reading>, now: &Option<Reading>| match (r, now) {
        (Some(a), Some(b)) => format!("mean {:.2}, now {:.2}", a.value, b.value),
        (Some(a), None) => format!("mean {:.2}", a.value),
        _ => "absent".into(),
    };
    let how = |r: &Option<Reading>| r.as_ref().map_or(String::new(), |r| r.how.clone());
    rows.push(row("live shards", fmt(&shards, &shards_now), how(&shards), None));
    rows.push(row("live desired shards", fmt(&desired, &desired_now), how(&desired), None));
    rows.push(row("live pending samples", fmt(&pending, &pending_now), how(&pending), None));
    let batch = (requests > 0.0).then(|| v(&dsum) / requests);
    if let Some(b) = batch {
        rows.push(row(
            "live request duration",
            format!("{:.1}ms mean, {:.2} requests/s", b * 1000.0, requests / w),
            format!("{} ÷ {}", how(&dsum), how(&dcount)),
            None,
        ));
    }
    let bytes_per_s = bytes.as_ref().map(|b| b.value / w);
    if let Some(b) = bytes_per_s {
        rows.push(row("live bytes/s", format!("{b:.0}"), how(&bytes), None));
    }
    rows.push(row(
        "live errors",
        format!(
            "failed {:.2}/s, retried {:.2}/s, dropped {:.2}/s (of {:.1} samples/s sent)",
            v(&failed) / w,
            v(&retried) / w,
            v(&dropped) / w,
            v(&total) / w
        ),
        format!("{}; {}; {}", how(&failed), how(&retried), how(&dropped)),
        error_note.clone(),
    ));
    if v(&dropped) > 0.0 {
        rows.push(row(
            "dropped by the queue",
            format!("{:.2}% of the samples read", 100.0 * v(&dropped) / (v(&total) + v(&dropped)).max(1.0)),
            how(&dropped),
            Some("write_relabel_configs (or samples too old): the model sends every appended sample".into()),
        ));
    }
    if v(&enqueue) > 0.0 {
        rows.push(row(
            "enqueue retries",
            format!("{:.0}", v(&enqueue)),
            how(&enqueue),
            Some("the WAL watcher waited on full shards: the queue fell behind in the window".into()),
        ));
    }
    Ok(RemoteCalibration {
        remote: r.clone(),
        labels: lm,
        wire_bytes_per_sample: wire,
        latency,
        request_overhead_s: overhead,
        live: LiveState {
            shards: shards.map(|r| r.value),
            desired: desired.map(|r| r.value),
            pending: pending.map(|r| r.value),
            batch_duration_s: batch,
            bytes_per_s,
        },
        rows,
    })
}

#[cfg(test)]
mod tests;
