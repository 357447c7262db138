//! `rwsim calibrate`: measure a running Prometheus, write ready scenarios and a calibration
//! table; `--check` compares the calibrated model with the live queue.

use super::import::{parse_duration_flag, print_draft_notes, write_drafts};
use super::{CliError, io_err};
use crate::cli::{AuthArgs, CalibrateArgs};
use live::calibrate::measure::{self, Calibration, Job, Mode, Plan, Remote, Row, secs_text};
use live::calibrate::metrics::Matchers;
use live::calibrate::{Recorder, Replay, SAVED_FORMAT, Saved, Source, api, check, http};
use scenarios::import::{Draft, Flags, ImportOptions, LatencyDraft, Provenance, Val, describe, import, slug};
use sim_core::time::{NANOS_PER_MILLI, SimDuration};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when `--check` finds a mismatch (the scenarios are written all the same).
const CHECK_MISMATCH: u8 = 3;

fn remote_err(e: live::calibrate::CalibrateError) -> CliError {
    CliError::Live(live::LiveError::Usage(e.0))
}

pub fn run(a: CalibrateArgs) -> Result<ExitCode, CliError> {
    // Where the answers come from.
    let (src, url, mut saved_opts): (Box<dyn Source>, String, BTreeMap<String, String>) = match &a.from {
        Some(path) => {
            let text = fs::read_to_string(path).map_err(io_err(path))?;
            let saved: Saved = serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!("{}: not a file of rwsim calibrate --save: {e}", path.display()))
            })?;
            let url = saved.prometheus.clone();
            let opts = saved.options.clone();
            (Box::new(Replay::new(saved, &path.display().to_string()).map_err(remote_err)?), url, opts)
        }
        None => {
            let url = a.prometheus.clone().expect("clap requires --prometheus without --from");
            let opts = http_options(&url, &a.auth)?;
            let s = http::HttpSource::new(opts, http::interrupt_flag()).map_err(remote_err)?;
            (Box::new(s), url, BTreeMap::new())
        }
    };
    // Options given now win over the saved ones.
    for (k, v) in [("window", &a.window), ("selector", &a.selector), ("sample_every", &a.sample_every)] {
        if let Some(v) = v {
            saved_opts.insert(k.to_string(), v.clone());
        }
    }
    let window_text = saved_opts.get("window").cloned().unwrap_or_else(|| "6h".to_string());
    let window = parse_duration_flag("--window", &window_text)?;
    if window < SimDuration::from_secs(10) {
        return Err(CliError::Usage("--window: at least 10s".into()));
    }
    let sample_every = saved_opts
        .get("sample_every")
        .map(|s| parse_duration_flag("--sample-every", s).map(|d| (d.nanos() / 1_000_000_000).max(1)))
        .transpose()?;
    let selector = saved_opts
        .get("selector")
        .map(|s| Matchers::parse(s).map_err(|e| CliError::Usage(format!("--selector: {e}"))))
        .transpose()?;
    let overhead = a.request_overhead.as_deref().map(|d| parse_duration_flag("--request-overhead", d)).transpose()?;

    let (mut recorder, mut plain) = if a.save.is_some() { (Some(Recorder::new(src)), None) } else { (None, Some(src)) };
    let result = {
        let s: &mut dyn Source = match (recorder.as_mut(), plain.as_mut()) {
            (Some(r), _) => r,
            (None, Some(p)) => p.as_mut(),
            (None, None) => unreachable!("one of the two is set"),
        };
        calibrate(s, &a, &url, window, sample_every, selector, overhead)
    };
    if let (Some(path), Some(rec)) = (&a.save, &recorder) {
        let saved = Saved {
            format: SAVED_FORMAT.into(),
            prometheus: url.clone(),
            options: saved_opts.clone(),
            exchanges: rec.exchanges.clone(),
        };
        let json = serde_json::to_string_pretty(&saved).expect("plain data serializes");
        fs::write(path, json).map_err(io_err(path))?;
        eprintln!("rwsim calibrate: saved {} answers to {} (for --from)", rec.exchanges.len(), path.display());
    }
    result
}

