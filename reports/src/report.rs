//! `rwsim report`: one self-contained document per run, as Markdown (`report.md`, images
//! referenced next to it) and HTML (`report.html`, images embedded as data URIs, inline CSS,
//! no external assets).
//!
//! [`Report`] is what the document shows; [`document`] turns it into a list of [`Block`]s
//! (headings, paragraphs, tables, figures), and [`markdown`] and [`html`] format the same
//! blocks. [`sweep`] does the same for a sweep directory. Nothing here reads a clock: the
//! same run gives the same bytes.

pub mod sweep;

use crate::summary::{bytes, count, pct, secs};
use analysis::robust::{Outcome, Robust};
use base64::Engine;
use sim_core::config::{Latency, Response, SenderMode, SimConfig};
use sim_core::result::RunResult;
use sim_core::time::SimDuration;
use std::fmt::Write;

/// A chart in the report.
#[derive(Clone, Debug)]
pub struct Image {
    /// Caption.
    pub title: String,
    /// File name next to `report.md` (the Markdown links to it).
    pub file: String,
    /// The PNG bytes (embedded in the HTML).
    pub png: Vec<u8>,
}

/// What a report shows.
pub struct Report<'a> {
    /// The configuration that ran.
    pub config: &'a SimConfig,
    /// The scenario's `description`, if any.
    pub description: Option<&'a str>,
    /// Where the scenario came from (a path or `<builtin:NAME>`).
    pub origin: &'a str,
    /// The result.
    pub result: &'a RunResult,
    /// The best, median and worst case, when the robust answer ran.
    pub robust: Option<&'a Robust>,
    /// Charts, in order.
    pub images: Vec<Image>,
}

/// A piece of the document.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A heading (level 1 or 2).
    Heading(u8, String),
    /// The one-line answer at the top, good (nothing lost, a recommendation) or not.
    Verdict(String, bool),
    /// A paragraph of plain text.
    Para(String),
    /// A YAML snippet to paste (a `queue_config:` block), shown as is.
    Yaml(String),
    /// A snippet of another configuration language to paste (`alloy`: Grafana Alloy's
    /// syntax), shown as is; Markdown fences it with the language's name.
    Code(&'static str, String),
    /// A short note in smaller type.
    Note(String),
    /// A table: header, rows; `numeric[i]` right-aligns column `i`.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// Cells.
        rows: Vec<Vec<String>>,
        /// Right-aligned columns.
        numeric: Vec<bool>,
    },
    /// A chart (index into [`Report::images`]).
    Figure(usize),
    /// The closing line: what made the document.
    Footer(String),
}

fn dur(d: SimDuration) -> String {
    d.to_string()
}

fn latency_words(l: &Latency) -> String {
    match l {
        Latency::Fixed(d) => format!("in {}", dur(*d)),
        Latency::LogNormal { median, p99 } => {
            format!("in {} at the median and {} at p99 (log-normal)", dur(*median), dur(*p99))
        }
        Latency::Exponential { mean } => format!("in {} on average (exponential)", dur(*mean)),
        Latency::Uniform { min, max } => {
            format!("in {} to {} (uniform)", dur(*min), dur(*max))
        }
    }
}

/// Samples per second the workload appends at its start (report series included).
pub fn samples_per_second(cfg: &SimConfig) -> f64 {
    let w = &cfg.workload;
    let per_scrape = w.series + if w.report_series { 5 * u64::from(w.targets) } else { 0 };
    per_scrape as f64 / w.scrape_interval.as_secs_f64()
}

/// The scenario in words: one paragraph each for the sender, the receiver and its faults.
pub fn scenario_words(cfg: &SimConfig) -> Vec<String> {
    let w = &cfg.workload;
    let start = crate::charts::axis::utc(cfg.clock.start_unix_nanos / 1_000_000_000);
    let mut sender = sim_core::config::SenderMode::describe(cfg.sender.mode.name(), cfg.profile.as_str());
    let truncation = match &cfg.sender.mode {
        SenderMode::Server => format!(
            "{} blocks (head compaction, and with it WAL truncation, about every {})",
            dur(cfg.tsdb.min_block_duration),
            dur(cfg.tsdb.min_block_duration)
        ),
        SenderMode::Agent(a) => format!(
            "a truncation every {} from the process start",
            dur(sim_core::sender::agent::AgentOptions::from_flags(a).truncate_frequency)
        ),
        SenderMode::Alloy(a) => format!(
            "a truncation every {} from the process start, skipped while nothing has been sent",
            dur(a.truncate_frequency)
        ),
        SenderMode::Vmagent(v) => {
            sender = v.version.describe().to_string();
            let cap = match v.effective_disk_cap() {
                0 => "with no cap".to_string(),
                b => format!("capped at {} (oldest blocks dropped beyond it)", bytes(b)),
            };
            format!(
                "no WAL: {} fixed workers send blocks of up to {} samples from an in-memory queue of {} blocks \
                 that spills to a disk queue {cap}",
                v.queues(),
                count(v.rows_per_block()),
                count(v.max_inmemory_blocks())
            )
        }
    };
    let storage = match &cfg.sender.mode {
        SenderMode::Vmagent(_) => format!("It has {truncation}."),
        _ => format!("Its WAL has {} segments and {truncation}.", bytes(cfg.tsdb.wal_segment_size).replace(".0 ", " ")),
    };
    let mut out = vec![format!(
        "A {sender} sender scrapes {} series from {} target{} every {}{} — about {} samples/s \
         — and remote-writes them for {}, from {}. {storage}",
        count(w.series),
        count(u64::from(w.targets)),
        if w.targets == 1 { "" } else { "s" },
        dur(w.scrape_interval),
        if w.report_series { ", plus 5 report series per target" } else { "" },
        count(samples_per_second(cfg).round() as u64),
        dur(cfg.duration),
        start,
    )];
    for c in &w.changes {
        out.push(format!(
            "At {} the series count changes to {}.",
            sim_core::time::SimTime(c.at.nanos()),
            count(c.series)
        ));
    }
    let r = &cfg.receiver;
    let mut rx = format!("The receiver answers {}", latency_words(&r.latency));
    if let Some(n) = r.workers {
        let _ = write!(rx, ", working on at most {n} requests at once");
        match r.queue_size {
            Some(q) => {
                let _ = write!(rx, " with {q} more waiting (then {})", r.queue_full_status);
            }
            None => rx.push_str(" (the rest wait)"),
        }
    }
    if let Some(t) = r.worker_throughput {
        let _ = write!(rx, ", each worker ingesting {} samples/s", count(t.round() as u64));
    }
    if let Some(rl) = &r.rate_limit {
        let _ = write!(
            rx,
            ", and limits ingestion to {} samples/s (burst {}), answering 429{} beyond it",
            count(rl.samples_per_second.round() as u64),
            count(rl.burst),
            rl.retry_after.map(|d| format!(" with Retry-After {}", dur(d))).unwrap_or_default()
        );
    }
    rx.push('.');
    out.push(rx);
    if r.faults.is_empty() && r.incidents.is_empty() {
        out.push("No faults or incidents are injected.".into());
    }
    for (i, f) in r.faults.iter().enumerate() {
        let what = match f.response {
            Response::Status(s) => format!("answers {s}"),
            Response::Timeout => "does not answer (the sender times out)".into(),
            Response::Refused => "refuses connections".into(),
        };
        let mut s = format!(
            "Fault #{i}: from {} to {} ({}) the receiver {what} to {} requests",
            sim_core::time::SimTime(f.start.nanos()),
            sim_core::time::SimTime(f.end.nanos()),
            dur(f.end.saturating_sub(f.start)),
            if f.probability >= 1.0 {
                "all".to_string()
            } else {
                format!("{}% of", crate::charts::axis::si(f.probability * 100.0))
            }
        );
        if let Some(ra) = f.retry_after {
            let _ = write!(s, ", with Retry-After {}", dur(ra));
        }
        if let Some(l) = &f.latency {
            let _ = write!(s, ", {}", latency_words(l));
        }
        s.push('.');
        out.push(s);
    }
    for (i, inc) in r.incidents.iter().enumerate() {
        let end = inc.end.map_or("the end".to_string(), |e| sim_core::time::SimTime(e.nanos()).to_string());
        out.push(format!("Incident #{i}, from {} to {end}: {}.", sim_core::time::SimTime(inc.start.nanos()), inc.kind));
    }
    out
}