fn http_options(url: &str, a: &AuthArgs) -> Result<http::HttpOptions, CliError> {
    let read = |p: &Path| fs::read(p).map_err(io_err(p));
    let mut authorization = None;
    if let Some(p) = &a.bearer_token_file {
        let token = String::from_utf8_lossy(&read(p)?).trim().to_string();
        authorization = Some(format!("Bearer {token}"));
    }
    if let (Some(user), Some(p)) = (&a.basic_auth_user, &a.basic_auth_password_file) {
        if authorization.is_some() {
            return Err(CliError::Usage("--bearer-token-file and --basic-auth-user: give one".into()));
        }
        let pw = String::from_utf8_lossy(&read(p)?).trim_end_matches(['\n', '\r']).to_string();
        use base64::Engine as _;
        authorization =
            Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))));
    }
    let mut headers = Vec::new();
    for h in &a.headers {
        let Some((k, v)) = h.split_once(':') else {
            return Err(CliError::Usage(format!("--header {h:?}: expected 'Name: value'")));
        };
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(http::HttpOptions {
        base_url: url.to_string(),
        authorization,
        headers,
        ca_pem: a.ca_file.as_deref().map(read).transpose()?,
        client_pem: match (&a.cert_file, &a.key_file) {
            (Some(c), Some(k)) => Some((read(c)?, read(k)?)),
            _ => None,
        },
        insecure_skip_verify: a.insecure_skip_verify,
        timeout: Duration::from_secs(120),
    })
}

fn calibrate(
    src: &mut dyn Source,
    a: &CalibrateArgs,
    url: &str,
    window: SimDuration,
    sample_every: Option<u64>,
    selector: Option<Matchers>,
    overhead: Option<SimDuration>,
) -> Result<ExitCode, CliError> {
    let version = api::buildinfo(src).map_err(remote_err)?;
    let flags = api::flags(src).map_err(remote_err)?;
    let config = api::config(src).map_err(remote_err)?;
    let opts = ImportOptions {
        flags: Some(Flags::from_map(flags, "/api/v1/status/flags")),
        version: Some((version.clone(), Provenance::Measured(format!("/api/v1/status/buildinfo: {version}")))),
        series: None,
        targets: None,
        duration: a.duration.as_deref().map(|d| parse_duration_flag("--duration", d)).transpose()?,
    };
    let imported = import(&config, "/api/v1/status/config", &opts)?;
    let selected = imported.select(a.remote.as_deref()).map_err(|e| CliError::Usage(format!("--remote: {e}")))?;
    let plan = Plan {
        window_s: window.nanos() / 1_000_000_000,
        sample_every_s: sample_every,
        selector,
        remotes: selected
            .iter()
            .map(|d| Remote {
                name: d.remote_name.as_ref().map(|n| n.value.clone()),
                url: d.url.as_ref().map_or(String::new(), |u| u.value.clone()),
            })
            .collect(),
        jobs: imported
            .jobs
            .iter()
            .map(|j| Job { name: j.name.clone(), interval_s: j.interval.value.as_secs_f64() })
            .collect(),
        global_interval_s: imported.global_interval.value.as_secs_f64(),
        segment_size: selected[0].wal_segment_size.value,
        request_overhead_s: overhead.map(|d| d.as_secs_f64()),
    };
    let cal = measure::measure(src, &plan, &mut |line| eprintln!("{line}")).map_err(remote_err)?;

    let end = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(cal.end_unix_ms));
    let how = match &cal.mode {
        Mode::Promql(m) => format!("PromQL over its own metrics {{{}}}", m.promql()),
        Mode::Sampled { every_s, pages, .. } => format!("{pages} samples of /metrics, every {every_s}s"),
    };
    println!("rwsim calibrate: {url}: Prometheus {version}, modelled as {}", selected[0].profile.value);
    println!("  {how}, over {} ending {end}", secs_text(cal.window_s));
    for w in &cal.warnings {
        println!("  WARNING: {w}");
    }
    println!("\nCalibration (each constant, its value, the query and window it came from):");
    print_rows(&cal.rows);

    let mut drafts: Vec<Draft> = Vec::new();
    for (d, rc) in selected.iter().zip(&cal.remotes) {
        drafts.push(apply(d, &cal, rc, &version, url, &end.to_string(), overhead));
    }
    let refs: Vec<&Draft> = drafts.iter().collect();
    let written = write_drafts(&refs, &a.out, a.force)?;
    let mut mismatch = false;
    for ((d, rc), path) in drafts.iter().zip(&cal.remotes).zip(&written) {
        println!(
            "\nremote_write {} ({}): wrote {}",
            rc.remote.name.as_deref().map_or("(no name)".to_string(), |n| format!("{n:?}")),
            rc.remote.url,
            path.display()
        );
        print_rows(&rc.rows);
        print_draft_notes(d);
        if a.check {
            let sc = d.load(&path.display().to_string())?;
            let rows = check::check(&sc.config, &rc.live).map_err(|e| CliError::Sim(sc.origin.clone(), e))?;
            println!(
                "\n  --check: the calibrated scenario without a fault for {} (steady state after {}) against the live means:",
                check::CHECK_RUN,
                SimDuration::from_nanos(check::CHECK_RUN.nanos() / 3)
            );
            for r in &rows {
                println!(
                    "    {:<22} model {:>12}   live {:>12}   {}",
                    r.what,
                    fmt_num(r.model),
                    fmt_num(r.live),
                    if r.ok { format!("ok ({})", r.tolerance) } else { format!("MISMATCH (beyond {})", r.tolerance) }
                );
                if !r.ok {
                    mismatch = true;
                    println!("      likely cause: {}", r.cause);
                }
            }
        }
    }
    println!("\nNext: add a [[receiver.fault]] to a scenario (an example is in its header), then: rwsim run FILE");
    Ok(if mismatch { ExitCode::from(CHECK_MISMATCH) } else { ExitCode::SUCCESS })
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 { format!("{v:.0}") } else { format!("{v:.4}") }
}