/// The heading of [`queue_config_rows`] and the note under it, for the sender: a vmagent
/// has flags, not a `queue_config`; Alloy's defaults are its own.
pub fn queue_config_words(cfg: &SimConfig) -> (&'static str, String) {
    match &cfg.sender.mode {
        SenderMode::Vmagent(v) => {
            ("vmagent flags", format!("\"default\" is vmagent {}'s default.", v.version.as_str()))
        }
        SenderMode::Alloy(_) => (
            "queue_config",
            "Alloy's prometheus.remote_write attributes (endpoint, queue_config and wal blocks); \"default\" is \
             Grafana Alloy's default."
                .to_string(),
        ),
        _ => ("queue_config", format!("\"default\" is Prometheus {}'s default.", cfg.profile.as_str())),
    }
}

/// vmagent's flags, with its defaults marked.
fn vmagent_rows(v: &sim_core::sender::vmagent::VmagentConfig) -> Vec<Vec<String>> {
    use sim_core::sender::vmagent::flags::format_vm_bytes as vb;
    let d = sim_core::sender::vmagent::VmagentConfig { version: v.version, cpus: v.cpus, ..Default::default() };
    let mark = |same: bool| if same { "default" } else { "set" }.to_string();
    let mut rows = vec![
        vec!["-remoteWrite.queues".into(), v.queues().to_string(), mark(v.queues == d.queues)],
        vec![
            "-remoteWrite.maxDiskUsagePerURL".into(),
            vb(v.max_disk_usage_per_url),
            mark(v.max_disk_usage_per_url == d.max_disk_usage_per_url),
        ],
        vec!["-remoteWrite.maxBlockSize".into(), vb(v.max_block_size), mark(v.max_block_size == d.max_block_size)],
        vec![
            "-remoteWrite.maxRowsPerBlock".into(),
            count(v.max_rows_per_block),
            mark(v.max_rows_per_block == d.max_rows_per_block),
        ],
        vec!["-remoteWrite.flushInterval".into(), dur(v.flush_interval), mark(v.flush_interval == d.flush_interval)],
        vec!["-remoteWrite.sendTimeout".into(), dur(v.send_timeout), mark(v.send_timeout == d.send_timeout)],
        vec!["-remoteWrite.rateLimit".into(), vb(v.rate_limit), mark(v.rate_limit == d.rate_limit)],
    ];
    if v.version == sim_core::sender::vmagent::VmVersion::Current {
        rows.push(vec![
            "-remoteWrite.retryMinInterval".into(),
            dur(v.retry_min_interval),
            mark(v.retry_min_interval == d.retry_min_interval),
        ]);
        rows.push(vec![
            "-remoteWrite.retryMaxInterval".into(),
            dur(v.retry_max_interval),
            mark(v.retry_max_interval == d.retry_max_interval),
        ]);
    }
    rows.push(vec![
        "-memory.allowedPercent".into(),
        v.memory_allowed_percent.to_string(),
        mark(v.memory_allowed_percent == d.memory_allowed_percent),
    ]);
    rows
}