fn print_rows(rows: &[Row]) {
    for r in rows {
        println!("  {:<32} {}", r.name, r.value);
        if !r.from.is_empty() {
            println!("      from: {}", r.from);
        }
        if let Some(w) = &r.warning {
            println!("      WARNING: {w}");
        }
    }
}

/// A duration of at least 1 ms (scenario durations are whole milliseconds).
fn ms(secs: f64) -> SimDuration {
    SimDuration::from_nanos(((secs * 1000.0).round().max(1.0) as u64) * NANOS_PER_MILLI)
}

/// The imported draft with the measured constants.
fn apply(
    d: &Draft,
    cal: &Calibration,
    rc: &measure::RemoteCalibration,
    version: &str,
    url: &str,
    end: &str,
    overhead: Option<SimDuration>,
) -> Draft {
    let mut d = d.clone();
    // Import's advice on mixed intervals is what calibrate just did (its table says so).
    d.notes.retain(|n| !n.text.starts_with("jobs scrape at several intervals"));
    let window = format!("over {} ending {end}", secs_text(cal.window_s));
    let m = |from: &str| Provenance::Measured(format!("{from} ({window})"));
    d.series = Val::new(cal.series.value as u64, m(&cal.series.from));
    d.targets = Val::new((cal.targets.value.round() as u32).max(1), m(&cal.targets.from));
    d.scrape_interval = Val::new(ms(cal.interval_s.value), m(&cal.interval_s.from));
    d.scrape_duration = cal.scrape_duration_s.as_ref().map(|c| {
        let v = SimDuration::from_nanos((c.value * 1000.0).round() as u64 * NANOS_PER_MILLI);
        Val::new(v.min(SimDuration::from_nanos(d.scrape_interval.value.nanos() - NANOS_PER_MILLI)), m(&c.from))
    });
    if let Some(c) = &cal.wal_bytes_per_sample {
        d.wal_bytes_per_sample = Val::new(round2(c.value).clamp(0.1, 1000.0), m(&c.from));
    }
    if let Some(c) = &rc.wire_bytes_per_sample {
        d.wire_bytes_per_sample = Val::new(round2(c.value).clamp(0.01, 100_000.0), m(&c.from));
    }
    if let Some((fit, from)) = &rc.latency {
        let (median, p99) = (ms(fit.median), ms(fit.p99));
        let v = if p99.nanos() as f64 <= median.nanos() as f64 * 1.05 {
            LatencyDraft::Fixed(ms(fit.mean))
        } else {
            LatencyDraft::LogNormal { median, p99 }
        };
        d.latency = Val::new(v, m(from));
    }
    d.request_overhead = match overhead {
        Some(o) => Val::new(o, Provenance::CommandLine(format!("--request-overhead {o}"))),
        None => Val::new(
            SimDuration::ZERO,
            Provenance::Rwsim(
                "Prometheus's metrics cannot split the client's share of a request from the receiver's, so the \
                 whole measured request time is in receiver.latency"
                    .into(),
            ),
        ),
    };
    let base = rc.remote.name.clone().unwrap_or_else(|| d.name.trim_end_matches("-assumed-series").to_string());
    d.name = slug(&base);
    d.made_from = vec![
        format!(
            "Calibrated by rwsim {} from {url} (Prometheus {version}) {window}: the configuration from \
             /api/v1/status/config, the flags from /api/v1/status/flags, the rest measured.",
            env!("CARGO_PKG_VERSION")
        ),
        format!("The calibration table is printed by `rwsim calibrate`; its queries are in the comments below."),
    ];
    d.description = describe(&d, &format!("Prometheus {version}"));
    d
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