/// `queue_config` and the other sender settings, with the version's defaults marked, in the
/// sender's names: Alloy's `wal` attributes and no flush-deadline flag (Alloy's is fixed),
/// vmagent's flags.
pub fn queue_config_rows(cfg: &SimConfig) -> Vec<Vec<String>> {
    if let SenderMode::Vmagent(v) = &cfg.sender.mode {
        return vmagent_rows(v);
    }
    let q = &cfg.remote_write.queue;
    let d = sim_core::config::QueueConfig::defaults_for(cfg.profile, &cfg.sender.mode);
    let mark = |same: bool| if same { "default" } else { "set" }.to_string();
    let mut rows = vec![
        vec!["capacity".into(), count(q.capacity.into()), mark(q.capacity == d.capacity)],
        vec!["max_shards".into(), q.max_shards.to_string(), mark(q.max_shards == d.max_shards)],
        vec!["min_shards".into(), q.min_shards.to_string(), mark(q.min_shards == d.min_shards)],
        vec![
            "max_samples_per_send".into(),
            count(q.max_samples_per_send.into()),
            mark(q.max_samples_per_send == d.max_samples_per_send),
        ],
        vec![
            "batch_send_deadline".into(),
            dur(q.batch_send_deadline),
            mark(q.batch_send_deadline == d.batch_send_deadline),
        ],
        vec!["min_backoff".into(), dur(q.min_backoff), mark(q.min_backoff == d.min_backoff)],
        vec!["max_backoff".into(), dur(q.max_backoff), mark(q.max_backoff == d.max_backoff)],
        vec![
            "retry_on_http_429".into(),
            q.retry_on_http_429.to_string(),
            mark(q.retry_on_http_429 == d.retry_on_http_429),
        ],
    ];
    if cfg.profile == sim_core::profile::Profile::V3 {
        rows.push(vec![
            "sample_age_limit".into(),
            dur(q.sample_age_limit),
            mark(q.sample_age_limit == d.sample_age_limit),
        ]);
    }
    rows.push(vec![
        "remote_timeout".into(),
        dur(cfg.remote_write.remote_timeout),
        mark(cfg.remote_write.remote_timeout == SimDuration::from_secs(30)),
    ]);
    if let SenderMode::Alloy(a) = &cfg.sender.mode {
        let wd = sim_core::config::AlloyWal::default();
        for (k, v, dv) in [
            ("truncate_frequency (wal)", a.truncate_frequency, wd.truncate_frequency),
            ("min_keepalive_time (wal)", a.min_keepalive_time, wd.min_keepalive_time),
            ("max_keepalive_time (wal)", a.max_keepalive_time, wd.max_keepalive_time),
        ] {
            rows.push(vec![k.into(), dur(v), mark(v == dv)]);
        }
        return rows;
    }
    rows.push(vec![
        "flush_deadline (flag)".into(),
        dur(cfg.sender.flush_deadline),
        mark(cfg.sender.flush_deadline == SimDuration::from_mins(1)),
    ]);
    rows
}

/// The forecast: where the samples went.
pub fn forecast_rows(r: &RunResult) -> Vec<Vec<String>> {
    let s = &r.samples;
    let d = &s.dropped;
    let row = |label: &str, n: u64| vec![label.to_string(), count(n), pct(n, s.appended)];
    let mut rows = vec![
        row("appended to the WAL", s.appended),
        row("delivered (2xx)", s.delivered),
        row("failed (4xx, 429 not retried)", s.failed),
        row("lost: WAL truncation (silent in Prometheus)", d.wal_truncation),
        row("lost: too old (sample_age_limit)", d.too_old),
        row("lost: reshard shutdown", d.reshard_shutdown),
        row("pending at the end", s.pending_at_end),
        vec!["retried (re-sends, not a bucket)".into(), count(s.retried), String::new()],
    ];
    if r.vmagent.is_some() {
        rows.insert(6, row("lost: vmagent disk cap (oldest blocks)", d.disk_full));
        rows.insert(7, row("lost: vmagent kill (uncounted by vmagent)", d.sender_crash));
    }
    rows
}

/// How the queue behaved.
pub fn queue_rows(r: &RunResult) -> Vec<Vec<String>> {
    let l = &r.delivery_latency_seconds;
    let sh = &r.shards;
    let rs = &r.receiver.responses;
    vec![
        vec!["lag (max / at the end)".into(), format!("{} / {}", secs(r.lag_seconds.max), secs(r.lag_seconds.final_))],
        vec![
            "delivery latency (p50 / p99 / max)".into(),
            format!("{} / {} / {}", secs(l.p50), secs(l.p99), secs(l.max)),
        ],
        vec!["shards (min / max / at the end)".into(), format!("{} / {} / {}", sh.min, sh.max, sh.final_)],
        vec![
            "reshards (applied / skipped: no recent send, paused after a retry or still draining, \
             docs/model.md §9.3 / hard shutdowns)"
                .into(),
            format!("{} / {} / {}", sh.reshards, sh.reshards_skipped, sh.hard_shutdowns),
        ],
        vec![
            "samples pending, max (in shards / incl. unread WAL)".into(),
            format!("{} / {}", count(r.pending.max), count(r.pending.backlog_max)),
        ],
        vec!["queue memory, peak".into(), bytes(r.queue_memory_bytes_peak)],
        vec![
            "requests (2xx / 429 / other 4xx / 5xx / timeout / refused)".into(),
            format!(
                "{} / {} / {} / {} / {} / {}",
                count(rs.ok),
                count(rs.throttled),
                count(rs.client_error),
                count(rs.server_error),
                count(rs.timeout),
                count(rs.refused)
            ),
        ],
        vec![
            "WAL (segments / truncations / watcher restarts)".into(),
            format!("{} / {} / {}", r.wal.segments_created, r.wal.truncations, r.wal.watcher_restarts),
        ],
    ]
}

/// The one-line verdict.
pub fn verdict(r: &RunResult) -> (String, bool) {
    // Every gap, as the forecast's headline counts it (restart skips, samples not scraped
    // while the sender was down and unread WAL certain to be skipped included).
    let lost = r.gaps.samples;
    if let (0, Some(behind)) = (lost, crate::summary::behind_words(r)) {
        (format!("No data lost or rejected by the end of the run. {behind}."), false)
    } else if lost == 0 {
        ("No data lost or rejected.".into(), true)
    } else {
        (
            format!("{} of the data ({} samples) never reached the receiver.", pct(lost, r.produced()), count(lost)),
            false,
        )
    }
}

/// Most timeline rows in a report.
pub const TIMELINE_ROWS: usize = 200;

/// The document, as blocks.
pub fn document(rep: &Report<'_>) -> Vec<Block> {
    let cfg = rep.config;
    let r = rep.result;
    let mut b = vec![Block::Heading(1, format!("rwsim report: {}", r.scenario))];
    if let Some(d) = rep.description {
        b.push(Block::Note(d.to_string()));
    }
    let clean = r.gaps.samples == 0 && r.behind_at_end().is_none();
    b.push(Block::Verdict(crate::summary::headline(r, rep.robust), clean));
    if !r.gaps.list.is_empty() {
        b.push(Block::Heading(2, "Data lost".into()));
        b.push(Block::Para(
            "The ranges of sample timestamps whose samples never reach the receiver: the holes its dashboards \
             will show. Coverage is the share of the samples with a timestamp in the range that are lost (a failed \
             batch is one shard's share of its time range)."
                .into(),
        ));
        b.push(Block::Table {
            header: ["from", "to", "duration", "samples", "coverage", "reason"].map(String::from).to_vec(),
            rows: r
                .gaps
                .list
                .iter()
                .take(TIMELINE_ROWS)
                .map(|g| {
                    vec![
                        crate::summary::clock(g.from_seconds),
                        crate::summary::clock(g.to_seconds),
                        crate::summary::span(g.duration_seconds),
                        count(g.samples),
                        format!("{:.0}%", g.coverage * 100.0),
                        g.reason.describe().to_string(),
                    ]
                })
                .collect(),
            numeric: vec![false, false, true, true, true, false],
        });
    }
    if let Some(rb) = rep.robust {
        b.push(Block::Heading(2, "Best, median and worst case".into()));
        b.push(Block::Para(format!(
            "The scenario fixes one start for its outage and leaves some model constants at their defaults; \
             neither is something an operator controls. {} runs varied them (see the note below); how much data \
             each case loses, and what it varied:",
            rb.runs
        )));
        let row = |name: &str, o: &Outcome| {
            vec![
                name.to_string(),
                if o.lost_samples == 0 { "nothing".into() } else { crate::summary::span(o.lost_seconds) },
                pct(o.lost_samples, o.produced_or_appended()),
                crate::summary::variation_words(&o.variation, crate::summary::reference(rb)),
            ]
        };
        b.push(Block::Table {
            header: ["case", "data lost", "share", "what varied"].map(String::from).to_vec(),
            rows: vec![
                row("as written", &rb.literal),
                row("best", &rb.best),
                row("median", &rb.median),
                row("worst", &rb.worst),
            ],
            numeric: vec![false, true, true, false],
        });
        let section = crate::summary::robust_section(rb);
        let notes: Vec<String> = section
            .lines()
            .skip(5)
            .map(|l| {
                let l = l.trim();
                let mut l = l[..1].to_uppercase() + &l[1..];
                if !l.ends_with('.') {
                    l.push('.');
                }
                l
            })
            .collect();
        b.push(Block::Note(notes.join(" ")));
    }

    b.push(Block::Heading(2, "The scenario".into()));
    b.extend(scenario_words(cfg).into_iter().map(Block::Para));

    let (heading, note) = queue_config_words(cfg);
    b.push(Block::Heading(2, heading.into()));
    b.push(Block::Table {
        header: vec!["key".into(), "value".into(), "".into()],
        rows: queue_config_rows(cfg),
        numeric: vec![false, true, false],
    });
    b.push(Block::Note(note));

    b.push(Block::Heading(2, "Forecast".into()));
    b.push(Block::Table {
        header: vec!["samples".into(), "count".into(), "share".into()],
        rows: forecast_rows(r),
        numeric: vec![false, true, true],
    });
    b.push(Block::Table {
        header: vec!["queue".into(), "value".into()],
        rows: queue_rows(r),
        numeric: vec![false, true],
    });
    if !r.conservation_ok {
        b.push(Block::Para("Sample conservation was VIOLATED in this run: this is a bug in rwsim.".into()));
    }

    b.push(Block::Heading(2, "Timeline".into()));
    let major: Vec<_> = r.timeline.iter().filter(|n| n.major).collect();
    if major.is_empty() {
        b.push(Block::Para("Nothing notable happened.".into()));
    } else {
        b.push(Block::Table {
            header: vec!["time".into(), "what happened".into()],
            rows: major.iter().take(TIMELINE_ROWS).map(|n| vec![n.at.to_string(), n.message.clone()]).collect(),
            numeric: vec![false, false],
        });
    }
    let minor = r.timeline.len() - major.len();
    let more = major.len().saturating_sub(TIMELINE_ROWS) as u64 + r.timeline_omitted;
    if minor > 0 || more > 0 {
        // Past the timeline's cap the run counts moments without keeping them.
        let kept = if r.timeline_omitted > 0 {
            format!("summary.json has the first {} of them", count(r.timeline.len() as u64))
        } else {
            "summary.json has every one".to_string()
        };
        b.push(Block::Note(format!(
            "Not listed: {} routine moments (small reshards, short WAL-reading stalls){}; {kept}.",
            count(minor as u64),
            if more > 0 { format!(" and {} more", count(more)) } else { String::new() }
        )));
    }
    if r.incident_windows_omitted > 0 {
        b.push(Block::Note(format!(
            "The receiver had {} more incident windows than the first {} this run keeps; they are \
             counted (`incident_windows_omitted`), and the dashboard shades only the kept ones.",
            count(r.incident_windows_omitted),
            count(r.incident_windows.len() as u64)
        )));
    }

    if !rep.images.is_empty() {
        b.push(Block::Heading(2, "Charts".into()));
        b.extend((0..rep.images.len()).map(Block::Figure));
    }
    b.push(Block::Footer(format!(
        "Generated by rwsim {} from {}, seed {}. The same scenario and seed give the same report.",
        env!("CARGO_PKG_VERSION"),
        rep.origin,
        r.seed
    )));
    b
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown; charts are linked by file name.
pub fn markdown(rep: &Report<'_>) -> String {
    render_markdown(&document(rep), &rep.images)
}

/// Blocks as Markdown; `Block::Figure(i)` links `images[i]` by file name.
pub fn render_markdown(blocks: &[Block], images: &[Image]) -> String {
    let mut o = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, t) => {
                let _ = writeln!(o, "{} {t}\n", "#".repeat((*level).into()));
            }
            Block::Verdict(t, _) | Block::Para(t) => {
                let _ = writeln!(o, "{t}\n");
            }
            Block::Yaml(t) => {
                let _ = writeln!(o, "```yaml\n{}\n```\n", t.trim_end());
            }
            Block::Code(lang, t) => {
                let _ = writeln!(o, "```{lang}\n{}\n```\n", t.trim_end());
            }
            Block::Note(t) | Block::Footer(t) => {
                let _ = writeln!(o, "*{}*\n", t.replace('*', "\\*"));
            }
            Block::Table { header, rows, numeric } => {
                let cells: Vec<String> = header.iter().map(|h| md_cell(h)).collect();
                let _ = writeln!(o, "| {} |", cells.join(" | "));
                let align: Vec<&str> = (0..header.len())
                    .map(|i| if numeric.get(i).copied().unwrap_or(false) { "--:" } else { "---" })
                    .collect();
                let _ = writeln!(o, "|{}|", align.join("|"));
                for r in rows {
                    let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                    let _ = writeln!(o, "| {} |", cells.join(" | "));
                }
                o.push('\n');
            }
            Block::Figure(i) => {
                let img = &images[*i];
                let _ = writeln!(o, "![{}]({})\n\n*{}*\n", img.title, img.file, img.title);
            }
        }
    }
    o
}

/// Escapes text for HTML.
pub fn escape_html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o += "&amp;",
            '<' => o += "&lt;",
            '>' => o += "&gt;",
            '"' => o += "&quot;",
            '\'' => o += "&#39;",
            c => o.push(c),
        }
    }
    o
}

const HTML_TEMPLATE: &str = include_str!("report.html");

/// The report as one self-contained HTML page: inline CSS, charts as `data:image/png`.
pub fn html(rep: &Report<'_>) -> String {
    render_html(&format!("rwsim report: {}", rep.result.scenario), &document(rep), &rep.images)
}

/// Blocks as one self-contained HTML page titled `title`; `Block::Figure(i)` embeds
/// `images[i]` as a data URI.
pub fn render_html(title: &str, blocks: &[Block], images: &[Image]) -> String {
    let mut body = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, t) => {
                let _ = writeln!(body, "<h{level}>{}</h{level}>", escape_html(t));
            }
            Block::Verdict(t, good) => {
                let class = if *good { "good" } else { "bad" };
                let _ = writeln!(body, "<p class=\"verdict {class}\">{}</p>", escape_html(t));
            }
            Block::Para(t) => {
                let _ = writeln!(body, "<p>{}</p>", escape_html(t));
            }
            Block::Yaml(t) | Block::Code(_, t) => {
                let _ = writeln!(body, "<pre><code>{}</code></pre>", escape_html(t.trim_end()));
            }
            Block::Note(t) => {
                let _ = writeln!(body, "<p class=\"note\">{}</p>", escape_html(t));
            }
            Block::Footer(t) => {
                let _ = writeln!(body, "<footer>{}</footer>", escape_html(t));
            }
            Block::Table { header, rows, numeric } => {
                body += "<table>\n<tr>";
                for h in header {
                    let _ = write!(body, "<th>{}</th>", escape_html(h));
                }
                body += "</tr>\n";
                for r in rows {
                    body += "<tr>";
                    for (i, c) in r.iter().enumerate() {
                        let class = if numeric.get(i).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
                        let _ = write!(body, "<td{class}>{}</td>", escape_html(c));
                    }
                    body += "</tr>\n";
                }
                body += "</table>\n";
            }
            Block::Figure(i) => {
                let img = &images[*i];
                let data = base64::engine::general_purpose::STANDARD.encode(&img.png);
                let _ = writeln!(
                    body,
                    "<figure><img alt=\"{t}\" src=\"data:image/png;base64,{data}\"><figcaption>{t}</figcaption></figure>",
                    t = escape_html(&img.title)
                );
            }
        }
    }
    HTML_TEMPLATE
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
        .replace("{{title}}", &escape_html(title))
        .replace("{{body}}", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::config::FaultWindow;
    use sim_core::profile::Profile;

    fn run() -> (SimConfig, RunResult) {
        let mut cfg = SimConfig::baseline(Profile::V3);
        cfg.name = "a|b <c>".into();
        cfg.duration = SimDuration::from_mins(30);
        cfg.remote_write.queue.max_shards = 20;
        cfg.receiver.faults.push(FaultWindow {
            start: SimDuration::from_mins(5),
            end: SimDuration::from_mins(10),
            response: Response::Status(400),
            probability: 0.1,
            retry_after: None,
            latency: Some(Latency::Fixed(SimDuration::from_millis(5))),
        });
        let r = sim_core::simulate(&cfg, &mut ()).unwrap();
        (cfg, r)
    }

    fn report<'a>(cfg: &'a SimConfig, r: &'a RunResult) -> Report<'a> {
        Report {
            robust: None,
            config: cfg,
            description: Some("rejects & <retries>"),
            origin: "<builtin:x>",
            result: r,
            images: vec![Image {
                title: "Run dashboard".into(),
                file: "dashboard.png".into(),
                png: vec![0x89, b'P', b'N', b'G'],
            }],
        }
    }

    #[test]
    fn the_scenario_is_told_in_words() {
        let (cfg, _) = run();
        let words = scenario_words(&cfg);
        assert!(words[0].starts_with(
            "A Prometheus 3.x sender scrapes 100,000 series from 100 targets every 15s, plus 5 report series per target — about 6,700 samples/s — and remote-writes them for 30m, from 2024-01-01 00:00:00 UTC."
        ), "{}", words[0]);
        assert_eq!(words[1], "The receiver answers in 20ms.");
        assert_eq!(
            words[2],
            "Fault #0: from 00:05:00 to 00:10:00 (5m) the receiver answers 400 to 10% of requests, in 5ms."
        );
        let rows = queue_config_rows(&cfg);
        assert_eq!(rows[1], vec!["max_shards", "20", "set"]);
        assert_eq!(rows[0], vec!["capacity", "10,000", "default"]);
    }

    /// The settings table speaks the sender's names: Alloy's defaults (429 retried), its
    /// `wal` block and no flush-deadline flag; vmagent's flags instead of a queue_config.
    #[test]
    fn the_settings_table_is_the_senders() {
        let (mut cfg, _) = run();
        cfg.sender.mode = SenderMode::Alloy(sim_core::config::AlloyWal::default());
        cfg.remote_write.queue.retry_on_http_429 = true;
        let rows = queue_config_rows(&cfg);
        assert!(rows.contains(&vec!["retry_on_http_429".into(), "true".into(), "default".into()]), "{rows:?}");
        assert!(rows.contains(&vec!["max_keepalive_time (wal)".into(), "8h".into(), "default".into()]), "{rows:?}");
        assert!(!rows.iter().any(|r| r[0].contains("flush_deadline")), "{rows:?}");
        assert!(queue_config_words(&cfg).1.contains("Grafana Alloy's default"));
        cfg.sender.mode = SenderMode::Vmagent(Default::default());
        let rows = queue_config_rows(&cfg);
        assert_eq!(rows[0], vec!["-remoteWrite.queues", "8", "default"], "2 × 4 CPUs");
        assert!(!rows.iter().any(|r| r[0] == "capacity"), "{rows:?}");
        assert_eq!(queue_config_words(&cfg).0, "vmagent flags");
    }

    #[test]
    fn markdown_has_every_section_and_escapes_table_cells() {
        let (cfg, r) = run();
        let md = markdown(&report(&cfg, &r));
        for part in [
            "# rwsim report: a|b <c>\n",
            "*rejects & <retries>*",
            "of data lost, ",
            "## Data lost",
            "| from | to | duration | samples | coverage | reason |",
            "## The scenario",
            "## queue_config",
            "| max_shards | 20 | set |",
            "## Forecast",
            "## Timeline",
            "## Charts",
            "![Run dashboard](dashboard.png)",
            "*Generated by rwsim",
        ] {
            assert!(md.contains(part), "markdown lacks {part:?}");
        }
    }

    #[test]
    fn html_is_escaped_and_self_contained() {
        let (cfg, r) = run();
        let html = html(&report(&cfg, &r));
        assert!(html.contains("<title>rwsim report: a|b &lt;c&gt;</title>"));
        assert!(html.contains("<p class=\"note\">rejects &amp; &lt;retries&gt;</p>"));
        assert!(html.contains("<p class=\"verdict bad\">"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORw==\""));
        assert!(html.contains("<footer>Generated by rwsim"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert_eq!(html, super::html(&report(&cfg, &r)), "no clock, same bytes");
    }
}
